"""``VnfPackageCatalogue``: SOL004 VNF packages, onboarded for NSDs to use (SOL005 VNF-PKGM).

A package is created empty (CREATED, DISABLED), then its CSAR is uploaded
once: checked (archive safety, manifest digests, a deployable VNFD) and
stored with the package ONBOARDED and ENABLED, or refused with nothing
stored and the package still CREATED, ready for another try. NSDs find their
VNFDs among the Definitions of the ENABLED packages by file name, so two
ENABLED packages may not ship different files under one name, and one VNFD
(``vnfdId``) is onboarded at most once. A package an onboarded NSD lists in
its ``vnfPkgIds`` is IN_USE and cannot be deleted.

Every change of a package (and every NSD onboarding, see ``snapshot``) runs
under one lock, so those checks and the write that follows them are atomic
within this orchestrator.
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from nubo.catalogue.events import CatalogueEvents
from nubo.descriptors.csar import read_csar
from nubo.descriptors.vnf_package import VnfPackageContent, read_package
from nubo.model.errors import BadRequest, Conflict, NotFound
from nubo.model.ids import new_id
from nubo.model.packages import OnboardingState, OperationalState, VnfPackage
from nubo.model.tenancy import SYSTEM, Scope, in_project
from nubo.store.port import NsdRepository, PackageRepository

__all__ = ["UnsupportedContent", "VnfPackageCatalogue", "merge_patch"]

log = logging.getLogger(__name__)

SHA_256 = "SHA-256"


class UnsupportedContent(BadRequest):
    """Package or descriptor content in a media type nubo does not read."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415
    title = "Unsupported media type"


class VnfPackageCatalogue:
    """VNF packages: create, upload content, read, enable/disable, delete."""

    def __init__(
        self,
        packages: PackageRepository,
        store: NsdRepository,
        events: CatalogueEvents | None = None,
    ) -> None:
        self._events = events or CatalogueEvents()
        self._packages = packages
        self._store = store
        self._lock = asyncio.Lock()

    async def create(
        self, user_defined_data: dict[str, Any] | None = None, scope: Scope = SYSTEM
    ) -> VnfPackage:
        """A new package of the scope's project without content (CREATED, DISABLED,
        NOT_IN_USE)."""
        package = VnfPackage(
            id=new_id(),
            project_id=scope.project_id,
            user_defined_data=dict(user_defined_data or {}),
        )
        await self._packages.add(package)
        log.info("vnf_package.created vnf_pkg_id=%s", package.id)
        return package

    async def list(self, scope: Scope = SYSTEM) -> builtins.list[VnfPackage]:
        return await self._packages.list(scope)

    async def get(self, package_id: str, scope: Scope = SYSTEM) -> VnfPackage:
        """The package; ``NotFound`` naming the id (also for another project's)."""
        return await self._packages.get(package_id, scope)

    async def users(self, scope: Scope = SYSTEM) -> dict[str, builtins.list[str]]:
        """Package id -> the onboarded NSDs (that ``scope`` sees) listing it in vnfPkgIds."""
        users: dict[str, builtins.list[str]] = {}
        for entry in await self._store.list_nsds(scope):
            if entry.onboarding_state != OnboardingState.ONBOARDED:
                continue
            for package_id in entry.info.get("vnfPkgIds") or []:
                users.setdefault(str(package_id), []).append(entry.id)
        return users

    @asynccontextmanager
    async def snapshot(self, scope: Scope = SYSTEM) -> AsyncIterator[builtins.list[VnfPackage]]:
        """The packages ``scope`` sees, none changing until the block ends (an NSD
        onboarding uses them)."""
        async with self._lock:
            yield await self._packages.list(scope)

    async def upload(self, package_id: str, archive: bytes, scope: Scope = SYSTEM) -> VnfPackage:
        """Onboard the CSAR of a CREATED package; on any problem nothing changes.

        Its VNFD and Definitions names need be unique among its project's packages only.
        """
        async with self._lock:
            package = await self._packages.get(package_id, scope)
            own = in_project(package.project_id)
            if package.onboarding_state != OnboardingState.CREATED:
                raise Conflict(
                    f"VNF package {package_id} is {package.onboarding_state.value}: its content "
                    "was uploaded already; create a new package for another upload",
                    vnfPkgId=package_id,
                )
            # tosca-parser is slow on big templates: keep the event loop free
            content = await asyncio.to_thread(read_package, archive)
            others = [p for p in await self._packages.list(own) if p.id != package_id]
            _check_unique(content, others)
            onboarded = _onboarded(package, content)
            await self._packages.onboard(onboarded, archive)
        log.info("vnf_package.onboarded vnf_pkg_id=%s vnfd_id=%s", package_id, onboarded.vnfd_id)
        self._events.package_onboarded(onboarded)
        return onboarded

    async def note_failure(self, package_id: str, problem: dict[str, Any] | None) -> None:
        """Keep (or, with None, forget) why fetching the package's content failed; a package
        no longer CREATED (onboarded meanwhile) or deleted is left alone."""
        async with self._lock:
            try:
                package = await self._packages.get(package_id)
            except NotFound:
                return
            if package.onboarding_state != OnboardingState.CREATED:
                return
            package.onboarding_failure = problem
            await self._packages.update(package)

    async def content(self, package_id: str, scope: Scope = SYSTEM) -> bytes:
        """The CSAR as uploaded; ``Conflict`` before it was onboarded."""
        archive = await self._packages.archive(package_id, scope)
        if archive is None:
            raise _no_content(package_id)
        return archive

    async def vnfd(self, package_id: str, scope: Scope = SYSTEM) -> str:
        """The text of the package's entry VNFD."""
        package = await self._onboarded(package_id, scope)
        return package.definitions[package.vnfd_file]

    async def artifact(self, package_id: str, path: str, scope: Scope = SYSTEM) -> bytes:
        """One file of the package; ``NotFound`` naming the path."""
        archive = await self.content(package_id, scope)
        csar = await asyncio.to_thread(read_csar, archive)
        try:
            return csar.artifact(path)
        except NotFound:
            raise NotFound(
                f"no artifact {path!r} in VNF package {package_id}",
                vnfPkgId=package_id,
                artifactPath=path,
            ) from None

    async def modify(
        self,
        package_id: str,
        operational_state: OperationalState | None = None,
        user_defined_data: dict[str, Any] | None = None,
        scope: Scope = SYSTEM,
    ) -> VnfPackage:
        """Enable or disable the package and/or merge-patch its userDefinedData."""
        async with self._lock:
            package = await self._packages.get(package_id, scope)
            was = package.operational_state
            if operational_state is not None and operational_state != package.operational_state:
                if package.onboarding_state != OnboardingState.ONBOARDED:
                    raise _no_content(package_id)
                if operational_state == OperationalState.ENABLED:
                    own = in_project(package.project_id)
                    others = [p for p in await self._packages.list(own) if p.id != package_id]
                    _check_names(package.id, package.definitions, others)
                package.set_operational_state(operational_state)
            if user_defined_data is not None:
                data = merge_patch(package.user_defined_data, user_defined_data)
                package.user_defined_data = data
            await self._packages.update(package)
        log.info(
            "vnf_package.modified vnf_pkg_id=%s operational_state=%s",
            package_id,
            package.operational_state.value,
        )
        if package.operational_state != was:
            in_use = bool((await self.users(in_project(package.project_id))).get(package_id))
            self._events.package_changed(package, "OP_STATE_CHANGE", in_use=in_use)
        return package

    async def delete(self, package_id: str, scope: Scope = SYSTEM) -> None:
        """Delete a DISABLED package no onboarded NSD uses; ``Conflict`` saying why not."""
        async with self._lock:
            package = await self._packages.get(package_id, scope)
            if package.operational_state != OperationalState.DISABLED:
                raise Conflict(
                    f"VNF package {package_id} is ENABLED: disable it before deleting it",
                    vnfPkgId=package_id,
                )
            nsd_ids = (await self.users(in_project(package.project_id))).get(package_id, [])
            if nsd_ids:
                raise Conflict(
                    f"VNF package {package_id} is IN_USE by NSDs {', '.join(nsd_ids)}: "
                    "delete them first",
                    vnfPkgId=package_id,
                    nsdIds=nsd_ids,
                )
            await self._packages.delete(package_id)
        log.info("vnf_package.deleted vnf_pkg_id=%s", package_id)
        self._events.package_changed(package, "PKG_DELETE", in_use=False)

    async def _onboarded(self, package_id: str, scope: Scope) -> VnfPackage:
        package = await self._packages.get(package_id, scope)
        if package.onboarding_state != OnboardingState.ONBOARDED:
            raise _no_content(package_id)
        return package


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``target`` with ``patch`` applied as an RFC 7396 JSON merge patch (null deletes a key)."""
    merged = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _no_content(package_id: str) -> Conflict:
    return Conflict(
        f"VNF package {package_id} has no content yet (CREATED): upload its CSAR first",
        vnfPkgId=package_id,
    )


def _check_unique(content: VnfPackageContent, others: builtins.list[VnfPackage]) -> None:
    vnfd_id = content.summary.vnfd_id
    for other in others:
        if other.onboarding_state == OnboardingState.ONBOARDED and other.vnfd_id == vnfd_id:
            raise Conflict(
                f"VNFD {vnfd_id} is already onboarded as VNF package {other.id}",
                vnfdId=vnfd_id,
                vnfPkgId=other.id,
            )
    _check_names("", content.definitions, others)


def _check_names(
    package_id: str, definitions: dict[str, str], others: builtins.list[VnfPackage]
) -> None:
    """Refuse Definitions that an ENABLED package ships, under the same name, differently."""
    clashes = [
        f"{name} (VNF package {other.id})"
        for other in others
        if other.operational_state == OperationalState.ENABLED
        for name, text in sorted(definitions.items())
        if name in other.definitions and other.definitions[name] != text
    ]
    if clashes:
        subject = f"VNF package {package_id}" if package_id else "the package"
        raise Conflict(
            f"{subject} ships Definitions that ENABLED packages ship differently under the "
            f"same name: {', '.join(clashes)}; NSDs import VNFDs by file name, so rename the "
            "files or disable those packages",
            clashes=clashes,
        )


def _onboarded(package: VnfPackage, content: VnfPackageContent) -> VnfPackage:
    summary = content.summary
    images = [
        {
            "id": image.id,
            "name": image.name,
            "provider": summary.provider,
            "version": image.version,
            "containerFormat": image.container_format.upper(),
            "imagePath": image.name,
            **({"diskFormat": image.disk_format.upper()} if image.disk_format else {}),
            **({"size": image.size} if image.size else {}),
            **({"checksum": image.checksum} if image.checksum else {}),
        }
        for image in summary.images
    ]
    artifacts = [
        {
            "artifactPath": artifact.path,
            "checksum": {"algorithm": SHA_256, "hash": artifact.sha256},
            **({"nonManoArtifactSetId": artifact.non_mano_set} if artifact.non_mano_set else {}),
        }
        for artifact in content.artifacts
    ]
    return package.onboarded(
        **{
            "vnfd_id": summary.vnfd_id,
            "vnf_provider": summary.provider,
            "vnf_product_name": summary.product_name,
            "vnf_software_version": summary.software_version,
            "vnfd_version": summary.vnfd_version,
            "vnf_node_type": summary.node_type,
            "checksum": content.checksum,
            "software_images": images,
            "additional_artifacts": artifacts,
            "entry_definitions": content.entry,
            "vnfd_file": content.vnfd_file,
            "definitions": content.definitions,
            "onboarding_failure": None,
        }
    )
