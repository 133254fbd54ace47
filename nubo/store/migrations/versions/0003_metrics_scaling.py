"""Metric time series and auto-scaling decisions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from nubo.store.tables import JSON_DOCUMENT

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("nsr_id", sa.String(64), nullable=False),
        sa.Column("vnfr_id", sa.String(64), nullable=False),
        sa.Column("vnfc_id", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_metric_samples"),
    )
    for column in ("time", "nsr_id", "vnfc_id", "metric"):
        op.create_index(f"ix_metric_samples_{column}", "metric_samples", [column])
    op.create_table(
        "scaling_decisions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("nsr_id", sa.String(64), nullable=False),
        sa.Column("vnfr_id", sa.String(64), nullable=False),
        sa.Column("policy", sa.String(255), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("body", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scaling_decisions"),
    )
    op.create_index("ix_scaling_decisions_time", "scaling_decisions", ["time"])
    op.create_index("ix_scaling_decisions_nsr_id", "scaling_decisions", ["nsr_id"])


def downgrade() -> None:
    op.drop_table("scaling_decisions")
    for column in ("time", "nsr_id", "vnfc_id", "metric"):
        op.drop_index(f"ix_metric_samples_{column}", table_name="metric_samples")
    op.drop_table("metric_samples")
