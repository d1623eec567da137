"""Planning's part in the worker: the scheduled re-planning of each country whose automation rule is due."""

from __future__ import annotations

from keel.planning.automation import PlanningAutomation
from keel.platform.consumers import PeriodicJob

AUTOMATION = "planning-automation"


def automation_job(automation: PlanningAutomation, interval_s: float) -> PeriodicJob:
    """Checks the rules every ``interval_s`` and runs the due ones, in a thread of its own: a run forecasts for
    seconds to minutes, which must not hold up availability or orders."""
    return PeriodicJob(AUTOMATION, interval_s, automation.run_due, audited=True, alone=True)
