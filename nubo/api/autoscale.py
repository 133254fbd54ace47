"""Auto-scaling routes: the decisions the auto-scaler took for an NS, newest first.

``GET /api/v1/ns-records/{nsrId}/scaling-decisions?vnf=&since=&limit=``;
``vnf`` is a VNFR id or a VNF name, ``since`` seconds since the epoch.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from nubo.api.tenancy import RequestScope
from nubo.autoscale.decisions import ScalingDecision
from nubo.autoscale.loops import AutoScaling
from nubo.model.errors import NuboError
from nubo.nfvo.service import NsService

router = APIRouter(prefix="/api/v1", tags=["auto-scaling"])


class AutoScalingDisabled(NuboError):
    code = "AUTOSCALING_DISABLED"
    status = 503
    title = "Auto-scaling is not running"


def autoscaling(request: Request) -> AutoScaling:
    service: Any = getattr(request.app.state.services, "autoscaling", None)
    if not isinstance(service, AutoScaling):
        raise AutoScalingDisabled("this orchestrator runs without auto-scaling")
    return service


@router.get("/ns-records/{nsr_id}/scaling-decisions", response_model=list[ScalingDecision])
async def list_scaling_decisions(
    request: Request,
    scope: RequestScope,
    nsr_id: str,
    vnf: Annotated[str | None, Query(description="VNFR id or VNF name")] = None,
    since: Annotated[float | None, Query(description="seconds since the epoch")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ScalingDecision]:
    ns: NsService = request.app.state.services.ns
    nsr = await ns.get(nsr_id, scope)  # 404 for an unknown NS (or another project's)
    vnfr_id = nsr.find_vnfr(vnf).id if vnf else None
    return await autoscaling(request).decisions.list(
        nsr_id=nsr.id, vnfr_id=vnfr_id, since=since, limit=limit, scope=scope
    )
