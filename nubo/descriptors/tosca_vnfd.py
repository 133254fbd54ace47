"""One SOL001 VNFD topology template, as the NSD uses it, mapped onto a ``Vnfd``.

The NSD names a VNF by a node type derived from ``tosca.nodes.nfv.VNF``; the
VNFD is the template whose ``substitution_mappings.node_type`` is that type.
Its ``tosca.nodes.nfv.Vdu.Compute`` nodes become VDUs (the Docker image is
``sw_image_data.name``, the scaling bound ``vdu_profile.max_number_of_instances``,
the instances created at instantiation come from the default instantiation
level), its ``tosca.nodes.nfv.VduCp`` nodes become the connection points of
each VNFC, attached to the NS virtual link the NSD connects the mapped
requirement to, and the VNF's ``configurable_properties.
additional_configurable_properties`` become its configuration parameters.

A VDU's environment comes from Docker env files (seed 004 §4.8.11: a Docker
VDU's ``envVars`` is "a docker environment variable file as accepted by the
docker run --env-file option"). SOL001 has no such property, so the VDU names
the file as a node artifact, ``env: {type: nubo.artifacts.EnvFile, file:
../Files/app.env}`` (nubo's VNFD type definitions define the type), the file
relative to the VNFD as imports are. Several such artifacts are read in the
order given, a later one winning, as with repeated ``--env-file`` options.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from nubo.descriptors.env_file import read_env_file
from nubo.descriptors.fields import FieldReader
from nubo.descriptors.tosca_lifecycle import read_operations
from nubo.descriptors.tosca_links import connection_points, internal_links
from nubo.descriptors.tosca_scaling import vdu_bounds
from nubo.descriptors.tosca_sources import ToscaFile, ToscaSources, located
from nubo.descriptors.tosca_types import TypeIndex
from nubo.descriptors.tosca_unused import report_unused
from nubo.model.descriptors import (
    Configuration,
    ConfigurationParameter,
    DeploymentFlavour,
    Vdu,
    VnfcTemplate,
    Vnfd,
)

__all__ = ["ENV_FILE", "SW_IMAGE", "VNF_TYPE_KEY", "VnfUse", "read_vnfd", "resolve_inputs"]

#: The metadata key that gives a VNF the Open Baton ``type`` naming its
#: dependency variables (``server`` -> ``SERVER_PRIVATE``).
VNF_TYPE_KEY = "nubo.vnf_type"
VNF = "tosca.nodes.nfv.VNF"
VDU = "tosca.nodes.nfv.Vdu.Compute"
VDU_CP = "tosca.nodes.nfv.VduCp"
VNF_VL = "tosca.nodes.nfv.VnfVirtualLink"
#: The artifact type of a VDU's software image (SOL001 v3 and later).
SW_IMAGE = "tosca.artifacts.nfv.SwImage"
#: The artifact type of a VDU's Docker env file (a nubo extension of SOL001).
ENV_FILE = "nubo.artifacts.EnvFile"
_ADDITIONAL_BASE = "tosca.datatypes.nfv.VnfAdditionalConfigurableProperties"
_NODES = "topology_template.node_templates"


@dataclass(frozen=True)
class VnfUse:
    """A VNF node of the NSD: its name, type, properties and the NS links it connects."""

    name: str
    node_type: str
    properties: dict[str, Any]
    metadata: dict[str, Any]
    #: VNF requirement name -> (NS virtual link, path of the NSD assignment)
    links: dict[str, tuple[str, str]] = field(default_factory=dict)


def resolve_inputs(value: Any, inputs: dict[str, Any]) -> Any:
    """``value`` with every ``{get_input: name}`` replaced from ``inputs``."""
    if isinstance(value, dict):
        if len(value) == 1 and "get_input" in value:
            return inputs.get(str(value["get_input"]))
        return {k: resolve_inputs(v, inputs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_inputs(v, inputs) for v in value]
    return value


class _VnfdReader:
    def __init__(
        self, r: FieldReader, sources: ToscaSources, vnfd: ToscaFile, index: TypeIndex, use: VnfUse
    ) -> None:
        self.r, self.sources, self.file, self.index, self.use = r, sources, vnfd, index, use
        self.root = sources.root
        topology = vnfd.document.get("topology_template")
        self.topology: dict[str, Any] = topology if isinstance(topology, dict) else {}
        nodes = self.topology.get("node_templates")
        self.nodes: dict[str, Any] = nodes if isinstance(nodes, dict) else {}
        self.inputs = self._inputs()
        #: the node template of the substituted VNF type itself, if the VNFD has one
        self.vnf_node = next(
            (
                n
                for n, t in self.nodes.items()
                if isinstance(t, dict) and t.get("type") == use.node_type
            ),
            "",
        )

    def at(self, path: str) -> str:
        return located(self.file.name, self.root, path)

    def report(self, path: str, message: str) -> None:
        self.r.report(self.at(path), message)

    def kind(self, name: str) -> str:
        node = self.nodes.get(name)
        node_type = node.get("type") if isinstance(node, dict) else None
        if not isinstance(node_type, str):
            return ""
        for base in (VDU, VDU_CP, VNF_VL, VNF):
            if self.index.is_a("node_types", node_type, base):
                return base
        return ""

    def _inputs(self) -> dict[str, Any]:
        # The substituted node's property values are the VNFD's inputs (SOL001).
        declared = self.topology.get("inputs")
        inputs = {
            str(k): v.get("default")
            for k, v in (declared.items() if isinstance(declared, dict) else [])
            if isinstance(v, dict)
        }
        inputs.update(self.use.properties)
        return inputs

    def props(self, name: str) -> dict[str, Any]:
        node = self.nodes.get(name)
        raw = node.get("properties") if isinstance(node, dict) else None
        resolved = resolve_inputs(raw, self.inputs) if isinstance(raw, dict) else {}
        return resolved if isinstance(resolved, dict) else {}

    def requirements(self, name: str) -> list[tuple[str, str, Any]]:
        node = self.nodes.get(name)
        listed = node.get("requirements") if isinstance(node, dict) else None
        found: list[tuple[str, str, Any]] = []
        for i, entry in enumerate(listed if isinstance(listed, list) else []):
            for requirement, value in entry.items() if isinstance(entry, dict) else []:
                found.append(
                    (f"{_NODES}.{name}.requirements[{i}].{requirement}", requirement, value)
                )
        return found

    # --- the VNF itself --------------------------------------------------------------------

    def vnf_properties(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The VNF's property values (type defaults < VNFD node < NSD node) and metadata."""
        values = {
            k: v["default"]
            for k, v in self.index.merged("node_types", self.use.node_type, "properties").items()
            if isinstance(v, dict) and "default" in v
        }
        metadata = dict(self.index.merged("node_types", self.use.node_type, "metadata"))
        if self.vnf_node:
            values.update(self.props(self.vnf_node))
            node_metadata = self.nodes[self.vnf_node].get("metadata")
            if isinstance(node_metadata, dict):
                metadata.update(node_metadata)
        values.update(self.use.properties)
        metadata.update(self.use.metadata)
        return values, metadata

    def configuration(self, values: dict[str, Any]) -> Configuration:
        configurable = values.get("configurable_properties")
        additional = (
            configurable.get("additional_configurable_properties")
            if isinstance(configurable, dict)
            else None
        )
        definitions = self._additional_property_definitions()
        given = additional if isinstance(additional, dict) else {}
        # the base type's own properties (is_writable_anytime) say how the VNFM may
        # change the others: they are not configuration of the VNF
        standard = self.index.merged("data_types", _ADDITIONAL_BASE, "properties")
        params: list[ConfigurationParameter] = []
        for key in [*definitions, *(k for k in given if k not in definitions)]:
            if key in standard:
                if key in given:
                    self.r.warn(
                        self.at(
                            f"{_NODES}.{self.vnf_node or self.use.node_type}.properties."
                            f"configurable_properties.additional_configurable_properties.{key}"
                        ),
                        f"{key} is not used: nubo's VNFCs get their configuration when they "
                        "are created, and it is not modified afterwards",
                    )
                continue
            spec = definitions.get(key, {})
            value = given.get(key, spec.get("default") if isinstance(spec, dict) else None)
            if value is None:
                continue
            if isinstance(value, dict | list):
                self.report(
                    f"{_NODES}.{self.vnf_node or self.use.node_type}.properties."
                    f"configurable_properties.additional_configurable_properties.{key}",
                    "expected a scalar value: configuration parameters become environment "
                    "variables",
                )
                continue
            text = value if isinstance(value, str) else json.dumps(value)
            description = spec.get("description", "") if isinstance(spec, dict) else ""
            params.append(ConfigurationParameter(str(key), text, str(description or "")))
        return Configuration(self._additional_type() if params else "", tuple(params))

    def _additional_type(self) -> str:
        props = self.index.merged("node_types", self.use.node_type, "properties")
        configurable = props.get("configurable_properties")
        data_type = configurable.get("type") if isinstance(configurable, dict) else None
        if not isinstance(data_type, str):
            return ""
        nested = self.index.merged("data_types", data_type, "properties")
        additional = nested.get("additional_configurable_properties")
        found = additional.get("type") if isinstance(additional, dict) else None
        return found if isinstance(found, str) else ""

    def _additional_property_definitions(self) -> dict[str, Any]:
        data_type = self._additional_type()
        return self.index.merged("data_types", data_type, "properties") if data_type else {}

    # --- VDUs and their connection points ---------------------------------------------------

    def exposed(self) -> dict[str, tuple[str, str]]:
        """VNF requirement -> (node, requirement) from ``substitution_mappings.requirements``."""
        mappings = self.topology.get("substitution_mappings")
        listed = mappings.get("requirements") if isinstance(mappings, dict) else None
        exposed: dict[str, tuple[str, str]] = {}
        for requirement, target in listed.items() if isinstance(listed, dict) else []:
            path = f"topology_template.substitution_mappings.requirements.{requirement}"
            if (
                not isinstance(target, list)
                or len(target) != 2
                or not all(isinstance(t, str) for t in target)
            ):
                self.report(path, "expected [ node template, requirement ]")
            elif target[0] not in self.nodes:
                self.report(path, f"no node template {target[0]!r} in this VNFD")
            else:
                exposed[str(requirement)] = (target[0], target[1])
        for requirement, (_, assigned_at) in self.use.links.items():
            if requirement not in exposed:
                self.r.report(
                    assigned_at,
                    f"the VNFD of {self.use.name!r} ({self.file.name}) exposes no requirement "
                    f"{requirement!r} in its substitution_mappings",
                )
        return exposed

    def vdus(self, bounds: dict[str, tuple[int, int, int]]) -> tuple[Vdu, ...]:
        points = connection_points(self)
        vdus: list[Vdu] = []
        for name in self.nodes:
            if self.kind(name) != VDU:
                continue
            low, initial, scale = bounds.get(name, (1, 1, 1))
            cps = tuple(cp for _, cp in sorted(points.get(name, []), key=lambda p: p[0]))
            vdus.append(
                Vdu(
                    name=name,
                    images=self._image(name),
                    scale_in_out=scale,
                    # a template even for none at first: scale-out makes VNFCs of it
                    vnfc_templates=tuple(VnfcTemplate(cps) for _ in range(max(initial, 1))),
                    environment=self._environment(name),
                    min_instances=low,
                    initial=initial,
                )
            )
        if not vdus:
            self.report(_NODES, "at least one tosca.nodes.nfv.Vdu.Compute node is required")
        return tuple(vdus)

    def sw_image(self, name: str) -> tuple[str, Any]:
        """(path, software image data) of a VDU: its SwImage artifact, else sw_image_data.

        SOL001 v3 and later give a VDU's image as a ``tosca.artifacts.nfv.SwImage``
        artifact whose properties are those of ``sw_image_data``.
        """
        node = self.nodes.get(name)
        artifacts = node.get("artifacts") if isinstance(node, dict) else None
        for key, artifact in artifacts.items() if isinstance(artifacts, dict) else []:
            kind = artifact.get("type") if isinstance(artifact, dict) else None
            if isinstance(kind, str) and (
                kind == SW_IMAGE or self.index.is_a("artifact_types", kind, SW_IMAGE)
            ):
                props = resolve_inputs(artifact.get("properties"), self.inputs)
                return f"{_NODES}.{name}.artifacts.{key}.properties", props
        return f"{_NODES}.{name}.properties.sw_image_data", self.props(name).get("sw_image_data")

    def _image(self, name: str) -> tuple[str, ...]:
        path, image = self.sw_image(name)
        if not isinstance(image, dict):
            self.report(
                f"{_NODES}.{name}.properties.sw_image_data",
                "missing image: give the Docker image as sw_image_data.name, or as the "
                f"properties.name of a {SW_IMAGE} artifact",
            )
            return ()
        image_name = image.get("name")
        if not isinstance(image_name, str) or not image_name.strip():
            self.report(f"{path}.name", "missing image: expected the name of a Docker image")
            return ()
        container_format = image.get("container_format")
        if container_format is not None and container_format != "docker":
            self.report(
                f"{path}.container_format",
                f"nubo runs containers: expected 'docker', got {container_format!r}",
            )
        return (image_name,)

    def _environment(self, name: str) -> tuple[tuple[str, str], ...]:
        """The variables of the VDU's env file artifacts, a later file winning."""
        node = self.nodes.get(name)
        artifacts = node.get("artifacts") if isinstance(node, dict) else None
        path = f"{_NODES}.{name}.artifacts"
        if artifacts is not None and not isinstance(artifacts, dict):
            self.report(path, "expected a map of artifact definitions")
        environment: dict[str, str] = {}
        for key, artifact in artifacts.items() if isinstance(artifacts, dict) else []:
            if isinstance(artifact, dict) and self._is_env_file(artifact.get("type")):
                environment.update(self._env_file(f"{path}.{key}", artifact))
            elif isinstance(artifact, str) and artifact.strip().endswith(".env"):
                # The short form leaves the type to guess; nubo does not guess.
                self.report(
                    f"{path}.{key}",
                    f"give the artifact's type to use it as an env file: "
                    f"{{type: {ENV_FILE}, file: {artifact.strip()}}}",
                )
        return tuple(environment.items())

    def _is_env_file(self, artifact_type: Any) -> bool:
        # By name too: a package with its own copy of the ETSI type files lacks nubo's type.
        return isinstance(artifact_type, str) and (
            artifact_type == ENV_FILE or self.index.is_a("artifact_types", artifact_type, ENV_FILE)
        )

    def _env_file(self, path: str, artifact: dict[str, Any]) -> dict[str, str]:
        reference = artifact.get("file")
        if not isinstance(reference, str) or not reference.strip():
            self.report(f"{path}.file", "required: the env file, relative to this VNFD")
            return {}
        reference = reference.strip()
        if artifact.get("repository") or "://" in reference or reference.startswith("/"):
            # Never fetched; and "/x" would name one file in a package, another in an NSD.
            self.report(
                f"{path}.file",
                f"{reference!r}: nubo reads env files from the package only; give the path "
                "relative to this VNFD (../Files/app.env for a VNFD in Definitions/)",
            )
            return {}
        name, text = self.sources.artifact(self.file.name, reference)
        if text is None:
            self.report(
                f"{path}.file",
                f"cannot read env file {reference!r}: no file {name} in the package "
                "(the path is relative to this VNFD, as imports are)",
            )
            return {}
        variables, problems = read_env_file(text, located(name, self.root, ""))
        self.r.problems.extend(problems)
        return variables


def read_vnfd(
    r: FieldReader, sources: ToscaSources, vnfd: ToscaFile, index: TypeIndex, use: VnfUse
) -> Vnfd:
    """The ``Vnfd`` of ``use`` as its VNFD template describes it; problems go to ``r``.

    ``sources`` holds the files the VNFD was loaded from; its VDUs' env files
    are read from them too.
    """
    reader = _VnfdReader(r, sources, vnfd, index, use)
    events, scripts, used_artifacts = read_operations(reader)
    report_unused(reader, used_artifacts)
    values, metadata = reader.vnf_properties()
    bounds = vdu_bounds(reader)
    vnf_type = metadata.get(VNF_TYPE_KEY)
    flavour = values.get("flavour_id")
    return Vnfd(
        name=use.name,
        type=str(vnf_type) if vnf_type else use.name,
        vendor=str(values.get("provider") or ""),
        version=str(values.get("descriptor_version") or ""),
        vdus=reader.vdus(bounds),
        virtual_links=tuple(dict.fromkeys(link for link, _ in use.links.values())),
        internal_links=internal_links(reader),
        configuration=reader.configuration(values),
        deployment_flavours=(DeploymentFlavour(str(flavour)),) if flavour else (),
        lifecycle_events=events,
        scripts=scripts,
    )
