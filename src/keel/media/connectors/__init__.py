"""Connectors to ad platforms (Amazon-Ads-, Google-Ads- and Meta-style), each behind ``keel.media.model.AdConnector``.

``connector_for(platform, url, token)`` builds the one for a platform. Each declares its platform's limits
(``limits``), paces its requests to the declared rate per account, refuses a batch over the batch size with
``ValueError`` (the caller batches) and answers every remote failure with a ``Sent``, never an exception; it
does not retry (the outbox does).
"""

from keel.media.connectors.amazon import AmazonAdsConnector
from keel.media.connectors.google import GoogleAdsConnector
from keel.media.connectors.meta import MetaAdsConnector
from keel.media.model import AdConnector, Platform

__all__ = ["AmazonAdsConnector", "GoogleAdsConnector", "MetaAdsConnector", "connector_for"]

_KINDS = {Platform.AMAZON: AmazonAdsConnector, Platform.GOOGLE: GoogleAdsConnector, Platform.META: MetaAdsConnector}


def connector_for(platform: Platform, url: str, token: str, timeout_s: float = 10.0) -> AdConnector:
    """The connector of ``platform``'s API at ``url`` (its base URL), authorised by ``token``."""
    return _KINDS[platform](url, token, timeout_s=timeout_s)
