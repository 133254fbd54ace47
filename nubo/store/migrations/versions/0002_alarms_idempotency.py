"""Alarms of fault management and idempotency keys of create requests.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from nubo.store.tables import JSON_DOCUMENT

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("managed_object_id", sa.String(64), nullable=False),
        sa.Column("nsr_id", sa.String(64), nullable=True),
        sa.Column("probable_cause", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("alarm_raised_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alarms"),
    )
    op.create_index("ix_alarms_managed_object_id", "alarms", ["managed_object_id"])
    op.create_index("ix_alarms_nsr_id", "alarms", ["nsr_id"])
    op.create_index("ix_alarms_active", "alarms", ["active"])
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("request", sa.String(1024), nullable=False),
        sa.Column("nsr_id", sa.String(64), nullable=False),
        sa.Column("op_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_alarms_active", table_name="alarms")
    op.drop_index("ix_alarms_nsr_id", table_name="alarms")
    op.drop_index("ix_alarms_managed_object_id", table_name="alarms")
    op.drop_table("alarms")
