"""Initial schema: VIMs, NSDs, NSRs and LCM operation occurrences.

Revision ID: 0001
Revises:
Create Date: 2024-06-01

Written out in full rather than derived from ``nubo.store.tables``: a
migration is a frozen record of what the schema was at that revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from nubo.store.tables import JSON_DOCUMENT

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vims",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.String(1024), nullable=False),
        sa.Column("subnet_pool", sa.String(64), nullable=False),
        sa.Column("subnet_prefix", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_vims"),
        sa.UniqueConstraint("name", name="uq_vims_name"),
    )
    op.create_table(
        "nsds",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("vendor", sa.String(255), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("body", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_nsds"),
    )
    op.create_table(
        "nsrs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("nsd_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("body", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_nsrs"),
    )
    op.create_index("ix_nsrs_nsd_id", "nsrs", ["nsd_id"])
    op.create_index("ix_nsrs_status", "nsrs", ["status"])
    op.create_table(
        "lcm_op_occs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("nsr_id", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state_entered_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lcm_op_occs"),
    )
    op.create_index("ix_lcm_op_occs_nsr_id", "lcm_op_occs", ["nsr_id"])
    op.create_index("ix_lcm_op_occs_state", "lcm_op_occs", ["state"])


def downgrade() -> None:
    op.drop_table("lcm_op_occs")
    op.drop_table("nsrs")
    op.drop_table("nsds")
    op.drop_table("vims")
