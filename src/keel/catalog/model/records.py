"""What the catalog's services take and return: categories, revisions, product views and import reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keel.catalog.model.product import Change
from keel.platform.vocabulary import CODE_RE, CODE_RULE


@dataclass(frozen=True)
class Category:
    """A node of the category tree; ``parent`` None at a root."""

    code: str
    label: str
    parent: str | None = None


@dataclass(frozen=True)
class SkuTags:
    """What other contexts may select a SKU by: its product's brand and categories (with every ancestor)."""

    brand: str | None
    categories: frozenset[str]


def check_category(code: str, label: str, parent: str | None) -> list[tuple[str, str]]:
    errors = []
    if not CODE_RE.fullmatch(code):
        errors.append(("code", CODE_RULE))
    if not label.strip() or len(label) > 200:
        errors.append(("label", "a non-empty text of at most 200 characters"))
    if parent is not None and parent == code:
        errors.append(("parent", "a category cannot be its own parent"))
    return errors


@dataclass(frozen=True)
class Revision:
    """One recorded change of a product: who made it (``author``, through ``via``), when, from which source
    (api, cli, import, revert ...) and the changed values."""

    product: str
    number: int
    at: datetime
    author: str
    via: str
    source: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class RevisionView:
    """One revision and the product's document as it stood after it."""

    revision: Revision
    document: dict[str, Any]


@dataclass(frozen=True)
class ProductView:
    """A product's document as of one revision (the current one, or the one in force at a time)."""

    code: str
    family: str
    revision: int
    updated_at: datetime
    document: dict[str, Any]


@dataclass(frozen=True)
class Saved:
    """The outcome of one write: the product's revision after it and whether it made a new one."""

    code: str
    revision: int
    changed: bool
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class ImportReport:
    """A bulk import: rows read, products in them, and how many were created, changed or left alone."""

    rows: int
    products: int
    created: int
    updated: int
    unchanged: int
