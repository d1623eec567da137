"""The media context's pure domain: ad objects, the connector port, rules and the money they save."""

from keel.media.model.ads import (
    Account,
    Ad,
    AdGroup,
    AdState,
    Campaign,
    Guardrails,
    Level,
    Platform,
    Region,
    Status,
    Target,
)
from keel.media.model.port import AdConnector, Change, ItemResult, Limits, Remote, Sent

__all__ = [
    "Account",
    "Ad",
    "AdConnector",
    "AdGroup",
    "AdState",
    "Campaign",
    "Change",
    "Guardrails",
    "ItemResult",
    "Level",
    "Limits",
    "Platform",
    "Region",
    "Remote",
    "Sent",
    "Status",
    "Target",
]
