"""The notification outbox: notifications accepted for a subscriber survive a restart.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from nubo.store.tables import JSON_DOCUMENT

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("body", JSON_DOCUMENT, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_notification_outbox"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_notification_outbox_subscription_id",
        "notification_outbox",
        ["subscription_id", "seq"],
    )


def downgrade() -> None:
    op.drop_index("ix_notification_outbox_subscription_id", table_name="notification_outbox")
    op.drop_table("notification_outbox")
