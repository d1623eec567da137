"""Connectors to ad platforms (Amazon-Ads-, Google-Ads- and Meta-style), each behind ``keel.media.model.AdConnector``."""
