"""``keel planning automation ...``: a country's rule (schedule and acceptance guardrails), a run on demand, and
the log of what the automation did and why (the documents the HTTP API takes and answers)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from keel.cli_support import DbOpt, JsonOpt, cli_scope, emit, fail, open_keel, page, read_document, refuse
from keel.planning.schemas_automation import ActionPublic, AutomationPublic, AutomationRunPublic
from keel.platform.errors import KeelError

app = typer.Typer(help="Planning on a schedule, with guardrails on what is accepted automatically.",
                  no_args_is_help=True)  # fmt: skip
console = Console()
_err = Console(stderr=True)
Country = Annotated[str, typer.Argument(help="the country (ISO code)")]
ACTIONS = ("planned", "skipped", "accepted", "held", "failed")


def _describe(r: AutomationPublic) -> str:
    modes = " and ".join(m for m in ("replenish", "rebalance") if getattr(r, m)) or "nothing"
    accepts = (
        f"accepts {', '.join(r.accept_kinds)} of at most {r.max_units} units, {r.max_value_per_day:,.2f} a day"
        if r.accept_kinds
        else "accepts nothing (suggests only)"
    )
    excluded = f"; never {', '.join(r.excluded_locations)}" if r.excluded_locations else ""
    top = f" (top {r.top} SKUs)" if r.top else ""
    state = "enabled" if r.enabled else "disabled"
    return f"{r.country} {state}: {modes}{top} every {r.every_minutes} min; {accepts}{excluded}"


@app.command("show")
def show(
    country: Annotated[str | None, typer.Argument(help="one country (default: every stored rule)")] = None,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The automation rules (one country's, or every stored one)."""
    keel = open_keel(database_url)
    try:
        found = [keel.automation.rule(country, cli_scope())] if country else keel.automation.rules(cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    rules = [AutomationPublic.of(r) for r in found]
    if json_out:
        emit(rules[0] if country else rules)
        return
    for r in rules:
        console.print(escape(_describe(r)), highlight=False)
    if not rules:
        console.print("no automation rule yet: keel planning automation set COUNTRY FILE", highlight=False)


@app.command("set")
def set_rule(
    country: Country,
    file: Annotated[Path, typer.Argument(help='JSON: the rule, e.g. {"enabled": true, "every_minutes": 60}')],
    database_url: DbOpt = None,
) -> None:
    """Replace a country's rule from a JSON file (a field not given takes its default; every bad field named)."""
    doc = read_document(file)
    if not isinstance(doc, dict):
        raise refuse(f'{file}: a JSON object, e.g. {{"enabled": true, "accept_kinds": ["transfer"]}}')
    keel = open_keel(database_url)
    try:
        rule, changed = keel.automation.set_rule(country, doc, cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    note = "" if changed else " (unchanged)"
    console.print(escape(_describe(AutomationPublic.of(rule))) + note, highlight=False)


@app.command("run")
def run_now(country: Country, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Run a country's rule now, as the worker would: re-plan what moved, accept within the guardrails."""
    keel = open_keel(database_url)
    try:
        with _err.status(f"re-planning {country.upper()}"):
            report = AutomationRunPublic.of(keel.automation.run(country, scope=cli_scope()))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(report)
        return
    if report.skipped:
        console.print(f"{report.country}: nothing moved since the last run; no new run", highlight=False)
        return
    runs = ", ".join(f"{r.mode} run {r.run_id} ({r.suggestions} suggestions)" for r in report.runs)
    console.print(
        f"{report.country}: {runs}; accepted {report.accepted} worth {report.accepted_value:,.2f}, "
        f"held {report.held}, failed {report.failed}",
        highlight=False,
    )


@app.command("actions")
def actions(
    country: Annotated[str | None, typer.Option(help="only this country")] = None,
    action: Annotated[str | None, typer.Option(help=f"only {', '.join(ACTIONS)}")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="rows in one page")] = 50,
    offset: Annotated[int, typer.Option(min=0, max=2**31 - 1, help="rows to skip")] = 0,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What the automation did and why, newest first."""
    if action is not None and action not in ACTIONS:
        raise refuse(f"--action {action!r}: one of {', '.join(ACTIONS)}")
    keel = open_keel(database_url)
    try:
        found, total = keel.automation.actions(
            country=country, action=action, limit=limit, offset=offset, scope=cli_scope()
        )
    except KeelError as exc:
        raise fail(exc) from exc
    items = [ActionPublic.of(a) for a in found]
    if json_out:
        emit(page(items, total, limit=limit, offset=offset))
        return
    table = Table("at", "country", "action", "run", "suggestion", "value", "reason", title=f"{total} actions")
    for a in items:
        table.add_row(a.at.isoformat(timespec="seconds"), a.country, a.action, str(a.run_id or ""),
                      str(a.suggestion_id or ""), f"{a.value:,.2f}" if a.value else "", escape(a.reason))  # fmt: skip
    console.print(table)
