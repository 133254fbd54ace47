"""What a server's state, or the event of its death, means for its VNFC: a ``Fault``."""

from __future__ import annotations

from dataclasses import dataclass

from nubo.model.alarms import PerceivedSeverity, ProbableCause
from nubo.model.records import VnfcInstance
from nubo.model.states import VnfcState
from nubo.vim.port import Server, ServerEvent, ServerStatus


@dataclass(frozen=True)
class Fault:
    """What a server's state means for its VNFC."""

    cause: ProbableCause
    severity: PerceivedSeverity
    observed: VnfcState
    detail: str


def fault_of(vnfc: VnfcInstance, server: Server | None) -> Fault | None:
    """The fault a server shows, or None when it runs or is in a transient state."""
    if server is None:
        return Fault(
            ProbableCause.VNFC_VANISHED,
            PerceivedSeverity.CRITICAL,
            VnfcState.FAILED,
            f"server {vnfc.vc_id or '?'} is gone from the VIM",
        )
    why = f" ({server.detail})" if server.detail else ""
    # a restarting server's process died; the VIM starts it again (see restarts)
    if server.restarting or server.status is ServerStatus.FAILED:
        return Fault(
            ProbableCause.VNFC_FAILED,
            PerceivedSeverity.CRITICAL,
            VnfcState.FAILED,
            f"server {server.name} failed{why}",
        )
    if server.status is ServerStatus.EXITED:
        return Fault(
            ProbableCause.VNFC_EXITED,
            PerceivedSeverity.MAJOR,
            VnfcState.EXITED,
            f"server {server.name} exited{why}",
        )
    return None


def fault_of_death(event: ServerEvent) -> Fault | None:
    """The fault a VIM's event of a server's end tells (Docker's ``die``), or None.

    Whether the VIM will restart the server the event does not tell: the check
    that follows the event does (and updates the alarm's details).
    """
    if event.status is ServerStatus.EXITED:
        cause, severity, observed = (
            ProbableCause.VNFC_EXITED,
            PerceivedSeverity.MAJOR,
            VnfcState.EXITED,
        )
    elif event.status is ServerStatus.FAILED:
        cause, severity, observed = (
            ProbableCause.VNFC_FAILED,
            PerceivedSeverity.CRITICAL,
            VnfcState.FAILED,
        )
    else:
        return None
    return Fault(cause, severity, observed, f"its server ended ({event.detail})")
