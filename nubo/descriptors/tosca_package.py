"""The VNFD of a VNF package (SOL004), checked on its own, before any NSD uses it.

An NSD names a VNF by its node type, and nubo finds the VNFD among the
Definitions of the onboarded packages. So a package is only worth keeping
when its entry definitions are a SOL001 VNFD nubo can deploy: a template whose
``substitution_mappings.node_type`` derives from ``tosca.nodes.nfv.VNF``, with
``Vdu.Compute`` nodes naming Docker images. The same machinery as the NSD
parser reads it (``read_vnfd`` for VDUs, images, connection points and
scaling bounds; tosca-parser for types and constraints), with no NS around
it: every problem is located by its file and template path
(``Definitions/vnfd.yaml:topology_template.node_templates.vdu.type``), or,
for the Docker env files its VDUs name, by file and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from nubo.descriptors.fields import FieldReader
from nubo.descriptors.tosca_sources import ROOT, ToscaFile, ToscaSources, located
from nubo.descriptors.tosca_types import TypeIndex, vnf_requirements
from nubo.descriptors.tosca_validation import tosca_parser_problems
from nubo.descriptors.tosca_vnfd import SW_IMAGE, VNF, VnfUse, read_vnfd, resolve_inputs
from nubo.model.errors import FieldProblem, InvalidDescriptor

__all__ = ["SoftwareImage", "VnfPackageSummary", "read_vnf_package"]

_MAPPING = "topology_template.substitution_mappings"
_NODES = "topology_template.node_templates"


@dataclass(frozen=True)
class SoftwareImage:
    """The Docker image of one VDU, as its ``sw_image_data`` gives it."""

    #: the Vdu.Compute node template
    id: str
    #: the image reference (``nubo/sipp-server:latest``)
    name: str
    version: str = ""
    container_format: str = "docker"
    disk_format: str = ""
    size: str = ""
    #: ``{"algorithm": ..., "hash": ...}`` when the VNFD gives one
    checksum: dict[str, str] | None = None


@dataclass(frozen=True)
class VnfPackageSummary:
    """What SOL005 says about a package's VNFD (VnfPkgInfo's vnfdId, vnfProvider...)."""

    vnfd_id: str
    provider: str
    product_name: str
    software_version: str
    vnfd_version: str
    #: the VNF node type the VNFD substitutes (NSDs name the VNF by it)
    node_type: str
    flavour_id: str
    images: tuple[SoftwareImage, ...]
    #: the env files its VDUs name, by path in the package: NSDs read them with the VNFD
    env_files: dict[str, str] = field(default_factory=dict)


def read_vnf_package(
    files: Mapping[str, str], entry: str, artifacts: Mapping[str, bytes] | None = None
) -> VnfPackageSummary:
    """Check that ``files[entry]`` is a deployable SOL001 VNFD and summarise it.

    ``files`` are the package's YAML files by their path in the package (the
    entry and what it imports); ETSI type files fall back to nubo's own.
    ``artifacts`` are its other files, where the env files its VDUs name are.
    Raises ``InvalidDescriptor`` listing every problem, each located in its file.
    """
    if entry not in files:
        problem = FieldProblem(entry, "the entry definitions are not in the package")
        raise InvalidDescriptor([problem])
    # The main template is a placeholder, so that every problem names its file.
    sources = ToscaSources(ROOT, "", extra_files=dict(files), artifacts=artifacts)
    r = FieldReader()
    vnfd = sources.load(entry)
    flavours = _flavour_files(sources, vnfd) if vnfd is not None else []
    templates = flavours or ([vnfd] if vnfd is not None else [])
    summaries = [_PackageReader(sources, r, f).read() for f in templates]
    # NSDs look for VNFDs among all of a package's Definitions, so each must load.
    for name in files:
        sources.load(name)
    if flavours and vnfd is not None:
        _check_flavours(r, vnfd, flavours, sources)
    problems = sources.problems + r.problems
    if problems or not summaries or None in summaries:
        raise InvalidDescriptor(problems)
    found = [s for s in summaries if s is not None]
    images = {image.id: image for summary in found for image in summary.images}
    env_files = {
        name: sources.text(name) or "" for f in templates for name in sources.artifacts_of(f.name)
    }
    return replace(found[0], images=tuple(images.values()), env_files=env_files)


def _flavour_files(sources: ToscaSources, entry: ToscaFile) -> list[ToscaFile]:
    """The deployment flavour files of a top-level VNFD, or [] when the entry is the VNFD.

    SOL001 (and every Tacker sample package) writes a VNFD with several
    flavours as a top-level template that imports one file per flavour,
    each with its own ``substitution_mappings``; a single-flavour VNFD may
    put its mappings in the entry itself.
    """
    if _has_mappings(entry):
        return []
    found: list[ToscaFile] = []
    for name in sources.imported_files(entry.name)[1:]:
        loaded = sources.load(name)
        if loaded is not None and _has_mappings(loaded):
            found.append(loaded)
    return found


def _has_mappings(file: ToscaFile) -> bool:
    topology = file.document.get("topology_template")
    mappings = topology.get("substitution_mappings") if isinstance(topology, dict) else None
    return isinstance(mappings, dict) and "node_type" in mappings


def _check_flavours(
    r: FieldReader, entry: ToscaFile, flavours: list[ToscaFile], sources: ToscaSources
) -> None:
    """One VNF node type for all flavours, each flavour_id once; the entry itself valid."""
    seen: dict[str, str] = {}
    types: set[str] = set()
    for file in flavours:
        mappings = file.document["topology_template"]["substitution_mappings"]
        types.add(str(mappings.get("node_type")))
        props = mappings.get("properties")
        flavour = props.get("flavour_id") if isinstance(props, dict) else None
        where = located(file.name, ROOT, f"{_MAPPING}.properties.flavour_id")
        if not isinstance(flavour, str) or not flavour:
            r.report(where, "required: each deployment flavour file names its flavour_id")
        elif flavour in seen:
            r.report(where, f"flavour {flavour!r} is also substituted by {seen[flavour]}")
        else:
            seen[flavour] = file.name
    if len(types) > 1:
        r.report(
            located(entry.name, ROOT, "imports"),
            f"its flavour files substitute different VNF node types ({', '.join(sorted(types))}):"
            " the flavours of one VNFD substitute one node type",
        )
    index = TypeIndex(sources.types(entry.name))
    for path, message in tosca_parser_problems(
        entry.document, sources.types(entry.name), vnf_requirements(entry.document, index)
    ):
        r.report(located(entry.name, ROOT, path), message)


class _PackageReader:
    def __init__(self, sources: ToscaSources, r: FieldReader, vnfd: ToscaFile) -> None:
        self.sources, self.r, self.file = sources, r, vnfd
        self.index = TypeIndex(sources.types(vnfd.name))
        topology = vnfd.document.get("topology_template")
        self.topology: dict[str, Any] = topology if isinstance(topology, dict) else {}
        nodes = self.topology.get("node_templates")
        self.nodes: dict[str, Any] = nodes if isinstance(nodes, dict) else {}

    def report(self, path: str, message: str) -> None:
        self.r.report(located(self.file.name, ROOT, path), message)

    def read(self) -> VnfPackageSummary | None:
        node_type = self._node_type()
        if not node_type:
            return None
        structural = len(self.r.problems)
        for name, node in self.nodes.items():
            self._check_node(str(name), node)
        if len(self.r.problems) > structural:
            # tosca-parser cascades on unknown types and dangling requirements
            return None
        values = self._vnf_values(node_type)
        vnf_node = self._vnf_node(node_type)
        use = VnfUse(name=vnf_node or node_type, node_type=node_type, properties={}, metadata={})
        vnfd = read_vnfd(self.r, self.sources, self.file, self.index, use)
        for path, message in tosca_parser_problems(
            self.file.document, self.sources.types(self.file.name), self._exposed()
        ):
            self.report(path, message)
        vnfd_id = values.get("descriptor_id")
        if not isinstance(vnfd_id, str) or not vnfd_id.strip():
            self.report(
                f"{_MAPPING}.node_type",
                f"{node_type!r} gives no descriptor_id: the VNFD id (vnfdId) is its "
                "descriptor_id property's default or value",
            )
            return None
        return VnfPackageSummary(
            vnfd_id=vnfd_id.strip(),
            provider=_text(values.get("provider")),
            product_name=_text(values.get("product_name")),
            software_version=_text(values.get("software_version")),
            vnfd_version=_text(values.get("descriptor_version")),
            node_type=node_type,
            flavour_id=_text(values.get("flavour_id")),
            images=tuple(self._image(vdu.name) for vdu in vnfd.vdus if vdu.images),
        )

    def _node_type(self) -> str:
        """The substituted VNF node type; '' after reporting why this is no VNFD."""
        if not self.topology:
            self.report("topology_template", "required: a VNFD's topology template")
            return ""
        mappings = self.topology.get("substitution_mappings")
        node_type = mappings.get("node_type") if isinstance(mappings, dict) else None
        if not isinstance(node_type, str) or not node_type:
            self.report(
                f"{_MAPPING}.node_type",
                "required: this template is not a VNFD (a VNFD substitutes a VNF node type, "
                f"one derived from {VNF}, in its substitution_mappings, or imports one file "
                "per deployment flavour that does)",
            )
            return ""
        if not self.index.known("node_types", node_type):
            self.report(
                f"{_MAPPING}.node_type",
                f"unknown node type {node_type!r}: neither this template nor its imports define it",
            )
            return ""
        if not self.index.is_a("node_types", node_type, VNF):
            self.report(
                f"{_MAPPING}.node_type",
                f"{node_type!r} is not derived from {VNF}: this template is not a VNFD",
            )
            return ""
        return node_type

    def _check_node(self, name: str, node: Any) -> None:
        path = f"{_NODES}.{name}"
        node_type, problem = self.index.node_type_problem(node)
        if problem is not None:
            self.report(f"{path}.type", problem)
            if not node_type:
                return
        listed = node.get("requirements")
        if listed is not None and not isinstance(listed, list):
            self.report(f"{path}.requirements", "expected a list of requirements")
            return
        for i, entry in enumerate(listed or []):
            for requirement, value in entry.items() if isinstance(entry, dict) else []:
                target = value.get("node") if isinstance(value, dict) else value
                if not isinstance(target, str) or target not in self.nodes:
                    self.report(
                        f"{path}.requirements[{i}].{requirement}",
                        f"no node template {target!r} in {_NODES}",
                    )

    def _vnf_node(self, node_type: str) -> str:
        return next(
            (
                str(n)
                for n, t in self.nodes.items()
                if isinstance(t, dict) and t.get("type") == node_type
            ),
            "",
        )

    def _vnf_values(self, node_type: str) -> dict[str, Any]:
        """The VNF's property values: its type's defaults, then the VNFD's VNF node's."""
        values = {
            str(k): v["default"]
            for k, v in self.index.merged("node_types", node_type, "properties").items()
            if isinstance(v, dict) and "default" in v
        }
        node = self.nodes.get(self._vnf_node(node_type))
        props = node.get("properties") if isinstance(node, dict) else None
        if isinstance(props, dict):
            resolved = resolve_inputs(props, values)
            values.update(resolved if isinstance(resolved, dict) else {})
        return values

    def _exposed(self) -> set[tuple[str, str]]:
        mappings = self.topology.get("substitution_mappings")
        listed = mappings.get("requirements") if isinstance(mappings, dict) else None
        return {
            (str(target[0]), str(target[1]))
            for target in (listed.values() if isinstance(listed, dict) else [])
            if isinstance(target, list) and len(target) == 2
        } | vnf_requirements(self.file.document, self.index)

    def _image(self, vdu: str) -> SoftwareImage:
        node = self.nodes.get(vdu)
        props = node.get("properties") if isinstance(node, dict) else None
        data = props.get("sw_image_data") if isinstance(props, dict) else None
        artifacts = node.get("artifacts") if isinstance(node, dict) else None
        for artifact in artifacts.values() if isinstance(artifacts, dict) else []:
            kind = artifact.get("type") if isinstance(artifact, dict) else None
            if isinstance(kind, str) and self.index.is_a("artifact_types", kind, SW_IMAGE):
                data = artifact.get("properties")
                break
        image: dict[str, Any] = data if isinstance(data, dict) else {}
        checksum = image.get("checksum")
        return SoftwareImage(
            id=vdu,
            name=_text(image.get("name")),
            version=_text(image.get("version")),
            container_format=_text(image.get("container_format")) or "docker",
            disk_format=_text(image.get("disk_format")),
            size=_text(image.get("size")),
            checksum=(
                {str(k): _text(v) for k, v in checksum.items()}
                if isinstance(checksum, dict)
                else None
            ),
        )


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, dict | list) else str(value)
