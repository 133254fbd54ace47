"""The Open Baton NSD parser: the App. C example, and one test per validation rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nubo.descriptors.openbaton import parse_nsd
from nubo.model.descriptors import (
    ConnectionPoint,
    LifecycleEvent,
    LifecycleEventType,
    ScalingAction,
    ScalingAlarm,
    VnfDependency,
)
from nubo.model.errors import FieldProblem, InvalidDescriptor

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"
CLIENT = "$.vnfd[0]"
CLIENT_VDU = "$.vnfd[0].vdu[0]"
POLICY = "$.vnfd[0].auto_scale_policy[0]"


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh, mutable copy of the App. C NSD."""
    document: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return document


def problems_of(document: str | bytes | dict[str, Any]) -> list[FieldProblem]:
    with pytest.raises(InvalidDescriptor) as info:
        parse_nsd(document)
    return info.value.problems


def assert_problem(document: dict[str, Any], path: str, fragment: str) -> None:
    problems = problems_of(document)
    messages = [p.message for p in problems if p.path == path]
    assert messages, f"no problem at {path}; got {problems}"
    assert any(fragment in m for m in messages), f"{fragment!r} not in {messages}"


# --- the example --------------------------------------------------------------------------


def test_example_nsd_parses_into_the_model(doc: dict[str, Any]) -> None:
    nsd = parse_nsd(doc)
    assert (nsd.name, nsd.vendor, nsd.version) == ("docker-test-NS-sipp", "mcilloni", "1.0")
    assert [v.name for v in nsd.vlds] == ["private"]
    assert [v.name for v in nsd.vnfds] == ["sipp-client", "sipp-server"]
    assert nsd.images == ("nubo/sipp-client:latest", "nubo/sipp-server:latest")
    assert nsd.dependencies == (VnfDependency("sipp-server", "sipp-client", ("private",)),)


def test_example_client_vnfd(doc: dict[str, Any]) -> None:
    client = parse_nsd(doc).vnfd("sipp-client")
    assert (client.type, client.endpoint, client.version) == ("client", "docker", "1.0")
    assert client.package_location == "https://github.com/openbaton/vnf-scripts.git"
    assert client.virtual_links == ("private",)
    assert [f.flavour_key for f in client.deployment_flavours] == ["docker.container"]
    assert client.lifecycle_events == (
        LifecycleEvent(LifecycleEventType.CONFIGURE, ("server_sipp_start.sh",)),
        LifecycleEvent(LifecycleEventType.INSTANTIATE, ("sipp_install.sh",)),
    )
    [vdu] = client.vdus
    assert vdu.name == "sipp-client-vdu0"
    assert vdu.scale_in_out == 5
    assert vdu.images == ("nubo/sipp-client:latest",)
    assert vdu.vim_instance_names == ()
    assert vdu.template().connection_points == (ConnectionPoint("private"),)
    assert vdu.initial_instances == 1


def test_example_configuration(doc: dict[str, Any]) -> None:
    conf = parse_nsd(doc).vnfd("sipp-client").configuration
    assert conf.name == "sipp-configuration"
    assert conf.as_env() == {
        "SIPP_LENGTH": "0",
        "SIPP_RATE": "10",
        "SIPP_RATE_PERIOD": "1000",
        "SIPP_RATE_MAX": "10",
        "SIPP_RATE_INCREASE": "0",
        "SIPP_RTP_ECHO": "10",
        "SIPP_TRANSPORT_MODE": "u1",
    }
    assert conf.parameters[1].description.startswith("Set the call rate (in calls per seconds).")


def test_example_auto_scale_policies(doc: dict[str, Any]) -> None:
    out, in_ = parse_nsd(doc).vnfd("sipp-client").auto_scale_policies
    assert (out.name, out.threshold, out.comparison_operator) == ("scale-out", 100.0, ">=")
    assert (out.period, out.cooldown, out.mode, out.type) == (30, 60, "REACTIVE", "VOTED")
    assert out.alarms == (ScalingAlarm("system.cpu.util[,idle]", "avg", "<=", 40.0, 1.0),)
    assert out.actions == (ScalingAction("SCALE_OUT", "1"),)
    assert in_.name == "scale-in"
    assert in_.alarms == (ScalingAlarm("system.cpu.util[,idle]", "avg", ">=", 60.0, 1.0),)
    assert in_.actions == (ScalingAction("SCALE_IN", "1"),)


def test_example_server_vnfd(doc: dict[str, Any]) -> None:
    server = parse_nsd(doc).vnfd("sipp-server")
    assert server.type == "server"
    assert [vdu.scale_in_out for vdu in server.vdus] == [1]
    assert server.auto_scale_policies == ()
    assert server.configuration.parameters == ()
    assert server.lifecycle_events == (
        LifecycleEvent(LifecycleEventType.INSTANTIATE, ("sipp_install.sh", "sipp_server_start.sh")),
    )


def test_text_bytes_and_dict_give_the_same_nsd(doc: dict[str, Any]) -> None:
    text = EXAMPLE.read_text()
    assert parse_nsd(text) == parse_nsd(text.encode()) == parse_nsd(doc)


# --- tolerated variations -----------------------------------------------------------------


def test_type_defaults_to_the_name_and_vdu_name_is_kept(doc: dict[str, Any]) -> None:
    del doc["vnfd"][1]["type"]
    doc["vnfd"][1]["vdu"][0]["name"] = "uas"
    server = parse_nsd(doc).vnfd("sipp-server")
    assert server.type == "sipp-server"
    assert server.vdus[0].name == "uas"


def test_numbers_as_strings_are_accepted(doc: dict[str, Any]) -> None:
    doc["vnfd"][0]["vdu"][0]["scale_in_out"] = "3"
    doc["vnfd"][0]["auto_scale_policy"][0]["threshold"] = "99.5"
    doc["vnfd"][0]["auto_scale_policy"][0]["period"] = "15"
    doc["vnfd"][0]["auto_scale_policy"][0]["alarms"][0]["weight"] = "0.5"
    doc["vnfd"][0]["configurations"]["configurationParameters"][0]["value"] = 250
    client = parse_nsd(doc).vnfd("sipp-client")
    policy = client.auto_scale_policies[0]
    assert client.vdus[0].scale_in_out == 3
    assert (policy.threshold, policy.period, policy.alarms[0].weight) == (99.5, 15, 0.5)
    assert client.configuration.as_env()["SIPP_LENGTH"] == "250"


def test_unknown_fields_are_tolerated(doc: dict[str, Any]) -> None:
    doc["id"] = "0b8d0b6c"
    doc["hb_version"] = 3
    doc["vnfd"][0]["monitoring_parameter"] = ["cpu"]
    doc["vnfd"][0]["vdu"][0]["vnfc"][0]["connection_point"][0]["floatingIp"] = "random"
    nsd = parse_nsd(doc)
    cp = nsd.vnfd("sipp-client").vdus[0].template().connection_points[0]
    assert cp == ConnectionPoint("private", "random")


# --- malformed documents ------------------------------------------------------------------


def test_malformed_json_reports_the_position() -> None:
    # The damage of the PDF extraction: an operator missing its opening quote.
    [problem] = problems_of('{\n  "name": "ns",\n  "comparisonOperator":>="\n}')
    assert problem.path == "$"
    assert "malformed JSON" in problem.message
    assert "line 3 column 24" in problem.message


def test_a_document_that_is_not_an_object() -> None:
    assert problems_of("[1, 2]") == [FieldProblem("$", "expected a JSON object, got list")]


def test_wrong_types_are_errors(doc: dict[str, Any]) -> None:
    doc["name"] = 7
    doc["vnfd"][1]["vdu"] = {"vm_image": ["x"]}
    doc["vnfd"][0]["configurations"] = ["sipp"]
    paths = {p.path: p.message for p in problems_of(doc)}
    assert paths["$.name"] == "expected a string, got number"
    assert paths["$.vnfd[1].vdu"] == "expected a list, got object"
    assert paths["$.vnfd[0].configurations"] == "expected an object, got list"


# --- one test per rule --------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "  "])
def test_nsd_name_required(doc: dict[str, Any], value: str | None) -> None:
    doc["name"] = value
    assert_problem(doc, "$.name", "required" if value is None else "must not be empty")


def test_vnfd_name_required(doc: dict[str, Any]) -> None:
    del doc["vnfd"][0]["name"]
    assert_problem(doc, "$.vnfd[0].name", "required")


def test_at_least_one_vnfd(doc: dict[str, Any]) -> None:
    doc["vnfd"] = []
    doc["vnf_dependency"] = []
    assert problems_of(doc) == [FieldProblem("$.vnfd", "at least one VNFD is required")]


def test_vdu_list_must_not_be_empty(doc: dict[str, Any]) -> None:
    doc["vnfd"][1]["vdu"] = []
    assert_problem(doc, "$.vnfd[1].vdu", "at least one VDU is required")


@pytest.mark.parametrize("images", [[], None, [""]])
def test_vdu_without_image(doc: dict[str, Any], images: list[str] | None) -> None:
    doc["vnfd"][0]["vdu"][0]["vm_image"] = images
    path = f"{CLIENT_VDU}.vm_image" + ("[0]" if images else "")
    assert_problem(doc, path, "missing image")


@pytest.mark.parametrize("value", [0, -1, "many", 1.5, True, None])
def test_scale_in_out_must_be_a_positive_integer(doc: dict[str, Any], value: Any) -> None:
    doc["vnfd"][0]["vdu"][0]["scale_in_out"] = value
    assert_problem(doc, f"{CLIENT_VDU}.scale_in_out", "required" if value is None else ">= 1")


def test_more_vnfc_templates_than_scale_in_out(doc: dict[str, Any]) -> None:
    vdu = doc["vnfd"][1]["vdu"][0]
    vdu["vnfc"] = vdu["vnfc"] * 2
    assert_problem(doc, "$.vnfd[1].vdu[0].vnfc", "2 VNFC templates exceed scale_in_out 1")


def test_connection_point_to_an_undeclared_link(doc: dict[str, Any]) -> None:
    doc["vnfd"][0]["vdu"][0]["vnfc"][0]["connection_point"][0]["virtual_link_reference"] = "pub"
    path = f"{CLIENT_VDU}.vnfc[0].connection_point[0].virtual_link_reference"
    assert_problem(doc, path, "unknown virtual link 'pub'")


def test_vnfd_virtual_link_not_in_vld(doc: dict[str, Any]) -> None:
    doc["vnfd"][1]["virtual_link"].append({"name": "mgmt"})
    assert_problem(doc, "$.vnfd[1].virtual_link[1].name", "unknown virtual link 'mgmt'")


def test_duplicate_vnfd_names(doc: dict[str, Any]) -> None:
    doc["vnfd"][1]["name"] = "sipp-client"
    assert_problem(doc, "$.vnfd[1].name", "duplicate VNFD name 'sipp-client'")


@pytest.mark.parametrize("end", ["source", "target"])
def test_dependency_on_a_missing_vnf(doc: dict[str, Any], end: str) -> None:
    doc["vnf_dependency"][0][end]["name"] = "sipp-proxy"
    assert_problem(doc, f"$.vnf_dependency[0].{end}.name", "dependency on a missing VNF")


def test_dependency_end_may_be_a_name_as_open_baton_6_writes_it(doc: dict[str, Any]) -> None:
    doc["vnf_dependency"][0]["source"] = "sipp-server"
    doc["vnf_dependency"][0]["target"] = "sipp-client"
    nsd = parse_nsd(doc)
    assert nsd.dependencies == (VnfDependency("sipp-server", "sipp-client", ("private",)),)


def test_dependency_end_must_be_a_name_or_an_object(doc: dict[str, Any]) -> None:
    doc["vnf_dependency"][0]["source"] = 7
    problems = problems_of(doc)
    assert (
        FieldProblem(
            "$.vnf_dependency[0].source",
            "expected a VNFD name (a string, or an object with a name), got number",
        )
        in problems
    )


def test_dependency_on_itself(doc: dict[str, Any]) -> None:
    doc["vnf_dependency"][0]["target"]["name"] = "sipp-server"
    assert_problem(doc, "$.vnf_dependency[0].target.name", "cannot depend on itself")


def test_dependency_parameter_must_be_a_shared_link(doc: dict[str, Any]) -> None:
    # Both links are declared, but only the server is attached to "mgmt".
    doc["vld"].append({"name": "mgmt"})
    doc["vnfd"][1]["virtual_link"].append({"name": "mgmt"})
    doc["vnf_dependency"][0]["parameters"] = ["private", "mgmt", "hostname", "nothing"]
    problems = [p for p in problems_of(doc) if p.path.startswith("$.vnf_dependency")]
    assert [p.path for p in problems] == [
        "$.vnf_dependency[0].parameters[1]",
        "$.vnf_dependency[0].parameters[3]",
    ]
    assert "'mgmt' is not a virtual link that both 'sipp-server' and 'sipp-client'" in (
        problems[0].message
    )


def test_dependency_cycle(doc: dict[str, Any]) -> None:
    doc["vnf_dependency"].append(
        {"source": {"name": "sipp-client"}, "target": {"name": "sipp-server"}, "parameters": []}
    )
    [problem] = problems_of(doc)
    assert problem.path == "$.vnf_dependency"
    assert problem.message.startswith(
        "dependency cycle: sipp-server -> sipp-client -> sipp-server: each of these VNFs "
        "would wait for values of the next"
    )


@pytest.mark.parametrize(
    ("where", "key", "value", "fragment"),
    [
        (POLICY, "comparisonOperator", "=>", "'=>' is not one of >, >=, <, <=, ==, !="),
        (f"{POLICY}.alarms[0]", "comparisonOperator", "lt", "'lt' is not one of"),
        (f"{POLICY}.actions[0]", "type", "SCALE_UP", "'SCALE_UP' is not one of SCALE_OUT"),
        (f"{POLICY}.actions[0]", "value", "0", "expected an integer >= 1"),
        (POLICY, "period", -5, "expected an integer >= 0"),
        (POLICY, "cooldown", "later", "expected an integer >= 0"),
        (POLICY, "threshold", "high", "expected a number"),
        (POLICY, "mode", "EAGER", "'EAGER' is not one of REACTIVE"),
        (f"{POLICY}.alarms[0]", "weight", [1], "expected a number"),
        (f"{POLICY}.alarms[0]", "threshold", None, "required"),
    ],
)
def test_auto_scale_policy_sanity(
    doc: dict[str, Any], where: str, key: str, value: Any, fragment: str
) -> None:
    policy = doc["vnfd"][0]["auto_scale_policy"][0]
    target = policy
    if ".alarms[0]" in where:
        target = policy["alarms"][0]
    elif ".actions[0]" in where:
        target = policy["actions"][0]
    target[key] = value
    assert_problem(doc, f"{where}.{key}", fragment)


def test_policy_without_alarms_or_actions(doc: dict[str, Any]) -> None:
    policy = doc["vnfd"][0]["auto_scale_policy"][1]
    policy["alarms"] = []
    del policy["actions"]
    paths = {p.path for p in problems_of(doc)}
    assert paths == {
        "$.vnfd[0].auto_scale_policy[1].alarms",
        "$.vnfd[0].auto_scale_policy[1].actions",
    }


def test_unknown_lifecycle_event(doc: dict[str, Any]) -> None:
    doc["vnfd"][0]["lifecycle_event"][1]["event"] = "BOOT"
    assert_problem(doc, f"{CLIENT}.lifecycle_event[1].event", "unknown lifecycle event 'BOOT'")


def test_duplicate_configuration_key(doc: dict[str, Any]) -> None:
    params = doc["vnfd"][0]["configurations"]["configurationParameters"]
    params[3]["confKey"] = "SIPP_RATE"
    path = f"{CLIENT}.configurations.configurationParameters[3].confKey"
    assert_problem(doc, path, "duplicate configuration key 'SIPP_RATE'")


def test_every_problem_is_reported_at_once(doc: dict[str, Any]) -> None:
    doc["name"] = ""
    doc["vnfd"][0]["vdu"][0]["scale_in_out"] = 0
    doc["vnfd"][0]["vdu"][0]["vm_image"] = []
    doc["vnfd"][0]["lifecycle_event"][0]["event"] = "BOOT"
    doc["vnfd"][1]["vdu"][0]["vnfc"][0]["connection_point"][0]["virtual_link_reference"] = "x"
    doc["vnfd"][0]["auto_scale_policy"][1]["comparisonOperator"] = "~"
    doc["vnf_dependency"][0]["target"]["name"] = "nobody"
    with pytest.raises(InvalidDescriptor) as info:
        parse_nsd(doc)
    assert sorted(p.path for p in info.value.problems) == [
        "$.name",
        "$.vnf_dependency[0].target.name",
        "$.vnfd[0].auto_scale_policy[1].comparisonOperator",
        "$.vnfd[0].lifecycle_event[0].event",
        "$.vnfd[0].vdu[0].scale_in_out",
        "$.vnfd[0].vdu[0].vm_image",
        "$.vnfd[1].vdu[0].vnfc[0].connection_point[0].virtual_link_reference",
    ]
    # The problems travel with the error to the API's problem-details body.
    assert len(info.value.to_problem()["errors"]) == 7


def test_heal_policy_extension_is_read_and_validated() -> None:
    from nubo.model.descriptors import HealMode, HealPolicy

    doc = json.loads(EXAMPLE.read_text())
    doc["vnfd"][0]["heal_policy"] = {"mode": "none", "max_attempts": 2}
    nsd = parse_nsd(doc)
    assert nsd.vnfds[0].heal_policy == HealPolicy(mode=HealMode.NONE, max_attempts=2)
    assert nsd.vnfds[1].heal_policy == HealPolicy()
    doc["vnfd"][1]["heal_policy"] = {"mode": "reboot", "max_attempts": 0}
    with pytest.raises(InvalidDescriptor) as caught:
        parse_nsd(doc)
    paths = {p.path for p in caught.value.problems}
    assert paths == {"$.vnfd[1].heal_policy.mode", "$.vnfd[1].heal_policy.max_attempts"}
