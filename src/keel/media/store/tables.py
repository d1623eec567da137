"""The media context's tables (every query on them is in the modules beside this one).

- ``media_accounts``, ``media_campaigns``, ``media_ad_groups``, ``media_ads``: the setup as a person made it
  (their budgets, bids and statuses); ``media_ad_skus``: the SKUs each ad advertises, resolved on save;
- ``media_states``: what Keel wants each object to be on its platform, with a version every change bumps and
  the version the platform last accepted (the action outbox: a row is owed while ``sent_version < version``);
  ``held_by`` names the rules that hold it paused, ``drift`` what a person changed on the platform;
- ``media_leases``: which worker sends an account's changes (one at a time, so an older state is never sent
  after a newer one);
- ``media_rules`` and ``media_guardrails``: rule documents and the global limits;
- ``media_actions``: every decision with its reason and numbers (applied, dry run, waiting for approval...);
- ``media_stock`` and ``media_intervals``: each ad's sellable stock now, and when it was out of stock or
  paused by a rule (what the savings are computed over);
- ``media_performance``: imported or pulled performance rows (hour -1: a whole day).
"""

from __future__ import annotations

import sqlalchemy as sa

from keel.platform.db import BigId, JsonType, Timestamp, metadata

accounts_t = sa.Table(
    "media_accounts",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("url", sa.String(500), nullable=True),
    sa.Column("token", sa.String(500), nullable=True),
    sa.Column("guardrails", JsonType, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)
campaigns_t = sa.Table(
    "media_campaigns",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("account", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("region", sa.String(64), nullable=True),
    sa.Column("store", sa.String(64), nullable=True),
    sa.Column("radius_km", sa.Float, nullable=True),
    sa.Column("daily_budget", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)
groups_t = sa.Table(
    "media_ad_groups",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("campaign", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("default_bid", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)
ads_t = sa.Table(
    "media_ads",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("ad_group", sa.String(64), nullable=False, index=True),
    sa.Column("campaign", sa.String(64), nullable=False, index=True),
    sa.Column("target", JsonType, nullable=False),
    sa.Column("bid", sa.BigInteger, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)
ad_skus_t = sa.Table(
    "media_ad_skus",
    metadata,
    sa.Column("ad", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True, index=True),
)
states_t = sa.Table(
    "media_states",
    metadata,
    sa.Column("level", sa.String(16), primary_key=True),
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("bid", sa.BigInteger, nullable=True),
    sa.Column("budget", sa.BigInteger, nullable=True),
    sa.Column("held_by", JsonType, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("sent_version", sa.BigInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_at", Timestamp, nullable=False),
    sa.Column("dead", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("drift", JsonType, nullable=True),
    sa.Column("changed_at", Timestamp, nullable=False),
    sa.Column("sent_at", Timestamp, nullable=True),
    sa.Index(None, "account", "next_at"),
)
revision_t = sa.Table(  # one row: bumped by every setup save (what the watchers' indexes check)
    "media_revision",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
)
leases_t = sa.Table(
    "media_leases",
    metadata,
    sa.Column("account", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("until", Timestamp, nullable=False),
)
rules_t = sa.Table(
    "media_rules",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("document", JsonType, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)
guardrails_t = sa.Table(
    "media_guardrails",
    metadata,
    sa.Column("scope", sa.String(64), primary_key=True),
    sa.Column("document", JsonType, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)
actions_t = sa.Table(
    "media_actions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False, index=True),
    sa.Column("rule", sa.String(100), nullable=True),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("code", sa.String(64), nullable=False, index=True),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("before", JsonType, nullable=False),
    sa.Column("after", JsonType, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("numbers", JsonType, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=True),
    sa.Column("caused_by", sa.BigInteger, nullable=True),
    sa.Column("decided_by", sa.String(128), nullable=True),
)
stock_t = sa.Table(
    "media_stock",
    metadata,
    sa.Column("ad", sa.String(64), primary_key=True),
    sa.Column("sellable", sa.BigInteger, nullable=False),
    sa.Column("cover_days", sa.Float, nullable=True),
    sa.Column("since", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)
intervals_t = sa.Table(
    "media_intervals",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("ad", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("rule", sa.String(100), nullable=True),
    sa.Column("start", Timestamp, nullable=False),
    sa.Column("end", Timestamp, nullable=True),
)
performance_t = sa.Table(
    "media_performance",
    metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("hour", sa.SmallInteger, primary_key=True),
    sa.Column("ad", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("campaign", sa.String(64), nullable=False, index=True),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("impressions", sa.BigInteger, nullable=False),
    sa.Column("clicks", sa.BigInteger, nullable=False),
    sa.Column("cost", sa.BigInteger, nullable=False),
    sa.Column("orders_7d", sa.BigInteger, nullable=False),
    sa.Column("units_7d", sa.BigInteger, nullable=False),
    sa.Column("sales_7d", sa.BigInteger, nullable=False),
    sa.Column("orders_14d", sa.BigInteger, nullable=False),
    sa.Column("units_14d", sa.BigInteger, nullable=False),
    sa.Column("sales_14d", sa.BigInteger, nullable=False),
    sa.Index(None, "sku"),
)
