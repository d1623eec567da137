"""Which locations feed which (channel, country) listing, derived from channel policies and groups."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from keel.channels import CHANNEL_EVENTS, ChannelService
from keel.inventory.service.locations import LocationService
from keel.platform.vocabulary import AtpRules

TOPOLOGY_EVENTS = CHANNEL_EVENTS | {
    "location.created",
    "location.updated",
    "location_group.created",
    "location_group.updated",
}


@dataclass(frozen=True)
class Target:
    """One (channel, country) listing and the locations that feed it."""

    channel_id: int
    channel: str
    country: str
    rules: AtpRules
    location_ids: frozenset[int]


@dataclass
class Topology:
    targets: list[Target]
    by_location: dict[int, list[int]]  # location_id -> indexes of targets it feeds
    retired: dict[int, str] = field(default_factory=dict)  # channels listing nothing now (inactive, no sources)


def build_topology(conn: Connection, channels: ChannelService, locations: LocationService) -> Topology:
    """The targets of every active channel's policy, as of ``conn``'s transaction."""
    active = set(locations.active_ids(conn).values())
    code_to_id = {code: i for i, code in locations.codes_by_id(conn).items()}
    groups = locations.group_members(conn)
    targets: list[Target] = []
    for ch in channels.policies(conn):
        for country in ch.countries:
            src = ch.policy.sources.get(country)
            if src is None:
                continue
            codes = set(src.locations).union(*(groups.get(g, []) for g in src.groups))
            ids = frozenset(code_to_id[c] for c in codes if c in code_to_id and code_to_id[c] in active)
            targets.append(Target(ch.id, ch.code, country, ch.policy.rules, ids))
    by_location: dict[int, list[int]] = {}
    for index, t in enumerate(targets):
        for location_id in t.location_ids:
            by_location.setdefault(location_id, []).append(index)
    listing = {t.channel_id for t in targets}
    retired = {i: code for i, code in channels.codes_by_id(conn).items() if i not in listing}
    return Topology(targets, by_location, retired)
