"""Tenancy: every record belongs to a project (an indexed ``project_id`` column).

The project an orchestrator starts with gets the fixed id ``default`` (it had
a random one before), so that the records made before records had projects,
and the VIM registered from the settings, have a project to belong to: rows
that exist get ``default``. Tokens issued before naming the old id of that
project act in a project that no longer exists, and see no records: their
holders log in again. A VIM's name is unique in its project, no longer
across all of them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_PROJECT = "default"

#: the tables whose rows get a project
TABLES = (
    "vims",
    "nsds",
    "nsrs",
    "lcm_op_occs",
    "alarms",
    "kpis",
    "kpi_events",
    "vnf_packages",
    "subscriptions",
)


def upgrade() -> None:
    _default_project_is_named_default()
    for table in TABLES:
        # Added with a server default so existing rows get the project in one
        # statement, which is then dropped: a new row always names its project.
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    "project_id",
                    sa.String(64),
                    nullable=False,
                    server_default=DEFAULT_PROJECT,
                )
            )
        with op.batch_alter_table(table) as batch:
            batch.alter_column("project_id", server_default=None)
            batch.create_index(f"ix_{table}_project_id", ["project_id"])
    with op.batch_alter_table("vims") as batch:
        batch.drop_constraint("uq_vims_name", type_="unique")
        batch.create_unique_constraint("uq_vims_project_id_name", ["project_id", "name"])


def _default_project_is_named_default() -> None:
    """The project named ``default`` has the id ``default`` (made when there is none)."""
    bind = op.get_bind()
    found = bind.execute(
        sa.text("SELECT id FROM projects WHERE name = :name"), {"name": DEFAULT_PROJECT}
    ).first()
    if found is None:
        bind.execute(
            sa.text(
                "INSERT INTO projects (id, name, description, created_at) "
                "VALUES (:id, :name, '', :now)"
            ),
            {"id": DEFAULT_PROJECT, "name": DEFAULT_PROJECT, "now": datetime.now(UTC)},
        )
        return
    old = found[0]
    if old == DEFAULT_PROJECT:
        return
    for table, column in (
        ("projects", "id"),
        ("project_members", "project_id"),
        ("api_clients", "project_id"),
    ):
        bind.execute(
            sa.text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old"),
            {"new": DEFAULT_PROJECT, "old": old},
        )


def downgrade() -> None:
    with op.batch_alter_table("vims") as batch:
        batch.drop_constraint("uq_vims_project_id_name", type_="unique")
        batch.create_unique_constraint("uq_vims_name", ["name"])
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_project_id")
            batch.drop_column("project_id")
