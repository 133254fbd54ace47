"""The seams themselves: a driver registry with the fake VIM, and crash injection."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Mapping

from nubo.app import default_registry
from nubo.model.states import LcmOperationType
from nubo.nfvo.operations import FaultHook
from nubo.vim import fake as fake_vim
from nubo.vim.registry import DriverRegistry

log = logging.getLogger("nubo.testing")

#: the environment variable of the test entry point that asks for a crash:
#: ``OPERATION:before|after:STEP``, e.g. ``INSTANTIATE:after:allocate``, or
#: ``INSTANTIATE:after:vnf NAME`` for the moment one VNF of a start wave runs
CRASH_AT_VARIABLE = "NUBO_TEST_CRASH_AT"

_WHEN = ("before", "after")


def registry_with_fake() -> DriverRegistry:
    """The production drivers plus the in-memory VIM type ``fake``."""
    registry = default_registry()
    fake_vim.register(registry)
    return registry


def _check_point(point: str) -> None:
    operation, _, where = point.partition(":")
    when, _, step = where.partition(":")
    operations = [o.value for o in LcmOperationType]
    if operation not in operations or when not in _WHEN or not step:
        raise ValueError(
            f"{CRASH_AT_VARIABLE}={point!r}: expected OPERATION:before|after:STEP"
            f" with OPERATION one of {', '.join(operations)}"
        )


def crash_hook(point: str) -> FaultHook:
    """A fault hook that kills this process with SIGKILL at ``point`` of a workflow.

    ``point`` is ``OPERATION:before|after:STEP``; recovery tests use it to prove
    that a restarted orchestrator finishes or rolls back what was interrupted.
    """
    _check_point(point)

    async def hook(operation: str, where: str) -> None:
        if f"{operation}:{where}" == point:
            log.warning("test.crash point=%s: killing the orchestrator with SIGKILL", point)
            os.kill(os.getpid(), signal.SIGKILL)

    log.warning("test.crash_armed point=%s: this orchestrator will kill itself there", point)
    return hook


def crash_hook_from_env(env: Mapping[str, str]) -> FaultHook | None:
    """The crash hook ``NUBO_TEST_CRASH_AT`` asks for; None when it is unset or empty."""
    point = env.get(CRASH_AT_VARIABLE, "").strip()
    return crash_hook(point) if point else None
