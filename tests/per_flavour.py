"""A single-template VNF package rewritten in the per-flavour layout of Tacker's packages.

The entry VNFD keeps its name (so NSDs import it unchanged) but only holds
the VNF node and imports two files: ``<stem>-types.yaml`` with the types and
``<stem>-df-<flavour>.yaml`` with the topology and its substitution_mappings.
The manifest is left out (its digests would no longer match).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import yaml

_COMMON = ["etsi_nfv_sol001_common_types.yaml", "etsi_nfv_sol001_vnfd_types.yaml"]
_TYPE_SECTIONS = ("data_types", "artifact_types", "node_types", "policy_types")


def per_flavour_files(vnfd_text: str, stem: str) -> dict[str, str]:
    """The Definitions of the per-flavour layout, by file name."""
    original: dict[str, Any] = yaml.safe_load(vnfd_text)
    topology = original["topology_template"]
    flavour = topology["substitution_mappings"]["properties"]["flavour_id"]
    node_type = topology["substitution_mappings"]["node_type"]
    types_file, flavour_file = f"{stem}-types.yaml", f"{stem}-df-{flavour}.yaml"
    version = original["tosca_definitions_version"]
    types = {"tosca_definitions_version": version, "imports": list(_COMMON)}
    types.update({k: original[k] for k in _TYPE_SECTIONS if k in original})
    flavoured = {
        "tosca_definitions_version": version,
        "description": f"{stem}: deployment flavour {flavour}",
        "imports": [*_COMMON, types_file],
        "topology_template": topology,
    }
    vnf_node = next(n for n, t in topology["node_templates"].items() if t["type"] == node_type)
    top = {
        "tosca_definitions_version": version,
        "description": f"{stem}: top-level VNFD",
        "imports": [*_COMMON, types_file, flavour_file],
        "topology_template": {
            "inputs": {"selected_flavour": {"type": "string", "default": flavour}},
            "node_templates": {
                vnf_node: {
                    "type": node_type,
                    "properties": {"flavour_id": {"get_input": "selected_flavour"}},
                    "interfaces": {"Vnflcm": {"instantiate": [], "terminate": []}},
                }
            },
        },
    }
    return {
        f"{stem}.yaml": yaml.safe_dump(top, sort_keys=False),
        types_file: yaml.safe_dump(types, sort_keys=False),
        flavour_file: yaml.safe_dump(flavoured, sort_keys=False),
    }


def per_flavour_csar(package: Path) -> bytes:
    """The CSAR of an example package directory, its VNFD in the per-flavour layout."""
    meta = (package / "TOSCA-Metadata" / "TOSCA.meta").read_text()
    entry = next(
        line.split(":", 1)[1].strip()
        for line in meta.splitlines()
        if line.startswith("Entry-Definitions:")
    )
    vnfd = package / entry
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        kept = [line for line in meta.splitlines() if not line.startswith("ETSI-Entry-Manifest")]
        archive.writestr("TOSCA-Metadata/TOSCA.meta", "\n".join(kept) + "\n")
        for name, text in per_flavour_files(vnfd.read_text(), vnfd.stem).items():
            archive.writestr(f"Definitions/{name}", text)
        for path in sorted(package.rglob("*")):
            relative = path.relative_to(package).as_posix()
            if path.is_file() and relative.startswith(("Files/", "ChangeLog")):
                archive.write(path, relative)
    return buffer.getvalue()
