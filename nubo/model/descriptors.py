"""Descriptors: the static templates of network services (NSD, VNFD, VDU, VLD...).

These types are format-neutral: the Open Baton JSON parser (and later the
SOL001 TOSCA parser) produce them, and the orchestrator only ever reads them.
Field names follow the Open Baton information model in Python style.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from nubo.model.errors import FieldProblem


class LifecycleEventType(StrEnum):
    INSTANTIATE = "INSTANTIATE"
    CONFIGURE = "CONFIGURE"
    START = "START"
    STOP = "STOP"
    TERMINATE = "TERMINATE"
    SCALE_IN = "SCALE_IN"
    SCALE_OUT = "SCALE_OUT"
    ERROR = "ERROR"
    HEAL = "HEAL"
    RELEASE = "RELEASE"
    SCALE_UP = "SCALE_UP"
    SCALE_DOWN = "SCALE_DOWN"
    UPDATE = "UPDATE"
    GRANTED = "GRANTED"
    ALLOCATE = "ALLOCATE"
    RESUME = "RESUME"


#: the lifecycle events whose scripts nubo runs, in the order a VNFC meets them
RUN_EVENTS = (
    LifecycleEventType.INSTANTIATE,
    LifecycleEventType.CONFIGURE,
    LifecycleEventType.START,
    LifecycleEventType.STOP,
    LifecycleEventType.TERMINATE,
    LifecycleEventType.SCALE_OUT,
    LifecycleEventType.SCALE_IN,
    LifecycleEventType.HEAL,
)


@dataclass(frozen=True)
class LifecycleEvent:
    event: LifecycleEventType
    scripts: tuple[str, ...] = ()


@dataclass(frozen=True)
class LifecycleScript:
    """A script of a VNF package, by the name its lifecycle events give it."""

    name: str
    text: str


@dataclass(frozen=True)
class ConfigurationParameter:
    key: str
    value: str
    description: str = ""
    #: never shown by the API (nubo's ``"secret": true`` on an Open Baton parameter)
    secret: bool = False


@dataclass(frozen=True)
class Configuration:
    name: str = ""
    parameters: tuple[ConfigurationParameter, ...] = ()

    def as_env(self) -> dict[str, str]:
        """The parameters as environment variables, in descriptor order."""
        return {p.key: p.value for p in self.parameters}

    def secret_keys(self) -> list[str]:
        return [p.key for p in self.parameters if p.secret]


@dataclass(frozen=True)
class ConnectionPoint:
    virtual_link_reference: str
    floating_ip: str | None = None


@dataclass(frozen=True)
class VnfcTemplate:
    """A VNFC template of a VDU: the connection points each new instance gets."""

    connection_points: tuple[ConnectionPoint, ...] = ()


@dataclass(frozen=True)
class Vdu:
    """A VDU: the image its VNFCs run, how many there may be, and what they start with."""

    name: str
    images: tuple[str, ...]
    scale_in_out: int
    vnfc_templates: tuple[VnfcTemplate, ...] = ()
    vim_instance_names: tuple[str, ...] = ()
    #: (name, value) of the variables of its Docker env files (004 §4.8.11 ``envVars``),
    #: the lowest-precedence part of each of its VNFCs' environment
    environment: tuple[tuple[str, str], ...] = ()
    #: the fewest VNFCs scale-in leaves (SOL001 ``min_number_of_instances``; 0 allowed)
    min_instances: int = 1
    #: how many VNFCs instantiate creates, when the descriptor says (SOL001, may be 0);
    #: None: one per VNFC template, at least one (Open Baton)
    initial: int | None = None

    @property
    def image(self) -> str:
        return self.images[0]

    @property
    def initial_instances(self) -> int:
        """How many VNFCs instantiate creates."""
        if self.initial is not None:
            return self.initial
        return max(1, len(self.vnfc_templates))

    def template(self, index: int = 0) -> VnfcTemplate:
        if not self.vnfc_templates:
            return VnfcTemplate()
        return self.vnfc_templates[min(index, len(self.vnfc_templates) - 1)]


@dataclass(frozen=True)
class ScalingAlarm:
    metric: str
    statistic: str
    comparison_operator: str
    threshold: float
    weight: float = 1.0


@dataclass(frozen=True)
class ScalingAction:
    type: str
    value: str = ""


@dataclass(frozen=True)
class AutoScalePolicy:
    name: str
    threshold: float
    comparison_operator: str
    period: int
    cooldown: int
    mode: str = "REACTIVE"
    type: str = "VOTED"
    alarms: tuple[ScalingAlarm, ...] = ()
    actions: tuple[ScalingAction, ...] = ()


@dataclass(frozen=True)
class DeploymentFlavour:
    flavour_key: str


@dataclass(frozen=True)
class VirtualLinkDescriptor:
    name: str
    qos: tuple[str, ...] = ()


class HealMode(StrEnum):
    RESTART_THEN_RECREATE = "restart-then-recreate"
    NONE = "none"


@dataclass(frozen=True)
class HealPolicy:
    """How a VNF's VNFCs are healed: ``mode``, attempts, exponential backoff (seconds).

    Open Baton's JSON has no such field; nubo reads the optional VNFD key
    ``heal_policy`` (``{"mode", "max_attempts", "backoff"}``).
    """

    mode: HealMode = HealMode.RESTART_THEN_RECREATE
    max_attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0

    def delay(self, attempts: int) -> float:
        """Wait after the ``attempts``-th attempt ended: base, doubling, capped."""
        if attempts <= 0:
            return 0.0
        return float(min(self.backoff * 2 ** (attempts - 1), self.max_backoff))


@dataclass(frozen=True)
class Vnfd:
    name: str
    type: str
    vendor: str = ""
    version: str = ""
    endpoint: str = "docker"
    vdus: tuple[Vdu, ...] = ()
    virtual_links: tuple[str, ...] = ()
    configuration: Configuration = field(default_factory=Configuration)
    lifecycle_events: tuple[LifecycleEvent, ...] = ()
    deployment_flavours: tuple[DeploymentFlavour, ...] = ()
    auto_scale_policies: tuple[AutoScalePolicy, ...] = ()
    package_location: str = ""
    heal_policy: HealPolicy = field(default_factory=HealPolicy)
    #: keys of its configuration that other VNFs may require (Open Baton ``provides``)
    provides: tuple[str, ...] = ()
    #: networks private to the VNF (SOL001 VnfVirtualLink), named ``<vnf>.<link>``
    internal_links: tuple[str, ...] = ()
    #: the scripts of its VNF package that its lifecycle events name; empty when the
    #: VNFD came without a package, and its scripts are not run
    scripts: tuple[LifecycleScript, ...] = ()

    def scripts_for(self, event: LifecycleEventType) -> tuple[LifecycleScript, ...]:
        """The package scripts of ``event`` in descriptor order (none without a package)."""
        by_name = {s.name: s for s in self.scripts}
        return tuple(
            by_name[name]
            for e in self.lifecycle_events
            if e.event == event
            for name in e.scripts
            if name in by_name
        )

    @property
    def attached_links(self) -> frozenset[str]:
        """Every virtual link the VNF attaches to, through its VNFCs or its own link list."""
        links = set(self.virtual_links)
        for vdu in self.vdus:
            for template in vdu.vnfc_templates:
                links.update(cp.virtual_link_reference for cp in template.connection_points)
        return frozenset(links)


#: the dependency parameter that carries the source VNFCs' hostnames
HOSTNAME_PARAMETER = "hostname"


@dataclass(frozen=True)
class VnfDependency:
    """The target VNF needs values of the source: each parameter names one.

    A parameter is a virtual link (the source VNFCs' addresses on it),
    ``hostname`` (their hostnames) or a key of the source's configuration
    (what it ``provides``), in that order of precedence, as Open Baton
    resolves them.
    """

    source: str
    target: str
    parameters: tuple[str, ...]


@dataclass(frozen=True)
class Nsd:
    name: str
    vendor: str = ""
    version: str = ""
    vlds: tuple[VirtualLinkDescriptor, ...] = ()
    vnfds: tuple[Vnfd, ...] = ()
    dependencies: tuple[VnfDependency, ...] = ()
    #: its NS deployment flavour (SOL001: its NS node's ``flavour_id``; Open Baton has none)
    flavour_id: str = "default"
    #: every NS flavour of an NSD written with one file per flavour (SOL001); empty otherwise
    flavours: tuple[str, ...] = ()
    #: what the descriptor carries that nubo does not use, each at its path
    warnings: tuple[FieldProblem, ...] = ()

    def vnfd(self, name: str) -> Vnfd:
        for vnfd in self.vnfds:
            if vnfd.name == name:
                return vnfd
        raise KeyError(name)

    @property
    def images(self) -> tuple[str, ...]:
        return tuple(vdu.image for vnfd in self.vnfds for vdu in vnfd.vdus if vdu.images)
