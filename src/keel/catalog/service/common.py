"""What the catalog's use cases share: event types, the base holding the database and event log, the shipped
compliance profiles and the small records passed between the use-case modules."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from keel.catalog import store
from keel.catalog.model import (
    Family,
    parse_family,
)
from keel.catalog.model.listings import (
    ListingState,
    ListingView,
    Reason,
    Target,
)
from keel.catalog.model.profiles import Profile, parse_profile
from keel.platform.db import Database
from keel.platform.errors import FieldError, single_field
from keel.platform.events import EventLog
from keel.platform.schemas import DOCUMENT_DEPTH, MAX_ROW_ID

PRODUCT_CHANGED = "catalog.product_changed"
FAMILY_CHANGED = "catalog.family_changed"
CATEGORY_CHANGED = "catalog.category_changed"
PROFILE_CHANGED = "catalog.profile_changed"
TARGET_CHANGED = "catalog.target_changed"
LISTING_CHANGED = "listing.changed"  # what the channel sync engine consumes
CATALOG_EVENTS = frozenset(
    {PRODUCT_CHANGED, FAMILY_CHANGED, CATEGORY_CHANGED, PROFILE_CHANGED, TARGET_CHANGED, LISTING_CHANGED}
)
WRITE_CHUNK = 1_000  # products locked, compared and written per statement group of a batch
SHOWN_PATHS = 50  # changed paths an event names; a consumer reads the revision for the rest

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Syndication:
    """The channels' targets and the profiles they name, read once per write transaction."""

    targets: list[Target]
    profiles: dict[str, Profile]


def listing_view(r: store.StoredListing) -> ListingView:
    reasons = tuple(Reason(rule, name, message) for rule, name, message in r.reasons)
    return ListingView(r.channel, r.sku, r.product, ListingState(r.state), reasons, r.payload, r.revision)


@cache
def shipped_profiles() -> dict[str, Profile]:
    """The compliance profiles shipped as JSON files in ``keel/catalog/profiles/``, by code."""
    found = {}
    for entry in resources.files("keel.catalog").joinpath("profiles").iterdir():
        if entry.name.endswith(".json"):
            profile, problems = parse_profile(json.loads(entry.read_text(encoding="utf-8")), shipped=True)
            if profile is None:
                raise ValueError(f"shipped profile {entry.name} is invalid: {problems}")
            found[profile.code] = profile
    return found


def stored_profile(doc: dict[str, Any]) -> Profile:
    profile, problems = parse_profile(doc)
    if profile is None:  # stored documents were checked on the way in
        raise ValueError(f"stored profile does not parse: {problems}")
    return profile


def problem_count(what: str, errors: Sequence[FieldError]) -> str:
    return f"{what} has {len(errors)} problem" + ("s" if len(errors) != 1 else "")


ChannelExists = Callable[[str], bool]
"""Port: whether the channel registry has a channel of that code (``keel.channels.ChannelService.exists``,
wired in ``bootstrap``): the catalog names channels by code but reads no table of the channels context."""


class CatalogBase:
    """The database, event log, channel registry port and batch limit every catalog use case works with."""

    def __init__(
        self, db: Database, events: EventLog, *, channel_exists: ChannelExists, max_batch: int = 10_000
    ) -> None:
        self.db = db
        self.events = events
        self.channel_exists = channel_exists
        self.max_batch = max_batch

    def _check_channel_exists(self, channel: str) -> None:
        """Refused (422, field ``channel``) unless the channel registry has ``channel`` (active or not)."""
        if not self.channel_exists(channel):
            raise single_field("channel", f"no channel {channel!r}")

    @staticmethod
    def _family(doc: dict[str, Any]) -> Family:
        family, problems = parse_family(doc)
        if family is None:  # stored documents were checked on the way in
            raise ValueError(f"stored family does not parse: {problems}")
        return family


def surely_clean(doc: Any) -> bool:
    """True when ``clean_document`` would pass ``doc`` unchanged, found without copying it (an import checks
    thousands of documents: a third of the time); False when it might not (the caller then asks
    ``clean_document``, which names the problem). A container at the depth limit, a key that is not text, or a
    value of another type than JSON's answer False rather than be judged here."""
    texts: list[str] = []
    stack = [(doc, 0)]
    pop, push, add = stack.pop, stack.append, texts.append
    while stack:
        value, depth = pop()
        kind = type(value)
        if kind is str:
            add(value)
        elif kind is dict or kind is list:
            if depth >= DOCUMENT_DEPTH:
                return False
            for k, v in value.items() if kind is dict else enumerate(value):
                if kind is dict:
                    if type(k) is not str:
                        return False
                    add(k)
                if type(v) is str:
                    add(v)
                else:
                    push((v, depth + 1))
        elif kind is int:
            if not -MAX_ROW_ID <= value <= MAX_ROW_ID:
                return False
        elif not (value is None or kind is bool or kind is float):
            return False
    # every text at once: a NUL, or a lone surrogate (which UTF-8 cannot encode), in any of them is in the whole
    text = "".join(texts)
    return "\x00" not in text and _encodes(text)


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
