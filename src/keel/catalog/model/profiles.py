"""Compliance profiles as data: each a list of rules a channel's listing must meet, checked per variant in one
locale, every rule answering pass or fail with its field and a message a person can act on.

A profile names its fields (``fields``: profile field -> a product attribute, or a built-in source such as
``@sku``; a field not mapped reads the attribute of the same name) and its rules::

    {"id": "title-length", "field": "title", "check": "length", "min": 1, "max": 150,
     "message": "The title must be 1 to 150 characters."}

Checks: ``required``; ``length`` (min, max); ``one_of`` (values); ``pattern`` (regex, whole value);
``url``; ``gtin`` (check digit); ``gtin_tradable`` (not restricted-circulation or coupon); ``any_of`` (fields:
at least one given); ``positive`` (an amount above zero); ``equals`` (value); ``percent_total`` (the
percentages in the text add up to 100). A rule with ``when`` (``{"field": f, "in": [...]}``) applies only to
listings whose field holds one of those values. Every check but ``required`` and ``any_of`` passes when its
field has no value: absence is the ``required`` rule's to report, so each failure has one reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from keel.catalog.model.attributes import Family
from keel.catalog.model.product import MediaKind, Product, Variant
from keel.catalog.model.rules import CHECKS, Check, Rule, compile_rule, given
from keel.platform.vocabulary import CODE_RE

SOURCES = frozenset({"@sku", "@product", "@gtin", "@mpn", "@brand", "@image", "@family"})
MAX_RULES = 500


@dataclass(frozen=True)
class Profile:
    code: str
    label: str
    description: str
    rules: tuple[Rule, ...]
    fields: dict[str, str] = field(default_factory=dict, hash=False)
    shipped: bool = False
    truncatable: tuple[str, ...] = ()  # fields a channel mapping may cut to length (the rest must fit as they are)

    @cached_property
    def checks(self) -> tuple[tuple[Check, Rule, str], ...]:
        """Each rule compiled, with the rule and the fields it names (joined), compiled once per profile."""
        return tuple((compile_rule(r), r, ",".join(r.names)) for r in self.rules)

    @cached_property
    def read(self) -> tuple[str, ...]:
        """Every field the rules read, once, in rule order."""
        return tuple(dict.fromkeys(n for r in self.rules for n in (*r.names, r.when_field) if n))


@dataclass(frozen=True)
class RuleResult:
    """One rule on one variant: passed or not, the field it reads, and what to do about a failure."""

    rule: str
    sku: str
    field: str
    passed: bool
    message: str


@dataclass(frozen=True)
class Compliance:
    """A product against a profile for one channel and locale: every applicable rule's result per variant and
    the completeness score (the share of results that pass, in percent)."""

    product: str
    profile: str
    channel: str | None
    locale: str | None
    results: tuple[RuleResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def score(self) -> float:
        if not self.results:
            return 100.0
        return round(100 * sum(r.passed for r in self.results) / len(self.results), 1)

    @property
    def failures(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if not r.passed)


def parse_profile(doc: Any, *, shipped: bool = False) -> tuple[Profile | None, list[tuple[str, str]]]:
    """A profile from its JSON document, or the (field, reason) of every problem."""
    if not isinstance(doc, dict):
        return None, [("", "a JSON object")]
    errors: list[tuple[str, str]] = []
    code = doc.get("code")
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        errors.append(("code", "1-64 letters, digits or ._- starting alphanumeric"))
    label, description = doc.get("label", ""), doc.get("description", "")
    if not isinstance(label, str) or not isinstance(description, str) or len(label) > 200 or len(description) > 2000:
        errors.append(("label", "label and description: texts of at most 200 and 2,000 characters"))
    fields = doc.get("fields", {})
    if not isinstance(fields, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and (v in SOURCES or CODE_RE.fullmatch(v)) for k, v in fields.items()
    ):
        errors.append(("fields", f"an object: profile field -> attribute code or one of {', '.join(sorted(SOURCES))}"))
        fields = {}
    truncatable = doc.get("truncatable", [])
    if not isinstance(truncatable, list) or not all(isinstance(t, str) for t in truncatable):
        errors.append(("truncatable", "a list of the fields a mapping may cut to length"))
        truncatable = []
    raw_rules = doc.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules or len(raw_rules) > MAX_RULES:
        errors.append(("rules", f"a list of 1 to {MAX_RULES} rules"))
        raw_rules = []
    rules: list[Rule] = []
    for i, raw in enumerate(raw_rules):
        rule, problems = _rule(raw)
        errors += [(f"rules[{i}].{f}".rstrip("."), r) for f, r in problems]
        if rule is not None:
            if any(r.id == rule.id for r in rules):
                errors.append((f"rules[{i}].id", f"{rule.id!r} is used twice"))
            rules.append(rule)
    if errors:
        return None, errors
    return Profile(str(code), str(label), str(description), tuple(rules), dict(fields), shipped, tuple(truncatable)), []


def _rule(raw: Any) -> tuple[Rule | None, list[tuple[str, str]]]:
    if not isinstance(raw, dict):
        return None, [("", "an object")]
    errors: list[tuple[str, str]] = []
    known = {"id", "check", "message", "field", "fields", "min", "max", "values", "pattern", "value", "when"}
    errors += [(k, "not a field of a rule") for k in sorted(set(raw) - known)]
    rid, check, message = raw.get("id"), raw.get("check"), raw.get("message")
    if not isinstance(rid, str) or not CODE_RE.fullmatch(rid):
        errors.append(("id", "1-64 letters, digits or ._- starting alphanumeric"))
    if check not in CHECKS:
        errors.append(("check", f"one of {', '.join(sorted(CHECKS))}"))
    if not isinstance(message, str) or not message.strip() or len(message) > 500:
        errors.append(("message", "the text a person reads when the rule fails, at most 500 characters"))
    name, names = raw.get("field", ""), raw.get("fields", [])
    if check == "any_of":
        if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) and n for n in names):
            errors.append(("fields", "any_of names two or more fields"))
    elif not isinstance(name, str) or not name:
        errors.append(("field", "the field the rule reads"))
    bounds = {k: raw.get(k) for k in ("min", "max")}
    for k, v in bounds.items():
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            errors.append((k, "a whole number, not negative"))
    if check == "length" and bounds["min"] is None and bounds["max"] is None:
        errors.append(("max", "a length rule needs min or max"))
    values = raw.get("values", [])
    if not isinstance(values, list) or (check == "one_of" and not values):
        errors.append(("values", "the allowed values"))
    pattern = raw.get("pattern")
    if check == "pattern":
        try:
            re.compile(pattern if isinstance(pattern, str) else "(")
        except re.error:
            errors.append(("pattern", "a regular expression"))
    when = raw.get("when")
    when_field, when_in = None, ()
    if when is not None:
        if not isinstance(when, dict) or set(when) != {"field", "in"} or not isinstance(when["in"], list):
            errors.append(("when", 'an object {"field": ..., "in": [...]}'))
        else:
            when_field, when_in = str(when["field"]), tuple(when["in"])
    if errors:
        return None, errors
    return Rule(
        id=str(rid),
        check=str(check),
        message=str(message),
        field=str(name),
        fields=tuple(names) if check == "any_of" else (),
        min=bounds["min"],
        max=bounds["max"],
        values=tuple(values),
        pattern=pattern if isinstance(pattern, str) else None,
        value=raw.get("value"),
        when_field=when_field,
        when_in=when_in,
    ), []


VARIANT_SOURCES = frozenset({"@sku", "@gtin", "@mpn"})  # built-in sources each variant has its own of


class VariantFields:
    """A variant's values indexed once by key (``title@de#google``), with its built-in sources (``@sku``...):
    every channel and locale it is listed in reads from the same index. ``common`` is the product's part of
    it (``product_fields``) when the caller indexes several variants of one product."""

    __slots__ = ("index",)

    def __init__(self, product: Product, variant: Variant, common: dict[str, Any] | None = None) -> None:
        self.index: dict[str, Any] = dict(product_fields(product) if common is None else common)
        self.index.update({v.key: v.value for v in variant.values})
        self.index.update({"@sku": variant.sku, "@gtin": variant.gtin, "@mpn": variant.mpn})


def product_fields(product: Product) -> dict[str, Any]:
    """The part of its variants' indexes a product gives them all: its values and product-level sources."""
    index = {v.key: v.value for v in product.values}
    index.update(
        {
            "@product": product.code,
            "@brand": product.brand,
            "@family": product.family,
            "@image": next((m.url for m in product.media if m.kind is MediaKind.IMAGE), None),
        }
    )
    return index


Keys = tuple[str | None, str | None]  # (the channel's override key, the common value's key)


def value_keys(source: str, family: Family, locale: str | None, channel: str | None) -> Keys:
    """Where a variant's index holds attribute or built-in ``source`` as ``channel`` shows it in ``locale``:
    the key of the channel's override (None without a channel) and of the common value (None when the family
    has no such attribute)."""
    if source in SOURCES:
        return None, source
    attr = family.attribute(source)
    if attr is None:
        return None, None
    stem = source + (f"@{locale}" if attr.localised and locale else "")
    return (f"{stem}#{channel}" if channel else None), stem


def lookup(index: dict[str, Any], keys: Keys) -> Any:
    """The value at ``keys``: the override when there is one, else the common value."""
    override, key = keys
    if override is not None and (found := index.get(override)) is not None:
        return found
    return index.get(key) if key is not None else None


class Listing:
    """The fields of one variant as one channel shows it in one locale, read on demand from the variant's
    index (the compliance report's path; listings are built from plans, ``keel.catalog.model.syndicate``)."""

    def __init__(
        self,
        profile: Profile | None,
        product: Product,
        variant: Variant,
        family: Family,
        channel: str | None,
        locale: str | None,
    ) -> None:
        self.profile, self.family, self.channel, self.locale = profile, family, channel, locale
        self.index = VariantFields(product, variant).index

    def get(self, name: str, *, direct: bool = False) -> Any:
        """The value of profile field ``name`` (through the profile's field map), or with ``direct`` of the
        attribute or built-in source ``name`` itself: the channel's override first, then the common value."""
        source = name if direct or self.profile is None else self.profile.fields.get(name, name)
        return lookup(self.index, value_keys(source, self.family, self.locale, self.channel))


def check_rule(rule: Rule, listing: Listing) -> bool | None:
    """Whether ``listing`` meets ``rule``; None when the rule does not apply to it (its ``when`` is not met)."""
    return compile_rule(rule)(listing.get)


def family_results(
    product: Product, variant: Variant, family: Family, channel: str | None, locale: str | None
) -> list[RuleResult]:
    """The family's own requirements for ``channel`` on one variant, as rules ``family:required:<attr>``."""
    results = []
    listing = Listing(None, product, variant, family, channel, locale)
    for code in family.required_on(channel):
        attr = family.attribute(code)
        found = given(listing.get(code, direct=True))
        where = f" in {locale}" if attr is not None and attr.localised and locale else ""
        message = "ok" if found else f"The family {family.code} requires {code}{where} on this channel."
        results.append(RuleResult(f"family:required:{code}", variant.sku, code, found, message))
    return results


def evaluate(profile: Profile, product: Product, family: Family, channel: str | None, locale: str | None) -> Compliance:
    """Every applicable rule of ``profile`` on every variant of ``product``, as ``channel`` shows it in
    ``locale``; the family's own requirements for the channel count as rules too (``family:required:<attr>``)."""
    results: list[RuleResult] = []
    for variant in product.variants:
        listing = Listing(profile, product, variant, family, channel, locale)
        results += family_results(product, variant, family, channel, locale)
        for check, rule, names in profile.checks:
            outcome = check(listing.get)
            if outcome is None:
                continue
            message = "ok" if outcome else rule.message
            results.append(RuleResult(rule.id, variant.sku, names, outcome, message))
    return Compliance(product.code, profile.code, channel, locale, tuple(results))


def profile_document(profile: Profile) -> dict[str, Any]:
    """The JSON document of a profile (what ``parse_profile`` reads back)."""
    rules = []
    for r in profile.rules:
        doc: dict[str, Any] = {"id": r.id, "check": r.check}
        if r.fields:
            doc["fields"] = list(r.fields)
        else:
            doc["field"] = r.field
        for name in ("min", "max", "pattern", "value"):
            if getattr(r, name) is not None:
                doc[name] = getattr(r, name)
        if r.values:
            doc["values"] = list(r.values)
        if r.when_field is not None:
            doc["when"] = {"field": r.when_field, "in": list(r.when_in)}
        doc["message"] = r.message
        rules.append(doc)
    doc = {
        "code": profile.code,
        "label": profile.label,
        "description": profile.description,
        "fields": dict(profile.fields),
        "rules": rules,
    }
    if profile.truncatable:
        doc["truncatable"] = list(profile.truncatable)
    return doc
