"""A VNF package's content as the catalogue keeps it: the CSAR checked, its VNFD read.

``read_csar`` makes sure the archive is safe and its digests match;
``read_vnf_package`` that the entry definitions are a deployable VNFD. What
remains is what SOL005's VnfPkgInfo reports and what NSDs need later: the
archive's checksum, the files that are not definitions (additional
artifacts, with their digests), and the Definitions by the names an NSD
imports them by (relative to the entry's folder: an NSD that imports
``sipp-server-vnfd.yaml`` finds ``Definitions/sipp-server-vnfd.yaml``). The
env files the VNFD's VDUs name go with the Definitions, named the same way
(``../Files/sipp-client.env``), so that an NSD parsed over the packages finds
them where the VNFD says, and keeps them in its stored body.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass

from nubo.descriptors.csar import TOSCA_META, CsarPackage, read_csar
from nubo.descriptors.tosca_package import VnfPackageSummary, read_vnf_package
from nubo.model.errors import FieldProblem, InvalidDescriptor

__all__ = ["PackageArtifact", "VnfPackageContent", "read_package"]


@dataclass(frozen=True)
class PackageArtifact:
    """A file of the package that is neither a definition nor its metadata."""

    path: str
    #: lower-case hex SHA-256 of the file
    sha256: str
    #: the non-MANO artifact set the manifest puts it in, if any
    non_mano_set: str | None = None


@dataclass(frozen=True)
class VnfPackageContent:
    """An onboardable package: its summary, its definitions and its other files."""

    #: lower-case hex SHA-256 of the whole archive
    checksum: str
    summary: VnfPackageSummary
    #: path of the entry VNFD in the package
    entry: str
    #: the entry's name relative to its folder (how NSDs import it)
    vnfd_file: str
    #: the YAML definitions, and the env files the VNFD names, by name relative to
    #: the entry's folder
    definitions: dict[str, str]
    artifacts: tuple[PackageArtifact, ...]


def read_package(data: bytes) -> VnfPackageContent:
    """Check a SOL004 CSAR and its VNFD; ``InvalidDescriptor`` lists every problem."""
    csar = read_csar(data)
    _refuse_open_baton(csar)
    definitions = csar.definitions()
    others = {name: content for name, content in csar.files.items() if name not in definitions}
    summary = read_vnf_package(definitions, csar.entry_definitions, others)
    _check_product(csar, summary)
    folder = posixpath.dirname(csar.entry_definitions)
    texts = definitions | summary.env_files
    return VnfPackageContent(
        checksum=hashlib.sha256(data).hexdigest(),
        summary=summary,
        entry=csar.entry_definitions,
        vnfd_file=_relative(csar.entry_definitions, folder),
        definitions={_relative(name, folder): text for name, text in texts.items()},
        artifacts=_artifacts(csar, set(definitions)),
    )


#: the files at the root of an Open Baton VNF package (Metadata.yaml, vnfd.json, scripts/)
_OPEN_BATON = ("Metadata.yaml", "vnfd.json")


def _refuse_open_baton(csar: CsarPackage) -> None:
    """An Open Baton VNF package, zipped, is not a CSAR: say so rather than what it lacks."""
    if csar.metadata or not all(name in csar.files for name in _OPEN_BATON):
        return
    raise InvalidDescriptor(
        [
            FieldProblem(
                "Metadata.yaml",
                "this is an Open Baton VNF package (Metadata.yaml, vnfd.json), which nubo "
                "does not onboard yet: write the VNFD of vnfd.json inline in the vnfd list "
                "of an Open Baton NSD, or package the VNF as a SOL004 CSAR",
            )
        ]
    )


def _relative(name: str, folder: str) -> str:
    return posixpath.relpath(name, folder) if folder else name


def _check_product(csar: CsarPackage, summary: VnfPackageSummary) -> None:
    """SOL004: the manifest's provider and product name are the VNFD's."""
    product = csar.product
    if product is None or csar.manifest_path is None:
        return
    problems: list[FieldProblem] = []
    for key, given, expected in (
        ("vnf_provider_id", product.provider_id, summary.provider),
        ("vnf_product_name", product.product_name, summary.product_name),
    ):
        if given is not None and expected and given != expected:
            problems.append(
                FieldProblem(
                    csar.manifest_path,
                    f"metadata {key} is {given!r} but the VNFD says {expected!r}",
                )
            )
    if problems:
        raise InvalidDescriptor(problems)


def _artifacts(csar: CsarPackage, definitions: set[str]) -> tuple[PackageArtifact, ...]:
    skip = definitions | {TOSCA_META, csar.manifest_path or ""}
    sets: dict[str, str] = {}
    if csar.manifest is not None:
        for set_name, sources in csar.manifest.non_mano_artifact_sets.items():
            for source in sources:
                sets.setdefault(source.strip("/"), set_name)
    return tuple(
        PackageArtifact(name, hashlib.sha256(content).hexdigest(), sets.get(name))
        for name, content in sorted(csar.files.items())
        if name not in skip
    )
