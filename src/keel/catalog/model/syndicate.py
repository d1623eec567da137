"""Every listing of a product, built fast enough for a whole catalog on every channel.

A **plan** is how one target lists products of one family, worked out once per batch: for each payload field
the keys of the value it reads in a variant's index (the channel's override first, when built for one
channel), the family's requirements likewise, and which of the profile's rules read only product-level
fields. Building a payload is then a dictionary lookup per field, and a product-level rule is checked once per
product rather than once per variant.

A rule's outcome depends only on the values it reads, so a plan splits its profile's rules into **parts**
(product-level or per variant; reading a localised field or not), each with a key equal for the plans of a
batch (``Plans``) whose part holds the same rules of the same profile reading their fields at the same keys
with the same transforms; a part checked for a product (or variant) under one plan is not checked again under
another. The groups of one profile in several locales differ only in their localised fields, so a rule on the
price or the GTIN is checked once per product (or variant), not once per locale; the family's requirements
likewise have a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from keel.catalog.model.attributes import ANY_CHANNEL, Family
from keel.catalog.model.listings import FieldMap, ListingRow, ListingState, Reason, Target, convert
from keel.catalog.model.product import Product, Variant
from keel.catalog.model.profiles import (
    VARIANT_SOURCES,
    Keys,
    Profile,
    VariantFields,
    lookup,
    product_fields,
    value_keys,
)
from keel.catalog.model.rules import Check, given

Outcomes = dict[int, tuple[int, ...]]  # by part key: the rules of that part failed (one product's, or one variant's)
Part = tuple[int, bool, tuple[tuple[int, Check], ...]]  # its key, on a variant's fields, its rules by index


@dataclass(frozen=True)
class Plan:
    profile: Profile
    fields: tuple[tuple[str, Keys, FieldMap | None], ...]  # payload field, where its value is, its transform
    required: tuple[tuple[Keys, Reason], ...]  # a family requirement: where its value is, the reason it fails
    parts: tuple[Part, ...]  # the profile's rules in parts (see the module's docstring)
    required_key: int  # equal for plans reading the family's requirements at the same keys

    @cached_property
    def reasons(self) -> tuple[Reason, ...]:
        """The reason each of the profile's rules gives when it fails, by index."""
        return tuple(Reason(rule.id, names, rule.message) for _, rule, names in self.profile.checks)

    @cached_property
    def direct(self) -> tuple[tuple[str, str], ...] | None:
        """(field, key) of every field the family has when none reads an override or has a transform (a
        group's plan without a mapping's transforms): its payload is then one comprehension of lookups."""
        if any(keys[0] is not None or how is not None for _, keys, how in self.fields):
            return None
        return tuple((name, keys[1]) for name, keys, _ in self.fields if keys[1] is not None)

    def payload(self, index: dict[str, Any]) -> dict[str, Any]:
        get = index.get
        if (direct := self.direct) is not None:
            return {name: value for name, key in direct if (value := get(key)) is not None}
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

    def assess(
        self, index: dict[str, Any], payload: dict[str, Any], product: Outcomes, variant: Outcomes
    ) -> tuple[tuple[Reason, ...], tuple[Reason, ...]]:
        """Why a variant (its ``index``, and ``payload`` under this plan) is blocked: the family's requirements
        it misses, and the profile's rules it fails, in the profile's order. A part already checked for the
        product (product-level rules) or the variant is taken from ``product`` or ``variant``; the others are
        checked and kept there."""
        missing = variant.get(self.required_key)
        if missing is None:
            required = self.required
            missing = variant[self.required_key] = tuple(
                i for i, (keys, _) in enumerate(required) if not given(lookup(index, keys))
            )
        failed: list[int] = []
        get = payload.get
        for key, on_variant, checks in self.parts:
            known = variant if on_variant else product
            found = known.get(key)
            if found is None:
                found = known[key] = tuple(i for i, check in checks if check(get) is False)
            failed += found
        if not failed and not missing:
            return (), ()
        reasons = self.reasons
        return tuple(self.required[i][1] for i in missing), tuple(reasons[i] for i in sorted(failed))


class Plans:
    """The plans of a batch, by (target, channel or "", family), and the part keys they share."""

    def __init__(self) -> None:
        self._plans: dict[tuple[Target, str, str], Plan] = {}
        self._keys: dict[tuple[Any, ...], int] = {}
        self._groups: tuple[list[Target], dict[str, Target]] | None = None

    def groups(self, targets: list[Target]) -> dict[str, Target]:
        """The first target of each listing group of ``targets`` (it stands for the group, without its
        overrides), kept while the batch passes the same list."""
        if self._groups is None or self._groups[0] is not targets:
            groups: dict[str, Target] = {}
            for t in targets:
                groups.setdefault(t.group, t)
            self._groups = (targets, groups)
        return self._groups[1]

    def get(self, target: Target, channel: str, family: Family, profiles: dict[str, Profile]) -> Plan:
        key = (target, channel, family.code)
        if (how := self._plans.get(key)) is None:
            how = self._plans[key] = plan(target, profiles[target.profile], family, channel or None, self._keys)
        return how


def plan(
    target: Target,
    profile: Profile,
    family: Family,
    channel: str | None,
    keys: dict[tuple[Any, ...], int] | None = None,
) -> Plan:
    """How ``target`` lists products of ``family``, as ``channel`` shows them (None: as its group does);
    ``keys`` numbers the parts of the plans that share them (a batch's)."""
    keys = {} if keys is None else keys
    mapped = {m.field: m for m in target.mapping}
    fields, per_variant, localised = [], set(), set()
    for name in (*mapped, *(n for n in profile.read if n not in mapped)):
        m = mapped.get(name)
        source = m.source if m else profile.fields.get(name, name)
        attr = family.attribute(source)
        if source in VARIANT_SOURCES or (attr is not None and attr.variant):
            per_variant.add(name)
        if attr is not None and attr.localised:
            localised.add(name)
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
    # what a field's value is: where it is read and how it is transformed (not the field's name)
    reads = {name: (where, how.unit, how.truncate) if how else (where, None, None) for name, where, how in fields}
    parts: dict[tuple[bool, bool], list[tuple[int, Check, tuple[Any, ...]]]] = {}
    for i, (check, rule, _) in enumerate(profile.checks):
        names = (*rule.names, *([rule.when_field] if rule.when_field else []))
        on_variant, in_locale = bool(set(names) & per_variant), bool(set(names) & localised)
        identity = (profile.code, i, *(reads.get(n) for n in names))
        parts.setdefault((on_variant, in_locale), []).append((i, check, identity))
    keyed = []
    for (on_variant, _), rules in sorted(parts.items()):
        identity = (on_variant, *(identity for _, _, identity in rules))
        keyed.append((keys.setdefault(identity, len(keys)), on_variant, tuple((i, check) for i, check, _ in rules)))
    required_key = keys.setdefault(("required", *(where for where, _ in required)), len(keys))
    return Plan(profile, tuple(fields), tuple(required), tuple(keyed), required_key)


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


Indexed = list[tuple[str, dict[str, Any], Outcomes]]  # each variant's SKU, index and outcomes
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
    plans = Plans() if plans is None else plans
    overridden = override_channels(product)
    stricter = set(family.required) - {ANY_CHANNEL}
    common = product_fields(product)
    indexed: Indexed = [(v.sku, VariantFields(product, v, common).index, {}) for v in product.variants]
    outcomes: Outcomes = {}  # the product-level rules' outcomes, shared by its variants
    out: list[ListingRow] = []
    built: dict[tuple[str, str], Built] = {}
    needed = shared or any(t.channel in stricter - overridden for t in targets)
    for group, target in plans.groups(targets).items() if needed else ():
        how = plans.get(target, "", family, profiles)
        for sku, index, own in indexed:
            payload = how.payload(index)
            missing, failed = how.assess(index, payload, outcomes, own)
            if stricter:
                built[(group, sku)] = (payload, missing, failed)
            if shared:
                out.append(_row(group, "", sku, payload, missing + failed))
    if not overridden and not stricter:  # the usual product: its groups' listings are all it has
        return out
    for t in targets:
        if t.channel in overridden:
            how = plans.get(t, t.channel, family, profiles)
            for sku, index, own in indexed:
                payload = how.payload(index)
                missing, failed = how.assess(index, payload, outcomes, own)
                out.append(_row(t.group, t.channel, sku, payload, missing + failed))
        elif t.channel in stricter:
            how = plans.get(t, t.channel, family, profiles)
            mine = [(sku, built[(t.group, sku)], how.missing(index)) for sku, index, _ in indexed]
            if any(missing != common[1] for _, common, missing in mine):
                out += [_row(t.group, t.channel, sku, common[0], missing + common[2]) for sku, common, missing in mine]
    return out


def _row(group: str, channel: str, sku: str, payload: dict[str, Any], reasons: tuple[Reason, ...]) -> ListingRow:
    return ListingRow(group, channel, sku, ListingState.BLOCKED if reasons else ListingState.READY, reasons, payload)
