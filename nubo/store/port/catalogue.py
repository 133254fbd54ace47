"""The catalogue's repositories: registered VIMs, NSDs and VNF packages."""

from __future__ import annotations

import builtins
from typing import Protocol

from nubo.model.catalogue import NsdEntry, VimRegistration
from nubo.model.packages import VnfPackage
from nubo.model.tenancy import SYSTEM, Scope


class VimRepository(Protocol):
    async def add_vim(self, vim: VimRegistration) -> None:
        """Raise ``Conflict`` when the name is taken."""
        ...

    async def list_vims(self, scope: Scope = SYSTEM) -> list[VimRegistration]: ...

    async def get_vim(self, id_or_name: str, scope: Scope = SYSTEM) -> VimRegistration:
        """Raise ``NotFound`` naming the id (also for a VIM ``scope`` does not see)."""
        ...


class NsdRepository(Protocol):
    async def add_nsd(self, nsd: NsdEntry) -> None: ...

    async def update_nsd(self, nsd: NsdEntry) -> None:
        """Replace the entry; raise ``NotFound`` when there is none."""
        ...

    async def list_nsds(self, scope: Scope = SYSTEM) -> list[NsdEntry]: ...

    async def get_nsd(self, nsd_id: str, scope: Scope = SYSTEM) -> NsdEntry: ...

    async def delete_nsd(self, nsd_id: str) -> None: ...


class PackageRepository(Protocol):
    """VNF packages: their info, and their archive read only on download."""

    async def add(self, package: VnfPackage) -> None:
        """Insert a new package (no archive yet); ``Conflict`` when its id is taken."""
        ...

    async def get(self, package_id: str, scope: Scope = SYSTEM) -> VnfPackage: ...

    async def list(self, scope: Scope = SYSTEM) -> builtins.list[VnfPackage]:
        """Oldest first."""
        ...

    async def archive(self, package_id: str, scope: Scope = SYSTEM) -> bytes | None:
        """The uploaded CSAR, None before it was onboarded."""
        ...

    async def onboard(self, package: VnfPackage, archive: bytes) -> None:
        """Store the content of a CREATED package; ``Conflict`` when it is no longer CREATED."""
        ...

    async def update(self, package: VnfPackage) -> None:
        """Save the package's info and states (never its archive)."""
        ...

    async def delete(self, package_id: str) -> None: ...
