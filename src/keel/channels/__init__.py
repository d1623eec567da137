"""Channels: the registry of sales channels, their availability policies, and the sync engine
that pushes Keel's state to them.

The public face: other contexts, the web pages, the API/CLI composition and the benches import only these.
It imports nothing from other contexts, so ``import keel.channels`` never loads inventory.
"""

from keel.channels.model import Channel, ChannelChanges, ChannelKind, CreateChannel, Policy, Sources
from keel.channels.service import CHANNEL_EVENTS, ChannelService, LocationDirectory
from keel.channels.sync.consumers import (
    DRIFT,
    FEEDER,
    PUMP,
    sync_drift,
    sync_feeder,
    sync_fulfilled,
    sync_orders,
    sync_pump,
)
from keel.channels.sync.consumers import ORDERS as SYNC_ORDERS
from keel.channels.sync.feeder import FeedTypes
from keel.channels.sync.health import Health
from keel.channels.sync.model import (
    Capabilities,
    Connector,
    OrderPage,
    OrderUpdate,
    PushResult,
    Rejected,
    SyncConfig,
    Update,
)
from keel.channels.sync.pump import PassResult
from keel.channels.sync.service import ChannelSync, SyncItem, SyncService
from keel.channels.sync.standards import MIN_ORDERS
from keel.channels.sync.webhook import WebhookConnector
from keel.channels.sync.webhook import sign as sign_webhook

__all__ = [
    "CHANNEL_EVENTS",
    "DRIFT",
    "FEEDER",
    "MIN_ORDERS",
    "PUMP",
    "SYNC_ORDERS",
    "Capabilities",
    "Channel",
    "ChannelChanges",
    "ChannelKind",
    "ChannelService",
    "ChannelSync",
    "Connector",
    "CreateChannel",
    "FeedTypes",
    "Health",
    "LocationDirectory",
    "OrderPage",
    "OrderUpdate",
    "PassResult",
    "Policy",
    "PushResult",
    "Rejected",
    "Sources",
    "SyncConfig",
    "SyncItem",
    "SyncService",
    "Update",
    "WebhookConnector",
    "sign_webhook",
    "sync_drift",
    "sync_feeder",
    "sync_fulfilled",
    "sync_orders",
    "sync_pump",
]
