"""Channels: the registry of sales channels and their availability policies."""
