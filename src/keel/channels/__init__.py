"""Channels: the registry of sales channels and their availability policies."""

from keel.channels.service import ChannelService

__all__ = ["ChannelService"]
