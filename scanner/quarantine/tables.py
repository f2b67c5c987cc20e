"""The quarantine schema as SQLAlchemy Core tables (the Alembic migrations must match it).

What is stored in clear and what is sealed (Fernet, see `crypto`):

- clear: the envelope (MAIL FROM, RCPT TO, their parameters) because reviewers filter on it,
  tenant, status, size, timestamps, and per finding its category, group, score and confidence
  (queue filters and counts run in SQL);
- sealed: the message bytes (`messages.data`) and everything a finding derived from the body:
  its location (may name an attachment), offsets and masked value (`findings.sealed`).

Table names carry a ``quarantine_`` prefix because a PostgreSQL database may be shared.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

# Named constraints, so SQLite batch migrations and PostgreSQL agree on names.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

VERSION_TABLE = "quarantine_alembic_version"

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no timezone type and hands back naive values; we store naive UTC there (ISO
    strings compare correctly) and re-attach UTC on the way out. Naive input is refused: a
    retention cut-off computed in local time would silently shift by hours.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the quarantine store; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON()


messages = sa.Table(
    "quarantine_messages",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("tenant", sa.String(255), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    # envelope (metadata, clear): RFC 5321 §4.5.3.1.3 bounds a path at 256 octets, but we keep
    # whatever the client sent, so Text rather than a length that could refuse a hold.
    sa.Column("mail_from", sa.Text(), nullable=False),
    sa.Column("rcpt_tos", _json(), nullable=False),
    sa.Column("mail_options", _json(), nullable=False),
    sa.Column("rcpt_options", _json(), nullable=False),
    sa.Column("client_address", sa.String(255), nullable=False),
    sa.Column("helo", sa.String(255), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("defects", _json(), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    # Fernet token of the original bytes; NULL once released, rejected or expired
    sa.Column("data", sa.LargeBinary(), nullable=True),
    sa.Column("decided_at", UtcDateTime(), nullable=True),
    sa.Column("decided_by", sa.String(255), nullable=True),
    sa.Column("decision_reason", sa.Text(), nullable=True),
    sa.Index(None, "status", "received_at"),
    sa.Index(None, "tenant"),
    sa.Index(None, "received_at"),
)

findings = sa.Table(
    "quarantine_findings",
    metadata,
    sa.Column("message_id", sa.String(64), sa.ForeignKey(messages.c.id, ondelete="CASCADE"), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("group", sa.String(32), nullable=False),
    sa.Column("score", sa.Float(), nullable=False),
    sa.Column("confidence", sa.Integer(), nullable=False),
    # whether this finding drove the verdict (Verdict.reasons)
    sa.Column("is_reason", sa.Boolean(), nullable=False),
    # Fernet token of {"location", "start", "end", "masked"}
    sa.Column("sealed", sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint("message_id", "seq"),
    sa.Index(None, "category", "message_id"),
)

audit = sa.Table(
    "quarantine_audit",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    # no foreign key: the trail outlives a deleted message
    sa.Column("message_id", sa.String(64), nullable=True),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Index(None, "message_id", "id"),
)

accounts = sa.Table(
    "quarantine_accounts",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# What the console shows of a held message (`scanner.quarantine.view.MessageView`), computed
# once at hold time and sealed like the bytes; deleted with them (release, reject, expiry).
views = sa.Table(
    "quarantine_views",
    metadata,
    sa.Column(
        "message_id", sa.String(64), sa.ForeignKey(messages.c.id, ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("sealed", sa.LargeBinary(), nullable=False),
)

# The envelope as the console shows it when a finding sits in it (issue 10 scans the envelope:
# `envelope:mail-from`, `envelope:rcpt[N]`): sealed [mail_from, [rcpt...]] with the findings masked.
# Metadata like the clear envelope columns: kept after the content is purged, so the queue never
# shows those values in clear. No row when the envelope has no finding.
envelope_masks = sa.Table(
    "quarantine_envelope_masks",
    metadata,
    sa.Column(
        "message_id", sa.String(64), sa.ForeignKey(messages.c.id, ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("sealed", sa.LargeBinary(), nullable=False),
)

# Console sign-ins (`scanner.review.sessions`): the cookie carries a random id, the row only its
# SHA-256, so a copy of the database holds no usable session. Revoked by deleting rows.
sessions = sa.Table(
    "quarantine_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("account", sa.String(255), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("seen_at", UtcDateTime(), nullable=False),
    sa.Index(None, "account"),
)
# the outbox, rejection records and tenant tokens live in this database, on this metadata
import scanner.events.tables  # noqa: E402,F401
