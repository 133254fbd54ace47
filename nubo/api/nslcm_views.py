"""The NsInstance view (SOL005 §6.5.2.10) of an NS record.

An NS record knows its VNFs by name and type; SOL005 names a VNF instance's
VNFD and package too. ``VnfOrigins`` finds those among what the catalogues
already answer: the onboarded VNF package whose product and provider the VNF
has, or for a TOSCA NSD the package whose VNF node type the NSD's node template
of that VNF has (among the NSD's ``vnfPkgIds`` when it names them). A VNF of an Open
Baton NSD came inside the NSD, not in a package: its VNFD is the NSD's VNFD
of that type, and the NsdInfo that carried it stands for its package.

A VNF's internal virtual links (SOL001 VnfVirtualLink, networks private to
it) are its own resources, not the NS's: they appear under its instance's
``instantiatedVnfInfo.virtualLinkResourceInfo`` (the V2.6.1 name of what later
versions call ``vnfVirtualLinkResourceInfo``), never among the NS's
``virtualLinkInfo``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml  # type: ignore[import-untyped]
from pydantic import Field

from nubo.api.sol005 import NSLCM, Sol005Model, link
from nubo.model.packages import OnboardingState, VnfPackage
from nubo.model.records import (
    NetworkServiceRecord,
    VirtualLinkRecord,
    VnfcInstance,
    VnfRecord,
)
from nubo.model.states import VnfcState
from nubo.nfvo.instances import NOT_INSTANTIATED


@dataclass(frozen=True)
class VnfOrigin:
    vnfd_id: str
    vnfd_version: str
    vnf_pkg_id: str


@dataclass(frozen=True)
class VnfOrigins:
    """Where the VNFs of NS instances come from: the packages, and each NSD's own ids."""

    packages: Sequence[VnfPackage]
    nsd_ids: Mapping[str, str]
    package_ids: Mapping[str, Sequence[str]]
    #: per NsdInfo id, a TOSCA NSD's VNF node template name -> its node type
    node_types: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def nsd_id(self, nsd_info_id: str) -> str:
        return self.nsd_ids.get(nsd_info_id, nsd_info_id)

    def of(self, nsr: NetworkServiceRecord, vnfr: VnfRecord) -> VnfOrigin:
        allowed = self.package_ids.get(nsr.descriptor_reference) or ()
        node_type = self.node_types.get(nsr.descriptor_reference, {}).get(vnfr.name)
        candidates = [
            p
            for p in self.packages
            if p.onboarding_state == OnboardingState.ONBOARDED and (not allowed or p.id in allowed)
        ]
        for package in candidates:
            same_type = node_type is not None and package.vnf_node_type == node_type
            same_product = (package.vnf_product_name, package.vnf_provider) == (
                vnfr.type,
                vnfr.vendor,
            )
            if same_type or same_product:
                return VnfOrigin(
                    package.vnfd_id or package.id, package.vnfd_version or "", package.id
                )
        return VnfOrigin(vnfr.type, vnfr.version, nsr.descriptor_reference)


def node_types_of(body: Mapping[str, Any]) -> dict[str, str]:
    """A TOSCA NSD's node template names and their types (empty for other formats).

    The catalogue keeps a TOSCA NSD as the YAML it was uploaded as (``template``).
    """
    template = body.get("template")
    if not isinstance(template, str):
        return {}
    try:
        document = yaml.safe_load(template)
    except yaml.YAMLError:
        return {}
    topology = document.get("topology_template") if isinstance(document, dict) else None
    templates = topology.get("node_templates") if isinstance(topology, dict) else None
    if not isinstance(templates, dict):
        return {}
    return {
        str(name): str(template["type"])
        for name, template in templates.items()
        if isinstance(template, dict) and isinstance(template.get("type"), str)
    }


class ResourceHandle(Sol005Model):
    vim_id: str | None = None
    resource_id: str
    vim_level_resource_type: str | None = None


class VnfcCpInfo(Sol005Model):
    id: str
    cpd_id: str
    cp_protocol_info: list[dict[str, Any]]


class VnfcResourceInfo(Sol005Model):
    id: str
    vdu_id: str
    compute_resource: ResourceHandle
    vnfc_cp_info: list[VnfcCpInfo]
    vnfc_state: str = Field(description="nubo's VNFC state (the container's)")


class ScaleInfo(Sol005Model):
    aspect_id: str
    scale_level: int


class VnfVirtualLinkResourceInfo(Sol005Model):
    id: str
    vnf_virtual_link_desc_id: str
    network_resource: ResourceHandle


class InstantiatedVnfInfo(Sol005Model):
    flavour_id: str
    vnf_state: Literal["STARTED", "STOPPED"]
    scale_status: list[ScaleInfo]
    vnfc_resource_info: list[VnfcResourceInfo]
    virtual_link_resource_info: list[VnfVirtualLinkResourceInfo] | None = None


class VnfInstanceView(Sol005Model):
    id: str
    vnf_instance_name: str
    vnfd_id: str
    vnf_provider: str
    vnf_product_name: str
    vnf_software_version: str
    vnfd_version: str
    vnf_pkg_id: str
    vim_id: str | None = None
    instantiation_state: Literal["INSTANTIATED"] = "INSTANTIATED"
    instantiated_vnf_info: InstantiatedVnfInfo
    nubo_status: str


class VirtualLinkInfo(Sol005Model):
    id: str
    ns_virtual_link_desc_id: str
    ns_virtual_link_profile_id: str
    resource_handle: list[ResourceHandle]
    cidr: str | None = None


class NsInstanceView(Sol005Model):
    id: str
    ns_instance_name: str
    ns_instance_description: str
    nsd_id: str
    nsd_info_id: str
    flavour_id: str | None = None
    ns_state: Literal["NOT_INSTANTIATED", "INSTANTIATED"]
    nubo_status: str = Field(description="nubo's NS status (Open Baton's names)")
    vnf_instance: list[VnfInstanceView] | None = None
    virtual_link_info: list[VirtualLinkInfo] | None = None
    links: dict[str, dict[str, str]] = Field(alias="_links")

    @classmethod
    def of(cls, nsr: NetworkServiceRecord, origins: VnfOrigins) -> NsInstanceView:
        base = f"{NSLCM}/ns_instances/{nsr.id}"
        instantiated = nsr.status not in NOT_INSTANTIATED
        links = {"self": link(base)}
        for task in ("scale", "heal", "terminate") if instantiated else ("instantiate",):
            links[task] = link(f"{base}/{task}")
        view = cls(
            id=nsr.id,
            ns_instance_name=nsr.name,
            ns_instance_description=nsr.description,
            nsd_id=origins.nsd_id(nsr.descriptor_reference),
            nsd_info_id=nsr.descriptor_reference,
            ns_state="INSTANTIATED" if instantiated else "NOT_INSTANTIATED",
            nubo_status=nsr.status.value,
            _links=links,
        )
        if not instantiated:
            return view
        vim = nsr.vim_id or None
        return view.model_copy(
            update={
                "flavour_id": nsr.ns_flavour_id or "default",
                "vnf_instance": [_vnf_view(nsr, v, origins.of(nsr, v)) for v in nsr.vnfr],
                "virtual_link_info": [
                    VirtualLinkInfo(
                        id=vlr.id,
                        ns_virtual_link_desc_id=vlr.name,
                        ns_virtual_link_profile_id=vlr.name,
                        resource_handle=[
                            ResourceHandle(
                                vim_id=vim,
                                resource_id=vlr.vim_network_id,
                                vim_level_resource_type="network",
                            )
                        ]
                        if vlr.vim_network_id
                        else [],
                        cidr=vlr.cidr or None,
                    )
                    for vlr in nsr.vlr
                    if not _owner(nsr, vlr)
                ],
            }
        )


def _vnf_view(nsr: NetworkServiceRecord, vnfr: VnfRecord, origin: VnfOrigin) -> VnfInstanceView:
    vnfcs = vnfr.vnfcs()
    running = any(c.state == VnfcState.RUNNING for c in vnfcs)
    return VnfInstanceView(
        id=vnfr.id,
        vnf_instance_name=vnfr.name,
        vnfd_id=origin.vnfd_id,
        vnf_provider=vnfr.vendor,
        vnf_product_name=vnfr.type,
        vnf_software_version=vnfr.version,
        vnfd_version=origin.vnfd_version,
        vnf_pkg_id=origin.vnf_pkg_id,
        vim_id=nsr.vim_id or None,
        nubo_status=vnfr.status.value,
        instantiated_vnf_info=InstantiatedVnfInfo(
            flavour_id=vnfr.flavour_id or "default",
            vnf_state="STARTED" if running else "STOPPED",
            scale_status=[
                ScaleInfo(aspect_id=vdu.name, scale_level=max(len(vdu.live_vnfcs()) - 1, 0))
                for vdu in vnfr.vdu
            ],
            vnfc_resource_info=[_vnfc_view(nsr, c) for c in vnfcs],
            virtual_link_resource_info=_internal_links(nsr, vnfr) or None,
        ),
    )


def _internal_links(nsr: NetworkServiceRecord, vnfr: VnfRecord) -> list[VnfVirtualLinkResourceInfo]:
    """The networks private to ``vnfr`` that exist on the VIM, by their VNFD's link name."""
    prefix = f"{vnfr.name}."
    return [
        VnfVirtualLinkResourceInfo(
            id=vlr.id,
            vnf_virtual_link_desc_id=vlr.name.removeprefix(prefix),
            network_resource=ResourceHandle(
                vim_id=nsr.vim_id or None,
                resource_id=vlr.vim_network_id,
                vim_level_resource_type="network",
            ),
        )
        for vlr in nsr.vlr
        if _owner(nsr, vlr) == vnfr.name and vlr.vim_network_id
    ]


def _owner(nsr: NetworkServiceRecord, vlr: VirtualLinkRecord) -> str:
    """The VNF a link is internal to ('' for an NS link).

    Records written before links noted their VNF know an internal link by its
    name alone, ``<vnf>.<link>``.
    """
    if vlr.vnf:
        return vlr.vnf
    return next((v.name for v in nsr.vnfr if vlr.name.startswith(f"{v.name}.")), "")


def _vnfc_view(nsr: NetworkServiceRecord, vnfc: VnfcInstance) -> VnfcResourceInfo:
    networks = {vlr.name: vlr.vim_network_id for vlr in nsr.vlr}
    return VnfcResourceInfo(
        id=vnfc.id,
        vdu_id=vnfc.vdu_id,
        compute_resource=ResourceHandle(
            vim_id=vnfc.vim_id or None,
            resource_id=vnfc.vc_id,
            vim_level_resource_type="container",
        ),
        vnfc_cp_info=[
            VnfcCpInfo(
                id=f"{vnfc.id}-{link_name}",
                cpd_id=link_name,
                cp_protocol_info=[_ip_over_ethernet(address, networks.get(link_name))],
            )
            for link_name, address in vnfc.addresses.items()
        ],
        vnfc_state=vnfc.state.value,
    )


def _ip_over_ethernet(address: str, subnet: str | None) -> dict[str, Any]:
    """SOL005 CpProtocolInfo of one address on one virtual link (IP over Ethernet)."""
    ip: dict[str, Any] = {
        "type": "IPV6" if ":" in address else "IPV4",
        "addresses": [address],
        "isDynamic": True,
    }
    if subnet:
        ip["subnetId"] = subnet
    return {"layerProtocol": "IP_OVER_ETHERNET", "ipOverEthernet": {"ipAddresses": [ip]}}
