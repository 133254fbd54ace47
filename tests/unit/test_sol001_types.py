"""nubo's SOL001 type files against the specification's list of types, and a VNFD that
uses a wide set of them: it loads, deploys what nubo deploys and warns for the rest."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml

from nubo.app import Nubo
from nubo.model.errors import InvalidDescriptor
from nubo.model.states import OpState
from tests.conftest import fake_nubo
from tests.unit.test_sol001_deploy import onboard_media
from tests.unit.test_sol001_layouts import (
    NODES,
    definitions,
    internal_pair,
    nsd_text,
    parse,
)

_D, _A, _C, _R, _I, _N, _G, _P = (
    "data_types",
    "artifact_types",
    "capability_types",
    "relationship_types",
    "interface_types",
    "node_types",
    "group_types",
    "policy_types",
)


def _names(section: str, *short: str) -> dict[str, set[str]]:
    prefix = {
        _D: "tosca.datatypes.nfv.",
        _A: "tosca.artifacts.",
        _C: "tosca.capabilities.nfv.",
        _R: "tosca.relationships.nfv.",
        _I: "tosca.interfaces.nfv.",
        _N: "tosca.nodes.nfv.",
        _G: "tosca.groups.nfv.",
        _P: "tosca.policies.nfv.",
    }[section]
    return {section: {prefix + s for s in short}}


#: the standard types of each SOL001 file, versions 2.x to 4.x (a type that moved
#: between files is listed where v4 has it)
STANDARD: dict[str, dict[str, set[str]]] = {
    "common": _names(
        _D,
        "L2AddressData",
        "L3AddressData",
        "AddressData",
        "CpProtocolData",
        "ConnectivityType",
        "LinkBitrateRequirements",
        "Qos",
        "VnfProfile",
        "ScaleInfo",
        "VnfMonitoringParameter",
        "VersionDependency",
        "VersionDependencyStatement",
    )
    | _names(_C, "VirtualLinkable")
    | _names(_R, "VirtualLinksTo", "VipVirtualLinksTo")
    | _names(_N, "Cp")
    | _names(_P, "Abstract.SecurityGroupRule"),
    "vnfd": _names(
        _D,
        "VirtualNetworkInterfaceRequirements",
        "RequestedAdditionalCapability",
        "VirtualMemory",
        "VirtualCpu",
        "VirtualCpuPinning",
        "Hugepages",
        "VnfcConfigurableProperties",
        "VnfcAdditionalConfigurableProperties",
        "VduProfile",
        "VlProfile",
        "VirtualLinkProtocolData",
        "L2ProtocolData",
        "L3ProtocolData",
        "IpAllocationPool",
        "InstantiationLevel",
        "VduLevel",
        "VnfLcmOperationsConfiguration",
        "VnfInstantiateOperationConfiguration",
        "VnfScaleOperationConfiguration",
        "VnfScaleToLevelOperationConfiguration",
        "VnfHealOperationConfiguration",
        "VnfTerminateOperationConfiguration",
        "VnfOperateOperationConfiguration",
        "VnfChangeFlavourOperationConfiguration",
        "VnfChangeExtConnectivityOperationConfiguration",
        "VnfChangeCurrentPackageOperationConfiguration",
        "VnfCreateSnapshotOperationConfiguration",
        "VnfRevertToSnapshotOperationConfiguration",
        "ScalingAspect",
        "VnfConfigurableProperties",
        "VnfAdditionalConfigurableProperties",
        "VnfInfoModifiableAttributes",
        "VnfInfoModifiableAttributesExtensions",
        "VnfInfoModifiableAttributesMetadata",
        "LogicalNodeData",
        "SwImageData",
        "VirtualBlockStorageData",
        "VirtualObjectStorageData",
        "VirtualFileStorageData",
        "VirtualLinkBitrateLevel",
        "VnfOperationAdditionalParameters",
        "VnfcMonitoringParameter",
        "VirtualLinkMonitoringParameter",
        "InterfaceDetails",
        "UriComponents",
        "UriAuthority",
        "ChecksumData",
        "VnfmInterfaceInfo",
        "OauthServerInfo",
        "BootData",
        "KvpData",
        "ContentOrFileData",
        "BootDataVimSpecificProperties",
        "VnfPackageChangeSelector",
        "VnfPackageChangeComponentMapping",
        "ServicePortData",
        "AdditionalServiceData",
        "ServiceData",
        "VnfLcmOpCoord",
        "InputOpCoordParams",
        "OutputOpCoordParams",
        "ExtendedResourceData",
        "MaxNumberOfImpactedInstances",
        "MinNumberOfPreservedInstances",
        "NfviMaintenanceInfo",
        "McioIdentificationData",
        "VipCpLevel",
    )
    | {
        _A: {
            "tosca.artifacts.nfv.SwImage",
            "tosca.artifacts.Implementation.nfv.Mistral",
            "tosca.artifacts.nfv.HelmChart",
        }
    }
    | _names(
        _C,
        "VirtualBindable",
        "VirtualCompute",
        "VirtualStorage",
        "TrunkBindable",
        "ContainerDeployable",
        "AssociableVdu",
    )
    | _names(_R, "VirtualBindsTo", "AttachesTo", "TrunkBindsTo", "DeploysTo", "MciopAssociates")
    | _names(_I, "Vnflcm", "VnfIndicator", "ChangeCurrentVnfPackage")
    | _names(
        _N,
        "VNF",
        "VnfExtCp",
        "Vdu.Compute",
        "Vdu.VirtualBlockStorage",
        "Vdu.VirtualObjectStorage",
        "Vdu.VirtualFileStorage",
        "VduCp",
        "VnfVirtualLink",
        "VipCp",
        "VduSubCp",
        "Vdu.OsContainer",
        "Vdu.OsContainerDeployableUnit",
        "Mciop",
        "VirtualCp",
    )
    | _names(_G, "PlacementGroup")
    | _names(
        _P,
        "InstantiationLevels",
        "VduInstantiationLevels",
        "VirtualLinkInstantiationLevels",
        "ScalingAspects",
        "VduScalingAspectDeltas",
        "VirtualLinkBitrateScalingAspectDeltas",
        "VduInitialDelta",
        "VirtualLinkBitrateInitialDelta",
        "AffinityRule",
        "AntiAffinityRule",
        "SupportedVnfInterface",
        "SecurityGroupRule",
        "VnfIndicator",
        "VnfPackageChange",
        "LcmCoordinationAction",
        "LcmCoordinationsForLcmOperation",
        "VipCpScalingAspectDeltas",
        "VipCpInitialDelta",
        "VipCpInstantiationLevels",
    ),
    "nsd": _names(
        _D,
        "NsVirtualLinkQos",
        "NsVlProfile",
        "NsProfile",
        "Mask",
        "NfpRule",
        "NsOperationAdditionalParameters",
        "NsMonitoringParameter",
        "NsVirtualLinkProtocolData",
        "NsL2ProtocolData",
        "NsL3ProtocolData",
        "NsIpAllocationPool",
        "NsScalingAspect",
        "NsLevels",
        "ScaleNsByStepsData",
        "ScaleNsToLevelData",
        "NsDataFlowMirroring",
        "NsScaleInfo",
    )
    | _names(_C, "Forwarding")
    | _names(_R, "ForwardTo")
    | _names(_I, "Nslcm", "NsVnfIndicator")
    | _names(
        _N, "NS", "NsVirtualLink", "Sap", "NfpPositionElement", "NfpPosition", "NFP", "Forwarding"
    )
    | _names(_G, "NsPlacementGroup", "VNFFG")
    | _names(
        _P,
        "NsAffinityRule",
        "NsAntiAffinityRule",
        "NsSecurityGroupRule",
        "NfpRule",
        "NsMonitoring",
        "VnfMonitoring",
        "NsScalingAspects",
        "VnfToLevelMapping",
        "NsToLevelMapping",
        "VirtualLinkToLevelMapping",
        "NsInstantiationLevels",
        "VnfToInstantiationLevelMapping",
        "NsToInstantiationLevelMapping",
        "VirtualLinkToInstantiationLevelMapping",
        "NsAutoScale",
        "DataFlowInfo",
    ),
    "pnfd": _names(_D, "LocationInfo", "CivicAddressElement", "GeographicCoordinates")
    | _names(_N, "PNF", "PnfExtCp")
    | _names(_P, "PnfSecurityGroupRule"),
}


def nubo_types(kind: str) -> dict[str, Any]:
    text = files("nubo.descriptors").joinpath(f"sol001/etsi_nfv_sol001_{kind}_types.yaml")
    document: dict[str, Any] = yaml.safe_load(text.read_text())
    return document


@pytest.mark.parametrize("kind", sorted(STANDARD))
def test_every_standard_type_of_the_file_is_defined_in_nubos(kind: str) -> None:
    document = nubo_types(kind)
    missing = [
        f"{section}.{name}"
        for section, names in STANDARD[kind].items()
        for name in sorted(names)
        if name not in (document.get(section) or {})
    ]
    assert missing == []
    # and each derives from a type that exists (its file's, an import's, or TOSCA's)
    defined = {n for k in STANDARD for names in STANDARD[k].values() for n in names}
    for section, names in STANDARD[kind].items():
        for name in names:
            base = document[section][name]["derived_from"]
            assert base.startswith("tosca.") and (
                base in defined or not base.startswith(("tosca.datatypes.nfv", "tosca.nodes.nfv"))
            ), f"{name} derives from {base}"


def test_nubos_files_define_only_standard_types_and_its_env_file_extension() -> None:
    extra = {
        f"{kind}:{section}.{name}"
        for kind in STANDARD
        for section, defined in nubo_types(kind).items()
        if section.endswith("_types")
        for name in defined
        if name not in STANDARD[kind].get(section, set())
    }
    assert extra == {"vnfd:artifact_types.nubo.artifacts.EnvFile"}


# --- a VNFD that uses them -------------------------------------------------------------

MEMORY = {
    "virtual_mem_size": "512 MB",
    "numa_enabled": False,
    "huge_pages_requirements": [{"hugepage_size": "2 MB", "requested_size": "64 MB"}],
}
CPU = {
    "num_virtual_cpu": 2,
    "virtual_cpu_pinning": {"virtual_cpu_pinning_policy": "dynamic"},
}


def wide_vnf(d: dict[str, Any]) -> None:
    """The pair flavour with its internal link and much of what SOL001 v2-v4 offer."""
    internal_pair(d)
    topology = d["topology_template"]
    nodes = topology["node_templates"]
    nodes["VNF"]["properties"] |= {
        "lcm_operations_configuration": {
            "instantiate": {"target_scale_levels_supported": False},
            "scale": {"scaling_by_more_than_one_step_supported": False},
            "heal": {"causes": ["container exited"]},
            "terminate": {"min_graceful_termination_timeout": "10 s"},
            "operate": {"min_graceful_stop_timeout": "5 s"},
        },
        "monitoring_parameters": {
            "cpu": {"name": "cpu", "performance_metric": "v_cpu_usage_mean_vnf"}
        },
    }
    relay = nodes["RELAY"]
    relay["properties"]["monitoring_parameters"] = {
        "mem": {
            "name": "memory",
            "performance_metric": "v_memory_usage_mean",
            "collection_period": "30 s",
        }
    }
    relay["capabilities"] = {
        "virtual_compute": {
            "properties": {
                "virtual_memory": MEMORY,
                "virtual_cpu": CPU,
                "logical_node": {"numa0": {"logical_node_requirements": {"cores": "2"}}},
            }
        }
    }
    nodes["INTERNAL"]["properties"] |= {
        "monitoring_parameters": {
            "in": {"name": "bytes in", "performance_metric": "byte_incoming"}
        },
        "externally_managed": "allowed",
    }
    nodes["INTERNAL"]["properties"]["vl_profile"]["virtual_link_protocol_data"] = [
        {
            "associated_layer_protocol": "ipv4",
            "l3_protocol_data": {"ip_version": "ipv4", "cidr": "10.80.0.0/24"},
        }
    ]
    nodes["ARCHIVE"] = {
        "type": "tosca.nodes.nfv.Vdu.VirtualObjectStorage",
        "properties": {"virtual_object_storage_data": {"max_size_of_storage": "1 GB"}},
    }
    nodes["RELAY_VIP"] = {
        "type": "tosca.nodes.nfv.VipCp",
        "properties": {"layer_protocols": ["ipv4"], "vip_function": "high_availability"},
        "requirements": [{"target": "RELAY_CP_INT"}, {"virtual_link": "INTERNAL"}],
    }
    topology["groups"] = {
        "relays": {
            "type": "tosca.groups.nfv.PlacementGroup",
            "properties": {"description": "relay and recorder"},
            "members": ["RELAY", "RECORDER"],
        }
    }
    policies = topology["policies"]
    policies[:] = [p for p in policies if "instantiation_levels" not in next(iter(p))]
    policies += [
        {
            "scaling_aspects": {
                "type": "tosca.policies.nfv.ScalingAspects",
                "properties": {
                    "aspects": {
                        "relays": {
                            "name": "relays",
                            "description": "more relays",
                            "max_scale_level": 2,
                            "step_deltas": ["one_more"],
                        }
                    }
                },
            }
        },
        {
            "relay_initial": {
                "type": "tosca.policies.nfv.VduInitialDelta",
                "properties": {"initial_delta": {"number_of_instances": 1}},
                "targets": ["RELAY"],
            }
        },
        {
            "relay_deltas": {
                "type": "tosca.policies.nfv.VduScalingAspectDeltas",
                "properties": {
                    "aspect": "relays",
                    "deltas": {"one_more": {"number_of_instances": 1}},
                },
                "targets": ["RELAY"],
            }
        },
        {
            "levels": {
                "type": "tosca.policies.nfv.InstantiationLevels",
                "properties": {
                    "levels": {
                        "small": {
                            "description": "one relay",
                            "scale_info": {"relays": {"scale_level": 0}},
                        }
                    },
                    "default_level": "small",
                },
            }
        },
        {
            "relay_levels": {
                "type": "tosca.policies.nfv.VduInstantiationLevels",
                "properties": {"levels": {"small": {"number_of_instances": 1}}},
                "targets": ["RELAY"],
            }
        },
        {
            "recorder_levels": {
                "type": "tosca.policies.nfv.VduInstantiationLevels",
                "properties": {"levels": {"small": {"number_of_instances": 0}}},
                "targets": ["RECORDER"],
            }
        },
        {
            "internal_levels": {
                "type": "tosca.policies.nfv.VirtualLinkInstantiationLevels",
                "properties": {"levels": {"small": {"bitrate_requirements": {"root": 1000000}}}},
                "targets": ["INTERNAL"],
            }
        },
        {
            "sip_in": {
                "type": "tosca.policies.nfv.SecurityGroupRule",
                "properties": {"protocol": "udp", "port_range_min": 5060, "port_range_max": 5060},
                "targets": ["RELAY_CP1"],
            }
        },
        {
            "together": {
                "type": "tosca.policies.nfv.AffinityRule",
                "properties": {"scope": "nfvi_node"},
                "targets": ["relays"],
            }
        },
        {
            "apart": {
                "type": "tosca.policies.nfv.AntiAffinityRule",
                "properties": {"scope": "zone"},
                "targets": ["RELAY"],
            }
        },
        {
            "indicators": {
                "type": "tosca.policies.nfv.SupportedVnfInterface",
                "properties": {
                    "interface_name": "vnf_indicator",
                    "details": {"uri_components": {"scheme": "https", "path": "/indicators"}},
                },
                "targets": ["RELAY_CP1"],
            }
        },
    ]


def test_a_vnfd_using_many_standard_types_loads_and_warns_at_what_nubo_leaves_aside() -> None:
    nsd = parse(definitions(media_df_pair=wide_vnf))
    [core] = [v for v in nsd.vnfds if v.name == "core-relay"]
    relay = next(v for v in core.vdus if v.name == "RELAY")
    assert (relay.scale_in_out, core.internal_links) == (3, ("core-relay.INTERNAL",))
    warnings = {w.path: w.message for w in nsd.warnings}
    where = f"media_df_pair.yaml:{NODES}"
    unapplied = {p: m for p, m in warnings.items() if "is not applied by nubo" in m}
    assert sorted(unapplied) == sorted(
        f"media_df_pair.yaml:topology_template.policies[{i}].{name}.type"
        for i, name in [
            (6, "internal_levels"),
            (7, "sip_in"),
            (8, "together"),
            (9, "apart"),
            (10, "indicators"),
        ]
    )
    assert "does not map 'tosca.nodes.nfv.VipCp' nodes" in warnings[f"{where}.RELAY_VIP.type"]
    assert "tosca.nodes.nfv.Vdu.VirtualObjectStorage" in warnings[f"{where}.ARCHIVE.type"]
    assert "placement groups" in warnings["media_df_pair.yaml:topology_template.groups.relays"]
    # standard properties nubo reads nothing of are named, each at its path
    for field in (
        "VNF.properties.lcm_operations_configuration",
        "VNF.properties.monitoring_parameters",
        "RELAY.properties.monitoring_parameters",
        "RELAY.capabilities.virtual_compute",
        "INTERNAL.properties.monitoring_parameters",
    ):
        assert warnings[f"{where}.{field}"].startswith(f"{field.rsplit('.', 1)[1]} is not used")


def test_values_that_break_the_standard_types_are_refused_at_their_path() -> None:
    def broken(d: dict[str, Any]) -> None:
        wide_vnf(d)
        vnf = d["topology_template"]["node_templates"]["VNF"]["properties"]
        vnf["lcm_operations_configuration"]["terminate"] = {}
        vnf["monitoring_parameters"]["cpu"]["performance_metric"] = "cpu_load"

    with pytest.raises(InvalidDescriptor) as info:
        parse(definitions(media_df_pair=broken))
    text = str(info.value)
    assert "min_graceful_termination_timeout" in text
    assert "cpu_load" in text


@pytest.fixture
async def nubo(tmp_path: Path) -> AsyncIterator[Nubo]:
    app = fake_nubo(tmp_path, start_timeout=2, default_vim_endpoint="fake:?images=*")
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def test_the_wide_vnfd_deploys_what_nubo_maps_on_the_fake_vim(nubo: Nubo) -> None:
    nsd_id = await onboard_media(nubo, definitions(media_df_pair=wide_vnf), nsd_text())
    nsr, op = await nubo.ns.instantiate(nsd_id, name="media")
    done = await nubo.runner.wait(op.id, timeout=10)
    assert done.state == OpState.COMPLETED, done.error
    nsr = await nubo.ns.get(nsr.id)
    core = nsr.vnfr_by_name("core-relay")
    assert [len(vdu.live_vnfcs()) for vdu in core.vdu] == [1, 0]
    assert sorted(v.name for v in nsr.vlr) == ["core-relay.INTERNAL", "media"]
    [relay] = core.vdu[0].live_vnfcs()
    assert sorted(relay.addresses) == ["core-relay.INTERNAL", "media"]


def test_the_wide_template_is_not_changed_by_loading() -> None:
    files = definitions(media_df_pair=wide_vnf)
    before = copy.deepcopy(files)
    parse(files)
    parse(files)  # nubo's cached type files are not changed by a first load either
    assert files == before


def ns_policies(d: dict[str, Any]) -> None:
    topology = d["topology_template"]
    topology["groups"] = {
        "relays": {
            "type": "tosca.groups.nfv.NsPlacementGroup",
            "properties": {"description": "both relays"},
            "members": ["edge-relay", "core-relay"],
        }
    }
    topology["policies"] = [
        {
            "apart": {
                "type": "tosca.policies.nfv.NsAntiAffinityRule",
                "properties": {"scope": "nfvi_node"},
                "targets": ["relays"],
            }
        },
        {
            "aspects": {
                "type": "tosca.policies.nfv.NsScalingAspects",
                "properties": {
                    "aspects": {
                        "relays": {
                            "name": "relays",
                            "description": "more edge relays",
                            "ns_scale_levels": {
                                0: {"description": "one"},
                                1: {"description": "two"},
                            },
                        }
                    }
                },
            }
        },
        {
            "edge_levels": {
                "type": "tosca.policies.nfv.VnfToLevelMapping",
                "properties": {"aspect": "relays", "number_of_instances": {0: 1, 1: 2}},
                "targets": ["edge-relay"],
            }
        },
        {
            "watch": {
                "type": "tosca.policies.nfv.NsMonitoring",
                "properties": {
                    "ns_monitoring_parameters": {
                        "in": {"name": "bytes in", "performance_metric": "byte_incoming"}
                    }
                },
                "targets": ["media-ns"],
            }
        },
    ]


def test_an_nsd_with_ns_groups_and_policies_loads_and_warns_at_each() -> None:
    nsd = parse(definitions(), nsd_text(edit=ns_policies))
    warnings = {w.path: w.message for w in nsd.warnings}
    assert warnings["topology_template.groups.relays"].startswith("NS groups")
    for i, (name, kind) in enumerate(
        [
            ("apart", "NsAntiAffinityRule"),
            ("aspects", "NsScalingAspects"),
            ("edge_levels", "VnfToLevelMapping"),
            ("watch", "NsMonitoring"),
        ]
    ):
        assert warnings[f"topology_template.policies[{i}].{name}"].startswith(
            f"NS policy 'tosca.policies.nfv.{kind}' is not applied"
        )
    assert sorted(v.name for v in nsd.vnfds) == ["core-relay", "edge-relay"]


@pytest.mark.parametrize(
    ("version", "suffix"),
    [("tosca_simple_yaml_1_2", "_2_6_1"), ("tosca_simple_yaml_1_3", "_v4_4_1")],
)
def test_templates_importing_the_versioned_standard_names_load(version: str, suffix: str) -> None:
    def versioned(d: dict[str, Any]) -> None:
        d["tosca_definitions_version"] = version
        d["imports"] = [
            i.replace("_types.yaml", f"{suffix}_types.yaml")
            if isinstance(i, str) and i.startswith("etsi_nfv_sol001_")
            else i
            for i in d.get("imports", [])
        ]

    stems = [n.removesuffix(".yaml") for n in definitions()]
    nsd = parse(definitions(**{stem: versioned for stem in stems}))
    assert sorted(v.name for v in nsd.vnfds) == ["core-relay", "edge-relay"]
