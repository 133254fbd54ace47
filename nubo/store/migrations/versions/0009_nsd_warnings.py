"""NSD entries keep the warnings of their onboarding: what the descriptor carries unused.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from nubo.store.tables import JSON_DOCUMENT

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: NSDs onboarded before have no warnings recorded, which reads as none.
    with op.batch_alter_table("nsds") as batch:
        batch.add_column(sa.Column("warnings", JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nsds") as batch:
        batch.drop_column("warnings")
