"""The manifest file (``.mf``) of an ETSI SOL004 VNF package.

The manifest names the package (provider, product, version), lists the
package's files with their digests, and may end with a CMS signature. It is a
line format of its own, not YAML: a ``metadata:`` block of ``name: value``
lines, one ``Source:``/``Algorithm:``/``Hash:`` block per listed file, and an
optional ``non_mano_artifact_sets:`` section whose sets are indented. This
module only reads the text; checking the listed files against the archive is
the CSAR reader's job, because only it holds the files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nubo.model.errors import FieldProblem

__all__ = [
    "DIGEST_ALGORITHMS",
    "Manifest",
    "ManifestEntry",
    "VnfProductInfo",
    "is_uri",
    "parse_manifest",
]

#: SOL004 digest algorithm names -> hashlib names
DIGEST_ALGORITHMS: dict[str, str] = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
_HEX_LENGTH = {"SHA-256": 64, "SHA-384": 96, "SHA-512": 128}
_HEX = re.compile(r"[0-9a-fA-F]+")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_ENTRY_KEYS = ("algorithm", "hash", "signature", "certificate")
_CMS_BEGIN = "-----BEGIN CMS-----"
_CMS_END = "-----END CMS-----"


@dataclass(frozen=True)
class ManifestEntry:
    """One file the manifest lists, with its digest when the manifest gives one."""

    source: str
    line: int
    #: the SOL004 name (``SHA-256``...), canonical upper case, or None
    algorithm: str | None = None
    #: lower-case hex digest, or None
    hash: str | None = None
    signature: str | None = None
    certificate: str | None = None

    @property
    def is_uri(self) -> bool:
        """An artifact outside the package (``https://...``): it cannot be verified offline."""
        return is_uri(self.source)


@dataclass(frozen=True)
class VnfProductInfo:
    """What the manifest metadata says about the VNF product (SOL004 clause 4.3.2)."""

    provider_id: str | None
    product_name: str | None
    package_version: str | None
    release_date_time: str | None
    compatible_specification_versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest:
    """A parsed SOL004 manifest."""

    metadata: dict[str, str]
    entries: tuple[ManifestEntry, ...]
    non_mano_artifact_sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: the CMS signature block at the end of the manifest, as text (not verified)
    signature: str | None = None

    @property
    def product(self) -> VnfProductInfo:
        meta = self.metadata
        versions = meta.get("compatible_specification_versions", "")
        return VnfProductInfo(
            provider_id=meta.get("vnf_provider_id"),
            product_name=meta.get("vnf_product_name"),
            package_version=meta.get("vnf_package_version"),
            release_date_time=meta.get("vnf_release_date_time"),
            compatible_specification_versions=tuple(
                v.strip() for v in versions.split(",") if v.strip()
            ),
        )


def parse_manifest(text: str, path: str) -> tuple[Manifest, list[FieldProblem]]:
    """Parse manifest text; problems are located at ``path`` (the .mf file) with a line number."""
    parser = _ManifestParser(path)
    for number, line in enumerate(text.splitlines(), start=1):
        parser.feed(number, line.rstrip())
    return parser.finish()


@dataclass
class _Draft:
    source: str
    line: int
    values: dict[str, tuple[int, str]] = field(default_factory=dict)

    def value(self, key: str) -> str | None:
        return self.values[key][1] if key in self.values else None


class _ManifestParser:
    """A line-at-a-time state machine: metadata, file entries, non-MANO sets, signature."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[FieldProblem] = []
        self.metadata: dict[str, str] = {}
        self.drafts: list[_Draft] = []
        self.sets: dict[str, list[str]] = {}
        self.section = ""  # "", "metadata", "non_mano" or "cms"
        self.seen_metadata = False
        self.current_set: str | None = None
        self.cms: list[str] = []

    def report(self, line: int, message: str) -> None:
        self.problems.append(FieldProblem(self.path, f"line {line}: {message}"))

    def feed(self, number: int, line: str) -> None:
        stripped = line.strip()
        if self.section == "cms" or stripped == _CMS_BEGIN:
            self.section = "cms"
            self.cms.append(stripped)
            if stripped == _CMS_END:
                self.section = ""
            return
        if not stripped:
            if self.section == "metadata":
                self.section = ""
            return
        if self.section == "non_mano":
            if line[0].isspace():
                self._non_mano(number, stripped)
                return
            self.section = ""
        name, colon, value = stripped.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not name:
            self.report(number, f"expected 'name: value', got {stripped!r}")
            return
        self._pair(number, name, value)

    def _pair(self, number: int, name: str, value: str) -> None:
        key = name.lower()
        if key == "source":
            self.section = ""
            if not value:
                self.report(number, "Source must name a file")
            self.drafts.append(_Draft(value, number))
        elif self.section == "metadata":
            if name in self.metadata:
                self.report(number, f"duplicate metadata {name!r}")
            self.metadata[name] = value
        elif key == "metadata" and not value:
            if self.seen_metadata:
                self.report(number, "a second metadata block")
            self.section = "metadata"
            self.seen_metadata = True
        elif key == "non_mano_artifact_sets" and not value:
            self.section = "non_mano"
            self.current_set = None
        elif key in _ENTRY_KEYS:
            self._entry_value(number, name, key, value)
        else:
            self.report(number, f"unexpected {name!r}: expected metadata, Source, Algorithm, Hash")

    def _entry_value(self, number: int, name: str, key: str, value: str) -> None:
        if not self.drafts:
            self.report(number, f"{name} comes before any Source")
        elif key in self.drafts[-1].values:
            self.report(number, f"a second {name} for {self.drafts[-1].source}")
        else:
            self.drafts[-1].values[key] = (number, value)

    def _non_mano(self, number: int, stripped: str) -> None:
        name, _, value = stripped.partition(":")
        name, value = name.strip(), value.strip()
        if name.lower() == "source" and self.current_set is not None:
            if not value:
                self.report(number, "Source must name a file")
            self.sets[self.current_set].append(value)
        elif not value and name and name.lower() != "source":
            self.current_set = name
            self.sets.setdefault(name, [])
        else:
            self.report(number, f"expected a non-MANO artifact set or its Source, got {stripped!r}")

    def finish(self) -> tuple[Manifest, list[FieldProblem]]:
        if self.section == "cms":
            self.report(len(self.cms), f"the signature has no {_CMS_END} line")
        entries: list[ManifestEntry] = []
        listed: set[str] = set()
        for draft in self.drafts:
            if draft.source and draft.source in listed:
                self.report(draft.line, f"{draft.source} is listed twice")
            listed.add(draft.source)
            entries.append(self._entry(draft))
        manifest = Manifest(
            metadata=self.metadata,
            entries=tuple(entries),
            non_mano_artifact_sets={k: tuple(v) for k, v in self.sets.items()},
            signature="\n".join(self.cms) + "\n" if self.cms else None,
        )
        return manifest, self.problems

    def _entry(self, draft: _Draft) -> ManifestEntry:
        algorithm = hash_ = None
        if "algorithm" in draft.values:
            line, raw = draft.values["algorithm"]
            algorithm = _algorithm(raw)
            if algorithm is None:
                allowed = ", ".join(DIGEST_ALGORITHMS)
                self.report(line, f"unknown digest algorithm {raw!r}; SOL004 allows {allowed}")
        if "hash" in draft.values:
            line, hash_ = draft.values["hash"]
            length = _HEX_LENGTH.get(algorithm or "")
            if length and not (len(hash_) == length and _HEX.fullmatch(hash_)):
                self.report(line, f"Hash is not a {algorithm} digest ({length} hex digits)")
            hash_ = hash_.lower()
        if ("algorithm" in draft.values) != ("hash" in draft.values):
            has_algorithm = "algorithm" in draft.values
            given, missing = ("Algorithm", "Hash") if has_algorithm else ("Hash", "Algorithm")
            self.report(draft.line, f"{draft.source} has {given} but no {missing}")
        return ManifestEntry(
            source=draft.source,
            line=draft.line,
            algorithm=algorithm,
            hash=hash_,
            signature=draft.value("signature"),
            certificate=draft.value("certificate"),
        )


def is_uri(source: str) -> bool:
    """A source naming an artifact outside the package (``https://...``)."""
    return bool(_URI.match(source))


def _algorithm(raw: str) -> str | None:
    """The SOL004 name of a digest algorithm; ``sha256`` and ``SHA256`` are taken too."""
    name = raw.strip().upper().replace("_", "-")
    if name.startswith("SHA") and not name.startswith("SHA-"):
        name = "SHA-" + name[3:]
    return name if name in DIGEST_ALGORITHMS else None
