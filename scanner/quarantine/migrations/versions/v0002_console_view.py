"""console: views computed at hold time, server-side sessions

Revision ID: v0002_console
Revises: 0001
Create Date: 2026-11-30 07:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "v0002_console"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "quarantine_views",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["quarantine_messages.id"],
            name=op.f("fk_quarantine_views_message_id_quarantine_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_quarantine_views")),
    )
    op.create_table(
        "quarantine_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_quarantine_sessions")),
    )
    op.create_index(op.f("ix_quarantine_sessions_account"), "quarantine_sessions", ["account"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_quarantine_sessions_account"), table_name="quarantine_sessions")
    op.drop_table("quarantine_sessions")
    op.drop_table("quarantine_views")
