"""Request and response models of the catalog API. Product and family bodies are documents on purpose: the
catalog's model checks them field by field (with the family's attribute types) and names every problem."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from keel.catalog.model import (
    Category,
    Change,
    Family,
    GtinCheck,
    ImportReport,
    ProductView,
    Revision,
    Saved,
    family_document,
)
from keel.catalog.model.feeds import FeedStats
from keel.catalog.model.listings import ChannelReadiness, ListingView, Target, target_document
from keel.catalog.model.profiles import Compliance, Profile, profile_document
from keel.platform.schemas import Code, SeqNumber, StrictModel, Text


class ValuePublic(BaseModel):
    attribute: str
    locale: str | None = Field(None, description="set for a localised attribute, e.g. de or en-GB")
    channel: str | None = Field(None, description="set for one channel's override")
    value: Any = Field(description="in the attribute type's canonical form (see docs/catalog.md)")


class VariantPublic(BaseModel):
    sku: str
    gtin: str | None = None
    mpn: str | None = None
    values: list[ValuePublic]


class MediaPublic(BaseModel):
    url: str
    kind: str = Field(examples=["image"])
    alt: str | None = None


class ProductDocument(BaseModel):
    code: str
    family: str
    brand: str | None = None
    categories: list[str]
    values: list[ValuePublic]
    variants: list[VariantPublic]
    media: list[MediaPublic]


class ProductPublic(BaseModel):
    code: str
    family: str
    revision: int = Field(description="the revision this document is as of")
    updated_at: datetime = Field(description="when that revision was made")
    document: ProductDocument

    @classmethod
    def of(cls, view: ProductView) -> ProductPublic:
        return cls(
            code=view.code,
            family=view.family,
            revision=view.revision,
            updated_at=view.updated_at,
            document=ProductDocument.model_validate(view.document),
        )


class ProductsPage(BaseModel):
    items: list[ProductPublic]
    total: int
    limit: int
    offset: int


class ChangePublic(BaseModel):
    path: str = Field(examples=["values.title@de"], description="what changed: a field, value or variant")
    before: Any = Field(description="null when the path was added")
    after: Any = Field(description="null when the path was removed")

    @classmethod
    def of(cls, c: Change) -> ChangePublic:
        return cls(path=c.path, before=c.before, after=c.after)


class SavedPublic(BaseModel):
    code: str
    revision: int = Field(description="the product's revision after the write")
    changed: bool = Field(description="false when the product already was so: no revision was made")
    changes: list[ChangePublic]

    @classmethod
    def of(cls, s: Saved) -> SavedPublic:
        return cls(code=s.code, revision=s.revision, changed=s.changed, changes=[ChangePublic.of(c) for c in s.changes])


class RevisionPublic(BaseModel):
    product: str
    number: int
    at: datetime
    author: str = Field(description="the identity that made the change")
    via: str = Field(description="api, web, cli, worker or system")
    source: str = Field(description="api, cli, import, revert:N ...")
    changes: list[ChangePublic]

    @classmethod
    def of(cls, r: Revision) -> RevisionPublic:
        return cls(
            product=r.product,
            number=r.number,
            at=r.at,
            author=r.author,
            via=r.via,
            source=r.source,
            changes=[ChangePublic.of(c) for c in r.changes],
        )


class RevisionsPage(BaseModel):
    items: list[RevisionPublic]
    total: int
    limit: int
    offset: int


class RevisionDetail(BaseModel):
    revision: RevisionPublic
    document: ProductDocument = Field(description="the product as it stood after this revision")


class DiffPublic(BaseModel):
    product: str
    from_revision: int
    to_revision: int
    changes: list[ChangePublic]


class RevertRequest(StrictModel):
    revision: SeqNumber = Field(description="the revision whose document becomes current again")


class AttributePublic(BaseModel):
    code: str
    type: str
    label: str = ""
    localised: bool = False
    variant: bool = False
    units: list[str] = []
    options: list[str] = []
    max_length: int | None = None


class FamilyPublic(BaseModel):
    code: str
    label: str
    attributes: list[AttributePublic]
    required: dict[str, list[str]] = Field(description='channel code, or "*" for every channel: attribute codes')

    @classmethod
    def of(cls, f: Family) -> FamilyPublic:
        return cls.model_validate(family_document(f))


class CategoryPut(StrictModel):
    label: Text
    parent: Code | None = None


class CategoryPublic(BaseModel):
    code: str
    label: str
    parent: str | None

    @classmethod
    def of(cls, c: Category) -> CategoryPublic:
        return cls(code=c.code, label=c.label, parent=c.parent)


class GtinPublic(BaseModel):
    gtin: str
    valid: bool
    reason: str | None = Field(description="why it is not valid")
    flags: list[str] = Field(description="restricted_circulation or coupon: valid, but not an open-trade item")
    tradable: bool

    @classmethod
    def of(cls, g: GtinCheck) -> GtinPublic:
        return cls(gtin=g.text, valid=g.valid, reason=g.reason, flags=[f.value for f in g.flags], tradable=g.tradable)


class ImportPublic(BaseModel):
    rows: int = Field(description="rows (CSV) or lines (NDJSON) read")
    products: int
    created: int
    updated: int
    unchanged: int = Field(description="products the file left as they were: no revision")

    @classmethod
    def of(cls, r: ImportReport) -> ImportPublic:
        return cls(rows=r.rows, products=r.products, created=r.created, updated=r.updated, unchanged=r.unchanged)


class RulePublic(BaseModel):
    id: str
    check: str = Field(examples=["length"])
    field: str = Field(description="the field the rule reads (any_of: the fields, comma-separated)")
    message: str = Field(description="what a person reads when the rule fails")
    parameters: dict[str, Any] = Field(description="min, max, values, pattern, value, when: as the profile says")


class ProfilePublic(BaseModel):
    code: str
    label: str
    description: str
    shipped: bool = Field(description="shipped with Keel (read-only) rather than defined by a user")
    fields: dict[str, str] = Field(description="profile field -> product attribute or built-in source (@sku ...)")
    rules: list[RulePublic]

    @classmethod
    def of(cls, p: Profile) -> ProfilePublic:
        doc = profile_document(p)
        rules = []
        for r in doc["rules"]:
            rest = {k: v for k, v in r.items() if k not in ("id", "check", "field", "fields", "message")}
            name = ",".join(r["fields"]) if "fields" in r else r["field"]
            rules.append(RulePublic(id=r["id"], check=r["check"], field=name, message=r["message"], parameters=rest))
        return cls(
            code=p.code, label=p.label, description=p.description, shipped=p.shipped, fields=p.fields, rules=rules
        )


class RuleResultPublic(BaseModel):
    rule: str
    sku: str
    field: str
    passed: bool
    message: str = Field(description='"ok", or what to do to pass')


class CompliancePublic(BaseModel):
    product: str
    profile: str
    channel: str | None
    locale: str | None
    passed: bool = Field(description="every rule passes on every variant")
    score: float = Field(description="completeness: the share of results that pass, in percent")
    results: list[RuleResultPublic]

    @classmethod
    def of(cls, c: Compliance) -> CompliancePublic:
        return cls(
            product=c.product,
            profile=c.profile,
            channel=c.channel,
            locale=c.locale,
            passed=c.passed,
            score=c.score,
            results=[
                RuleResultPublic(rule=r.rule, sku=r.sku, field=r.field, passed=r.passed, message=r.message)
                for r in c.results
            ],
        )


class TargetPublic(BaseModel):
    channel: str
    profile: str
    locale: str | None
    mapping: dict[str, Any] = Field(description='channel field -> attribute, or {"source", "unit", "truncate"}')

    @classmethod
    def of(cls, t: Target) -> TargetPublic:
        return cls(channel=t.channel, **target_document(t))


class ReasonPublic(BaseModel):
    rule: str
    field: str
    message: str


class ListingPublic(BaseModel):
    channel: str
    sku: str
    product: str
    state: str = Field(examples=["ready"], description="ready or blocked")
    reasons: list[ReasonPublic] = Field(description="why it is blocked (empty when ready)")
    payload: dict[str, Any] = Field(description="the fields the channel is sent, after the mapping")
    revision: int = Field(description="the product revision this listing was built from")

    @classmethod
    def of(cls, v: ListingView) -> ListingPublic:
        return cls(
            channel=v.channel,
            sku=v.sku,
            product=v.product,
            state=v.state.value,
            reasons=[ReasonPublic(rule=r.rule, field=r.field, message=r.message) for r in v.reasons],
            payload=v.payload,
            revision=v.revision,
        )


class ListingsPage(BaseModel):
    items: list[ListingPublic]
    total: int
    limit: int
    offset: int


class ReasonCount(BaseModel):
    reason: str
    listings: int


class ReadinessPublic(BaseModel):
    channel: str
    ready: int
    blocked: int
    top_reasons: list[ReasonCount]

    @classmethod
    def of(cls, r: ChannelReadiness) -> ReadinessPublic:
        return cls(
            channel=r.channel,
            ready=r.ready,
            blocked=r.blocked,
            top_reasons=[ReasonCount(reason=text, listings=n) for text, n in r.top_reasons],
        )


class FeedItemPublic(BaseModel):
    """One listing of a JSON feed: its SKU, product, listed quantity and the attributes the channel receives."""

    sku: str
    product: str
    quantity: int
    attributes: dict[str, Any]


class FeedPartPublic(BaseModel):
    """One file of a JSON listings feed (at most 25,000 items); ``next_part`` is null on the last."""

    channel: str
    part: int
    items: list[FeedItemPublic]
    next_part: int | None


class FeedSummaryPublic(BaseModel):
    """A channel's feed counted to its end without being written: the listings it reads, how many of them the
    catalog holds ready, the items it would send and those it leaves out, by rule (a listing failing two
    rules counts under both)."""

    channel: str
    profile: str
    locale: str | None
    country: str | None = Field(description="the country whose quantities the feed lists; null: every country")
    listings: int
    ready: int
    items: int
    left_out: int
    left_out_by_rule: dict[str, int] = Field(description="rule -> listings it left out, most first")

    @classmethod
    def of(cls, target: Target, stats: FeedStats, country: str | None) -> FeedSummaryPublic:
        return cls(
            channel=stats.channel,
            profile=target.profile,
            locale=target.locale,
            country=country.upper() if country else None,
            listings=stats.listings,
            ready=stats.ready,
            items=stats.included,
            left_out=stats.left_out,
            left_out_by_rule=dict(stats.reasons.most_common()),
        )
