"""Record versions for compare-and-set writes; the VNFCs and virtual links of every NS
as indexed rows; NS leases, leaderships and what the background loops remember,
shared by every replica.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from nubo.store.tables import JSON_DOCUMENT

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("nsrs", "lcm_op_occs"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        # revision 0 means "never stored": rows that exist are at revision 1
        op.execute(f"UPDATE {table} SET version = 1")
    op.create_table(
        "vnfc_instances",
        sa.Column("nsr_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("vnfr_id", sa.String(64), nullable=False),
        sa.Column("vdu_id", sa.String(64), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("vim_id", sa.String(64), nullable=False),
        sa.Column("vc_id", sa.String(255), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("nsr_id", "id", name="pk_vnfc_instances"),
    )
    for column in ("vim_id", "vc_id", "state"):
        op.create_index(f"ix_vnfc_instances_{column}", "vnfc_instances", [column])
    op.create_table(
        "virtual_links",
        sa.Column("nsr_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("vim_network_id", sa.String(255), nullable=False),
        sa.Column("cidr", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("nsr_id", "name", name="pk_virtual_links"),
    )
    op.create_index("ix_virtual_links_vim_network_id", "virtual_links", ["vim_network_id"])
    # what NSRs existed before: their parts as rows too
    _index_existing_nsrs()
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
        sa.Column("body", JSON_DOCUMENT, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name="pk_loop_memory"),
    )


def _index_existing_nsrs() -> None:
    bind = op.get_bind()
    nsrs = sa.table("nsrs", sa.column("id"), sa.column("body", JSON_DOCUMENT))
    vnfcs = sa.table(
        "vnfc_instances",
        *(sa.column(c) for c in ("id", "nsr_id", "vnfr_id", "vdu_id", "hostname", "vim_id")),
        sa.column("vc_id"),
        sa.column("state"),
    )
    links = sa.table(
        "virtual_links", *(sa.column(c) for c in ("nsr_id", "name", "vim_network_id", "cidr"))
    )
    for nsr_id, body in bind.execute(sa.select(nsrs.c.id, nsrs.c.body)):
        document = body if isinstance(body, dict) else json.loads(body)
        rows = [
            {
                "id": vnfc["id"],
                "nsr_id": nsr_id,
                "vnfr_id": vnfr["id"],
                "vdu_id": vdu["id"],
                "hostname": vnfc.get("hostname", ""),
                "vim_id": vnfc.get("vim_id", ""),
                "vc_id": vnfc.get("vc_id", ""),
                "state": vnfc.get("state", "PENDING"),
            }
            for vnfr in document.get("vnfr", [])
            for vdu in vnfr.get("vdu", [])
            for vnfc in vdu.get("vnfc_instance", [])
        ]
        if rows:
            bind.execute(vnfcs.insert(), rows)
        vlrs = [
            {
                "nsr_id": nsr_id,
                "name": vlr["name"],
                "vim_network_id": vlr.get("vim_network_id", ""),
                "cidr": vlr.get("cidr", ""),
            }
            for vlr in document.get("vlr", [])
        ]
        if vlrs:
            bind.execute(links.insert(), vlrs)


def downgrade() -> None:
    op.drop_table("loop_memory")
    op.drop_table("leaderships")
    op.drop_index("ix_ns_leases_expires_at", table_name="ns_leases")
    op.drop_index("ix_ns_leases_owner", table_name="ns_leases")
    op.drop_table("ns_leases")
    op.drop_table("virtual_links")
    op.drop_table("vnfc_instances")
    for table in ("lcm_op_occs", "nsrs"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
