"""Open Baton JSON network service descriptors (the format of thesis 003 App. C).

Open Baton documents carry many fields nubo does not use (VM flavours,
monitoring parameters, forwarding graphs...): those are accepted, as Open
Baton accepts them, and each is reported as a warning at its path
(``openbaton_keys``), kept with the NSD. A known field of the wrong type, a
dangling reference or a dependency cycle is refused. Every problem is
collected with the JSON path of the offending field and raised as one
``InvalidDescriptor``, so a service developer fixes a descriptor in one round
trip instead of one error at a time.
"""

from __future__ import annotations

import json
from typing import Any

from nubo.descriptors.fields import FieldReader, JsonObject, as_int, json_kind
from nubo.descriptors.heal_policy import heal_policy_of
from nubo.descriptors.openbaton_dependencies import read_dependencies
from nubo.descriptors.openbaton_keys import report_unused
from nubo.descriptors.openbaton_lifecycle import read_lifecycle
from nubo.descriptors.openbaton_references import is_reference, unresolved_reference
from nubo.model.descriptors import (
    AutoScalePolicy,
    Configuration,
    ConfigurationParameter,
    ConnectionPoint,
    DeploymentFlavour,
    HealPolicy,
    Nsd,
    ScalingAction,
    ScalingAlarm,
    Vdu,
    VirtualLinkDescriptor,
    VnfcTemplate,
    Vnfd,
)
from nubo.model.errors import FieldProblem, InvalidDescriptor

__all__ = ["parse_nsd"]

COMPARISON_OPERATORS = (">", ">=", "<", "<=", "==", "!=")
SCALING_ACTIONS = ("SCALE_OUT", "SCALE_IN", "SCALE_TO", "SCALE_OUT_TO", "SCALE_IN_TO")
# The values of Open Baton's ScalingMode and ScalingType enums.
SCALING_MODES = ("REACTIVE", "PROACTIVE", "PREDICTIVE")
SCALING_TYPES = ("SINGLE", "VOTED", "WEIGHTED")


def parse_nsd(document: str | bytes | dict[str, Any]) -> Nsd:
    """Parse and validate an Open Baton NSD; raise InvalidDescriptor listing every problem."""
    reader = FieldReader()
    nsd = _read_nsd(reader, _load(document))
    if reader.problems:
        raise InvalidDescriptor(reader.problems)
    return nsd


def _load(document: str | bytes | dict[str, Any]) -> JsonObject:
    if isinstance(document, dict):
        return document
    try:
        root = json.loads(document)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno} (char {exc.pos})"
        raise InvalidDescriptor(
            [FieldProblem("$", f"malformed JSON: {exc.msg} at {where}")]
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidDescriptor([FieldProblem("$", f"not UTF-8 text: {exc.reason}")]) from exc
    if not isinstance(root, dict):
        raise InvalidDescriptor(
            [FieldProblem("$", f"expected a JSON object, got {json_kind(root)}")]
        )
    return root


def _read_nsd(r: FieldReader, root: JsonObject) -> Nsd:
    report_unused(r, root, "$", "nsd")
    name = r.text(root, "name", "$", required=True)
    vlds: list[VirtualLinkDescriptor] = []
    for where, raw in r.objects(root, "vld", "$"):
        report_unused(r, raw, where, "vld")
        link = r.text(raw, "name", where, required=True)
        if link and link in {v.name for v in vlds}:
            r.report(f"{where}.name", f"duplicate virtual link {link!r}")
        qos = tuple(q for _, q in r.strings(raw, "qos", where))
        if qos:
            r.warn(
                f"{where}.qos",
                f"QoS classes ({', '.join(qos)}) are not applied: Docker networks have "
                "no bandwidth guarantees",
            )
        vlds.append(VirtualLinkDescriptor(link, qos))
    declared = {v.name for v in vlds}

    vnfds: list[Vnfd] = []
    items: list[tuple[str, JsonObject]] = []
    for where, raw in r.objects(root, "vnfd", "$", required="at least one VNFD is required"):
        if is_reference(raw):
            r.report(f"{where}.id", unresolved_reference(raw))
            continue
        vnfd = _read_vnfd(r, raw, where, declared)
        if vnfd.name and vnfd.name in {v.name for v in vnfds}:
            r.report(f"{where}.name", f"duplicate VNFD name {vnfd.name!r}")
            continue
        vnfds.append(vnfd)
        items.append((where, raw))

    return Nsd(
        name=name,
        vendor=r.text(root, "vendor", "$"),
        version=r.text(root, "version", "$", scalars=True),
        vlds=tuple(vlds),
        vnfds=tuple(vnfds),
        dependencies=read_dependencies(r, root, items, vnfds),
        warnings=tuple(r.warnings),
    )


def _check_link(r: FieldReader, link: str, where: str, declared: set[str]) -> None:
    if link and link not in declared:
        r.report(where, f"unknown virtual link {link!r}: not declared in the NSD vld")


def _read_vnfd(r: FieldReader, raw: JsonObject, path: str, declared: set[str]) -> Vnfd:
    report_unused(r, raw, path, "vnfd")
    name = r.text(raw, "name", path, required=True)
    links: list[str] = []
    for where, item in r.objects(raw, "virtual_link", path):
        report_unused(r, item, where, "virtual_link")
        link = r.text(item, "name", where, required=True)
        _check_link(r, link, f"{where}.name", declared)
        links.append(link)
    vdus = r.objects(raw, "vdu", path, required="at least one VDU is required")
    flavours = r.objects(raw, "deployment_flavour", path)
    for where, item in flavours:
        report_unused(r, item, where, "deployment_flavour")
    for where, _ in flavours[1:]:
        r.warn(
            where,
            "only one deployment flavour per VNF is supported: the first one is used, "
            "this one is not",
        )
    policies = r.objects(raw, "auto_scale_policy", path)
    location = r.text(raw, "vnfPackageLocation", path)
    if location:
        r.warn(
            f"{path}.vnfPackageLocation",
            f"nubo does not fetch VNF packages, so nothing is taken from {location!r}: "
            "the VDU's image must hold the VNF (a VNFD named by id from an Open Baton VNF "
            "package onboarded in nubo has its scripts run)",
        )
    read_vdus = tuple(
        _read_vdu(r, item, where, f"{name}-vdu{i}", declared)
        for i, (where, item) in enumerate(vdus)
    )
    configuration = _read_configuration(r, raw, path)
    events, scripts = read_lifecycle(r, raw, path)
    return Vnfd(
        name=name,
        # Open Baton falls back to the name too; the type names the
        # dependency variables (SERVER_PRIVATE), so it must never be empty.
        type=r.text(raw, "type", path) or name,
        vendor=r.text(raw, "vendor", path),
        version=r.text(raw, "version", path, scalars=True),
        endpoint=r.text(raw, "endpoint", path, default="docker"),
        vdus=read_vdus,
        virtual_links=tuple(links),
        configuration=configuration,
        lifecycle_events=events,
        scripts=scripts,
        deployment_flavours=tuple(
            DeploymentFlavour(r.text(item, "flavour_key", where, required=True))
            for where, item in flavours
        ),
        auto_scale_policies=tuple(_read_policy(r, item, where) for where, item in policies),
        package_location=location,
        heal_policy=_read_heal_policy(r, raw, path),
        provides=tuple(p for _, p in r.strings(raw, "provides", path)),
    )


def _read_heal_policy(r: FieldReader, raw: JsonObject, path: str) -> HealPolicy:
    """nubo's optional ``heal_policy`` extension of a VNFD (Open Baton has none)."""
    if "heal_policy" not in raw:
        return HealPolicy()
    try:
        return heal_policy_of(raw["heal_policy"], f"{path}.heal_policy")
    except InvalidDescriptor as exc:
        for problem in exc.problems:
            r.report(problem.path, problem.message)
        return HealPolicy()


def _read_vdu(
    r: FieldReader, raw: JsonObject, path: str, default_name: str, declared: set[str]
) -> Vdu:
    report_unused(r, raw, path, "vdu")
    images: list[str] = []
    for where, image in r.strings(raw, "vm_image", path, required="missing image"):
        if not image.strip():
            r.report(where, "missing image")
        images.append(image)
    scale = r.integer(raw, "scale_in_out", path, minimum=1)

    templates: list[VnfcTemplate] = []
    for where, vnfc in r.objects(raw, "vnfc", path):
        report_unused(r, vnfc, where, "vnfc")
        points: list[ConnectionPoint] = []
        for cp_where, cp in r.objects(vnfc, "connection_point", where):
            report_unused(r, cp, cp_where, "connection_point")
            link = r.text(cp, "virtual_link_reference", cp_where, required=True)
            _check_link(r, link, f"{cp_where}.virtual_link_reference", declared)
            points.append(ConnectionPoint(link, r.text(cp, "floatingIp", cp_where) or None))
        templates.append(VnfcTemplate(tuple(points)))
    # Instantiate creates one VNFC per template, so more templates than the
    # scaling bound would start the VNF already out of bounds.
    if scale is not None and len(templates) > scale:
        r.report(f"{path}.vnfc", f"{len(templates)} VNFC templates exceed scale_in_out {scale}")

    return Vdu(
        name=r.text(raw, "name", path) or default_name,
        images=tuple(images),
        scale_in_out=scale or 1,
        vnfc_templates=tuple(templates),
        vim_instance_names=tuple(v for _, v in r.strings(raw, "vimInstanceName", path)),
    )


def _read_configuration(r: FieldReader, raw: JsonObject, path: str) -> Configuration:
    conf = r.obj(raw, "configurations", path)
    where = f"{path}.configurations"
    report_unused(r, conf, where, "configurations")
    params: list[ConfigurationParameter] = []
    for p_where, item in r.objects(conf, "configurationParameters", where):
        report_unused(r, item, p_where, "configurationParameters")
        key = r.text(item, "confKey", p_where, required=True)
        # Parameters become environment variables: a repeated key would
        # silently shadow the first one.
        if key and key in {p.key for p in params}:
            r.report(f"{p_where}.confKey", f"duplicate configuration key {key!r}")
        value = r.text(item, "value", p_where, scalars=True)
        description = r.text(item, "description", p_where)
        secret = r.flag(item, "secret", p_where)
        params.append(ConfigurationParameter(key, value, description, secret))
    return Configuration(r.text(conf, "name", where), tuple(params))


def _read_policy(r: FieldReader, raw: JsonObject, path: str) -> AutoScalePolicy:
    report_unused(r, raw, path, "auto_scale_policy")
    for where, item in r.objects(raw, "alarms", path):
        report_unused(r, item, where, "alarms")
    alarms = tuple(
        ScalingAlarm(
            metric=r.text(item, "metric", where, required=True),
            statistic=r.text(item, "statistic", where, required=True),
            comparison_operator=r.choice(item, "comparisonOperator", where, COMPARISON_OPERATORS),
            threshold=r.number(item, "threshold", where),
            weight=r.number(item, "weight", where, default=1.0),
        )
        for where, item in r.objects(raw, "alarms", path, required="at least one alarm is required")
    )
    actions = r.objects(raw, "actions", path, required="at least one action is required")
    return AutoScalePolicy(
        name=r.text(raw, "name", path, required=True),
        threshold=r.number(raw, "threshold", path),
        comparison_operator=r.choice(raw, "comparisonOperator", path, COMPARISON_OPERATORS),
        period=r.integer(raw, "period", path, minimum=0) or 0,
        cooldown=r.integer(raw, "cooldown", path, minimum=0) or 0,
        mode=r.choice(raw, "mode", path, SCALING_MODES, default="REACTIVE"),
        type=r.choice(raw, "type", path, SCALING_TYPES, default="VOTED"),
        alarms=alarms,
        actions=tuple(_read_action(r, item, where) for where, item in actions),
    )


def _read_action(r: FieldReader, raw: JsonObject, path: str) -> ScalingAction:
    report_unused(r, raw, path, "actions")
    kind = r.choice(raw, "type", path, SCALING_ACTIONS)
    value = r.text(raw, "value", path, scalars=True)
    if value:
        count = as_int(value)
        # SCALE_OUT/IN move by a step (0 would do nothing); the *_TO actions
        # name a target size, which may legitimately be 0 for SCALE_IN_TO.
        minimum = 1 if kind in ("SCALE_OUT", "SCALE_IN") else 0
        if count is None or count < minimum:
            r.report(f"{path}.value", f"expected an integer >= {minimum}, got {value!r}")
    return ScalingAction(kind, value)
