"""Turn an NSD into the records of a new NS, before anything is asked of a VIM."""

from __future__ import annotations

from nubo.model.descriptors import Nsd, VnfcTemplate, Vnfd
from nubo.model.ids import new_id
from nubo.model.records import NetworkServiceRecord, VduRecord, VirtualLinkRecord, VnfRecord


def links_of(vnfd: Vnfd) -> list[str]:
    """Every virtual link the VNF connects to, in descriptor order."""
    links: list[str] = []
    for vdu in vnfd.vdus:
        for template in vdu.vnfc_templates:
            for cp in template.connection_points:
                if cp.virtual_link_reference not in links:
                    links.append(cp.virtual_link_reference)
    for link in vnfd.virtual_links:
        if link not in links:
            links.append(link)
    return links


def links_for(vnfd: Vnfd, template: VnfcTemplate) -> list[str]:
    """The links a new VNFC attaches to: its template's connection points, else the VNF's."""
    links = [cp.virtual_link_reference for cp in template.connection_points]
    return list(dict.fromkeys(links)) if links else links_of(vnfd)


def plan_nsr(
    nsd_id: str,
    nsd: Nsd,
    name: str,
    vim_id: str,
    nsr_id: str | None = None,
    *,
    project_id: str,
) -> NetworkServiceRecord:
    """A new NSR (INITIALIZED) of ``project_id`` with one VNFR per VNFD, its VDUs and one VLR
    per VLD."""
    vnfrs = [
        VnfRecord(
            id=new_id(),
            name=vnfd.name,
            type=vnfd.type,
            vendor=vnfd.vendor,
            version=vnfd.version,
            vdu=[
                VduRecord(
                    id=new_id(),
                    name=vdu.name,
                    image=vdu.image,
                    scale_in_out=vdu.scale_in_out,
                    min_instances=vdu.min_instances,
                    # copied, like the configuration, so later VNFCs (scale-out,
                    # heal) get what the NS was instantiated with
                    environment=dict(vdu.environment),
                )
                for vdu in vnfd.vdus
            ],
            virtual_links=links_of(vnfd),
            configuration=vnfd.configuration.as_env(),
            secret_keys=vnfd.configuration.secret_keys(),
            flavour_id=next((f.flavour_key for f in vnfd.deployment_flavours), "default"),
        )
        for vnfd in nsd.vnfds
    ]
    vlrs = [VirtualLinkRecord(id=new_id(), name=vld.name) for vld in nsd.vlds]
    # each VNF's internal links are networks of their own, which only its VNFCs join
    vlrs += [
        VirtualLinkRecord(id=new_id(), name=link, vnf=vnfd.name)
        for vnfd in nsd.vnfds
        for link in vnfd.internal_links
    ]
    return NetworkServiceRecord(
        id=nsr_id or new_id(),
        project_id=project_id,
        name=name,
        descriptor_reference=nsd_id,
        vendor=nsd.vendor,
        version=nsd.version,
        vim_id=vim_id,
        vnfr=vnfrs,
        vlr=vlrs,
    )
