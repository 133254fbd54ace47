"""KPI definitions and KPI events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from nubo.store.tables import JSON_DOCUMENT

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kpis",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("nsr_id", sa.String(64), nullable=False),
        sa.Column("body", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kpis"),
    )
    op.create_index("ix_kpis_nsr_id", "kpis", ["nsr_id"])
    op.create_table(
        "kpi_events",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kpi_id", sa.String(64), nullable=False),
        sa.Column("nsr_id", sa.String(64), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("body", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kpi_events"),
    )
    for column in ("kpi_id", "nsr_id", "time"):
        op.create_index(f"ix_kpi_events_{column}", "kpi_events", [column])


def downgrade() -> None:
    for column in ("kpi_id", "nsr_id", "time"):
        op.drop_index(f"ix_kpi_events_{column}", table_name="kpi_events")
    op.drop_table("kpi_events")
    op.drop_index("ix_kpis_nsr_id", table_name="kpis")
    op.drop_table("kpis")
