"""Channels: the registry of sales channels and their availability policies.

The public face: other contexts, the web pages, the API/CLI composition and the benches import only these.
It imports nothing from other contexts, so ``import keel.channels`` never loads inventory.
"""

from keel.channels.model import Channel, ChannelChanges, ChannelKind, CreateChannel, Policy, Sources
from keel.channels.service import CHANNEL_EVENTS, ChannelService, LocationDirectory

__all__ = [
    "CHANNEL_EVENTS",
    "Channel",
    "ChannelChanges",
    "ChannelKind",
    "ChannelService",
    "CreateChannel",
    "LocationDirectory",
    "Policy",
    "Sources",
]
