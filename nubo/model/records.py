"""Records: the dynamic state of running network services (NSR, VNFR, VDU, VNFC, VLR).

An NSR is an aggregate: it is loaded, changed and saved as a whole, under the
NS's lease, so its parts never disagree. Status changes go through the
``set_*`` methods, which apply the transition tables of ``states`` through its
one gate; the state fields are frozen, so assigning one directly raises.
The JSON shape follows Open Baton's records (``status``, ``vnfr[]``,
``vdu[]``, ``vnfc_instance[]``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from nubo.model.errors import NotFound
from nubo.model.states import (
    NS_TRANSITIONS,
    OP_TRANSITIONS,
    STEP_TRANSITIONS,
    VNF_TRANSITIONS,
    VNFC_TRANSITIONS,
    LcmOperationType,
    NsStatus,
    OpState,
    StepStatus,
    VnfcState,
    VnfStatus,
    transition,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


#: what the API, and what nubo keeps of scripts' output, show instead of a secret value
REDACTED = "********"


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of a secret value replaced by ``REDACTED``."""
    for secret in sorted(secrets, key=len, reverse=True):  # a longer one may hold a shorter
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


class _Record(BaseModel):
    model_config = ConfigDict(populate_by_name=True, use_enum_values=False)


class VnfcInstance(_Record):
    """One container of a VDU; ``addresses`` maps virtual link name to IP address."""

    id: str
    vdu_id: str
    hostname: str
    index: int = Field(default=0, description="position in its VDU; never reused")
    state: VnfcState = Field(default=VnfcState.PENDING, frozen=True)
    vim_id: str = ""
    vc_id: str = Field(default="", description="the server id on the VIM")
    addresses: dict[str, str] = Field(default_factory=dict)
    environment: dict[str, str] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    scripts_done: list[str] = Field(
        default_factory=list,
        description="lifecycle events whose scripts ran to the end in its current container",
    )

    def set_state(self, new: VnfcState) -> None:
        transition(self, "state", VNFC_TRANSITIONS, new, f"VNFC {self.hostname}")


class VduRecord(_Record):
    id: str
    name: str
    image: str
    scale_in_out: int
    min_instances: int = Field(default=1, description="the fewest VNFCs scale-in leaves")
    vnfc_instance: list[VnfcInstance] = Field(default_factory=list)
    environment: dict[str, str] = Field(
        default_factory=dict,
        description="variables from the VDU's env files, under everything else a VNFC gets",
    )

    def live_vnfcs(self) -> list[VnfcInstance]:
        return [c for c in self.vnfc_instance if c.state != VnfcState.DELETED]

    def next_index(self) -> int:
        return 1 + max((c.index for c in self.vnfc_instance), default=-1)

    def forget(self, vnfc_id: str) -> None:
        """Drop a removed VNFC from the record (Open Baton keeps no trace of it)."""
        self.vnfc_instance = [c for c in self.vnfc_instance if c.id != vnfc_id]


class VnfRecord(_Record):
    id: str
    name: str
    type: str
    vendor: str = ""
    version: str = ""
    status: VnfStatus = Field(default=VnfStatus.INITIALIZED, frozen=True)
    vdu: list[VduRecord] = Field(default_factory=list)
    virtual_links: list[str] = Field(default_factory=list)
    configuration: dict[str, str] = Field(default_factory=dict)
    #: its secret configuration parameters: the API never shows their values, nor those
    #: of the VDUs' env files (see ``secret_values`` and ``nubo.api.redaction``)
    secret_keys: list[str] = Field(default_factory=list)
    dependency_env: dict[str, str] = Field(
        default_factory=dict, description="variables resolved from VNF dependencies"
    )
    flavour_id: str = Field(
        default="default", description="the VNF's deployment flavour (its VNFD's, as deployed)"
    )

    def set_status(self, new: VnfStatus) -> None:
        transition(self, "status", VNF_TRANSITIONS, new, f"VNF {self.name}")

    def find_vdu(self, vdu_id: str) -> VduRecord:
        for vdu in self.vdu:
            if vdu.id == vdu_id:
                return vdu
        raise NotFound(f"VDU {vdu_id} not found in VNFR {self.id}", field="vduId")

    def vnfcs(self) -> list[VnfcInstance]:
        return [c for vdu in self.vdu for c in vdu.live_vnfcs()]


class VirtualLinkRecord(_Record):
    id: str
    name: str
    vnf: str = Field(
        default="", description="the VNF a VNF-internal link is private to; empty: an NS link"
    )
    vim_network_id: str = ""
    cidr: str = ""
    gateway: str = ""


class NetworkServiceRecord(_Record):
    id: str
    #: the project the NS belongs to (see ``nubo.model.tenancy``)
    project_id: str
    name: str
    descriptor_reference: str
    description: str = ""
    vendor: str = ""
    version: str = ""
    vim_id: str = ""
    ns_flavour_id: str = Field(
        default="", description="the NS deployment flavour it runs (empty: the NSD's default)"
    )
    status: NsStatus = Field(default=NsStatus.INITIALIZED, frozen=True)
    vnfr: list[VnfRecord] = Field(default_factory=list)
    vlr: list[VirtualLinkRecord] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    revision: int = Field(default=0, description="the stored version this copy was read at")

    def set_status(self, new: NsStatus) -> None:
        transition(self, "status", NS_TRANSITIONS, new, f"NS {self.name}")
        self.updated_at = utcnow()

    def secret_values(self) -> set[str]:
        """The values of its VNFs' secrets (``VnfRecord.secret_keys``; the VDUs' env-file
        variables), empty ones left out: they reveal nothing."""
        values: set[str] = set()
        for vnfr in self.vnfr:
            keys = set(vnfr.secret_keys)
            values |= {v for k, v in vnfr.configuration.items() if k in keys and v}
            for vdu in vnfr.vdu:
                values |= {v for v in vdu.environment.values() if v}
        return values

    def find_vnfr(self, vnfr_id: str) -> VnfRecord:
        for vnfr in self.vnfr:
            if vnfr.id == vnfr_id or vnfr.name == vnfr_id:
                return vnfr
        raise NotFound(f"VNFR {vnfr_id} not found in NSR {self.id}", field="vnfrId")

    def vnfr_by_name(self, name: str) -> VnfRecord:
        for vnfr in self.vnfr:
            if vnfr.name == name:
                return vnfr
        raise NotFound(f"VNF {name} not found in NSR {self.id}")

    def find_vnfc(self, vnfc_id: str) -> tuple[VnfRecord, VduRecord, VnfcInstance]:
        for vnfr in self.vnfr:
            for vdu in vnfr.vdu:
                for vnfc in vdu.vnfc_instance:
                    if vnfc.id == vnfc_id:
                        return vnfr, vdu, vnfc
        raise NotFound(f"VNFC instance {vnfc_id} not found in NSR {self.id}", field="vnfcId")

    def find_vlr(self, name: str) -> VirtualLinkRecord:
        for vlr in self.vlr:
            if vlr.name == name:
                return vlr
        raise NotFound(f"virtual link {name} not found in NSR {self.id}")

    def all_vnfcs(self) -> list[VnfcInstance]:
        return [c for vnfr in self.vnfr for c in vnfr.vnfcs()]


class StepRecord(_Record):
    """Progress of one workflow step, persisted before and after its side effect."""

    name: str
    status: StepStatus = Field(default=StepStatus.STARTED, frozen=True)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    detail: str = ""

    def finish(self, status: StepStatus) -> None:
        transition(self, "status", STEP_TRANSITIONS, status, f"step {self.name}")
        self.finished_at = utcnow()


#: script runs an occurrence keeps: the latest ones
MAX_SCRIPT_RUNS = 100
#: characters of a script's output an occurrence keeps: the last ones
SCRIPT_OUTPUT_KEPT = 4000


class ScriptRun(_Record):
    """One lifecycle script run inside a VNFC: how it ended and the tail of its output."""

    vnf: str
    vnfc: str = Field(description="the VNFC's hostname")
    event: str
    script: str
    exit_code: int
    output: str = Field(default="", description="its last characters (SCRIPT_OUTPUT_KEPT)")
    truncated: bool = False
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime = Field(default_factory=utcnow)


class LcmOpOcc(_Record):
    """An LCM operation occurrence: one persisted run of an NS operation."""

    id: str
    nsr_id: str
    #: its NS's project
    project_id: str
    operation: LcmOperationType
    state: OpState = Field(default=OpState.PROCESSING, frozen=True)
    start_time: datetime = Field(default_factory=utcnow)
    state_entered_time: datetime = Field(default_factory=utcnow)
    params: dict[str, object] = Field(default_factory=dict)
    steps: list[StepRecord] = Field(default_factory=list)
    error: dict[str, object] | None = None
    hold_on_failure: bool = Field(
        default=False,
        description="on failure stop in FAILED_TEMP for a retry, rollback or fail "
        "(SOL005) instead of rolling back at once",
    )
    automatic: bool = Field(default=False, description="started by nubo itself (heal, scaling)")
    scripts: list[ScriptRun] = Field(
        default_factory=list,
        description="the lifecycle scripts it ran, the latest MAX_SCRIPT_RUNS",
    )
    revision: int = Field(default=0, description="the stored version this copy was read at")

    def set_state(self, new: OpState) -> None:
        transition(self, "state", OP_TRANSITIONS, new, f"operation {self.id}")
        self.state_entered_time = utcnow()

    def record_script(self, run: ScriptRun) -> None:
        """Keep ``run`` (its output's tail only), dropping the oldest beyond the bound."""
        if len(run.output) > SCRIPT_OUTPUT_KEPT:
            run = run.model_copy(
                update={"output": run.output[-SCRIPT_OUTPUT_KEPT:], "truncated": True}
            )
        self.scripts = [*self.scripts, run][-MAX_SCRIPT_RUNS:]


class VnfcLocation(NamedTuple):
    """Where one VNFC runs and in which state its record is, with its NS's status.

    What the background loops read to find the few NSs worth a closer look,
    without loading every NSR (the sampler reads every running one each round:
    a named tuple costs a third of a frozen dataclass to build).
    """

    nsr_id: str
    ns_status: NsStatus
    vnfr_id: str
    vnfc_id: str
    vim_id: str
    vc_id: str
    state: VnfcState
