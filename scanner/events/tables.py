"""The outbox, rejection records and tenant tokens, in the quarantine database (same metadata).

- ``quarantine_outbox``: what sendguard still has to send, durably: webhook events (JSON,
  masked only) and report mails (sealed with the quarantine keys: a report carries the
  original's headers). One claim/backoff/dead-letter machine serves both (`scanner.events.outbox`).
- ``quarantine_rejections``: one metadata record per rejected message (reference, tenant,
  envelope, categories, masked findings), kept ``report.retention_days``, for support lookups.
- ``quarantine_tenant_tokens``: API tokens scoped to one tenant, stored as SHA-256 digests.
"""

from __future__ import annotations

import sqlalchemy as sa

from scanner.quarantine.tables import UtcDateTime, metadata

outbox = sa.Table(
    "quarantine_outbox",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # the webhook-id: the receiver's idempotency key
    sa.Column("channel", sa.String(16), nullable=False),  # webhook | mail
    sa.Column("type", sa.String(64), nullable=False),  # message.rejected, ... | report
    sa.Column("tenant", sa.String(255), nullable=True),
    sa.Column("reference", sa.String(64), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("payload", sa.LargeBinary(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | delivered | dead
    sa.Column("attempts", sa.Integer(), nullable=False),
    # when the item is next due; while claimed, the end of the claim's lease
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("claim", sa.String(64), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "reference"),
)

rejections = sa.Table(
    "quarantine_rejections",
    metadata,
    sa.Column("reference", sa.String(64), primary_key=True),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("tenant", sa.String(255), nullable=True),
    sa.Column("mail_from", sa.Text(), nullable=False),
    sa.Column("rcpt_tos", sa.JSON(), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),  # reply | dsn
    sa.Column("report_queued", sa.Boolean(), nullable=False),
    sa.Column("categories", sa.JSON(), nullable=False),
    sa.Column("findings", sa.JSON(), nullable=False),  # masked forms and locations only
    sa.Index(None, "tenant", "received_at"),
    sa.Index(None, "received_at"),
)

tenant_tokens = sa.Table(
    "quarantine_tenant_tokens",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("tenant", sa.String(255), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)
