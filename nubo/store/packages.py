"""``SqlPackageStore``: VNF packages (``vnf_packages``): their info and their archive.

A package's info (SOL005 VnfPkgInfo, plus the Definitions NSDs import) is a
JSON body; the uploaded CSAR is kept byte for byte in its own column, read
only when someone downloads the package or one of its artifacts, so listing
packages never loads archives. Content is written once, in the transaction
that moves the package from CREATED to ONBOARDED, and only if it still is
CREATED: two uploads racing for one package cannot both win.
"""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from nubo.model.errors import Conflict, NotFound
from nubo.model.packages import OnboardingState, VnfPackage
from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.database import Database
from nubo.store.rows import aggregate_of, in_scope, read_bodies, versioned
from nubo.store.tables import vnf_packages

__all__ = ["SqlPackageStore"]


class SqlPackageStore:
    """Saves, lists and deletes VNF packages, one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def add(self, package: VnfPackage) -> None:
        """Insert a new package (no archive yet); ``Conflict`` when its id is taken."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(vnf_packages).values(
                        id=package.id,
                        created_at=_to_utc(package.created_at),
                        **_columns(package),
                    )
                )
        except IntegrityError as exc:
            raise Conflict(f"VNF package {package.id} already exists") from exc

    async def get(self, package_id: str, scope: Scope = SYSTEM) -> VnfPackage:
        """The package; ``NotFound`` naming the id when there is none in ``scope``."""
        query = in_scope(versioned(vnf_packages), vnf_packages, scope)
        query = query.where(vnf_packages.c.id == package_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"VNF package {package_id} not found", vnfPkgId=package_id)
        return aggregate_of(row, VnfPackage)

    async def list(self, scope: Scope = SYSTEM) -> builtins.list[VnfPackage]:
        """Oldest first."""
        query = versioned(vnf_packages).order_by(vnf_packages.c.created_at, vnf_packages.c.id)
        return await read_bodies(self._engine, in_scope(query, vnf_packages, scope), VnfPackage)

    async def archive(self, package_id: str, scope: Scope = SYSTEM) -> bytes | None:
        """The uploaded CSAR, None before it was onboarded; ``NotFound`` without the package."""
        query = select(vnf_packages.c.archive).where(vnf_packages.c.id == package_id)
        query = in_scope(query, vnf_packages, scope)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"VNF package {package_id} not found", vnfPkgId=package_id)
        return bytes(row.archive) if row.archive is not None else None

    async def onboard(self, package: VnfPackage, archive: bytes) -> None:
        """Store the content of a CREATED package; ``Conflict`` when it is no longer CREATED."""
        table = vnf_packages
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(table)
                .where(table.c.id == package.id)
                .where(table.c.onboarding_state == OnboardingState.CREATED.value)
                .values(archive=archive, **_columns(package))
            )
        if result.rowcount == 0:
            await self.get(package.id)  # NotFound when it is gone
            raise Conflict(
                f"VNF package {package.id} already has content: create a new package",
                vnfPkgId=package.id,
            )

    async def update(self, package: VnfPackage) -> None:
        """Save the package's info and states (never its archive)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(vnf_packages)
                .where(vnf_packages.c.id == package.id)
                .values(**_columns(package))
            )
        if result.rowcount == 0:
            raise NotFound(f"VNF package {package.id} not found", vnfPkgId=package.id)

    async def delete(self, package_id: str) -> None:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(vnf_packages).where(vnf_packages.c.id == package_id))
        if result.rowcount == 0:
            raise NotFound(f"VNF package {package_id} not found", vnfPkgId=package_id)


def _columns(package: VnfPackage) -> dict[str, Any]:
    return {
        "project_id": package.project_id,
        "onboarding_state": package.onboarding_state.value,
        "operational_state": package.operational_state.value,
        "vnfd_id": package.vnfd_id,
        "body": package.model_dump(mode="json"),
    }


def _to_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
