"""Registered VIMs and the drivers that talk to them."""

from __future__ import annotations

import asyncio

from nubo.model.catalogue import VimRegistration
from nubo.model.descriptors import Nsd
from nubo.model.errors import BadRequest, Conflict, NotFound, VimUnreachable
from nubo.model.ids import new_id
from nubo.model.tenancy import DEFAULT_PROJECT, SYSTEM, Scope, in_project
from nubo.store.port import VimRepository
from nubo.vim.port import VimConfig, VimDriver
from nubo.vim.registry import DriverRegistry


class VimService:
    """Registers VIMs (name, type, endpoint) and hands out one driver per VIM."""

    def __init__(self, store: VimRepository, registry: DriverRegistry) -> None:
        self._store = store
        self._registry = registry
        self._drivers: dict[str, VimDriver] = {}
        self._lock = asyncio.Lock()
        #: VIMs the fault watcher found unreachable, with the reason
        self._unreachable: dict[str, str] = {}

    def mark_unreachable(self, vim_id: str, reason: str) -> None:
        self._unreachable[vim_id] = reason

    def mark_reachable(self, vim_id: str) -> None:
        self._unreachable.pop(vim_id, None)

    def unreachable(self) -> dict[str, str]:
        return dict(self._unreachable)

    def ensure_reachable(self, vim_id: str) -> None:
        """Fail fast, instead of waiting on VIM timeouts, when the VIM is known to be down."""
        reason = self._unreachable.get(vim_id)
        if reason is not None:
            raise VimUnreachable(
                f"VIM {vim_id} is unreachable ({reason}); retry when its alarm has cleared",
                vim_id=vim_id,
            )

    async def register(
        self,
        name: str,
        type: str,
        endpoint: str = "",
        subnet_pool: str | None = None,
        subnet_prefix: int | None = None,
        is_default: bool = False,
        *,
        project_id: str = DEFAULT_PROJECT,
    ) -> VimRegistration:
        """Register a VIM in ``project_id`` (its name is unique there)."""
        if type not in self._registry.types():
            raise BadRequest(
                f"unknown VIM type {type!r}; known types: {', '.join(self._registry.types())}",
                field="type",
            )
        vim = VimRegistration(
            id=new_id(), project_id=project_id, name=name, type=type, endpoint=endpoint
        )
        if subnet_pool:
            vim.subnet_pool = subnet_pool
        if subnet_prefix:
            vim.subnet_prefix = subnet_prefix
        vim.is_default = is_default
        await self._store.add_vim(vim)
        return vim

    async def ensure_default(self, name: str, type: str, endpoint: str, subnet_pool: str) -> None:
        """Register the out-of-the-box VIM (in the default project) when no VIM is registered."""
        if not await self._store.list_vims():
            await self.register(name, type, endpoint, subnet_pool=subnet_pool, is_default=True)

    async def list(self, scope: Scope = SYSTEM) -> list[VimRegistration]:
        return await self._store.list_vims(scope)

    async def get(self, id_or_name: str, scope: Scope = SYSTEM) -> VimRegistration:
        return await self._store.get_vim(id_or_name, scope)

    async def default(self, project_id: str = DEFAULT_PROJECT) -> VimRegistration:
        """The project's default VIM, else its oldest."""
        vims = await self._store.list_vims(in_project(project_id))
        if not vims:
            raise NotFound(
                "no VIM is registered in this project; a project ADMIN registers one "
                "with `nubo vim register`"
            )
        for vim in vims:
            if vim.is_default:
                return vim
        return vims[0]

    async def for_nsd(
        self, nsd: Nsd, requested: str | None = None, project_id: str = DEFAULT_PROJECT
    ) -> VimRegistration:
        """The VIM an NS of ``nsd`` in ``project_id`` runs on: the requested one, else one
        its VDUs name; always one of that project's VIMs.

        Open Baton's ``vimInstanceName`` lists the VIMs a VDU may be placed
        on. nubo places a whole NS on one VIM, so that VIM must be one every
        naming VDU allows; VDUs that name none go wherever the NS goes.
        """
        named = [
            (f"$.vnfd[{v}].vdu[{d}].vimInstanceName", vdu.vim_instance_names)
            for v, vnfd in enumerate(nsd.vnfds)
            for d, vdu in enumerate(vnfd.vdus)
            if vdu.vim_instance_names
        ]
        own = in_project(project_id)
        if requested:
            vim = await self.get(requested, own)
            for path, names in named:
                if vim.name not in names and vim.id not in names:
                    raise Conflict(
                        f"VIM {vim.name!r} was asked for, but {path} allows only "
                        f"{_names(names)}: ask for one of those, or leave the VIM out",
                        field=path,
                    )
            return vim
        if not named:
            return await self.default(project_id)
        vims = await self._store.list_vims(own)
        allowed = [
            vim for vim in vims if all(vim.name in names or vim.id in names for _, names in named)
        ]
        if allowed:
            return next((vim for vim in allowed if vim.is_default), allowed[0])
        registered = _names([vim.name for vim in vims]) if vims else "none"
        for path, names in named:
            if not any(vim.name in names or vim.id in names for vim in vims):
                raise Conflict(
                    f"{path} names {_names(names)}, but no VIM of that name is registered "
                    f"(registered: {registered}): register it (`nubo vim register`) or "
                    "change vimInstanceName",
                    field=path,
                )
        raise Conflict(
            "the VDUs' vimInstanceName lists have no VIM in common ("
            + "; ".join(f"{path}: {_names(names)}" for path, names in named)
            + "), and nubo places a network service on one VIM: name one VIM in all of them",
            field=named[0][0],
        )

    async def driver(self, vim_id: str) -> VimDriver:
        known = self._drivers.get(vim_id)
        if known is not None:  # the common case, asked per VNFC by the loops: no lock
            return known
        async with self._lock:
            if vim_id not in self._drivers:
                vim = await self._store.get_vim(vim_id)
                config = VimConfig(
                    id=vim.id,
                    name=vim.name,
                    type=vim.type,
                    endpoint=vim.endpoint,
                    subnet_pool=vim.subnet_pool,
                    subnet_prefix=vim.subnet_prefix,
                )
                self._drivers[vim_id] = self._registry.create(config)
            return self._drivers[vim_id]

    async def close(self) -> None:
        for driver in self._drivers.values():
            await driver.close()
        self._drivers.clear()


def _names(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(repr(name) for name in names)
