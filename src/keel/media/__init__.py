"""Media: ad accounts and campaigns, performance, inventory-aware rules and ad connectors (issue 16).

The public face: the composition root, the API/CLI/pages and the benches import only these.
"""

from keel.media.connectors import connector_for
from keel.media.consumers import DRIFT, RULES, SEND, drift_job, rules_job, send_job
from keel.media.model import (
    Account,
    Ad,
    AdConnector,
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
from keel.media.model.port import Change
from keel.media.model.savings import Figures, Groups, Savings
from keel.media.service import AdStock, CampaignStock, MediaService, RuleView
from keel.media.service.overview import AdLine, CampaignDetail, CampaignView, GroupLine, Summary
from keel.media.service.performance import Imported, PerformanceLine, PerformanceService, read_csv
from keel.media.service.ports import Directory, Place, StockReader
from keel.media.service.sender import Report, Sender
from keel.media.service.setup import Saved, SetupService
from keel.media.service.watch import CONSUMER, Pass, Watcher
from keel.media.store.log import ActionRow
from keel.media.store.outbox import StateRow

__all__ = [
    "CONSUMER",
    "DRIFT",
    "RULES",
    "SEND",
    "Account",
    "ActionRow",
    "Ad",
    "AdConnector",
    "AdGroup",
    "AdLine",
    "AdState",
    "AdStock",
    "Campaign",
    "CampaignDetail",
    "CampaignStock",
    "CampaignView",
    "Change",
    "Directory",
    "Figures",
    "GroupLine",
    "Groups",
    "Guardrails",
    "Imported",
    "Level",
    "MediaService",
    "Pass",
    "PerformanceLine",
    "PerformanceService",
    "Place",
    "Platform",
    "Region",
    "Report",
    "RuleView",
    "Saved",
    "Savings",
    "Sender",
    "SetupService",
    "StateRow",
    "Status",
    "StockReader",
    "Summary",
    "Target",
    "Watcher",
    "connector_for",
    "drift_job",
    "read_csv",
    "rules_job",
    "send_job",
]
