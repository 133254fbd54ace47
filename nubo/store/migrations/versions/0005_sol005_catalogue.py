"""SOL005 catalogue: NSD onboarding state and info, VNF packages.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from nubo.store.tables import JSON_DOCUMENT

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nsds") as batch:
        batch.add_column(
            sa.Column("onboarding_state", sa.String(32), nullable=False, server_default="ONBOARDED")
        )
        batch.add_column(sa.Column("info", JSON_DOCUMENT, nullable=True))
    op.create_table(
        "vnf_packages",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("onboarding_state", sa.String(32), nullable=False),
        sa.Column("operational_state", sa.String(16), nullable=False),
        sa.Column("vnfd_id", sa.String(255), nullable=True),
        sa.Column("body", JSON_DOCUMENT, nullable=False),
        sa.Column("archive", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_vnf_packages"),
    )
    op.create_index("ix_vnf_packages_vnfd_id", "vnf_packages", ["vnfd_id"])


def downgrade() -> None:
    op.drop_index("ix_vnf_packages_vnfd_id", table_name="vnf_packages")
    op.drop_table("vnf_packages")
    with op.batch_alter_table("nsds") as batch:
        batch.drop_column("info")
        batch.drop_column("onboarding_state")
