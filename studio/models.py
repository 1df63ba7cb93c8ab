"""SQLAlchemy models. The schema itself is made only by Alembic migrations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # Every session cookie carries the version it was issued under; raising it (sign-out,
    # deactivation, a new password) ends every copy of every earlier cookie.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(row.role for row in self.role_rows)


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_user_roles_user_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))

    user: Mapped[User] = relationship(back_populates="role_rows")


class AuditEvent(Base):
    """Append-only record of who did what. The studio never updates or deletes rows."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64), default="")
    object_id: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- Authored artifacts and their revisions -----------------------------------------

ARTIFACT_KINDS = ("offer", "layout", "ruleset", "schema", "lexicon", "policy", "survey")


class Artifact(Base):
    """Something people author and review: an offer, a layout, a ruleset, the interaction
    schema, or the tone lexicon. Its content lives in immutable revisions.

    `lock_version` is SQLAlchemy's version counter: a save that raced another one fails
    instead of silently overwriting it.
    """

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    head_number: Mapped[int] = mapped_column(Integer, default=0)
    approved_number: Mapped[int | None] = mapped_column(Integer, default=None)
    published_number: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    owner: Mapped[User | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": lock_version}


class Revision(Base):
    """One saved state of an artifact. Never updated after it is written."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("artifact_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artifact_id: Mapped[int] = mapped_column(
        ForeignKey("artifacts.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(String(200), default="")
    # Archiving and renaming are changes like any other: part of a revision, reviewed
    # and published with it.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    artifact: Mapped[Artifact] = relationship(lazy="joined")
    author: Mapped[User | None] = relationship(lazy="joined")


# --- Review -------------------------------------------------------------------------

CHANGE_STATUSES = ("draft", "in_review", "changes_requested", "approved", "published", "withdrawn")


class ChangeRequest(Base):
    __tablename__ = "change_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    published_version: Mapped[int | None] = mapped_column(Integer, default=None)

    author: Mapped[User] = relationship(lazy="joined")
    items: Mapped[list[ChangeRequestItem]] = relationship(
        back_populates="change_request",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ChangeRequestItem.id",
    )


class ChangeRequestItem(Base):
    """An artifact in a change request, pinned to the revision that was submitted."""

    __tablename__ = "change_request_items"
    __table_args__ = (UniqueConstraint("change_request_id", "artifact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_request_id: Mapped[int] = mapped_column(
        ForeignKey("change_requests.id", ondelete="CASCADE"), index=True
    )
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifacts.id"), index=True)
    revision_number: Mapped[int] = mapped_column(Integer)
    base_number: Mapped[int | None] = mapped_column(Integer, default=None)

    change_request: Mapped[ChangeRequest] = relationship(back_populates="items")
    artifact: Mapped[Artifact] = relationship(lazy="joined")


class Review(Base):
    """A reviewer's verdict, pinned to the exact revisions they saw."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_request_id: Mapped[int] = mapped_column(
        ForeignKey("change_requests.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    verdict: Mapped[str] = mapped_column(String(24))
    body: Mapped[str] = mapped_column(Text, default="")
    pinned: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    reviewer: Mapped[User] = relationship(lazy="joined")


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_request_id: Mapped[int] = mapped_column(
        ForeignKey("change_requests.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    artifact_id: Mapped[int | None] = mapped_column(ForeignKey("artifacts.id"), default=None)
    line: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")


# --- Published bundles ----------------------------------------------------------------


class Bundle(Base):
    """An immutable, content-addressed, signed snapshot of everything published.

    `body` holds the canonical JSON text exactly as it was hashed and signed.
    """

    __tablename__ = "bundles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    rollback_of: Mapped[int | None] = mapped_column(Integer, default=None)

    publisher: Mapped[User | None] = relationship(lazy="joined")


# --- Sample interactions and assets -----------------------------------------------------


class SampleInteraction(Base):
    __tablename__ = "sample_interactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}


class Asset(Base):
    """An uploaded image, addressed by the sha256 of its bytes."""

    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- Notifications, API tokens, feedback events, settings ---------------------------


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(500))
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ApiToken(Base):
    """A scoped token for downstream systems; only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class FeedbackEvent(Base):
    """A downstream event (shown, clicked, accepted, ...), stored once per event id."""

    __tablename__ = "feedback_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(16), index=True)
    offer_key: Mapped[str] = mapped_column(String(64), default="", index=True)
    rule: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(32), default="")
    category: Mapped[str] = mapped_column(String(32), default="")
    bundle_version: Mapped[int | None] = mapped_column(Integer, default=None)
    customer_id: Mapped[str] = mapped_column(String(100), default="")
    score: Mapped[float | None] = mapped_column(Float, default=None)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decision_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    value_cents: Mapped[int | None] = mapped_column(Integer, default=None)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- Customer messages ----------------------------------------------------------------


class Message(Base):
    """One service response opened for a customer at `/m/<token>`.

    Only the sha256 of the token is stored: the raw token exists in the customer's link
    and nowhere else, so a database leak opens no customer's page. `decision` keeps what
    the offers on the page came from (bundle version, ruleset, rule, offer keys), and
    `decision_id` the decision log's id for it (None for a message opened without a
    decision), so every answer the customer gives is tied to it in the analytics.
    """

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[str] = mapped_column(String(100))
    customer_hash: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(32), default="")
    category: Mapped[str] = mapped_column(String(32), default="")
    response_text: Mapped[str] = mapped_column(Text, default="")
    response_html: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decision_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    bundle_version: Mapped[int | None] = mapped_column(Integer, default=None)
    survey: Mapped[bool] = mapped_column(Boolean, default=False)
    nps_comment: Mapped[str | None] = mapped_column(Text, default=None)
    created_by_token: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


# --- Interaction history (imported, searchable, replayed by backtests) ------------------

#: Database objects the migration makes for full-text search that no model declares:
#: SQLite's FTS5 table (and the shadow tables FTS5 keeps), PostgreSQL's generated
#: tsvector column and its GIN index. The no-drift test leaves exactly these out.
SEARCH_INDEX_TABLES = frozenset(
    {
        "interactions_fts",
        "interactions_fts_data",
        "interactions_fts_idx",
        "interactions_fts_docsize",
        "interactions_fts_config",
        "interactions_fts_content",
    }
)
BY_DATE_COLUMNS = ("customer_id", "category", "intent", "channel", "tone", "resolution")
SEARCH_INDEX_COLUMNS = frozenset({("interactions", "search_vector")})
SEARCH_INDEX_INDEXES = frozenset({"ix_interactions_search_vector"})


class Interaction(Base):
    """One real customer contact, imported from history. Never edited after import."""

    __tablename__ = "interactions"
    #: Each filter column with the date, newest-first order included: a page of a search by
    #: a facet or a customer is the first rows of one index range, however many match.
    __table_args__ = tuple(
        Index(f"ix_interactions_{column}_at", column, "at", "id") for column in BY_DATE_COLUMNS
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interaction_id: Mapped[str] = mapped_column(String(128), unique=True)
    customer_id: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    category: Mapped[str] = mapped_column(String(32), default="")
    intent: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(32), default="")
    tone: Mapped[str] = mapped_column(String(32), default="")
    resolution: Mapped[str] = mapped_column(String(32), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("interaction_imports.id", ondelete="SET NULL"), default=None, index=True
    )
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)


class InteractionAttribute(Base):
    """One scalar customer attribute of a stored interaction (`tier` = `gold`).

    Written with the interaction by `interaction_store`, so the history search's attribute
    filter is an index lookup rather than a scan of every JSON body.
    """

    __tablename__ = "interaction_attributes"

    name: Mapped[str] = mapped_column(String(41), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    interaction_row: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class InteractionFacetCount(Base):
    """How many stored interactions share one day (UTC) and one value of each facet.

    Kept in step by `interaction_store` (on insert and delete), so a history search that
    filters only by facets and dates counts its matches and facets from these few rows
    instead of scanning every interaction.
    """

    __tablename__ = "interaction_facet_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    intent: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    tone: Mapped[str] = mapped_column(String(32), primary_key=True)
    resolution: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class InteractionAttributeCount(Base):
    """`InteractionFacetCount` split further by one customer attribute (`tier` = `gold`),
    so a search by an attribute, facets and dates is counted without a scan."""

    __tablename__ = "interaction_attribute_counts"

    name: Mapped[str] = mapped_column(String(41), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    intent: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    tone: Mapped[str] = mapped_column(String(32), primary_key=True)
    resolution: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


IMPORT_STATUSES = ("queued", "running", "cancelling", "cancelled", "done", "failed")


class InteractionImport(Base):
    """One file being imported: where it is, how far the import got, what it found.

    `byte_offset` and `line` are written in the same transaction as each batch of rows,
    so a killed import continues exactly after the last stored batch.
    """

    __tablename__ = "interaction_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(8))
    compressed: Mapped[bool] = mapped_column(Boolean, default=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    redact: Mapped[bool] = mapped_column(Boolean, default=False)
    byte_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    read_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    line: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    header: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    message: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- The closed loop: decisions, webhooks ---------------------------------------------


class Decision(Base):
    """One decision as it was made (by `/decide` or reported by a client), for attribution.

    The customer is kept as a hash; `customer_id` is filled only when the workspace
    setting `decision_log_raw_customer_ids` allows it.
    """

    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    bundle_version: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    bundle_digest: Mapped[str] = mapped_column(String(100), default="")
    channel: Mapped[str] = mapped_column(String(32), default="")
    category: Mapped[str] = mapped_column(String(32), default="")
    tone: Mapped[str] = mapped_column(String(32), default="")
    customer_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    customer_id: Mapped[str | None] = mapped_column(String(100), default=None)
    rules: Mapped[list[Any]] = mapped_column(JSON, default=list)
    offers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    guards: Mapped[list[Any]] = mapped_column(JSON, default=list)
    holdouts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: What the contact policy withheld (offer, ruleset, rule, line, text, reason); None
    #: on decisions logged before it was kept.
    withheld: Mapped[list[Any] | None] = mapped_column(JSON, default=list, nullable=True)
    trace: Mapped[Any] = mapped_column(JSON, default=None, nullable=True)
    #: What the decision did with resolution-gated offers (`bundle.gating`), if anything.
    gating: Mapped[Any] = mapped_column(JSON, default=None, nullable=True)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookDelivery(Base):
    """One exception report sent (or being sent) to the admin-configured webhook URL."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InteractionImportProblem(Base):
    """A row an import refused: its line, the field at fault, and why."""

    __tablename__ = "interaction_import_problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("interaction_imports.id", ondelete="CASCADE"), index=True
    )
    line: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text)


class SavedSearch(Base):
    """A named history search someone wants to run again."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


BACKTEST_STATUSES = ("queued", "running", "cancelling", "cancelled", "done", "failed")


class Backtest(Base):
    """A replay of a candidate (drafts or a change request) against the published bundle
    over a slice of history; its counts and example changes are kept in `result`."""

    __tablename__ = "backtests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("change_requests.id", ondelete="CASCADE"), default=None, index=True
    )
    candidate: Mapped[str] = mapped_column(String(32), default="drafts")
    slice: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


# --- Contact history ------------------------------------------------------------------


class ContactHistory(Base):
    """One entry of a customer's contact history: an offer made, or an outcome event.

    The contact policy's caps and suppressions count these (`studio.services.
    contact_history`). `kind` is ``offer`` for an offer made by a decision (the
    studio's `/api/v1/decide`, or a client's report), else the outcome event's type
    (``declined``, ``complaint``, ...). An offer is stored once per decision id and offer
    (`dedupe_key`), an outcome once per event id. The decision log (`decisions`, issue
    13) may link to `decision_id`.
    """

    __tablename__ = "contact_history"
    __table_args__ = (
        Index("ix_contact_history_customer_at", "customer_id", "at"),
        Index("ix_contact_history_offer_at", "offer_key", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    offer_key: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(32), default="")
    decision_id: Mapped[str] = mapped_column(String(100), default="")
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(String(16), default="studio")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GatedOffer(Base):
    """A resolution-gated offer waiting for the customer's reply (`bundle.pending`).

    `/api/v1/decide` records one when a rule schedules a gated follow-up and settles it
    on a later decision for the same customer (`bundle.gating`): ``pending`` ->
    ``reopened`` -> ``released`` or ``expired``. `id` is one per customer, thread,
    ruleset and offer.
    """

    __tablename__ = "gated_offers"
    __table_args__ = (Index("ix_gated_offers_customer_status", "customer_id", "status"),)

    id: Mapped[str] = mapped_column(String(300), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(100))
    thread: Mapped[str] = mapped_column(String(200))
    offer_key: Mapped[str] = mapped_column(String(64))
    ruleset: Mapped[str] = mapped_column(String(64), default="")
    rule: Mapped[str] = mapped_column(String(200), default="")
    decision_id: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    infer: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(300), default="")
    settled_by: Mapped[str] = mapped_column(String(100), default="")


class ContactDayCount(Base):
    """How many times an offer was made on one (UTC) day, for the per-day caps.

    Kept beside `contact_history` in the same transaction as each offer stored there
    (`studio.services.contact_history`), so a daily cap reads a few counters instead of
    counting the day's rows. A day's count is split over `DAY_BUCKETS` rows (a bucket
    per customer hash) so decisions for different customers rarely update the same row;
    the day's total is their sum.
    """

    __tablename__ = "contact_day_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    offer_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    offers: Mapped[int] = mapped_column(Integer, default=0)


class OfferPause(Base):
    """An offer the studio paused by itself, and the review that keeps or undoes it.

    `status`: "paused" (awaiting review), "kept" (a reviewer confirmed) or "undone" (a
    reviewer put the offer back). `offer_entry` is the offer as it was in the bundle,
    so undoing restores exactly what was live.
    """

    __tablename__ = "offer_pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_key: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="paused", index=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    offer_entry: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    paused_version: Mapped[int] = mapped_column(Integer)
    restored_version: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class _OutcomeCounts:
    """The counts a decision rollup row keeps: decisions in the arm, then what their
    customers did (`value_cents` sums the values of accepted offers)."""

    decisions: Mapped[int] = mapped_column(Integer, default=0)
    shown: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    declined: Mapped[int] = mapped_column(Integer, default=0)
    complaints: Mapped[int] = mapped_column(Integer, default=0)
    value_cents: Mapped[int] = mapped_column(Integer, default=0)


class DecisionRollup(_OutcomeCounts, Base):
    """Counts per day x offer x rule x channel x category x bundle x arm, kept as
    decisions and events arrive (same transaction), so Analytics never scans raw rows.

    `arm` is "treatment" (the offer was made) or "holdout" (the rule matched, the
    customer was held out). Outcomes count events that name a logged decision and an
    offer that decision made or held out; `value_cents` sums accepted events' values.
    """

    __tablename__ = "decision_rollups"
    __table_args__ = (
        UniqueConstraint(
            "day",
            "offer_key",
            "ruleset",
            "rule",
            "channel",
            "category",
            "bundle_version",
            "arm",
            name="uq_decision_rollups_key",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    offer_key: Mapped[str] = mapped_column(String(64), index=True)
    ruleset: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    bundle_version: Mapped[int] = mapped_column(Integer)
    arm: Mapped[str] = mapped_column(String(16))


class OfferRollup(_OutcomeCounts, Base):
    """`decision_rollups` summed over channel, category and bundle version: per day x
    offer x rule x arm. Kept in the same upsert, so the pages that need no channel,
    category or bundle filter (against holdout, trends by offer or rule, harm) read
    a table 48 times smaller in the generated benchmark data."""

    __tablename__ = "offer_rollups"
    __table_args__ = (
        UniqueConstraint("day", "offer_key", "ruleset", "rule", "arm", name="uq_offer_rollups_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    offer_key: Mapped[str] = mapped_column(String(64))
    ruleset: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(200))
    arm: Mapped[str] = mapped_column(String(16))


class HarmRollup(Base):
    """Decisions in which something was withheld, per day x kind x line x tone, kept as
    decisions arrive (same transaction), so the harm report never scans the log.

    `kind` is "guard" (a ruleset guard fired; `ruleset`, `line`, `text` name it),
    "policy" (a contact-policy line withheld offers; `offers` counts them), or
    "guard:any" / "policy:any" (one per decision, whatever fired: the totals per tone,
    which a sum over lines would count twice when two lines fire).
    """

    __tablename__ = "harm_rollups"
    __table_args__ = (
        UniqueConstraint(
            "day", "kind", "ruleset", "line", "text", "tone", name="uq_harm_rollups_key"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    ruleset: Mapped[str] = mapped_column(String(64))
    line: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(200))
    tone: Mapped[str] = mapped_column(String(32))
    decisions: Mapped[int] = mapped_column(Integer, default=0)
    offers: Mapped[int] = mapped_column(Integer, default=0)


class EventRollup(Base):
    """Feedback events per day x offer x category x channel x bundle version x type,
    with the NPS answers among them, kept as events arrive (same transaction): what the
    `/analytics/` page, its chart and the offer filter read instead of the event log.

    `offer_key` is "" for events about no offer (NPS answers mostly): they count
    towards the totals and the overall NPS. `bundle_version` is 0 for events that name
    no bundle (a unique key treats NULLs as distinct; real versions start at 1).
    """

    __tablename__ = "event_rollups"
    __table_args__ = (
        UniqueConstraint(
            "day",
            "offer_key",
            "category",
            "channel",
            "bundle_version",
            "type",
            name="uq_event_rollups_key",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    offer_key: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    bundle_version: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    events: Mapped[int] = mapped_column(Integer, default=0)
    promoters: Mapped[int] = mapped_column(Integer, default=0)
    detractors: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[int] = mapped_column(Integer, default=0)


# --- Narrow-cast surveys ------------------------------------------------------------


class SurveyResponse(Base):
    """One customer's answer to one survey asked in one message: at most one each."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("message_id", "survey_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    survey_key: Mapped[str] = mapped_column(String(64), index=True)
    bundle_version: Mapped[int | None] = mapped_column(Integer, default=None)
    rule: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class SurveyAnswer(Base):
    """One question's answer, kept as text (a scale point, the option chosen, or what the
    customer wrote), always shown escaped."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id"), index=True)
    survey_key: Mapped[str] = mapped_column(String(64), index=True)
    question_id: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(Text)
