"""ETSI NFV-SOL 001 TOSCA network service descriptors (YAML), mapped onto nubo's model.

The SOL001 shape: the NSD's topology template holds one node per VNF, typed
by a provider's node type derived from ``tosca.nodes.nfv.VNF``, and
``tosca.nodes.nfv.NsVirtualLink`` nodes the VNFs' ``virtual_link``
requirements point at. Each VNF type is substituted by a VNFD template (its
``substitution_mappings.node_type``) in a separate file: imported by the NSD
or handed in with ``extra_files`` (the other members of a package). A VNF
depends on another through a ``tosca.relationships.DependsOn`` requirement
(TOSCA's ``dependency``); the dependency carries the addresses on every NS
virtual link both VNFs connect to.

Every template is validated by tosca-parser as well, with imports resolved by
nubo without the network (``tosca_sources``); every problem found, by either,
is reported at once in one ``InvalidDescriptor``, each with the path of the
offending field (``topology_template.node_templates.sipp-client.requirements[0]
.virtual_link``), prefixed by the file name when it is not the NSD itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nubo.descriptors.fields import FieldReader
from nubo.descriptors.tosca_ns_flavours import choose_flavour, ns_flavour_files
from nubo.descriptors.tosca_sources import NUBO_PREFIX, ROOT, ToscaFile, ToscaSources, located
from nubo.descriptors.tosca_types import TypeIndex, vnf_requirements
from nubo.descriptors.tosca_unused import report_ns_unused
from nubo.descriptors.tosca_validation import tosca_parser_problems
from nubo.descriptors.tosca_vnfd import VNF, VnfUse, read_vnfd, resolve_inputs
from nubo.model.descriptors import Nsd, VirtualLinkDescriptor, Vnfd, VnfDependency
from nubo.model.errors import InvalidDescriptor
from nubo.model.topology import find_cycle

__all__ = ["ToscaNsd", "parse_tosca_nsd", "read_tosca_nsd"]

NS = "tosca.nodes.nfv.NS"
NS_VL = "tosca.nodes.nfv.NsVirtualLink"
LINKS_TO = "tosca.relationships.nfv.VirtualLinksTo"
DEPENDS_ON = "tosca.relationships.DependsOn"
SAP = "tosca.nodes.nfv.Sap"
PNF = "tosca.nodes.nfv.PNF"
_NODES = "topology_template.node_templates"


def parse_tosca_nsd(
    template: str | Path,
    *,
    base_dir: str | Path | None = None,
    extra_files: dict[str, str] | None = None,
) -> Nsd:
    """Parse and validate a SOL001 NSD; raise InvalidDescriptor listing every problem.

    ``template`` is YAML text, or a ``Path`` (or a one-line ``str`` ending in
    ``.yaml``/``.yml``) to read; imports are looked up in ``extra_files``
    (name -> YAML text, names relative to the NSD) and then under
    ``base_dir`` (the NSD's directory when it is read from a path), then
    ETSI type files fall back to nubo's own definitions. Nothing is fetched.
    """
    root, text, directory = _main_template(template, base_dir)
    return _read(root, text, directory, extra_files).nsd


@dataclass(frozen=True)
class ToscaNsd:
    """A parsed NSD with the files it was built from, so that it can be stored self-contained."""

    nsd: Nsd
    #: every file the NSD used (its imports, its VNFDs and theirs) by name, nubo's own excepted
    files: dict[str, str]
    #: the VNFD templates substituting its VNF nodes, by name
    vnfd_files: tuple[str, ...]
    #: the property values of its ``tosca.nodes.nfv.NS`` node (descriptor_id, designer...)
    ns_properties: dict[str, Any]


def read_tosca_nsd(
    text: str,
    *,
    extra_files: dict[str, str] | None = None,
    artifacts: Mapping[str, bytes] | None = None,
    flavour: str | None = None,
) -> ToscaNsd:
    """Parse NSD YAML text (never a path: the text may come from anyone) like ``parse_tosca_nsd``.

    Imports resolve among ``extra_files`` only (then nubo's ETSI type files);
    env files named by VDUs among ``artifacts`` (an NSD CSAR's other files),
    then ``extra_files``. The result names the files the NSD used (env files
    included, as text), so that storing the text and those files alone parses
    to the same NSD later, whatever else changes. ``flavour`` chooses the NS
    deployment flavour of an NSD with one file per flavour (``tosca_ns_flavours``).
    """
    return _read(ROOT, text, None, extra_files, artifacts, flavour)


def _read(
    root: str,
    text: str,
    directory: Path | None,
    extra_files: dict[str, str] | None,
    artifacts: Mapping[str, bytes] | None = None,
    flavour: str | None = None,
) -> ToscaNsd:
    sources = ToscaSources(
        root, text, extra_files=extra_files, base_dir=directory, artifacts=artifacts
    )
    r = FieldReader()
    main = sources.load(root)
    reader: _NsdReader | None = None
    flavours: dict[str, ToscaFile] = {}
    if main is not None:
        flavours = ns_flavour_files(r, sources, main)
        if not flavours:
            reader = _NsdReader(sources, r, main)
        elif (chosen := choose_flavour(r, sources, main, flavours, flavour)) is not None:
            reader = _NsdReader(sources, r, flavours[chosen], top=main, flavour=chosen)
    nsd = reader.read(tuple(flavours)) if reader is not None else None
    problems = sources.problems + r.problems
    if problems or nsd is None or reader is None:
        raise InvalidDescriptor(problems)
    used = list(sources.imported_files(root))
    for vnfd in reader.vnfd_files:
        used.extend(sources.imported_files(vnfd))
        used.extend(sources.artifacts_of(vnfd))  # its VDUs' env files
    files = {
        name: found
        for name in dict.fromkeys(used)
        if name != root
        and not name.startswith(NUBO_PREFIX)
        and (found := sources.text(name)) is not None
    }
    return ToscaNsd(nsd, files, tuple(reader.vnfd_files), reader.ns_properties)


def _main_template(
    template: str | Path, base_dir: str | Path | None
) -> tuple[str, str, Path | None]:
    directory = Path(base_dir) if base_dir is not None else None
    is_path = isinstance(template, Path) or (
        "\n" not in template and template.strip().endswith((".yaml", ".yml"))
    )
    if not is_path:
        return ROOT, str(template), directory
    path = Path(template)
    directory = directory or path.parent
    try:
        name = path.resolve().relative_to(directory.resolve()).as_posix()
    except ValueError:
        name = path.name
    return name, path.read_text(encoding="utf-8"), directory


class _NsdReader:
    def __init__(
        self,
        sources: ToscaSources,
        r: FieldReader,
        main: ToscaFile,
        *,
        top: ToscaFile | None = None,
        flavour: str = "",
    ) -> None:
        # ``main`` is the topology read: the NSD, or one NS flavour's file of ``top``
        self.sources, self.r, self.main = sources, r, main
        self.top, self.flavour = top, flavour
        self.types = sources.types(main.name)
        self.index = TypeIndex(self.types)
        topology = main.document.get("topology_template")
        if not isinstance(topology, dict):
            self.report("topology_template", "required: the NSD's topology template")
            topology = {}
        self.topology: dict[str, Any] = topology
        nodes = topology.get("node_templates")
        if topology and not isinstance(nodes, dict):
            self.report(f"{_NODES}", "required: a map of node templates")
        self.nodes: dict[str, Any] = nodes if isinstance(nodes, dict) else {}
        self.kinds: dict[str, str] = {}
        self.links: dict[str, dict[str, tuple[str, str]]] = {}
        self.depends: list[tuple[str, str, str]] = []  # (source, target, path)
        self.validated: set[str] = set()
        self.broken: set[str] = set()  # VNFs with a dangling requirement
        self.vnfd_files: list[str] = []
        self.ns_properties: dict[str, Any] = {}

    def at(self, path: str) -> str:
        return located(self.main.name, self.sources.root, path)

    def report(self, path: str, message: str) -> None:
        self.r.report(self.at(path), message)

    def read(self, flavours: tuple[str, ...] = ()) -> Nsd:
        for name, node in self.nodes.items():
            self._classify(str(name), node)
        structural = len(self.r.problems)
        for name in self.nodes:
            if self.kinds.get(str(name)) == VNF:
                self._read_requirements(str(name))
        if len(self.r.problems) == structural == 0 and self.nodes:
            # tosca-parser cascades (and sometimes crashes) on unknown types
            # and dangling requirements, which are reported above already.
            self._validate(self.main, set())
        vlds = tuple(VirtualLinkDescriptor(n) for n, k in self.kinds.items() if k == NS_VL)
        for vld in vlds:
            self._warn_profile(vld.name)
        report_ns_unused(lambda path, message: self.r.warn(self.at(path), message), self.topology)
        vnfds = tuple(self._vnfd(n) for n, k in self.kinds.items() if k == VNF)
        if not vnfds and self.nodes:
            self.report(_NODES, "at least one VNF node is required")
        name, vendor, version = self._identity()
        if self.flavour:
            self.ns_properties["flavour_id"] = self.flavour
        flavour = self.ns_properties.get("flavour_id")
        return Nsd(
            name=name,
            vendor=vendor,
            version=version,
            flavour_id=str(flavour)
            if isinstance(flavour, str | int) and flavour != ""
            else "default",
            flavours=flavours,
            vlds=vlds,
            vnfds=tuple(v for v in vnfds if v is not None),
            dependencies=self._dependencies(),
            # one VNFD may serve several VNF nodes: its warnings are said once
            warnings=tuple(dict.fromkeys(self.r.warnings)),
        )

    def _classify(self, name: str, node: Any) -> None:
        path = f"{_NODES}.{name}"
        node_type, problem = self.index.node_type_problem(node)
        if problem is not None:
            self.report(f"{path}.type", problem)
            return
        kind = next(
            (k for k in (VNF, NS_VL, NS) if self.index.is_a("node_types", node_type, k)), ""
        )
        if not kind:
            self._unsupported(path, node_type)
        self.kinds[name] = kind

    def _unsupported(self, path: str, node_type: str) -> None:
        """A node nubo does not deploy: a warning when it can be left aside, else refused."""
        if self.index.is_a("node_types", node_type, SAP):
            self.r.warn(
                self.at(f"{path}.type"),
                "service access points are not mapped: nubo exposes nothing of an NS beyond "
                "its virtual links, so this node is not deployed",
            )
        elif self.index.is_a("node_types", node_type, PNF):
            self.report(
                f"{path}.type",
                f"{node_type!r} is a physical network function, which nubo cannot deploy or "
                "manage: run the function as a VNF, or leave it out of the NSD",
            )
        else:
            self.report(
                f"{path}.type",
                f"{node_type!r} is not supported in an NSD by nubo yet: expected a type derived "
                f"from {VNF}, {NS_VL} or {NS}",
            )

    def _warn_profile(self, name: str) -> None:
        """An NS virtual link's bitrates and QoS are required by SOL001 but not enforced."""
        raw = self.nodes[name].get("properties")
        profile = raw.get("vl_profile") if isinstance(raw, dict) else None
        if isinstance(profile, dict) and profile:
            self.r.warn(
                self.at(f"{_NODES}.{name}.properties.vl_profile"),
                "bitrate and QoS requirements are not enforced: a virtual link is a Docker "
                "network, with no bandwidth guarantee",
            )

    def _read_requirements(self, name: str) -> None:
        node = self.nodes[name]
        listed = node.get("requirements")
        if listed is not None and not isinstance(listed, list):
            self.report(f"{_NODES}.{name}.requirements", "expected a list of requirements")
            return
        self.links[name] = {}
        for i, entry in enumerate(listed or []):
            for requirement, value in entry.items() if isinstance(entry, dict) else []:
                path = f"{_NODES}.{name}.requirements[{i}].{requirement}"
                self._read_requirement(name, str(requirement), value, path)

    def _read_requirement(self, name: str, requirement: str, value: Any, path: str) -> None:
        target = value.get("node") if isinstance(value, dict) else value
        if not isinstance(target, str) or target not in self.nodes:
            self.report(path, f"no node template {target!r} in {_NODES}")
            self.broken.add(name)
            return
        if target not in self.kinds:
            return  # its type is unknown, already reported
        relationship = self.index.relationship_of(self.nodes[name]["type"], requirement, value)
        if self.index.is_a("relationship_types", relationship, LINKS_TO):
            if self.kinds.get(target) != NS_VL:
                self.report(path, f"{target!r} is not an NsVirtualLink node")
            else:
                self.links[name][requirement] = (target, self.at(path))
        elif self.index.is_a("relationship_types", relationship, DEPENDS_ON):
            if self.kinds.get(target) != VNF:
                self.report(path, f"{target!r} is not a VNF node: only VNFs depend on VNFs")
            elif target == name:
                self.report(path, f"{name!r} cannot depend on itself")
            else:
                self.depends.append((target, name, path))

    def _validate(self, file: ToscaFile, exposed: set[tuple[str, str]]) -> None:
        types = self.sources.types(file.name)
        for path, message in tosca_parser_problems(file.document, types, exposed):
            self.r.report(located(file.name, self.sources.root, path), message)

    def _identity(self) -> tuple[str, str, str]:
        identity = self.top or self.main  # a flavour file's NS is its top-level NSD's
        metadata = identity.document.get("metadata")
        meta = metadata if isinstance(metadata, dict) else {}
        ns_nodes = self._top_ns_nodes() if self.top is not None else {}
        if not ns_nodes:
            ns_nodes = {n: self.nodes[n] for n, k in self.kinds.items() if k == NS}
        ns = next(iter(ns_nodes), None)
        raw = ns_nodes[ns].get("properties") if ns is not None else None
        props = resolve_inputs(raw, {}) if isinstance(raw, dict) else {}
        self.ns_properties = dict(props)
        name = props.get("name") or meta.get("template_name")
        if not name:
            self.report("metadata.template_name", "required: name the NS (or give an NS node)")
        vendor = props.get("designer") or meta.get("template_author") or ""
        version = props.get("version") or meta.get("template_version") or ""
        return str(name or ""), str(vendor), str(version)

    def _top_ns_nodes(self) -> dict[str, Any]:
        assert self.top is not None
        topology = self.top.document.get("topology_template")
        nodes = topology.get("node_templates") if isinstance(topology, dict) else None
        index = TypeIndex(self.sources.types(self.top.name))
        return {
            str(n): node
            for n, node in (nodes.items() if isinstance(nodes, dict) else [])
            if isinstance(node, dict)
            and isinstance(node.get("type"), str)
            and index.is_a("node_types", node["type"], NS)
        }

    # --- VNFs -------------------------------------------------------------------------------

    def _vnfd(self, name: str) -> Vnfd | None:
        node = self.nodes[name]
        node_type = str(node["type"])
        props = node.get("properties") if isinstance(node.get("properties"), dict) else {}
        defaults = self.index.merged("node_types", node_type, "properties")
        flavour = props.get("flavour_id") or _default(defaults.get("flavour_id"))
        vnfd = self._vnfd_file(name, node_type, flavour)
        if vnfd is None:
            return None
        if vnfd.name not in self.vnfd_files:
            self.vnfd_files.append(vnfd.name)
        use = VnfUse(
            name=name,
            node_type=node_type,
            properties=dict(props),
            metadata=dict(node["metadata"]) if isinstance(node.get("metadata"), dict) else {},
            links=self.links.get(name, {}),
        )
        if vnfd.name not in self.validated:
            # Several VNF nodes may use one VNFD; its own problems are reported once.
            self.validated.add(vnfd.name)
            index = TypeIndex(self.sources.types(vnfd.name))
            self._validate(vnfd, set(_exposed_pairs(vnfd)) | vnf_requirements(vnfd.document, index))
        index = TypeIndex(self.sources.types(vnfd.name))
        return read_vnfd(self.r, self.sources, vnfd, index, use)

    def _vnfd_file(self, name: str, node_type: str, flavour: Any) -> ToscaFile | None:
        candidates = [f for f in self._substituting_files() if _substituted(f) == node_type]
        if len(candidates) > 1 and flavour:
            candidates = [f for f in candidates if _flavour_of(f) in (None, flavour)]
        path = f"{_NODES}.{name}.type"
        if not candidates:
            self.report(
                path,
                f"no VNFD substitutes {node_type!r}: ship the VNFD template (its "
                f"topology_template.substitution_mappings.node_type is {node_type!r}) "
                "and import it",
            )
            return None
        if len(candidates) > 1:
            files = ", ".join(f.name for f in candidates)
            self.report(path, f"several VNFDs substitute {node_type!r} ({files}): give flavour_id")
            return None
        return candidates[0]

    def _substituting_files(self) -> list[ToscaFile]:
        names = self.sources.imported_files(self.main.name) + self.sources.names()
        found: list[ToscaFile] = []
        for file_name in dict.fromkeys(names):
            if file_name == self.main.name:
                continue
            loaded = self.sources.load(file_name)
            if loaded is not None and _substituted(loaded) and loaded not in found:
                found.append(loaded)
        return found

    def _dependencies(self) -> tuple[VnfDependency, ...]:
        order = [n for n, k in self.kinds.items() if k == NS_VL]
        dependencies: list[VnfDependency] = []
        paths: dict[tuple[str, str], str] = {}
        for source, target, path in self.depends:
            if (source, target) in paths:
                continue
            paths[(source, target)] = path
            source_links = {link for link, _ in self.links.get(source, {}).values()}
            target_links = {link for link, _ in self.links.get(target, {}).values()}
            shared = [link for link in order if link in source_links & target_links]
            if not shared and not {source, target} & self.broken:
                self.report(
                    path,
                    f"{target!r} and {source!r} share no NS virtual link, so the dependency "
                    "would carry no address",
                )
            dependencies.append(VnfDependency(source, target, tuple(shared)))
        cycle = find_cycle(paths)
        if cycle is not None:
            self.report(paths[(cycle[0], cycle[1])], "dependency cycle: " + " -> ".join(cycle))
        return tuple(dependencies)


def _default(definition: Any) -> Any:
    return definition.get("default") if isinstance(definition, dict) else None


def _mappings(file: ToscaFile) -> dict[str, Any]:
    topology = file.document.get("topology_template")
    mappings = topology.get("substitution_mappings") if isinstance(topology, dict) else None
    return mappings if isinstance(mappings, dict) else {}


def _substituted(file: ToscaFile) -> str:
    node_type = _mappings(file).get("node_type")
    return node_type if isinstance(node_type, str) else ""


def _flavour_of(file: ToscaFile) -> Any:
    props = _mappings(file).get("properties")
    return props.get("flavour_id") if isinstance(props, dict) else None


def _exposed_pairs(file: ToscaFile) -> list[tuple[str, str]]:
    listed = _mappings(file).get("requirements")
    pairs: list[tuple[str, str]] = []
    for target in listed.values() if isinstance(listed, dict) else []:
        if isinstance(target, list) and len(target) == 2:
            pairs.append((str(target[0]), str(target[1])))
    return pairs
