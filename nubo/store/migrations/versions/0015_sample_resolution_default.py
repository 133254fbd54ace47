"""Raw metric samples are written without a resolution: the column defaults to 0.

A monitoring round writes a row per metric of every running VNFC; the
writer sends the sample's own six fields as they are and lets the database
fill ``resolution`` (0: raw) and the extremes (NULL: a raw row has none),
instead of building a longer tuple per row.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("metric_samples") as batch:
        batch.alter_column(
            "resolution", existing_type=sa.Integer(), existing_nullable=False, server_default="0"
        )


def downgrade() -> None:
    with op.batch_alter_table("metric_samples") as batch:
        batch.alter_column(
            "resolution", existing_type=sa.Integer(), existing_nullable=False, server_default=None
        )
