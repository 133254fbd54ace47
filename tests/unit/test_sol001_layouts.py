"""SOL001 VNFDs as Tacker and vendors write them: a top-level VNFD importing one file
per deployment flavour, SwImage artifacts, requirements that name only a capability,
VDUs with no initial instance, and the standard types nubo does not deploy."""

from __future__ import annotations

import copy
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from nubo.descriptors.tosca import parse_tosca_nsd
from nubo.descriptors.tosca_sources import ToscaSources
from nubo.descriptors.tosca_types import TypeIndex
from nubo.descriptors.tosca_validation import tosca_parser_problems
from nubo.descriptors.vnf_package import read_package
from nubo.model.descriptors import Nsd, VnfDependency
from nubo.model.errors import FieldProblem, InvalidDescriptor
from tests.per_flavour import per_flavour_csar

FIXTURES = Path(__file__).parent / "fixtures" / "sol001"
PACKAGE = FIXTURES / "media-per-flavour"
NODES = "topology_template.node_templates"
MAPPINGS = "topology_template.substitution_mappings"

Edit = Callable[[dict[str, Any]], None]


def definitions(**edits: Edit) -> dict[str, str]:
    """The package's Definitions by file name, each edited by ``edits[file stem]``."""
    texts = {p.name: p.read_text() for p in (PACKAGE / "Definitions").glob("*.yaml")}
    for stem, edit in edits.items():
        name = f"{stem}.yaml".replace("_vnfd.yaml", ".vnfd.yaml")
        document = yaml.safe_load(texts[name])
        edit(document)
        texts[name] = yaml.safe_dump(document, sort_keys=False)
    return texts


def csar(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "TOSCA-Metadata/TOSCA.meta", (PACKAGE / "TOSCA-Metadata/TOSCA.meta").read_text()
        )
        for name, text in files.items():
            archive.writestr(f"Definitions/{name}", text)
    return buffer.getvalue()


def nsd_text(**edits: Edit) -> str:
    document = yaml.safe_load((FIXTURES / "media-nsd.yaml").read_text())
    for edit in edits.values():
        edit(document)
    return yaml.safe_dump(document, sort_keys=False)


def parse(files: dict[str, str] | None = None, text: str | None = None) -> Nsd:
    return parse_tosca_nsd(text or nsd_text(), extra_files=files or definitions())


def problems_of(files: dict[str, str] | None = None, text: str | None = None) -> list[FieldProblem]:
    with pytest.raises(InvalidDescriptor) as info:
        parse(files, text)
    return info.value.problems


def package_problems(files: dict[str, str]) -> list[FieldProblem]:
    with pytest.raises(InvalidDescriptor) as info:
        read_package(csar(files))
    return info.value.problems


# --- the per-flavour layout ---------------------------------------------------------------


def test_a_top_level_vnfd_with_one_file_per_flavour_onboards() -> None:
    content = read_package(csar(definitions()))
    summary = content.summary
    assert (summary.vnfd_id, summary.node_type, summary.flavour_id) == (
        "0b5c7c64-media-relay",
        "nubo.test.MediaRelay",
        "simple",
    )
    # the images of every flavour, the recorder's from its SwImage artifact
    assert {image.id: image.name for image in summary.images} == {
        "RELAY": "nubo/media-relay:2.1",
        "RECORDER": "nubo/media-recorder:1.0",
    }
    assert content.vnfd_file == "media_top.vnfd.yaml"


def test_each_vnf_node_gets_the_flavour_it_names() -> None:
    nsd = parse()
    edge, core = nsd.vnfd("edge-relay"), nsd.vnfd("core-relay")
    assert [f.flavour_key for f in edge.deployment_flavours] == ["simple"]
    assert [(v.name, v.image, v.scale_in_out) for v in edge.vdus] == [
        ("RELAY", "nubo/media-relay:2.1", 2)
    ]
    assert [f.flavour_key for f in core.deployment_flavours] == ["pair"]
    assert [(v.name, v.image, v.scale_in_out) for v in core.vdus] == [
        ("RELAY", "nubo/media-relay:2.1", 3),
        ("RECORDER", "nubo/media-recorder:1.0", 2),
    ]


def test_a_requirement_naming_only_its_capability_is_a_virtual_link() -> None:
    # nubo.test.MediaRelay declares virtual_link_external with a capability and no relationship
    nsd = parse()
    assert [v.name for v in nsd.vlds] == ["media"]
    assert nsd.vnfd("edge-relay").virtual_links == ("media",)
    relay = nsd.vnfd("edge-relay").vdus[0]
    assert [cp.virtual_link_reference for cp in relay.template().connection_points] == ["media"]
    assert nsd.dependencies == (VnfDependency("edge-relay", "core-relay", ("media",)),)


def test_without_flavour_id_a_vnf_of_several_flavours_is_refused() -> None:
    def no_flavour(d: dict[str, Any]) -> None:
        del d[NODES.split(".")[0]]["node_templates"]["core-relay"]["properties"]

    def no_default(d: dict[str, Any]) -> None:
        del d["node_types"]["nubo.test.MediaRelay"]["properties"]["flavour_id"]["default"]

    problems = problems_of(definitions(media_types=no_default), nsd_text(edit=no_flavour))
    [problem] = [p for p in problems if p.path == f"{NODES}.core-relay.type"]
    assert "several VNFDs substitute 'nubo.test.MediaRelay'" in problem.message
    assert "give flavour_id" in problem.message


def test_a_flavour_file_without_flavour_id_is_refused_at_its_path() -> None:
    def edit(d: dict[str, Any]) -> None:
        del d["topology_template"]["substitution_mappings"]["properties"]

    problems = package_problems(definitions(media_df_pair=edit))
    assert (
        FieldProblem(
            f"Definitions/media_df_pair.yaml:{MAPPINGS}.properties.flavour_id",
            "required: each deployment flavour file names its flavour_id",
        )
        in problems
    )


def test_two_files_of_one_flavour_are_refused() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["topology_template"]["substitution_mappings"]["properties"]["flavour_id"] = "simple"

    problems = package_problems(definitions(media_df_pair=edit))
    assert any(
        p.path.endswith(f"media_df_pair.yaml:{MAPPINGS}.properties.flavour_id")
        and "flavour 'simple' is also substituted by" in p.message
        for p in problems
    ), problems


def test_an_entry_with_no_flavour_says_how_a_vnfd_is_written() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["imports"] = d["imports"][:3]

    [problem] = package_problems(definitions(media_top_vnfd=edit))
    assert problem.path == f"Definitions/media_top.vnfd.yaml:{MAPPINGS}.node_type"
    assert "or imports one file per deployment flavour that does" in problem.message


def test_a_zipped_open_baton_package_is_read_as_one_not_as_a_csar() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Metadata.yaml", "name: iperf-server\nprovider: acme\n")
        archive.writestr("vnfd.json", '{"name": "iperf-server", "type": "server"}')
        archive.writestr("scripts/install.sh", "#!/bin/sh\n")
    with pytest.raises(InvalidDescriptor) as info:
        read_package(buffer.getvalue())
    # the VNFD's own problem, in vnfd.json; not "Metadata.yaml: topology_template: required"
    assert info.value.problems == [FieldProblem("vnfd.json:$.vdu", "at least one VDU is required")]


# --- what nubo does not deploy ------------------------------------------------------------


def test_unused_parts_are_warnings_at_their_paths() -> None:
    warnings = {w.path: w.message for w in parse().warnings}
    storage = f"media_df_pair.yaml:{NODES}.RECORDINGS"
    assert warnings[storage].startswith("virtual block storage is not attached")
    assert warnings[f"{NODES}.media.properties.vl_profile"].startswith(
        "bitrate and QoS requirements are not enforced"
    )
    assert len(warnings) == 2


def test_min_number_of_instances_zero_starts_the_vdu_with_no_vnfc() -> None:
    recorder = parse().vnfd("core-relay").vdus[1]
    assert (recorder.name, recorder.initial_instances, recorder.scale_in_out) == ("RECORDER", 0, 2)
    assert recorder.min_instances == 0
    # scale-out still has a template to make VNFCs of
    assert len(recorder.vnfc_templates) == 1


def test_initial_instances_below_the_minimum_are_refused_at_the_level() -> None:
    def edit(d: dict[str, Any]) -> None:
        recorder = d["topology_template"]["node_templates"]["RECORDER"]
        recorder["properties"]["vdu_profile"]["min_number_of_instances"] = 1

    [problem] = problems_of(definitions(media_df_pair=edit))
    assert problem.path.startswith("media_df_pair.yaml:topology_template.policies[")
    assert problem.message == (
        "0 initial instances of 'RECORDER' are outside its vdu_profile bounds 1..2"
    )


def test_operations_nubo_does_not_go_through_and_unused_artifacts_are_warned_about() -> None:
    def edit(d: dict[str, Any]) -> None:
        vnf = d["topology_template"]["node_templates"]["VNF"]
        vnf["interfaces"]["Vnflcm"]["scale_end"] = {"implementation": "rebalance"}
        d["topology_template"]["node_templates"]["RELAY"]["artifacts"]["rebalance"] = {
            "type": "tosca.artifacts.Implementation.Bash",
            "file": "../Scripts/rebalance.sh",
        }

    warnings = {w.path: w.message for w in parse(definitions(media_df_simple=edit)).warnings}
    assert warnings[f"media_df_simple.yaml:{NODES}.VNF.interfaces.Vnflcm"].startswith(
        "lifecycle operations are not run (scale_end): nubo runs the implementations of "
        "instantiate_start, instantiate, instantiate_end, terminate_start, terminate only"
    )
    assert warnings[f"media_df_simple.yaml:{NODES}.RELAY.artifacts.rebalance"] == (
        "artifacts of type 'tosca.artifacts.Implementation.Bash' are not used by nubo"
    )


INTERNAL_VL = {
    "type": "tosca.nodes.nfv.VnfVirtualLink",
    "properties": {
        "connectivity_type": {"layer_protocols": ["ipv4"]},
        "vl_profile": {
            "max_bitrate_requirements": {"root": 1000000},
            "min_bitrate_requirements": {"root": 1000},
        },
    },
}


def internal_pair(d: dict[str, Any]) -> None:
    """The pair flavour with a link between its relay and recorder, private to the VNF."""
    nodes = d["topology_template"]["node_templates"]
    nodes["INTERNAL"] = copy.deepcopy(INTERNAL_VL)
    for vdu in ("RELAY", "RECORDER"):
        nodes[f"{vdu}_CP_INT"] = {
            "type": "tosca.nodes.nfv.VduCp",
            "properties": {"layer_protocols": ["ipv4"], "order": 1},
            "requirements": [{"virtual_binding": vdu}, {"virtual_link": "INTERNAL"}],
        }


def external_cp(d: dict[str, Any]) -> None:
    """The simple flavour reaching the NS link through a VnfExtCp over an internal link."""
    topology = d["topology_template"]
    topology["substitution_mappings"]["requirements"] = {
        "virtual_link_external": ["RELAY_EXT", "external_virtual_link"]
    }
    nodes = topology["node_templates"]
    nodes["RELAY_EXT"] = {
        "type": "tosca.nodes.nfv.VnfExtCp",
        "properties": {"layer_protocols": ["ipv4"]},
        "requirements": [{"internal_virtual_link": "INTERNAL"}],
    }
    nodes["INTERNAL"] = copy.deepcopy(INTERNAL_VL)
    nodes["RELAY_CP1"]["requirements"].append({"virtual_link": "INTERNAL"})


def test_vnf_internal_virtual_links_are_networks_of_their_own() -> None:
    nsd = parse(definitions(media_df_pair=internal_pair))
    core = nsd.vnfd("core-relay")
    assert core.internal_links == ("core-relay.INTERNAL",)
    relay, recorder = core.vdus
    assert [cp.virtual_link_reference for cp in relay.template().connection_points] == [
        "media",
        "core-relay.INTERNAL",
    ]
    assert [cp.virtual_link_reference for cp in recorder.template().connection_points] == [
        "core-relay.INTERNAL"
    ]
    assert nsd.vnfd("edge-relay").internal_links == ()
    warnings = {w.path: w.message for w in nsd.warnings}
    assert warnings[f"media_df_pair.yaml:{NODES}.INTERNAL.properties.vl_profile"].startswith(
        "bitrate and QoS requirements are not enforced"
    )


def test_an_external_cp_joins_the_vnfcs_of_its_internal_link_to_the_ns_link() -> None:
    nsd = parse(definitions(media_df_simple=external_cp))
    edge = nsd.vnfd("edge-relay")
    assert edge.internal_links == ("edge-relay.INTERNAL",)
    assert [cp.virtual_link_reference for cp in edge.vdus[0].template().connection_points] == [
        "edge-relay.INTERNAL",
        "media",
    ]
    assert not [w for w in nsd.warnings if "RELAY_EXT" in w.path]


def test_an_external_cp_without_its_internal_link_and_a_cp_on_a_vdu_are_refused() -> None:
    def edit(d: dict[str, Any]) -> None:
        external_cp(d)
        nodes = d["topology_template"]["node_templates"]
        nodes["RELAY_EXT"]["requirements"] = []
        nodes["RELAY_CP1"]["requirements"][-1] = {"virtual_link": "RELAY"}

    problems = {p.path: p.message for p in problems_of(definitions(media_df_simple=edit))}
    assert problems[f"media_df_simple.yaml:{NODES}.RELAY_EXT.requirements"].startswith(
        "internal_virtual_link is required: the VnfVirtualLink whose VNFCs this external "
        "connection point joins to the NS virtual link"
    )
    link = f"media_df_simple.yaml:{NODES}.RELAY_CP1.requirements[1].virtual_link"
    assert problems[link] == "'RELAY' is not a tosca.nodes.nfv.VnfVirtualLink node"


def test_a_pnf_is_refused_and_a_sap_is_a_warning() -> None:
    def edit(d: dict[str, Any]) -> None:
        nodes = d["topology_template"]["node_templates"]
        nodes["router"] = {
            "type": "tosca.nodes.nfv.PNF",
            "properties": {
                "descriptor_id": "r1",
                "function_description": "edge router",
                "provider": "acme",
                "version": "1",
                "descriptor_invariant_id": "r1",
                "name": "router",
            },
        }

    problems = problems_of(text=nsd_text(edit=edit))
    [problem] = [p for p in problems if p.path == f"{NODES}.router.type"]
    assert "is a physical network function, which nubo cannot deploy" in problem.message

    def sap(d: dict[str, Any]) -> None:
        d["topology_template"]["node_templates"]["media-sap"] = {
            "type": "tosca.nodes.nfv.Sap",
            "properties": {"layer_protocols": ["ipv4"]},
            "requirements": [
                {"external_virtual_link": "media"},
                {"internal_virtual_link": "media"},
            ],
        }

    warnings = {w.path: w.message for w in parse(text=nsd_text(edit=sap)).warnings}
    assert warnings[f"{NODES}.media-sap.type"].startswith("service access points are not mapped")


# --- the standard types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "name"),
    [
        ("node_types", "tosca.nodes.nfv.VnfExtCp"),
        ("node_types", "tosca.nodes.nfv.Vdu.VirtualBlockStorage"),
        ("node_types", "tosca.nodes.nfv.PNF"),
        ("node_types", "tosca.nodes.nfv.PnfExtCp"),
        ("node_types", "tosca.nodes.nfv.Sap"),
        ("interface_types", "tosca.interfaces.nfv.Vnflcm"),
        ("artifact_types", "tosca.artifacts.nfv.SwImage"),
        ("capability_types", "tosca.capabilities.nfv.VirtualStorage"),
        ("relationship_types", "tosca.relationships.nfv.AttachesTo"),
        ("data_types", "tosca.datatypes.nfv.VirtualBlockStorageData"),
    ],
)
def test_the_standard_types_are_defined(section: str, name: str) -> None:
    text = "tosca_definitions_version: tosca_simple_yaml_1_3\nimports:\n"
    text += "  - etsi_nfv_sol001_nsd_types.yaml\n"
    sources = ToscaSources("nsd.yaml", text)
    sources.load("nsd.yaml")
    assert TypeIndex(sources.types("nsd.yaml")).known(section, name)


def test_an_undefined_type_tosca_parser_trips_on_is_named_not_a_bare_key_error() -> None:
    types: dict[str, dict[str, Any]] = {
        "node_types": {
            "acme.Box": {
                "derived_from": "tosca.nodes.Root",
                "interfaces": {"Lcm": {"type": "acme.interfaces.Missing"}},
            }
        }
    }
    document = {
        "tosca_definitions_version": "tosca_simple_yaml_1_3",
        "topology_template": {
            "node_templates": {"box": {"type": "acme.Box", "interfaces": {"Lcm": {"go": []}}}}
        },
    }
    [(_, message)] = tosca_parser_problems(document, types, set())
    assert message.startswith("'acme.interfaces.Missing' is used but not defined")
    assert "KeyError" in message  # tosca-parser's own words only as an addition


# --- tosca-parser's errors in the author's terms ------------------------------------------


def _broken_pair(d: dict[str, Any]) -> None:
    nodes = d["topology_template"]["node_templates"]
    del nodes["RELAY"]["properties"]["sw_image_data"]["version"]
    nodes["RELAY"]["properties"]["vdu_profile"]["maximum"] = 1
    nodes["RECORDER_CP1"] = {
        "type": "tosca.nodes.nfv.VduCp",
        "properties": {"layer_protocols": ["ipv4"]},
        "requirements": [{"virtual_binding": "RECORDER"}],
    }


def test_tosca_parser_errors_are_located_and_retold() -> None:
    problems = {p.path: p.message for p in problems_of(definitions(media_df_pair=_broken_pair))}
    pair = f"media_df_pair.yaml:{NODES}"
    assert problems[f"{pair}.RELAY.properties.sw_image_data"].startswith(
        "'version' is required in a tosca.datatypes.nfv.SwImageData value: add it "
        '(tosca-parser: Data value of type "tosca.datatypes.nfv.SwImageData" is missing'
    )
    assert problems[f"{pair}.RELAY.properties.vdu_profile.maximum"].startswith(
        "'maximum' is not a field of tosca.datatypes.nfv.VduProfile: remove it, or check its "
        "spelling against the type (tosca-parser: "
    )
    occurrences = problems[f"{pair}.RECORDER_CP1.requirements"]
    assert occurrences.startswith(
        "requirement 'virtual_link' of 'RECORDER_CP1' is assigned 0 time(s), its type "
        "tosca.nodes.nfv.VduCp wants 1: assign it (- virtual_link: <node>), or expose it"
    )
    assert occurrences.endswith(
        '(tosca-parser: Relationship "virtual_link" in template "RECORDER_CP1" has a wrong '
        "number of occurrences)"
    )


# --- the SIPp example in the per-flavour layout -------------------------------------------


def test_the_sipp_example_in_the_per_flavour_layout_maps_to_the_same_model() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "sipp-tosca"
    files: dict[str, str] = {}
    for name in ("sipp-server", "sipp-client"):
        content = read_package(per_flavour_csar(example / "packages" / name))
        assert content.vnfd_file == f"{name}-vnfd.yaml"
        files.update(content.definitions)
    nsd_yaml = (example / "nsd.yaml").read_text()
    per_flavour = parse_tosca_nsd(nsd_yaml, extra_files=files)
    original = parse_tosca_nsd(example / "nsd.yaml", extra_files=_example_files(example))
    assert per_flavour == original
    client = per_flavour.vnfd("sipp-client").vdus[0]
    assert ("SIPP_EXTRA_NOTE", "from-env-file") in client.environment


def _example_files(example: Path) -> dict[str, str]:
    definitions = {p.name: p.read_text() for p in example.glob("packages/*/Definitions/*.yaml")}
    env = {f"../Files/{p.name}": p.read_text() for p in example.glob("packages/*/Files/*.env")}
    return definitions | env


def _misspelt_pair(d: dict[str, Any]) -> None:
    nodes = d["topology_template"]["node_templates"]
    nodes["RELAY_CP1"]["properties"]["layer_protocols"] = ["ipx"]
    nodes["RELAY_CP1"]["properties"]["colour"] = "red"
    del nodes["RELAY"]["properties"]["name"]
    nodes["RELAY"]["propertees"] = {}


def test_node_template_keys_properties_and_values_are_retold() -> None:
    problems = {p.path: p.message for p in problems_of(definitions(media_df_pair=_misspelt_pair))}
    pair = f"media_df_pair.yaml:{NODES}"
    assert problems[f"{pair}.RELAY.propertees"].startswith(
        "'propertees' is not a key of a node template: did you mean 'properties'? (tosca-parser: "
    )
    assert problems[f"{pair}.RELAY.properties"].startswith(
        "property 'name' is required by tosca.nodes.nfv.Vdu.Compute: add it (tosca-parser: "
    )
    assert problems[f"{pair}.RELAY_CP1.properties.colour"].startswith(
        "'colour' is not a property of tosca.nodes.nfv.VduCp: remove it, or check its spelling"
    )
    assert problems[f"{pair}.RELAY_CP1.properties.layer_protocols"].startswith(
        "'ipx' is not one of the allowed values: ethernet, mpls, odu2, ipv4, ipv6, pseudo-wire "
        '(tosca-parser: The value "ipx"'
    )
