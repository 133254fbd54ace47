"""Record versions for compare-and-set writes; NS leases, leaderships and what the
background loops remember, shared by every replica.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("nsrs", "lcm_op_occs"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "ns_leases",
        sa.Column("nsr_id", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nsr_id", name="pk_ns_leases"),
    )
    op.create_index("ix_ns_leases_owner", "ns_leases", ["owner"])
    op.create_index("ix_ns_leases_expires_at", "ns_leases", ["expires_at"])
    op.create_table(
        "leaderships",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leaderships"),
    )
    op.create_table(
        "loop_memory",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name="pk_loop_memory"),
    )


def downgrade() -> None:
    op.drop_table("loop_memory")
    op.drop_table("leaderships")
    op.drop_index("ix_ns_leases_expires_at", table_name="ns_leases")
    op.drop_index("ix_ns_leases_owner", table_name="ns_leases")
    op.drop_table("ns_leases")
    for table in ("lcm_op_occs", "nsrs"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
