"""The size of a VNF as auto-scaling sees it: its VNFC count, its bounds, which VDU moves."""

from __future__ import annotations

from dataclasses import dataclass

from nubo.model.records import VduRecord, VnfRecord


@dataclass(frozen=True)
class Bounds:
    """A VNF's live VNFC count and the range auto-scaling keeps it in."""

    current: int
    lowest: int
    highest: int

    @classmethod
    def of(cls, vnfr: VnfRecord) -> Bounds:
        current = sum(len(vdu.live_vnfcs()) for vdu in vnfr.vdu)
        return cls(current, max(1, len(vnfr.vdu)), max(1, sum(v.scale_in_out for v in vnfr.vdu)))


def vdu_to_scale(vnfr: VnfRecord, out: bool) -> VduRecord | None:
    """Scale-out grows the first VDU with room; scale-in shrinks the last with more than one."""
    if out:
        return next((v for v in vnfr.vdu if len(v.live_vnfcs()) < v.scale_in_out), None)
    return next((v for v in reversed(vnfr.vdu) if len(v.live_vnfcs()) > 1), None)
