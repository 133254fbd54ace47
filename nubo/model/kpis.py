"""KPIs: a threshold on a metric or an aggregate of it, and the events of its crossings.

A KPI compares one aggregate of one metric, over the last ``window`` seconds
of an NS (or of one VNF of it), with a threshold. Its state is OK, VIOLATED
or NO_DATA; ``Kpi.evaluated`` is the one place the state changes, and every
change is a ``KpiEvent``. With a ``clear_threshold`` a VIOLATED KPI turns OK
only once the value is back beyond that second threshold (hysteresis), so a
value hovering at the threshold does not flap.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from nubo.model.errors import BadRequest
from nubo.model.ids import new_id
from nubo.model.metrics import ALIASES, Aggregate, Metric, metric_named

#: the longest window a KPI may aggregate over: the retention of metric rollups
MAX_WINDOW = 7 * 86400.0


class Comparison(StrEnum):
    """The operators of Open Baton's auto-scaling alarms."""

    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="


_COMPARE: dict[Comparison, Callable[[float, float], bool]] = {
    Comparison.GT: operator.gt,
    Comparison.GE: operator.ge,
    Comparison.LT: operator.lt,
    Comparison.LE: operator.le,
    Comparison.EQ: operator.eq,
    Comparison.NE: operator.ne,
}


class KpiState(StrEnum):
    OK = "OK"
    #: the value crossed the threshold (and has not come back past the clear threshold)
    VIOLATED = "VIOLATED"
    #: no sample in the window
    NO_DATA = "NO_DATA"


class KpiSpec(BaseModel):
    """A KPI as a client asks for it; names are checked by ``define_kpi``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    metric: str = Field(description="nubo metric name or a descriptor alias")
    aggregate: str = "avg"
    window: float = Field(60.0, description="seconds back from the evaluation time")
    comparison_operator: str = ">="
    threshold: float
    clear_threshold: float | None = Field(
        None, description="a VIOLATED KPI turns OK only once past this value (hysteresis)"
    )
    vnf: str | None = Field(None, description="VNF name or VNFR id; default: the whole NS")


class Kpi(BaseModel):
    """A defined KPI with its current state (kept in the body so a restart keeps it)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_id)
    name: str
    nsr_id: str
    #: its NS's project
    project_id: str
    vnf: str | None = None
    vnfr_id: str | None = None
    metric: Metric
    aggregate: Aggregate = Aggregate.AVG
    window: float
    comparison_operator: Comparison
    threshold: float
    clear_threshold: float | None = None
    #: seconds since the epoch
    created_at: float
    #: None until the first evaluation
    state: KpiState | None = None
    state_since: float | None = None
    value: float | None = None
    evaluated_at: float | None = None

    def next_state(self, value: float | None) -> KpiState:
        """The state that ``value`` puts this KPI in, given its current state."""
        if value is None:
            return KpiState.NO_DATA
        compare = _COMPARE[self.comparison_operator]
        if self.state is KpiState.VIOLATED and self.clear_threshold is not None:
            still = compare(value, self.clear_threshold)
            return KpiState.VIOLATED if still else KpiState.OK
        return KpiState.VIOLATED if compare(value, self.threshold) else KpiState.OK

    def evaluated(self, value: float | None, now: float) -> tuple[Kpi, KpiEvent | None]:
        """This KPI after an evaluation at ``now``, and the event when its state changed.

        The first evaluation of a new KPI is an event only when it finds the
        KPI VIOLATED: OK or NO_DATA at creation crossed nothing.
        """
        new = self.next_state(value)
        changed = new is not self.state
        updated = self.model_copy(
            update={
                "state": new,
                "state_since": now if changed else self.state_since,
                "value": value,
                "evaluated_at": now,
            }
        )
        if not changed or (self.state is None and new is not KpiState.VIOLATED):
            return updated, None
        event = KpiEvent(
            kpi_id=self.id,
            kpi_name=self.name,
            nsr_id=self.nsr_id,
            project_id=self.project_id,
            vnf=self.vnf,
            time=now,
            previous_state=self.state,
            state=new,
            value=value,
            metric=self.metric,
            aggregate=self.aggregate,
            window=self.window,
            comparison_operator=self.comparison_operator,
            threshold=self.threshold,
            clear_threshold=self.clear_threshold,
        )
        return updated, event


class KpiEvent(BaseModel):
    """One change of a KPI's state: a crossing, a clearing, data lost or back."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_id)
    kpi_id: str
    kpi_name: str
    nsr_id: str
    project_id: str
    vnf: str | None = None
    #: seconds since the epoch
    time: float
    previous_state: KpiState | None
    state: KpiState
    value: float | None
    metric: Metric
    aggregate: Aggregate
    window: float
    comparison_operator: Comparison
    threshold: float
    clear_threshold: float | None = None


def define_kpi(
    spec: KpiSpec,
    *,
    nsr_id: str,
    project_id: str,
    vnfr_id: str | None,
    vnf_name: str | None,
    now: float,
) -> Kpi:
    """A new KPI from a client's spec; ``BadRequest`` names the first field in error."""
    metric = metric_named(spec.metric)
    if metric is None:
        known = ", ".join([*(m.value for m in Metric), *ALIASES])
        raise BadRequest(f"unknown metric {spec.metric!r}; known metrics: {known}", field="metric")
    try:
        aggregate = Aggregate(spec.aggregate)
    except ValueError:
        known = ", ".join(a.value for a in Aggregate)
        raise BadRequest(
            f"unknown aggregate {spec.aggregate!r}; known aggregates: {known}", field="aggregate"
        ) from None
    try:
        comparison = Comparison(spec.comparison_operator)
    except ValueError:
        known = ", ".join(c.value for c in Comparison)
        raise BadRequest(
            f"unknown comparison operator {spec.comparison_operator!r}; known: {known}",
            field="comparison_operator",
        ) from None
    if not 0 < spec.window <= MAX_WINDOW:
        raise BadRequest(f"window must be > 0 and at most {MAX_WINDOW:.0f} seconds", field="window")
    _check_clear_threshold(comparison, spec.threshold, spec.clear_threshold)
    return Kpi(
        name=spec.name,
        nsr_id=nsr_id,
        project_id=project_id,
        vnf=vnf_name,
        vnfr_id=vnfr_id,
        metric=metric,
        aggregate=aggregate,
        window=spec.window,
        comparison_operator=comparison,
        threshold=spec.threshold,
        clear_threshold=spec.clear_threshold,
        created_at=now,
    )


def _check_clear_threshold(comparison: Comparison, threshold: float, clear: float | None) -> None:
    """The clear threshold must lie on the OK side of the threshold (or equal it)."""
    if clear is None:
        return
    if comparison in (Comparison.EQ, Comparison.NE):
        raise BadRequest(
            f"a clear threshold needs an ordering operator, not {comparison.value}",
            field="clear_threshold",
        )
    upward = comparison in (Comparison.GT, Comparison.GE)
    if (upward and clear > threshold) or (not upward and clear < threshold):
        side = "at most" if upward else "at least"
        raise BadRequest(
            f"with {comparison.value} the clear threshold must be {side} the threshold "
            f"({threshold})",
            field="clear_threshold",
        )
