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
        lowest = max(1, sum(v.min_instances for v in vnfr.vdu))
        return cls(current, lowest, max(1, sum(v.scale_in_out for v in vnfr.vdu)))


def vdu_to_scale(vnfr: VnfRecord, out: bool) -> VduRecord | None:
    """Scale-out grows the first VDU with room; scale-in shrinks the last above its minimum.

    A VDU may go down to its ``min_instances`` (0 for a SOL001 VDU that only
    scale-out fills), the VNF never below one VNFC (``Bounds.lowest``).
    """
    if out:
        return next((v for v in vnfr.vdu if len(v.live_vnfcs()) < v.scale_in_out), None)
    live = sum(len(v.live_vnfcs()) for v in vnfr.vdu)
    return next(
        (
            v
            for v in reversed(vnfr.vdu)
            if len(v.live_vnfcs()) > max(v.min_instances, 1 if live <= 1 else 0)
        ),
        None,
    )
