"""The SOL001 TOSCA NSD parser: the SIPp example against the Open Baton one, and each refusal."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml  # type: ignore[import-untyped]

from nubo.descriptors.openbaton import parse_nsd
from nubo.descriptors.tosca import parse_tosca_nsd, read_tosca_nsd
from nubo.model.descriptors import Nsd, Vnfd
from nubo.model.errors import FieldProblem, InvalidDescriptor
from nubo.model.topology import dependency_variable

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOSCA = EXAMPLES / "sipp-tosca"
SOL001 = Path(__file__).resolve().parents[2] / "nubo" / "descriptors" / "sol001"
NODES = "topology_template.node_templates"
CLIENT = "sipp-client-vnfd.yaml"

Edit = Callable[[dict[str, Any]], None]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach the network fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(requests, "get", refuse)
    monkeypatch.setattr(requests.Session, "request", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def vnfds() -> dict[str, str]:
    """The example's VNFDs by file name, and the env files they name, as packages give them."""
    definitions = {p.name: p.read_text() for p in TOSCA.glob("packages/*/Definitions/*.yaml")}
    env_files = {f"../Files/{p.name}": p.read_text() for p in TOSCA.glob("packages/*/Files/*.env")}
    return definitions | env_files


def package(**edits: Edit) -> tuple[str, dict[str, str]]:
    """The example's NSD text and other files, each edited by ``edits[file stem]``."""
    texts = {p.name: p.read_text() for p in TOSCA.glob("*.yaml")} | vnfds()
    for stem, edit in edits.items():
        name = stem.replace("_", "-") + ".yaml"
        document = yaml.safe_load(texts[name])
        edit(document)
        texts[name] = yaml.safe_dump(document, sort_keys=False)
    return texts.pop("nsd.yaml"), texts


def problems_of(nsd: str, files: dict[str, str]) -> list[FieldProblem]:
    with pytest.raises(InvalidDescriptor) as info:
        parse_tosca_nsd(nsd, extra_files=files)
    return info.value.problems


def assert_problem(problems: list[FieldProblem], path: str, fragment: str) -> None:
    messages = [p.message for p in problems if p.path == path]
    assert messages, f"no problem at {path}; got {problems}"
    assert any(fragment in m for m in messages), f"{fragment!r} not in {messages}"


def nodes(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = document["topology_template"]["node_templates"]
    return found


# --- the example --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tosca() -> Nsd:
    return parse_tosca_nsd(TOSCA / "nsd.yaml", extra_files=vnfds())


@pytest.fixture(scope="module")
def openbaton() -> Nsd:
    return parse_nsd((EXAMPLES / "sipp" / "nsd.json").read_text())


def test_example_maps_like_the_open_baton_example(tosca: Nsd, openbaton: Nsd) -> None:
    assert (tosca.name, tosca.vendor, tosca.version) == (
        openbaton.name,
        openbaton.vendor,
        openbaton.version,
    )
    assert tosca.vlds == openbaton.vlds
    assert sorted(tosca.images) == sorted(openbaton.images)
    assert tosca.dependencies == openbaton.dependencies
    assert sorted(v.name for v in tosca.vnfds) == sorted(v.name for v in openbaton.vnfds)


@pytest.mark.parametrize("name", ["sipp-client", "sipp-server"])
def test_example_vnfds_match(tosca: Nsd, openbaton: Nsd, name: str) -> None:
    ours, theirs = tosca.vnfd(name), openbaton.vnfd(name)

    def shape(vnfd: Vnfd) -> Any:
        return (
            vnfd.type,
            vnfd.vendor,
            vnfd.version,
            vnfd.endpoint,
            vnfd.virtual_links,
            vnfd.deployment_flavours,
            [(v.images, v.scale_in_out, v.vnfc_templates) for v in vnfd.vdus],
        )

    assert shape(ours) == shape(theirs)
    assert ours.configuration.parameters == theirs.configuration.parameters


def test_example_dependency_variable_is_server_private(tosca: Nsd) -> None:
    (dependency,) = tosca.dependencies
    source = tosca.vnfd(dependency.source)
    assert [dependency_variable(source.type, p) for p in dependency.parameters] == [
        "SERVER_PRIVATE"
    ]


def test_client_scales_from_one_to_five(tosca: Nsd) -> None:
    (vdu,) = tosca.vnfd("sipp-client").vdus
    assert (vdu.initial_instances, vdu.scale_in_out) == (1, 5)


def test_text_and_extra_files_give_the_same_model(tosca: Nsd) -> None:
    nsd, files = package()
    assert parse_tosca_nsd(nsd, extra_files=files) == tosca


# --- refusals -----------------------------------------------------------------------------


def test_malformed_yaml_names_line_and_column() -> None:
    _, files = package()
    text = "tosca_definitions_version: tosca_simple_yaml_1_3\ntopology_template: [\n  a: b\n"
    (problem,) = problems_of(text, files)
    assert problem.path == "$"
    assert "malformed YAML" in problem.message and "at line 4 column 1" in problem.message


def test_malformed_vnfd_is_located_in_its_file() -> None:
    nsd, files = package()
    files[CLIENT] = files[CLIENT].replace("node_templates:", "node_templates: [", 1)
    problems = problems_of(nsd, files)
    assert any(p.path == CLIENT and "malformed YAML" in p.message for p in problems)


def test_unknown_node_type() -> None:
    def edit(d: dict[str, Any]) -> None:
        nodes(d)["sipp-server"]["type"] = "nubo.sipp.Nope"

    problems = problems_of(*package(nsd=edit))
    assert_problem(problems, f"{NODES}.sipp-server.type", "unknown node type 'nubo.sipp.Nope'")


def test_dangling_virtual_link_requirement() -> None:
    def edit(d: dict[str, Any]) -> None:
        nodes(d)["sipp-client"]["requirements"][0]["virtual_link"] = "public"

    problems = problems_of(*package(nsd=edit))
    assert problems == [
        FieldProblem(
            f"{NODES}.sipp-client.requirements[0].virtual_link",
            "no node template 'public' in topology_template.node_templates",
        )
    ]


def test_dangling_dependency_requirement() -> None:
    def edit(d: dict[str, Any]) -> None:
        nodes(d)["sipp-client"]["requirements"][1]["dependency"] = "sipp-proxy"

    problems = problems_of(*package(nsd=edit))
    assert_problem(problems, f"{NODES}.sipp-client.requirements[1].dependency", "'sipp-proxy'")


def test_vdu_without_image() -> None:
    def edit(d: dict[str, Any]) -> None:
        del nodes(d)["sipp-client-vdu"]["properties"]["sw_image_data"]

    problems = problems_of(*package(sipp_client_vnfd=edit))
    assert_problem(
        problems, f"{CLIENT}:{NODES}.sipp-client-vdu.properties.sw_image_data", "missing image"
    )


def test_vm_image_is_refused() -> None:
    def edit(d: dict[str, Any]) -> None:
        nodes(d)["sipp-client-vdu"]["properties"]["sw_image_data"]["container_format"] = "bare"

    problems = problems_of(*package(sipp_client_vnfd=edit))
    assert_problem(
        problems,
        f"{CLIENT}:{NODES}.sipp-client-vdu.properties.sw_image_data.container_format",
        "expected 'docker'",
    )


def test_dependency_cycle() -> None:
    def edit(d: dict[str, Any]) -> None:
        nodes(d)["sipp-server"]["requirements"].append({"dependency": "sipp-client"})

    problems = problems_of(*package(nsd=edit))
    assert_problem(
        problems,
        f"{NODES}.sipp-client.requirements[1].dependency",
        "dependency cycle: sipp-server -> sipp-client -> sipp-server",
    )


def test_scaling_aspect_beyond_the_vdu_bound() -> None:
    def edit(d: dict[str, Any]) -> None:
        nodes(d)["sipp-client-vdu"]["properties"]["vdu_profile"]["max_number_of_instances"] = 3

    problems = problems_of(*package(sipp_client_vnfd=edit))
    assert_problem(
        problems,
        f"{CLIENT}:topology_template.policies[2].sipp-client-vdu_scaling_aspect_deltas",
        "reaches 5 instances of 'sipp-client-vdu', above vdu_profile.max_number_of_instances 3",
    )


def test_missing_vnfd() -> None:
    nsd, files = package()
    del files["sipp-server-vnfd.yaml"]
    nsd = nsd.replace("  - sipp-server-vnfd.yaml\n", "")
    problems = problems_of(nsd, files)
    assert_problem(
        problems, f"{NODES}.sipp-server.type", "unknown node type 'nubo.sipp.SippServer'"
    )


def test_unresolvable_import() -> None:
    nsd, files = package()
    problems = problems_of(nsd.replace("sipp-client-vnfd.yaml", "sipp-kliant-vnfd.yaml"), files)
    assert_problem(problems, "imports[2]", "cannot import 'sipp-kliant-vnfd.yaml'")


def test_tosca_parser_errors_are_all_kept() -> None:
    def edit(d: dict[str, Any]) -> None:
        nodes(d)["sipp-client-vdu"]["properties"]["vdu_profile"]["bogus"] = 3
        nodes(d)["sipp-client-cp"]["properties"]["layer_protocols"] = ["ipx"]

    problems = problems_of(*package(sipp_client_vnfd=edit))
    messages = [p.message for p in problems if p.path.startswith(CLIENT)]
    assert any('unknown field "bogus"' in m for m in messages), problems
    assert any('"ipx"' in m for m in messages), problems


# --- type definitions ---------------------------------------------------------------------


def test_url_import_of_an_etsi_file_uses_nubos_copy_without_fetching(tosca: Nsd) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["imports"][0] = (
            "https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_nsd_2_6_1_types.yaml"
        )

    nsd, files = package(nsd=edit)
    assert parse_tosca_nsd(nsd, extra_files=files) == tosca


def test_a_shipped_copy_of_a_type_file_is_used() -> None:
    # The package's own VNFD types require a checksum, as SOL001 does for VM
    # images; with that copy the example's image (no checksum) is refused.
    strict = yaml.safe_load((SOL001 / "etsi_nfv_sol001_vnfd_types.yaml").read_text())
    strict["data_types"]["tosca.datatypes.nfv.SwImageData"]["properties"]["checksum"][
        "required"
    ] = True
    nsd, files = package()
    assert parse_tosca_nsd(nsd, extra_files=files)  # nubo's copy: fine
    files["etsi_nfv_sol001_vnfd_types.yaml"] = yaml.safe_dump(strict, sort_keys=False)
    problems = problems_of(nsd, files)
    assert any(
        p.path.startswith(CLIENT)
        and "missing required field" in p.message
        and "checksum" in p.message
        for p in problems
    ), problems


def test_nubo_type_files_are_valid_yaml_and_self_consistent() -> None:
    for name in ("common", "vnfd", "nsd"):
        document = yaml.safe_load((SOL001 / f"etsi_nfv_sol001_{name}_types.yaml").read_text())
        assert document["tosca_definitions_version"] == "tosca_simple_yaml_1_3"


# --- VDU env files (seed 004 §4.8.11) -----------------------------------------------------

ENV = "../Files/sipp-client.env"
ENV_ARTIFACT = f"{CLIENT}:{NODES}.sipp-client-vdu.artifacts.env"


def artifacts(**given: Any) -> Edit:
    """An edit giving the client VDU these artifacts instead of its own."""

    def edit(d: dict[str, Any]) -> None:
        nodes(d)["sipp-client-vdu"]["artifacts"] = given

    return edit


def client_environment(nsd: Nsd) -> dict[str, str]:
    (vdu,) = nsd.vnfd("sipp-client").vdus
    return dict(vdu.environment)


def test_the_client_vdu_gets_its_env_file(tosca: Nsd) -> None:
    assert client_environment(tosca) == {"SIPP_EXTRA_NOTE": "from-env-file"}
    (server_vdu,) = tosca.vnfd("sipp-server").vdus
    assert server_vdu.environment == ()


def test_the_env_file_is_kept_with_the_nsd_it_was_used_by(tosca: Nsd) -> None:
    nsd, files = package()
    used = read_tosca_nsd(nsd, extra_files=files)
    assert used.files[ENV] == (TOSCA / "packages/sipp-client/Files/sipp-client.env").read_text()
    # The stored files alone parse to the same NSD.
    assert read_tosca_nsd(nsd, extra_files=used.files).nsd == tosca


def test_several_env_files_a_later_one_winning() -> None:
    def derived(d: dict[str, Any]) -> None:
        d["artifact_types"] = {"acme.EnvFile": {"derived_from": "nubo.artifacts.EnvFile"}}
        artifacts(
            base={"type": "nubo.artifacts.EnvFile", "file": ENV},
            image={"type": "tosca.artifacts.Deployment.Image", "file": "../Files/none.img"},
            site={"type": "acme.EnvFile", "file": "site.env"},
        )(d)

    nsd, files = package(sipp_client_vnfd=derived)
    files["site.env"] = "SIPP_EXTRA_NOTE=site\nSITE=1\n"
    assert client_environment(parse_tosca_nsd(nsd, extra_files=files)) == {
        "SIPP_EXTRA_NOTE": "site",
        "SITE": "1",
    }


def test_a_missing_env_file_is_named() -> None:
    nsd, files = package()
    del files[ENV]
    problems = problems_of(nsd, files)
    assert problems == [
        FieldProblem(
            f"{ENV_ARTIFACT}.file",
            f"cannot read env file {ENV!r}: no file {ENV} in the package (the path is "
            "relative to this VNFD, as imports are)",
        )
    ]


def test_a_bad_env_file_is_refused_by_file_and_line() -> None:
    nsd, files = package()
    files[ENV] += "\nPATH\nMY-VAR=1\n"
    lines = len(files[ENV].split("\n"))
    problems = problems_of(nsd, files)
    assert [(p.path, p.message.split(":", 1)[0]) for p in problems] == [
        (ENV, f"line {lines - 2}"),
        (ENV, f"line {lines - 1}"),
    ]
    assert "'PATH' has no '='" in problems[0].message


@pytest.mark.parametrize(
    ("artifact", "path", "fragment"),
    [
        ({"type": "nubo.artifacts.EnvFile"}, "env.file", "required: the env file"),
        ({"type": "nubo.artifacts.EnvFile", "file": "/Files/a.env"}, "env.file", "relative"),
        (
            {"type": "nubo.artifacts.EnvFile", "file": "https://example.com/a.env"},
            "env.file",
            "from the package only",
        ),
        (
            {"type": "nubo.artifacts.EnvFile", "file": "a.env", "repository": "hub"},
            "env.file",
            "from the package only",
        ),
        ("../Files/sipp-client.env", "env", "give the artifact's type"),
    ],
)
def test_env_file_references_nubo_does_not_read(artifact: Any, path: str, fragment: str) -> None:
    problems = problems_of(*package(sipp_client_vnfd=artifacts(env=artifact)))
    assert_problem(problems, f"{CLIENT}:{NODES}.sipp-client-vdu.artifacts.{path}", fragment)


def test_an_env_file_is_never_read_outside_the_nsds_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.env").write_text("SECRET=1\n")
    folder = tmp_path / "nsd"
    folder.mkdir()
    nsd, files = package(
        sipp_client_vnfd=artifacts(env={"type": "nubo.artifacts.EnvFile", "file": "../secret.env"})
    )
    for name, text in files.items():
        if name.endswith(".yaml"):
            (folder / name).write_text(text)
    (folder / "nsd.yaml").write_text(nsd)
    with pytest.raises(InvalidDescriptor) as caught:
        parse_tosca_nsd(folder / "nsd.yaml")
    assert_problem(caught.value.problems, f"{ENV_ARTIFACT}.file", "cannot read env file")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "tosca_definitions_version: tosca_simple_yaml_1_3\na0: &a0 [x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9)
            ),
            "expands to more than",
        ),
        ("tosca_definitions_version: tosca_simple_yaml_1_3\nx: &r [*r]\n", "contains it"),
        ("a: " + "[" * 5000 + "]" * 5000, "nested too deeply"),
    ],
    ids=["alias-bomb", "self-reference", "deep-nesting"],
)
def test_hostile_yaml_is_refused_before_it_is_walked(text: str, message: str) -> None:
    with pytest.raises(InvalidDescriptor) as caught:
        parse_tosca_nsd(text)
    assert message in caught.value.detail and "malformed YAML" in caught.value.detail
