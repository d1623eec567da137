"""``keel catalog ...`` commands on reference data: GTIN checks, families, categories, compliance profiles."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from keel.catalog.cli.common import FileArg, app, console, read_document
from keel.catalog.model import Category, check_gtin
from keel.catalog.schemas import (
    CategoryPublic,
    CompliancePublic,
    FamilyPublic,
    GtinPublic,
    ProfilePublic,
)
from keel.cli_support import DbOpt, JsonOpt, details, emit, fail, open_keel
from keel.platform.errors import KeelError


@app.command("gtin")
def gtin(text: Annotated[str, typer.Argument(help="8, 12, 13 or 14 digits")], json_out: JsonOpt = False) -> None:
    """Check a GTIN: digits, length, GS1 check digit, restricted-circulation or coupon prefix. Exit status 1
    when it is not valid."""
    result = GtinPublic.of(check_gtin(text))
    if json_out:
        emit(result)
    else:
        console.print(details(result))
    if not result.valid:
        raise typer.Exit(code=1)


@app.command("families")
def families(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Every product family, with its attributes and per-channel requirements."""
    keel = open_keel(database_url)
    rows = [FamilyPublic.of(f) for f in keel.catalog.families()]
    if json_out:
        emit(rows)
        return
    table = Table("family", "label", "attributes", "required", title=f"{len(rows)} families")
    for f in rows:
        required = "; ".join(f"{ch}: {', '.join(codes)}" for ch, codes in f.required.items())
        table.add_row(f.code, escape(f.label), ", ".join(a.code for a in f.attributes), required)
    console.print(table)


@app.command("family")
def family(code: str, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """One family's attributes."""
    keel = open_keel(database_url)
    try:
        found = FamilyPublic.of(keel.catalog.family(code))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(found)
        return
    table = Table("attribute", "type", "localised", "variant", "units / options", title=f"{found.code} {found.label}")
    for a in found.attributes:
        flags = ("yes" if a.localised else "", "yes" if a.variant else "")
        table.add_row(a.code, a.type, *flags, ", ".join(a.units or a.options))
    console.print(table)


@app.command("put-family")
def put_family(path: FileArg, database_url: DbOpt = None) -> None:
    """Create or replace a family from a JSON document (code, label, attributes, required)."""
    keel = open_keel(database_url)
    try:
        found = keel.catalog.put_family(read_document(path), source="cli")
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"family {found.code}: {len(found.attributes)} attributes")


@app.command("categories")
def categories(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """The category tree."""
    keel = open_keel(database_url)
    rows = [CategoryPublic.of(c) for c in keel.catalog.categories()]
    if json_out:
        emit(rows)
        return
    table = Table("category", "label", "parent", title=f"{len(rows)} categories")
    for c in rows:
        table.add_row(c.code, escape(c.label), c.parent or "-")
    console.print(table)


@app.command("put-category")
def put_category(
    code: str,
    label: Annotated[str, typer.Option(help="the category's name")],
    parent: Annotated[str | None, typer.Option(help="the parent category's code")] = None,
    database_url: DbOpt = None,
) -> None:
    """Create a category, or rename or move one."""
    keel = open_keel(database_url)
    try:
        keel.catalog.put_category(Category(code, label, parent), source="cli")
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"category {code}" + (f" under {parent}" if parent else " (a root)"))


@app.command("profiles")
def profiles(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """The compliance profiles, shipped and user-defined."""
    keel = open_keel(database_url)
    rows = [ProfilePublic.of(p) for p in keel.catalog.profiles()]
    if json_out:
        emit(rows)
        return
    table = Table("profile", "label", "rules", "shipped", title=f"{len(rows)} compliance profiles")
    for p in rows:
        table.add_row(p.code, escape(p.label), str(len(p.rules)), "yes" if p.shipped else "")
    console.print(table)


@app.command("profile")
def profile(code: str, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """One compliance profile's rules."""
    keel = open_keel(database_url)
    try:
        found = ProfilePublic.of(keel.catalog.profile(code))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(found)
        return
    table = Table("rule", "check", "field", "message", title=f"{found.code}: {escape(found.label)}")
    for r in found.rules:
        table.add_row(r.id, r.check, r.field, escape(r.message))
    console.print(table)


@app.command("put-profile")
def put_profile(path: FileArg, database_url: DbOpt = None) -> None:
    """Create or replace a user-defined compliance profile from a JSON document."""
    keel = open_keel(database_url)
    try:
        found = keel.catalog.put_profile(read_document(path), source="cli")
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"profile {found.code}: {len(found.rules)} rules")


@app.command("check")
def check(
    code: str,
    profile: Annotated[str, typer.Option(help="the compliance profile, e.g. google-merchant")],
    channel: Annotated[str | None, typer.Option(help="read this channel's overrides and requirements")] = None,
    locale: Annotated[str | None, typer.Option(help="read localised values in this locale, e.g. de")] = None,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a product against a compliance profile: every rule per variant, pass or fail, and the
    completeness score. Exit status 1 when a rule fails."""
    keel = open_keel(database_url)
    try:
        report = CompliancePublic.of(keel.catalog.compliance(code, profile, channel=channel, locale=locale))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(report)
    else:
        failed = [r for r in report.results if not r.passed]
        title = f"{report.product} against {report.profile}: {report.score}% complete, {len(failed)} failing"
        table = Table("sku", "rule", "field", "message", title=title)
        for r in failed:
            table.add_row(r.sku, r.rule, r.field, escape(r.message))
        console.print(table)
    if not report.passed:
        raise typer.Exit(code=1)
