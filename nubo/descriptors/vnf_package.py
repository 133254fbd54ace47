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
from nubo.descriptors.openbaton_package import (
    VNFD_JSON,
    is_open_baton_package,
    read_open_baton_package,
)
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
    """Check a SOL004 CSAR (or a zipped Open Baton VNF package) and its VNFD.

    ``InvalidDescriptor`` lists every problem.
    """
    csar = read_csar(data)
    if is_open_baton_package(csar.files, csar.metadata):
        return _open_baton(data, csar)
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


def _open_baton(data: bytes, csar: CsarPackage) -> VnfPackageContent:
    summary, name, definitions = read_open_baton_package(csar.files)
    return VnfPackageContent(
        checksum=hashlib.sha256(data).hexdigest(),
        summary=summary,
        entry=VNFD_JSON,
        vnfd_file=name,
        definitions=definitions,
        artifacts=_artifacts(csar, {VNFD_JSON}),
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
