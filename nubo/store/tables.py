"""The SQL schema of nubo's store, as SQLAlchemy Core tables.

Aggregates (NSRs, LCM operation occurrences) are stored whole as JSON in a
``body`` column; the other columns only copy the fields that queries filter or
sort on. So the model can grow without a migration for every new field, and
only a new query needs a new column.

Types are the portable ones (String, JSON, DateTime with time zone, Boolean,
Integer) so the same schema serves SQLite and PostgreSQL; documents are JSONB
on PostgreSQL (``JSON_DOCUMENT``), which stores them parsed and can compare
them, where plain JSON there is text. This module must stay in step with the
Alembic migrations in ``migrations/versions``; a unit test compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB

# Named constraints make later migrations (especially on SQLite, which needs
# batch mode to alter a table) able to refer to them by name.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: the column type of stored documents; the migrations use it too, so both sides agree
JSON_DOCUMENT = JSON().with_variant(JSONB(), "postgresql")

#: length of id columns: UUID4 text is 36 characters, leave room for other schemes
ID_LENGTH = 64
NAME_LENGTH = 255

vims = Table(
    "vims",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("project_id", String(ID_LENGTH), nullable=False, index=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("type", String(64), nullable=False),
    Column("endpoint", String(1024), nullable=False),
    Column("subnet_pool", String(64), nullable=False),
    Column("subnet_prefix", Integer, nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    #: a VIM's name is unique in its project
    UniqueConstraint("project_id", "name", name="uq_vims_project_id_name"),
)

nsds = Table(
    "nsds",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("project_id", String(ID_LENGTH), nullable=False, index=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("vendor", String(NAME_LENGTH), nullable=False),
    Column("version", String(64), nullable=False),
    Column("format", String(32), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("body", JSON_DOCUMENT, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # SOL005: CREATED, UPLOADING, PROCESSING, ONBOARDED, ERROR
    Column("onboarding_state", String(32), nullable=False, server_default="ONBOARDED"),
    #: SOL005 NsdInfo fields that are not the descriptor's (userDefinedData, vnfPkgIds, ...)
    Column("info", JSON_DOCUMENT, nullable=True),
    #: what the descriptor carries that nubo does not use: [{"path", "message"}]
    Column("warnings", JSON_DOCUMENT, nullable=True),
)

nsrs = Table(
    "nsrs",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("project_id", String(ID_LENGTH), nullable=False, index=True),
    Column("nsd_id", String(ID_LENGTH), nullable=False, index=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("status", String(32), nullable=False, index=True),
    Column("body", JSON_DOCUMENT, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    #: bumped by every write; a write names the version it read (compare-and-set)
    Column("version", Integer, nullable=False, server_default="0"),
    #: a random number every write gives the row: with the count, the sum over some
    #: statuses tells a reader holding copies whether any of those NSs changed
    Column("stamp", Integer, nullable=False, server_default="0"),
)

lcm_op_occs = Table(
    "lcm_op_occs",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("project_id", String(ID_LENGTH), nullable=False, index=True),
    Column("nsr_id", String(ID_LENGTH), nullable=False, index=True),
    Column("operation", String(32), nullable=False),
    Column("state", String(32), nullable=False, index=True),
    Column("start_time", DateTime(timezone=True), nullable=False),
    Column("state_entered_time", DateTime(timezone=True), nullable=False),
    Column("body", JSON_DOCUMENT, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
)

#: every VNFC of every NSR as a row, rewritten with its NSR in the same transaction:
#: what the background loops ask ("which VNFCs on this VIM are not RUNNING", "which
#: NS owns container X") is a query on these columns, not a pass over every NSR
vnfc_instances = Table(
    "vnfc_instances",
    metadata,
    Column("nsr_id", String(ID_LENGTH), primary_key=True),
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("vnfr_id", String(ID_LENGTH), nullable=False),
    Column("vdu_id", String(ID_LENGTH), nullable=False),
    Column("hostname", String(NAME_LENGTH), nullable=False),
    Column("vim_id", String(ID_LENGTH), nullable=False, index=True),
    Column("vc_id", String(NAME_LENGTH), nullable=False, index=True),
    Column("state", String(32), nullable=False, index=True),
)

#: every virtual link of every NSR, with the VIM network that carries it
virtual_links = Table(
    "virtual_links",
    metadata,
    Column("nsr_id", String(ID_LENGTH), primary_key=True),
    Column("name", String(NAME_LENGTH), primary_key=True),
    Column("vim_network_id", String(NAME_LENGTH), nullable=False, index=True),
    Column("cidr", String(64), nullable=False),
)

#: the lock of an NS while an operation (or an observer) changes it: a lease in the
#: database, so every replica sees it; ``owner`` is the replica that renews it, and a
#: lease not renewed before ``expires_at`` may be taken over (its replica is gone)
ns_leases = Table(
    "ns_leases",
    metadata,
    Column("nsr_id", String(ID_LENGTH), primary_key=True),
    Column("holder", String(NAME_LENGTH), nullable=False),
    Column("owner", String(NAME_LENGTH), nullable=False, index=True),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    #: another replica asked the owner to cancel the holder (an operation it runs)
    Column("cancel_requested", Boolean, nullable=False, server_default=false()),
)

#: which replica leads a kind of background work (fault watching, monitoring,
#: auto-scaling): one at a time, renewed like a lease and taken over when it expires
leaderships = Table(
    "leaderships",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("owner", String(NAME_LENGTH), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

#: what a background loop must remember across processes and leader changes
#: (heal attempts per VNFC, scaling cooldowns per VNF), one small document per key
loop_memory = Table(
    "loop_memory",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("key", String(NAME_LENGTH), primary_key=True),
    Column("body", JSON_DOCUMENT, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

alarms = Table(
    "alarms",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("project_id", String(ID_LENGTH), nullable=False, index=True),
    Column("managed_object_id", String(ID_LENGTH), nullable=False, index=True),
    Column("nsr_id", String(ID_LENGTH), nullable=True, index=True),
    Column("probable_cause", String(64), nullable=False),
    Column("active", Boolean, nullable=False, index=True),
    Column("alarm_raised_time", DateTime(timezone=True), nullable=False),
    Column("body", JSON_DOCUMENT, nullable=False),
)

#: a client's retry of a create request with the same key gets the first answer back
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", String(NAME_LENGTH), primary_key=True),
    Column("request", String(1024), nullable=False),
    Column("nsr_id", String(ID_LENGTH), nullable=False),
    Column("op_id", String(ID_LENGTH), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: metric time series; ``resolution`` 0 = raw samples, else the seconds a rolled-up
#: row averages (with min/max kept), so old data can be downsampled, not just dropped
metric_samples = Table(
    "metric_samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", Float, nullable=False, index=True),
    Column("nsr_id", String(ID_LENGTH), nullable=False, index=True),
    Column("vnfr_id", String(ID_LENGTH), nullable=False),
    Column("vnfc_id", String(ID_LENGTH), nullable=False, index=True),
    Column("metric", String(64), nullable=False, index=True),
    Column("value", Float, nullable=False),
    Column("min_value", Float, nullable=True),
    Column("max_value", Float, nullable=True),
    #: raw rows are written without it (see migration 0015)
    Column("resolution", Integer, nullable=False, server_default="0"),
)

#: every auto-scaling decision with its inputs, including "would scale but ..."
scaling_decisions = Table(
    "scaling_decisions",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("time", Float, nullable=False, index=True),
    Column("nsr_id", String(ID_LENGTH), nullable=False, index=True),
    Column("vnfr_id", String(ID_LENGTH), nullable=False),
    Column("policy", String(NAME_LENGTH), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("body", JSON_DOCUMENT, nullable=False),
)

#: KPI definitions with their current state in the body (see ``nubo.model.kpis``)
kpis = Table(
    "kpis",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("project_id", String(ID_LENGTH), nullable=False, index=True),
    Column("nsr_id", String(ID_LENGTH), nullable=False, index=True),
    Column("body", JSON_DOCUMENT, nullable=False),
)

#: every change of a KPI's state
kpi_events = Table(
    "kpi_events",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("project_id", String(ID_LENGTH), nullable=False, index=True),
    Column("kpi_id", String(ID_LENGTH), nullable=False, index=True),
    Column("nsr_id", String(ID_LENGTH), nullable=False, index=True),
    Column("time", Float, nullable=False, index=True),
    Column("body", JSON_DOCUMENT, nullable=False),
)

#: VNF packages (SOL005 VnfPkgInfo in the body) and the CSAR archive as uploaded
vnf_packages = Table(
    "vnf_packages",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("project_id", String(ID_LENGTH), nullable=False, index=True),
    Column("onboarding_state", String(32), nullable=False),
    Column("operational_state", String(16), nullable=False),
    Column("vnfd_id", String(NAME_LENGTH), nullable=True, index=True),
    Column("body", JSON_DOCUMENT, nullable=False),
    Column("archive", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: subscriptions to notifications (SOL005 LccnSubscription in the body)
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("project_id", String(ID_LENGTH), nullable=False, index=True),
    Column("callback_uri", String(2048), nullable=False),
    Column("body", JSON_DOCUMENT, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: notifications accepted for a subscriber and not yet delivered or dropped (the
#: outbox): ``seq`` orders them per subscriber and never goes back, also on SQLite
#: (AUTOINCREMENT), so a delivered row's number is never given to a new one
notification_outbox = Table(
    "notification_outbox",
    metadata,
    Column(
        "seq",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("subscription_id", String(ID_LENGTH), nullable=False),
    Column("body", JSON_DOCUMENT, nullable=False),
    #: tries made so far, by any replica or process
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    #: the worker's query: a subscriber's oldest rows, in order
    Index("ix_notification_outbox_subscription_id", "subscription_id", "seq"),
    sqlite_autoincrement=True,
)

#: projects: what members, API clients and every record belong to (``nubo.model.tenancy``)
projects = Table(
    "projects",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("name", String(NAME_LENGTH), nullable=False, unique=True),
    Column("description", String(1024), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: user accounts; ``generation`` moves on with every change that must end their tokens
users = Table(
    "users",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("name", String(NAME_LENGTH), nullable=False, unique=True),
    Column("email", String(NAME_LENGTH), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("system_admin", Boolean, nullable=False),
    Column("password_hash", String(512), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: a user's role in a project, one row per (user, project)
project_members = Table(
    "project_members",
    metadata,
    Column("user_id", String(ID_LENGTH), primary_key=True),
    Column("project_id", String(ID_LENGTH), primary_key=True, index=True),
    Column("role", String(16), nullable=False),
)

#: API clients of a project (client credentials grant), with the hash of their secret
api_clients = Table(
    "api_clients",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("project_id", String(ID_LENGTH), nullable=False, index=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("role", String(16), nullable=False),
    Column("secret_hash", String(512), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: the keys tokens are signed with: the newest not retired signs, all verify
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("secret", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("retired_at", DateTime(timezone=True), nullable=True),
)

#: tokens revoked before they expire (logout, a refresh token used); pruned once expired
revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

#: the audit trail: one row per mutating API call (see ``nubo.model.audit``); no body
#: of a request or an answer is kept
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", Float, nullable=False, index=True),
    Column("actor", String(NAME_LENGTH), nullable=False, index=True),
    Column("actor_id", String(ID_LENGTH), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("project_id", String(ID_LENGTH), nullable=True, index=True),
    Column("method", String(8), nullable=False),
    Column("route", String(512), nullable=False),
    Column("path", String(2048), nullable=False),
    Column("status", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("resource", String(2048), nullable=False),
    Column("address", String(64), nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("replica", String(NAME_LENGTH), nullable=False),
)
