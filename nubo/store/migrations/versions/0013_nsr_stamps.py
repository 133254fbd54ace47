"""NSR stamps: a random number each write of an NSR row gives it.

The count and the sum of the stamps of the NSs in some statuses change
whenever one of them is written, or enters or leaves those statuses: a loop
that holds copies asks for those two numbers (one row, whatever the number
of NSs) and reads the records, or the VNFC index, only when they moved.
Rows that exist get stamp 0; their next write gives them one.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nsrs") as batch:
        batch.add_column(sa.Column("stamp", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("nsrs") as batch:
        batch.drop_column("stamp")
