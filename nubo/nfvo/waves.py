"""Concurrent VIM work inside one workflow step, and starts in dependency waves.

Addresses are reserved and dependencies resolved before anything runs, so
most of an instantiation has no order: networks, reservations and containers
are asked of the VIM all at once (``settle``), and only the starts follow the
descriptor's dependencies. A VNF starts the moment every VNF it depends on is
RUNNING (``start_in_waves``): independent VNFs start together and a slow
source holds back its own targets only. The VNFs that become ready at one
moment form a wave, recorded as one step (``start a, b``); waves overlap in
time when their sources end at different moments.

Progress is saved in batches (``ProgressSaver``): one save in flight at a
time, and the waves that end while it runs go into the next one, so a wave
costs one transaction however many VNFCs it starts, and a crash loses at
most what the VIM did since the last save, which the idempotent steps find
done when they run again. Each VNF that runs is a fault point of its own
(``after:vnf <name>``), inside its wave, before the wave is saved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from nubo.model.descriptors import Nsd
from nubo.model.records import VnfRecord
from nubo.model.topology import start_order
from nubo.nfvo.operations import OperationContext
from nubo.nfvo.tasks import cancel_and_wait

T = TypeVar("T")

StartVnf = Callable[[VnfRecord], Awaitable[None]]


async def settle(calls: Sequence[Coroutine[Any, Any, T]]) -> list[T | BaseException]:
    """Run ``calls`` concurrently until every one has ended; results or errors, in order.

    No call is cancelled when another fails: each VIM effect that happened
    can then be recorded before the first error is raised (``first_error``),
    so a rollback removes it by record rather than only by label.
    """
    if not calls:
        return []
    return list(await asyncio.gather(*calls, return_exceptions=True))


def first_error(results: Sequence[object]) -> BaseException | None:
    """The first error ``settle`` gave back, if any."""
    return next((r for r in results if isinstance(r, BaseException)), None)


def raise_first(results: Sequence[object]) -> None:
    """Raise the first error ``settle`` gave back, if any (once the effects are recorded)."""
    error = first_error(results)
    if error is not None:
        raise error


class ProgressSaver:
    """Coalesces the saves of concurrent work: a caller waits for one that covers it."""

    def __init__(self, save: Callable[[], Awaitable[None]]) -> None:
        self._save = save
        self._lock = asyncio.Lock()
        self._requested = 0
        self._covered = 0

    async def save(self) -> None:
        """Return once a save begun after this call has ended (it may be another caller's)."""
        self._requested += 1
        wanted = self._requested
        async with self._lock:
            if self._covered >= wanted:
                return
            covering = self._requested
            await self._save()
            self._covered = covering


def sources_of(nsd: Nsd) -> dict[str, set[str]]:
    """Per VNF name, the names of the VNFs it depends on.

    ``start_order`` checks the dependencies first: one on an unknown VNF, or a
    cycle, which would leave VNFs waiting for ever, is an InvalidDescriptor.
    """
    start_order(nsd)
    sources: dict[str, set[str]] = {vnfd.name: set() for vnfd in nsd.vnfds}
    for dep in nsd.dependencies:
        sources[dep.target].add(dep.source)
    return sources


class _WaveRun:
    """One run of ``start_in_waves``: which VNFs started and ended, and the first error."""

    def __init__(
        self,
        ctx: OperationContext,
        vnfrs: list[VnfRecord],
        sources: dict[str, set[str]],
        start_vnf: StartVnf,
    ) -> None:
        self.ctx = ctx
        self.vnfrs = vnfrs
        self.sources = sources
        self.start_vnf = start_vnf
        self.saver = ProgressSaver(ctx.save)
        self.started: set[str] = set()
        self.ended: set[str] = set()
        self.error: BaseException | None = None
        self.failed_step = ""
        self.tasks: set[asyncio.Task[None]] = set()

    def launch_ready(self) -> None:
        """Start, as one wave, every VNF whose sources have all ended; none after an error."""
        if self.error is not None:
            return
        ready = [
            v
            for v in self.vnfrs
            if v.name not in self.started and self.sources.get(v.name, set()) <= self.ended
        ]
        if ready:
            self.started.update(v.name for v in ready)
            task = asyncio.create_task(self.wave(ready))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def wave(self, vnfrs: list[VnfRecord]) -> None:
        name = "start " + ", ".join(v.name for v in vnfrs)
        try:
            # its start is saved with the wave's end: the VIM calls are idempotent
            async with self.ctx.step(name, pure=True):
                results = await settle([self.one(v, name) for v in vnfrs])
                error = first_error(results)
                await self.saver.save()
                if error is not None:
                    raise error
        except Exception as exc:
            self.fail(exc, name)

    def fail(self, error: BaseException, step: str) -> None:
        if self.error is None:
            self.error, self.failed_step = error, step

    async def one(self, vnfr: VnfRecord, step: str) -> None:
        try:
            await self.start_vnf(vnfr)
        except Exception as exc:
            self.fail(exc, step)  # at once: no other wave starts from now on
            raise
        self.ended.add(vnfr.name)
        # a fault point inside a wave: this VNF runs, its wave is not saved yet
        await self.ctx.runner.fault(self.ctx.op.operation, f"after:vnf {vnfr.name}")
        self.launch_ready()  # its targets start now, not when its whole wave has ended

    async def run(self) -> None:
        self.launch_ready()
        try:
            while self.tasks:
                await asyncio.wait(set(self.tasks))
        except BaseException:
            # the operation is cancelled or timed out: its waves go with it
            await cancel_and_wait(list(self.tasks))
            raise
        if self.error is not None:
            self.ctx.current_step = self.failed_step
            raise self.error


async def start_in_waves(
    ctx: OperationContext, nsd: Nsd, vnfrs: list[VnfRecord], start_vnf: StartVnf
) -> None:
    """Start every VNF of ``vnfrs`` once the VNFs it depends on have started (see above).

    After a failure no further wave starts; the waves already starting end
    (each start is bounded), are saved, and the first error is raised.
    """
    sources = sources_of(nsd)
    await _WaveRun(ctx, vnfrs, sources, start_vnf).run()
