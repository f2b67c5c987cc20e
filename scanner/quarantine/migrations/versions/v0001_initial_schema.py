"""initial schema: held messages, findings, audit trail, accounts

Revision ID: 0001
Revises:
Create Date: 2026-11-27 13:28:17.636955

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "quarantine_accounts",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_quarantine_accounts")),
    )
    op.create_table(
        "quarantine_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine_audit")),
    )
    op.create_index(
        op.f("ix_quarantine_audit_message_id_id"), "quarantine_audit", ["message_id", "id"], unique=False
    )
    op.create_table(
        "quarantine_messages",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mail_from", sa.Text(), nullable=False),
        sa.Column("rcpt_tos", sa.JSON(), nullable=False),
        sa.Column("mail_options", sa.JSON(), nullable=False),
        sa.Column("rcpt_options", sa.JSON(), nullable=False),
        sa.Column("client_address", sa.String(length=255), nullable=False),
        sa.Column("helo", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("defects", sa.JSON(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine_messages")),
    )
    op.create_index(
        op.f("ix_quarantine_messages_received_at"), "quarantine_messages", ["received_at"], unique=False
    )
    op.create_index(
        op.f("ix_quarantine_messages_status_received_at"),
        "quarantine_messages",
        ["status", "received_at"],
        unique=False,
    )
    op.create_index(op.f("ix_quarantine_messages_tenant"), "quarantine_messages", ["tenant"], unique=False)
    op.create_table(
        "quarantine_findings",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("group", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("is_reason", sa.Boolean(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["quarantine_messages.id"],
            name=op.f("fk_quarantine_findings_message_id_quarantine_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "seq", name=op.f("pk_quarantine_findings")),
    )
    op.create_index(
        op.f("ix_quarantine_findings_category_message_id"),
        "quarantine_findings",
        ["category", "message_id"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_quarantine_findings_category_message_id"), table_name="quarantine_findings")
    op.drop_table("quarantine_findings")
    op.drop_index(op.f("ix_quarantine_messages_tenant"), table_name="quarantine_messages")
    op.drop_index(op.f("ix_quarantine_messages_status_received_at"), table_name="quarantine_messages")
    op.drop_index(op.f("ix_quarantine_messages_received_at"), table_name="quarantine_messages")
    op.drop_table("quarantine_messages")
    op.drop_index(op.f("ix_quarantine_audit_message_id_id"), table_name="quarantine_audit")
    op.drop_table("quarantine_audit")
    op.drop_table("quarantine_accounts")
