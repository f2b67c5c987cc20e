"""console: masked envelopes for the queue (findings in MAIL FROM / RCPT TO)

Revision ID: v0003_console
Revises: v0002_console
Create Date: 2026-11-30 08:25:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "v0003_console"
down_revision: str | Sequence[str] | None = "v0002_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "quarantine_envelope_masks",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["quarantine_messages.id"],
            name=op.f("fk_quarantine_envelope_masks_message_id_quarantine_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_quarantine_envelope_masks")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("quarantine_envelope_masks")
