"""``keel media ...`` commands for the rules and what they do: rules as JSON documents (the documents the HTTP
API takes), the action log and its approvals, the outbox's states with drift resolution and retries, savings,
and one pass of the sender or of the rules, now (what the ``media-send`` and ``media-rules`` jobs do)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from keel.cli_support import DbOpt, JsonOpt, emit, fail, open_keel, page, read_document, refuse
from keel.media import Level
from keel.media.schemas import ActionPublic, AdRulePublic, FiguresPublic, GroupFigures, SavingsPublic, StatePublic
from keel.media.service.savings import hour_floor
from keel.platform.actor import current_actor
from keel.platform.clock import utcnow
from keel.platform.errors import KeelError

app = typer.Typer()
console = Console()
_err = Console(stderr=True)
Limit = Annotated[int, typer.Option(min=1, max=1000, help="rows in one page")]
Offset = Annotated[int, typer.Option(min=0, max=2**31 - 1, help="rows to skip")]
Name = Annotated[str, typer.Argument(help="the rule's name")]
LevelArg = Annotated[Level, typer.Argument(help="campaign, ad_group or ad")]
Code = Annotated[str, typer.Argument(help="the object's code")]
MODES = ("applied", "dry_run", "approval", "approved", "rejected", "drift", "manual")
ONLY = ("owed", "dead", "drift")


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def _moment(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 date-time with its offset (a bare one would depend on this machine's time zone)."""
    if value is None:
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        raise refuse(f"{option} {value!r}: a date-time with its offset, e.g. 2026-03-02T00:00:00+00:00")
    return found


def _money(amount: int | None, currency: str | None) -> str:
    return "-" if amount is None else f"{amount} {currency or ''}".strip()


# -- rules ----------------------------------------------------------------------------------------------------
@app.command("rules")
def rules(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Every rule: its trigger, action, priority, version and whether it is a dry run."""
    keel = open_keel(database_url)
    rows = [AdRulePublic.of(r) for r in keel.media.rules()]
    if json_out:
        emit(rows)
        return
    table = Table("name", "trigger", "action", "priority", "dry run", "version", "updated", title=f"{len(rows)} rules")
    for r in rows:
        d = r.document
        dry = "yes" if d["dry_run"] else ""
        table.add_row(escape(r.name), d["trigger"], d["then"]["action"], str(d["priority"]), dry, str(r.version),
                      r.updated_at.isoformat())  # fmt: skip
    console.print(table)


@app.command("rule-set")
def rule_set(
    name: Name, file: Annotated[Path, typer.Argument(help="the rule as a JSON document")], database_url: DbOpt = None
) -> None:
    """Create or replace rule NAME with the document in FILE; every error is named with its path."""
    document = read_document(file)
    if not isinstance(document, dict):
        raise refuse(f"{file}: a JSON object (a rule document)")
    keel = open_keel(database_url)
    try:
        saved = keel.media.save_rule(name, document)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"rule {escape(name)} saved (version {saved.version})", highlight=False)


@app.command("rule-delete")
def rule_delete(name: Name, database_url: DbOpt = None) -> None:
    """Delete rule NAME; the ads it holds paused are let go on the next rules pass."""
    keel = open_keel(database_url)
    try:
        keel.media.delete_rule(name)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"rule {escape(name)} deleted", highlight=False)


# -- actions and approvals ------------------------------------------------------------------------------------
@app.command("actions")
def actions(
    code: Annotated[str | None, typer.Option(help="only this campaign, ad group or ad")] = None,
    rule: Annotated[str | None, typer.Option(help="only this rule's")] = None,
    mode: Annotated[str | None, typer.Option(help=f"only {', '.join(MODES)}")] = None,
    account: Annotated[str | None, typer.Option(help="only this account's")] = None,
    since: Annotated[str | None, typer.Option(help="from this date-time (with its offset)")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The action log, newest first: what rules decided and why, drift found and resolved, approvals."""
    if mode is not None and mode not in MODES:
        raise refuse(f"--mode {mode!r}: one of {', '.join(MODES)}")
    start = _moment(since, "--since")
    keel = open_keel(database_url)
    rows, total = keel.media.actions(code=code, rule=rule, mode=mode, account=account, since=start,
                                     limit=limit, offset=offset)  # fmt: skip
    money = {a.code: a.currency for a in keel.media.setup.accounts()}
    items = [ActionPublic.of(a, money.get(a.account)) for a in rows]
    if json_out:
        emit(page(items, total, limit=limit, offset=offset))
        return
    shown = f" ({len(items)} from {offset + 1})" if total > len(items) else ""
    table = Table("id", "at", "rule", "object", "mode", "reason", title=f"{total} actions{shown}")
    for a in items:
        table.add_row(str(a.id), a.at.isoformat(timespec="seconds"), escape(_or_dash(a.rule)),
                      f"{a.level} {escape(a.code)}", a.mode, escape(a.reason))  # fmt: skip
    console.print(table)


def _decide(action_id: int, approve: bool, database_url: str | None) -> None:
    keel = open_keel(database_url)
    try:
        done = keel.media.decide(action_id, approve, current_actor.get().name)
    except KeelError as exc:
        raise fail(exc) from exc
    keel.media.sender.close()  # the send an approval started ends with the command, not after it
    verb = "approved: the change leaves for the platform" if approve else "rejected: nothing is sent"
    console.print(f"action {done.id} ({done.level} {escape(done.code)}) {verb}", highlight=False)


@app.command("approve")
def approve(
    action_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="the waiting action's id")],
    database_url: DbOpt = None,
) -> None:
    """Apply a rule's change that waits for approval (a budget move above approval_above)."""
    _decide(action_id, True, database_url)


@app.command("reject")
def reject(
    action_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="the waiting action's id")],
    database_url: DbOpt = None,
) -> None:
    """Refuse a rule's change that waits for approval; nothing is sent."""
    _decide(action_id, False, database_url)


# -- the outbox -----------------------------------------------------------------------------------------------
@app.command("states")
def states(
    account: Annotated[str | None, typer.Option(help="only this account's")] = None,
    only: Annotated[str | None, typer.Option(help="only owed, dead or drift")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Desired states by level and code: what is owed to the platforms, dead letters, drift."""
    if only is not None and only not in ONLY:
        raise refuse(f"--only {only!r}: one of {', '.join(ONLY)}")
    keel = open_keel(database_url)
    rows, total = keel.media.states(account, only, limit, offset)
    money = {a.code: a.currency for a in keel.media.setup.accounts()}
    items = [StatePublic.of(r, money.get(r.account)) for r in rows]
    if json_out:
        emit(page(items, total, limit=limit, offset=offset))
        return
    shown = f" ({len(items)} from {offset + 1})" if total > len(items) else ""
    table = Table("level", "code", "status", "bid", "budget", "held by", "version", "sent", "dead", "drift", "error",
                  title=f"{total} states{shown}")  # fmt: skip
    for s in items:
        table.add_row(
            s.level, escape(s.code), s.status, _money(s.bid, s.currency), _money(s.budget, s.currency),
            escape(", ".join(s.held_by)), str(s.version), str(s.sent_version), "yes" if s.dead else "",
            "yes" if s.drift else "", escape(_or_dash(s.error)),
        )  # fmt: skip
    console.print(table)


@app.command("resolve")
def resolve(
    level: LevelArg,
    code: Code,
    keep: Annotated[str, typer.Option(help="keel (send Keel's state again) or platform (adopt its)")],
    database_url: DbOpt = None,
) -> None:
    """End a drift: keep Keel's state or the platform's."""
    if keep not in ("keel", "platform"):
        raise refuse(f"--keep {keep!r}: keel or platform")
    keel = open_keel(database_url)
    try:
        row = keel.media.resolve(level, code, keep)
    except KeelError as exc:
        raise fail(exc) from exc
    keel.media.sender.close()  # the send it started ends with the command
    console.print(f"{level.value} {escape(code)}: drift resolved, {keep}'s state kept (version {row.version})",
                  highlight=False)  # fmt: skip


@app.command("retry")
def retry(level: LevelArg, code: Code, database_url: DbOpt = None) -> None:
    """Send a dead letter again, once its cause is fixed."""
    keel = open_keel(database_url)
    try:
        row = keel.media.retry(level, code)
    except KeelError as exc:
        raise fail(exc) from exc
    keel.media.sender.close()  # the send it started ends with the command
    console.print(f"{level.value} {escape(code)}: owed again (version {row.version})", highlight=False)


# -- savings and passes ---------------------------------------------------------------------------------------
@app.command("savings")
def savings(
    since: Annotated[
        str | None, typer.Option(help="from this date-time (with its offset); default 7 days back")
    ] = None,
    until: Annotated[str | None, typer.Option(help="up to this date-time; default the current hour")] = None,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What the rules saved and cost, per currency and by rule, campaign, account, channel and region."""
    end = _moment(until, "--until") or utcnow()
    start = _moment(since, "--since") or end - timedelta(days=7)
    keel = open_keel(database_url)
    try:
        found = SavingsPublic.of(keel.media.savings(start, end), hour_floor(start), hour_floor(end))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(found)
        return
    console.print(f"from {found.since.isoformat()} to {found.until.isoformat()} (money in minor units)")
    _figures("total", [("", f) for f in found.total])
    _figures("by rule", [(g.name, g) for g in found.by_rule])
    _figures("by campaign", [(g.name, g) for g in found.by_campaign])


def _figures(title: str, rows: list[tuple[str, FiguresPublic | GroupFigures]]) -> None:
    columns = ("", "currency", "wasted", "avoided", "avoided waste", "missed sales", "moved", "moved sales",
               "paused h", "out of stock h")  # fmt: skip
    table = Table(*columns, title=title)
    for name, f in rows:
        table.add_row(escape(name), f.currency, str(f.wasted_spend), str(f.avoided_spend), str(f.avoided_waste),
                      str(f.missed_sales), str(f.budget_moved), str(f.moved_sales), f"{f.paused_hours:.1f}",
                      f"{f.out_of_stock_hours:.1f}")  # fmt: skip
    console.print(table)


@app.command("send")
def send(database_url: DbOpt = None) -> None:
    """Send every account's owed changes to its platform, now, and say what each answered."""
    keel = open_keel(database_url)
    accounts = keel.media.setup.accounts()
    for account in accounts:
        try:
            r = keel.media.sender.send(account.code)
        except KeelError as exc:
            raise fail(exc) from exc
        console.print(
            f"{account.code}: {r.accepted} accepted, {r.refused} refused ({r.dead} dead), {r.throttled} throttled, "
            f"{r.requests} requests",
            highlight=False,
        )
    if not accounts:
        console.print("no ad accounts")


@app.command("run-rules")
def run_rules(database_url: DbOpt = None) -> None:
    """Run every rule over every ad and campaign once, now, and send the changes it applies."""
    keel = open_keel(database_url)
    with _err.status("running the rules"):
        done = keel.media.watcher.run_all()
        keel.media.sender.close()  # the changes it applied leave for their platforms before the command ends
    console.print(f"{done.ads} ads checked, {done.decisions} decisions, {done.applied} applied in {done.seconds:.2f} s",
                  highlight=False)  # fmt: skip
