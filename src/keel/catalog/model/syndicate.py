"""Every listing of a product, built fast enough for a whole catalog on every channel.

A **plan** is how one target lists products of one family, worked out once per batch: for each payload field
the keys of the value it reads in a variant's index (the channel's override first, when built for one
channel), the family's requirements likewise, and which of the profile's rules read only product-level
fields. Building a payload is then a dictionary lookup per field, and a product-level rule is checked once per
product and group rather than once per variant.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from keel.catalog.model.attributes import ANY_CHANNEL, Family
from keel.catalog.model.listings import FieldMap, ListingRow, ListingState, Reason, Target, convert
from keel.catalog.model.product import Product, Variant
from keel.catalog.model.profiles import VARIANT_SOURCES, Keys, Profile, VariantFields, lookup, value_keys
from keel.catalog.model.rules import given


@dataclass(frozen=True)
class Plan:
    profile: Profile
    fields: tuple[tuple[str, Keys, FieldMap | None], ...]  # payload field, where its value is, its transform
    required: tuple[tuple[Keys, Reason], ...]  # a family requirement: where its value is, the reason it fails
    product_checks: tuple[int, ...]  # indexes into profile.checks of rules reading product-level fields only
    variant_checks: tuple[int, ...]

    @cached_property
    def reasons(self) -> tuple[Reason, ...]:
        """The reason each of the profile's rules gives when it fails, by index."""
        return tuple(Reason(rule.id, names, rule.message) for _, rule, names in self.profile.checks)

    def payload(self, index: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, keys, how in self.fields:
            value = lookup(index, keys)
            if how is not None:
                if how.unit:
                    value = convert(value, how.unit)
                if how.truncate and isinstance(value, str):
                    value = value[: how.truncate]
            if value is not None:
                out[name] = value
        return out

    def missing(self, index: dict[str, Any]) -> tuple[Reason, ...]:
        return tuple(reason for keys, reason in self.required if not given(lookup(index, keys)))

    def failures(self, checks: tuple[int, ...], payload: dict[str, Any]) -> tuple[int, ...]:
        get, compiled = payload.get, self.profile.checks
        return tuple(i for i in checks if compiled[i][0](get) is False)


def plan(target: Target, profile: Profile, family: Family, channel: str | None) -> Plan:
    """How ``target`` lists products of ``family``, as ``channel`` shows them (None: as its group does)."""
    mapped = {m.field: m for m in target.mapping}
    fields, per_variant = [], set()
    for name in (*mapped, *(n for n in profile.read if n not in mapped)):
        m = mapped.get(name)
        source = m.source if m else profile.fields.get(name, name)
        attr = family.attribute(source)
        if source in VARIANT_SOURCES or (attr is not None and attr.variant):
            per_variant.add(name)
        transform = m if m is not None and (m.unit or m.truncate) else None
        fields.append((name, value_keys(source, family, target.locale, channel), transform))
    required = []
    for code in family.required_on(channel):
        attr = family.attribute(code)
        where = f" in {target.locale}" if attr is not None and attr.localised and target.locale else ""
        message = f"The family {family.code} requires {code}{where} on this channel."
        required.append(
            (value_keys(code, family, target.locale, channel), Reason(f"family:required:{code}", code, message))
        )
    product_checks: list[int] = []
    variant_checks: list[int] = []
    for i, (_, rule, _) in enumerate(profile.checks):
        reads = {*rule.names, *([rule.when_field] if rule.when_field else [])}
        (variant_checks if reads & per_variant else product_checks).append(i)
    return Plan(profile, tuple(fields), tuple(required), tuple(product_checks), tuple(variant_checks))


def build_payload(
    target: Target, profile: Profile, product: Product, variant: Variant, family: Family
) -> dict[str, Any]:
    """The fields one variant is listed with on ``target``'s channel: every mapped field (transformed) and
    every field the profile's rules read."""
    return plan(target, profile, family, target.channel).payload(VariantFields(product, variant).index)


def completeness(product: Product, family: Family, target: Target, profile: Profile) -> float:
    """The share, in percent, of the profile's applicable rules and the family's requirements for the channel
    that ``product``'s variants pass as ``target``'s channel receives them: through its mapping, so a field the
    target maps from another attribute (a bullet point cut from the description) counts as given."""
    how = plan(target, profile, family, target.channel)
    results: list[bool] = []
    for variant in product.variants:
        index = VariantFields(product, variant).index
        results += [given(lookup(index, keys)) for keys, _ in how.required]
        get = how.payload(index).get
        results += [outcome for outcome in (check(get) for check, _, _ in profile.checks) if outcome is not None]
    return round(100 * sum(results) / len(results), 1) if results else 100.0


def override_channels(product: Product) -> frozenset[str]:
    """The channels ``product`` overrides a value for: its listing there is built as that channel's own."""
    values = (*product.values, *(v for variant in product.variants for v in variant.values))
    return frozenset(v.channel for v in values if v.channel)


Plans = dict[tuple[Target, str, str], Plan]  # by (target, channel or "", family): kept for a batch
Built = tuple[dict[str, Any], tuple[Reason, ...], tuple[Reason, ...]]  # payload, family reasons, profile reasons


def listing_states(
    product: Product,
    family: Family,
    targets: list[Target],
    profiles: dict[str, Profile],
    shared: bool = True,
    plans: Plans | None = None,
) -> list[ListingRow]:
    """Every variant's listing in every listing group of ``targets`` (built and checked once per group; not
    returned without ``shared``: they stand already), plus the channels' own listings where the product
    differs on a channel: a channel it overrides a value for (built for that channel), and a channel its family
    requires more on, when the product lacks some of it (the group's listing with those reasons added; a
    product that has what the channel requires shares the group's listing). ``plans`` keeps the plans between
    calls (a batch of products)."""
    plans = {} if plans is None else plans

    def plan_of(target: Target, channel: str) -> Plan:
        key = (target, channel, family.code)
        if (how := plans.get(key)) is None:
            how = plans[key] = plan(target, profiles[target.profile], family, channel or None)
        return how

    groups: dict[str, Target] = {}
    for t in targets:  # the first channel of a group stands for it (without its overrides)
        groups.setdefault(t.group, t)
    overridden = override_channels(product)
    stricter = set(family.required) - {ANY_CHANNEL}
    indexes = [(variant.sku, VariantFields(product, variant).index) for variant in product.variants]
    out: list[ListingRow] = []
    built: dict[tuple[str, str], Built] = {}
    needed = shared or any(t.channel in stricter - overridden for t in targets)
    for group, target in groups.items() if needed else ():
        for sku, listing in _build(plan_of(target, ""), indexes):
            built[(group, sku)] = listing
            if shared:
                out.append(_row(group, "", sku, listing))
    for t in targets:
        if t.channel in overridden:
            out += [_row(t.group, t.channel, sku, listing) for sku, listing in _build(plan_of(t, t.channel), indexes)]
        elif t.channel in stricter:
            how = plan_of(t, t.channel)
            mine = [(sku, built[(t.group, sku)], how.missing(index)) for sku, index in indexes]
            if any(missing != common[1] for _, common, missing in mine):
                out += [_row(t.group, t.channel, sku, (common[0], missing, common[2])) for sku, common, missing in mine]
    return out


def _build(how: Plan, indexes: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, Built]]:
    """Each variant's payload, family reasons and profile reasons under one plan; the product-level rules are
    checked on the first variant only."""
    product_failed: tuple[int, ...] | None = None
    out = []
    for sku, index in indexes:
        payload = how.payload(index)
        if product_failed is None:
            product_failed = how.failures(how.product_checks, payload)
        failed = sorted(product_failed + how.failures(how.variant_checks, payload))
        out.append((sku, (payload, how.missing(index), tuple(how.reasons[i] for i in failed))))
    return out


def _row(group: str, channel: str, sku: str, listing: Built) -> ListingRow:
    payload, missing, failed = listing
    reasons = missing + failed
    return ListingRow(group, channel, sku, ListingState.BLOCKED if reasons else ListingState.READY, reasons, payload)
