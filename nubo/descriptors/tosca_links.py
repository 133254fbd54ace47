"""How the VNFCs of a SOL001 VDU connect: VduCps, VNF-internal links, external CPs.

A ``VduCp`` exposed in ``substitution_mappings`` connects its VDU's VNFCs to
the NS virtual link the NSD assigns to that requirement. A ``VduCp`` whose
``virtual_link`` is a ``VnfVirtualLink`` of the VNFD connects them to that
link's own network, private to the VNF (``<vnf>.<link>``); an exposed
``VnfExtCp`` whose ``internal_virtual_link`` is such a link joins the VNFCs
on it to the NS virtual link as well, since Docker networks cannot be
bridged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nubo.descriptors.fields import as_int
from nubo.model.descriptors import ConnectionPoint

if TYPE_CHECKING:
    from nubo.descriptors.tosca_vnfd import _VnfdReader

__all__ = ["connection_points", "internal_link", "internal_links"]

VDU = "tosca.nodes.nfv.Vdu.Compute"
VDU_CP = "tosca.nodes.nfv.VduCp"
VNF_VL = "tosca.nodes.nfv.VnfVirtualLink"
VNF_EXT_CP = "tosca.nodes.nfv.VnfExtCp"
_NODES = "topology_template.node_templates"


def internal_link(reader: _VnfdReader, node: str) -> str:
    """The name of the network of VNF-internal virtual link ``node``: ``<vnf>.<node>``."""
    return f"{reader.use.name}.{node}"


def connection_points(reader: _VnfdReader) -> dict[str, list[tuple[int, ConnectionPoint]]]:
    """VDU node name -> (order, connection point) of each VduCp bound to it.

    A VduCp on a VNF-internal virtual link connects to that link's own
    network (``internal_link``); when an exposed VnfExtCp re-exposes the
    internal link, it connects to the NS virtual link as well.
    """
    exposed = reader.exposed()
    bridged = _external_cps(reader, exposed)
    points: dict[str, list[tuple[int, ConnectionPoint]]] = {}
    for name in reader.nodes:
        if reader.kind(name) != VDU_CP:
            continue
        vdu = ""
        links: list[str] = []
        for path, requirement, value in reader.requirements(name):
            target = value.get("node") if isinstance(value, dict) else value
            if requirement == "virtual_binding":
                if reader.kind(str(target)) != VDU:
                    reader.report(path, f"{target!r} is not a Vdu.Compute node of this VNFD")
                else:
                    vdu = str(target)
            elif requirement == "virtual_link" and _is_internal_link(reader, path, target):
                links.append(internal_link(reader, str(target)))
                links.extend(bridged.get(str(target), []))
        for requirement, (cp, cp_requirement) in exposed.items():
            if (cp, cp_requirement) == (name, "virtual_link") and requirement in reader.use.links:
                links.append(reader.use.links[requirement][0])
        if not vdu:
            reader.report(f"{_NODES}.{name}.requirements", "virtual_binding to a VDU is required")
            continue
        props = reader.props(name)
        order = as_int(props.get("order"))
        for link in dict.fromkeys(links):
            point = ConnectionPoint(link, "random" if _floating(props) else None)
            points.setdefault(vdu, []).append((order if order is not None else 0, point))
    return points


def _is_internal_link(reader: _VnfdReader, path: str, target: Any) -> bool:
    if not isinstance(target, str) or target not in reader.nodes:
        reader.report(path, f"no node template {target!r} in this VNFD")
        return False
    if reader.kind(target) != VNF_VL:
        reader.report(path, f"{target!r} is not a tosca.nodes.nfv.VnfVirtualLink node")
        return False
    return True


def _external_cps(reader: _VnfdReader, exposed: dict[str, tuple[str, str]]) -> dict[str, list[str]]:
    """Internal virtual link node -> the NS virtual links exposed VnfExtCps join it to."""
    bridged: dict[str, list[str]] = {}
    for requirement, (cp, _) in exposed.items():
        node = reader.nodes.get(cp)
        node_type = node.get("type") if isinstance(node, dict) else None
        if not isinstance(node_type, str) or not reader.index.is_a(
            "node_types", node_type, VNF_EXT_CP
        ):
            continue
        internal = [
            (path, value.get("node") if isinstance(value, dict) else value)
            for path, name, value in reader.requirements(cp)
            if name == "internal_virtual_link"
        ]
        if not internal:
            reader.report(
                f"{_NODES}.{cp}.requirements",
                "internal_virtual_link is required: the VnfVirtualLink whose VNFCs this "
                "external connection point joins to the NS virtual link (or expose the "
                "VduCp itself: [ <VduCp node>, virtual_link ])",
            )
            continue
        for path, target in internal:
            if _is_internal_link(reader, path, target) and requirement in reader.use.links:
                bridged.setdefault(str(target), []).append(reader.use.links[requirement][0])
    return bridged


def internal_links(reader: _VnfdReader) -> tuple[str, ...]:
    """The networks of the VnfVirtualLink nodes some VduCp connects to."""
    used = []
    for name in reader.nodes:
        if reader.kind(name) != VDU_CP:
            continue
        for _, requirement, value in reader.requirements(name):
            target = value.get("node") if isinstance(value, dict) else value
            if requirement == "virtual_link" and reader.kind(str(target)) == VNF_VL:
                used.append(str(target))
    for node in dict.fromkeys(used):
        if "vl_profile" in reader.props(node):
            reader.r.warn(
                reader.at(f"{_NODES}.{node}.properties.vl_profile"),
                "bitrate and QoS requirements are not enforced: the VNF-internal link is "
                "a Docker network of its own",
            )
    return tuple(internal_link(reader, node) for node in dict.fromkeys(used))


def _floating(props: dict[str, Any]) -> bool:
    protocols = props.get("protocol")
    for protocol in protocols if isinstance(protocols, list) else []:
        addresses = protocol.get("address_data") if isinstance(protocol, dict) else None
        for address in addresses if isinstance(addresses, list) else []:
            l3 = address.get("l3_address_data") if isinstance(address, dict) else None
            if isinstance(l3, dict) and l3.get("floating_ip_activated") is True:
                return True
    return False
