"""What media runs in the background: the watcher (an event-log consumer of stock changes), the sender (the
action outbox's pump), the rules pass over every ad, and the drift check."""

from __future__ import annotations

from keel.media.service import MediaService
from keel.platform.consumers import PeriodicJob

SEND = "media-send"
RULES = "media-rules"
DRIFT = "media-drift"


def send_job(media: MediaService, interval_s: float) -> PeriodicJob:
    """Starts sending every account that owes its platform something; returns at once (threads send)."""
    return PeriodicJob(SEND, interval_s, lambda: media.sender.run_pass(wait=False))


def rules_job(media: MediaService, interval_s: float) -> PeriodicJob:
    """Every rule over every ad and campaign (schedule rules, budget shifts, boosts, cover drift)."""
    return PeriodicJob(RULES, interval_s, lambda: media.watcher.run_all().applied)


def drift_job(media: MediaService, interval_s: float) -> PeriodicJob:
    """Starts reading back every account's objects to report the ones a person changed on the platform;
    returns at once (the checks run on the sender's threads: a long check never holds up the watcher)."""
    return PeriodicJob(DRIFT, interval_s, lambda: media.sender.drift_pass([a.code for a in media.setup.accounts()]))
