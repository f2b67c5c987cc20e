"""reports and events: outbox (webhook events, report mails), rejection records, tenant tokens

Revision ID: v0002_reports
Revises: v0002_console
Create Date: 2026-11-30 08:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "v0002_reports"
down_revision: str | Sequence[str] | None = "v0002_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quarantine_outbox",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=255), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine_outbox")),
    )
    op.create_index(
        op.f("ix_quarantine_outbox_status_next_attempt_at"),
        "quarantine_outbox",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_index(op.f("ix_quarantine_outbox_reference"), "quarantine_outbox", ["reference"], unique=False)
    op.create_table(
        "quarantine_rejections",
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant", sa.String(length=255), nullable=True),
        sa.Column("mail_from", sa.Text(), nullable=False),
        sa.Column("rcpt_tos", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("report_queued", sa.Boolean(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_quarantine_rejections")),
    )
    op.create_index(
        op.f("ix_quarantine_rejections_tenant_received_at"),
        "quarantine_rejections",
        ["tenant", "received_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_quarantine_rejections_received_at"), "quarantine_rejections", ["received_at"], unique=False
    )
    op.create_table(
        "quarantine_tenant_tokens",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("tenant", sa.String(length=255), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_quarantine_tenant_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_quarantine_tenant_tokens_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("quarantine_tenant_tokens")
    op.drop_index(op.f("ix_quarantine_rejections_received_at"), table_name="quarantine_rejections")
    op.drop_index(op.f("ix_quarantine_rejections_tenant_received_at"), table_name="quarantine_rejections")
    op.drop_table("quarantine_rejections")
    op.drop_index(op.f("ix_quarantine_outbox_reference"), table_name="quarantine_outbox")
    op.drop_index(op.f("ix_quarantine_outbox_status_next_attempt_at"), table_name="quarantine_outbox")
    op.drop_table("quarantine_outbox")
