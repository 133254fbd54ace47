"""SOL004 CSAR packages: layout, manifest digests and archive safety, one test per rule."""

from __future__ import annotations

import hashlib
import io
import stat
import struct
import warnings
import zipfile

import pytest

from nubo.descriptors import csar
from nubo.descriptors.csar import CsarPackage, read_csar
from nubo.model.errors import FieldProblem, InvalidDescriptor, NotFound

META = "TOSCA-Metadata/TOSCA.meta"
VNFD = "Definitions/vnfd.yaml"
TYPES = "Definitions/etsi_nfv_sol001_vnfd_types.yaml"
SCRIPT = "Scripts/install.sh"
CONFIG = "Files/sipp/uac.xml"
REMOTE = "https://vendor.example/sipp/scale.sh"

VNFD_TEXT = """\
tosca_definitions_version: tosca_simple_yaml_1_3
imports:
  - etsi_nfv_sol001_vnfd_types.yaml
topology_template:
  node_templates: {}
"""

TOSCA_META_TEXT = f"""\
TOSCA-Meta-File-Version: 1.0
CSAR-Version: 1.1
Created-By: nubo tests
Entry-Definitions: {VNFD}
ETSI-Entry-Manifest: manifest.mf
ETSI-Entry-Change-Log: ChangeLog.txt
"""

METADATA = """\
metadata:
vnf_provider_id: nubo
vnf_product_name: sipp-uac
vnf_release_date_time: 2024-05-01T12:00:00+00:00
vnf_package_version: 1.0
compatible_specification_versions: 2.6.1, 4.3.1
"""


def build_csar(files: dict[str, str | bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive, in memory, with the given files in the given order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def hexdigest(content: str | bytes, algorithm: str = "sha256") -> str:
    data = content.encode() if isinstance(content, str) else content
    return hashlib.new(algorithm, data).hexdigest()


def listing(source: str, content: str | bytes | None, algorithm: str = "SHA-256") -> str:
    """One manifest entry; without content, the file is listed without a digest."""
    if content is None:
        return f"Source: {source}\n"
    digest = hexdigest(content, algorithm.replace("-", "").lower())
    return f"Source: {source}\nAlgorithm: {algorithm}\nHash: {digest}\n"


def package_files() -> dict[str, str | bytes]:
    """A valid package with TOSCA.meta, a manifest, Files/ and Scripts/."""
    files: dict[str, str | bytes] = {
        META: TOSCA_META_TEXT,
        VNFD: VNFD_TEXT,
        TYPES: "tosca_definitions_version: tosca_simple_yaml_1_3\n",
        SCRIPT: "#!/bin/sh\necho installed\n",
        CONFIG: b"<scenario name='uac'/>\n",
        "ChangeLog.txt": "1.0: first release\n",
    }
    entries = [listing(name, files[name]) for name in (VNFD, TYPES, SCRIPT, CONFIG)]
    files["manifest.mf"] = "\n".join(
        [
            METADATA,
            *entries,
            listing("ChangeLog.txt", None),
            listing(REMOTE, "#!/bin/sh\n"),
            "non_mano_artifact_sets:\n  prv.nubo.sipp:\n    Source: Files/sipp/uac.xml\n",
            "-----BEGIN CMS-----\nMIIBsignature\n-----END CMS-----\n",
        ]
    )
    return files


def problems_of(data: bytes, **limits: int) -> list[FieldProblem]:
    with pytest.raises(InvalidDescriptor) as info:
        read_csar(data, **limits)
    return info.value.problems


def only_problem(data: bytes, **limits: int) -> FieldProblem:
    problems = problems_of(data, **limits)
    assert len(problems) == 1, problems
    return problems[0]


# --- valid packages -----------------------------------------------------------


def test_package_with_tosca_meta_and_manifest() -> None:
    package = read_csar(build_csar(package_files()))

    assert package.entry_definitions == VNFD
    assert package.metadata["CSAR-Version"] == "1.1"
    assert package.metadata["Created-By"] == "nubo tests"
    assert package.manifest_path == "manifest.mf"
    assert package.manifest is not None
    assert [e.source for e in package.manifest.entries] == [
        VNFD,
        TYPES,
        SCRIPT,
        CONFIG,
        "ChangeLog.txt",
        REMOTE,
    ]
    assert package.manifest.entries[0].algorithm == "SHA-256"
    assert package.manifest.non_mano_artifact_sets == {"prv.nubo.sipp": (CONFIG,)}
    assert package.manifest.signature is not None
    assert "MIIBsignature" in package.manifest.signature
    assert package.unverified == (REMOTE,)


def test_product_info_comes_from_the_manifest_metadata() -> None:
    product = read_csar(build_csar(package_files())).product

    assert product is not None
    assert product.provider_id == "nubo"
    assert product.product_name == "sipp-uac"
    assert product.package_version == "1.0"
    assert product.release_date_time == "2024-05-01T12:00:00+00:00"
    assert product.compatible_specification_versions == ("2.6.1", "4.3.1")


def test_definitions_are_the_yaml_files_under_the_entry_folder() -> None:
    files = package_files()
    files["Files/sipp/values.yaml"] = "not: a definition\n"
    package = read_csar(build_csar(files))

    assert package.definitions() == {TYPES: files[TYPES], VNFD: VNFD_TEXT}


def test_artifacts_are_read_by_path() -> None:
    package = read_csar(build_csar(package_files()))

    assert package.artifact(SCRIPT) == b"#!/bin/sh\necho installed\n"
    assert package.artifact(f"./{CONFIG}") == b"<scenario name='uac'/>\n"
    assert set(package.files) == set(package_files())
    with pytest.raises(NotFound):
        package.artifact("Scripts/missing.sh")


@pytest.mark.parametrize("algorithm", ["SHA-256", "SHA-384", "SHA-512"])
def test_every_sol004_digest_algorithm_is_checked(algorithm: str) -> None:
    files = package_files()
    files["manifest.mf"] = METADATA + "\n" + listing(VNFD, VNFD_TEXT, algorithm)
    package = read_csar(build_csar(files))
    assert package.manifest is not None
    assert package.manifest.entries[0].algorithm == algorithm

    files[VNFD] = VNFD_TEXT + "# changed\n"
    problem = only_problem(build_csar(files))
    assert problem == FieldProblem(
        VNFD, f"{algorithm} digest of {VNFD} does not match the manifest"
    )


def test_package_without_tosca_meta() -> None:
    files: dict[str, str | bytes] = {
        "sipp.yaml": VNFD_TEXT,
        TYPES: "tosca_definitions_version: tosca_simple_yaml_1_3\n",
        SCRIPT: "#!/bin/sh\n",
    }
    files["sipp.mf"] = METADATA + "\n" + listing("sipp.yaml", VNFD_TEXT) + listing(SCRIPT, None)
    package = read_csar(build_csar(files))

    assert package.entry_definitions == "sipp.yaml"
    assert package.metadata == {}
    assert package.manifest_path == "sipp.mf"
    assert package.product is not None
    assert package.product.product_name == "sipp-uac"
    assert set(package.definitions()) == {"sipp.yaml", TYPES}


def test_package_without_tosca_meta_or_manifest() -> None:
    package = read_csar(build_csar({"sipp.yml": VNFD_TEXT}, zipfile.ZIP_STORED))

    assert package.entry_definitions == "sipp.yml"
    assert package.manifest is None
    assert package.product is None
    assert package.unverified == ()


def test_package_with_tosca_meta_and_no_manifest() -> None:
    package = read_csar(build_csar({META: f"Entry-Definitions: {VNFD}\n", VNFD: VNFD_TEXT}))

    assert package.entry_definitions == VNFD
    assert package.manifest is None


def test_tosca_meta_continuation_lines_and_later_blocks() -> None:
    meta = f"Entry-Definitions: Definitions/\n vnfd.yaml\nCreated-By: me\n\nName: {VNFD}\n"
    package = read_csar(build_csar({META: meta, VNFD: VNFD_TEXT}))

    assert package.entry_definitions == VNFD
    assert package.metadata == {"Entry-Definitions": VNFD, "Created-By": "me"}


# --- the package's content ----------------------------------------------------


def test_missing_listed_file() -> None:
    files = package_files()
    del files[SCRIPT]

    problem = only_problem(build_csar(files))
    assert problem.path == "manifest.mf"
    assert f"lists {SCRIPT}, which is not in the package" in problem.message


def test_listed_without_digest_is_fine_but_must_exist() -> None:
    files = package_files()
    del files["ChangeLog.txt"]
    files[META] = TOSCA_META_TEXT.replace("ETSI-Entry-Change-Log: ChangeLog.txt\n", "")

    problem = only_problem(build_csar(files))
    assert problem.path == "manifest.mf"
    assert "lists ChangeLog.txt, which is not in the package" in problem.message


def test_missing_entry_definitions_key() -> None:
    files = package_files()
    files[META] = TOSCA_META_TEXT.replace(f"Entry-Definitions: {VNFD}\n", "")

    assert only_problem(build_csar(files)) == FieldProblem(META, "Entry-Definitions is required")


def test_entry_definitions_file_missing() -> None:
    files = package_files()
    files[META] = TOSCA_META_TEXT.replace(VNFD, "Definitions/nope.yaml")

    assert only_problem(build_csar(files)) == FieldProblem(
        META, "Entry-Definitions names Definitions/nope.yaml, which is not in the package"
    )


def test_files_named_by_tosca_meta_must_exist() -> None:
    files = package_files()
    del files["manifest.mf"]
    del files["ChangeLog.txt"]

    problems = problems_of(build_csar(files))
    assert problems == [
        FieldProblem(META, "ETSI-Entry-Manifest names manifest.mf, which is not in the package"),
        FieldProblem(
            META, "ETSI-Entry-Change-Log names ChangeLog.txt, which is not in the package"
        ),
    ]


def test_tosca_meta_paths_may_not_leave_the_package() -> None:
    meta = "Entry-Definitions: ../vnfd.yaml\nETSI-Entry-Licenses: /etc\n"
    problems = problems_of(build_csar({META: meta, VNFD: VNFD_TEXT}))

    assert [p.path for p in problems] == [META, META]
    assert "'..'" in problems[0].message
    assert "absolute" in problems[1].message


def test_malformed_tosca_meta_line() -> None:
    meta = f"Entry-Definitions: {VNFD}\nthis line has no colon\n"
    problem = only_problem(build_csar({META: meta, VNFD: VNFD_TEXT}))

    assert problem == FieldProblem(META, "line 2: expected 'Name: value'")


def test_entry_definitions_must_be_yaml() -> None:
    meta = "Entry-Definitions: Definitions/vnfd.json\n"
    problem = only_problem(build_csar({META: meta, "Definitions/vnfd.json": "{}"}))

    assert problem == FieldProblem(META, "Entry-Definitions Definitions/vnfd.json is not YAML")


def test_definitions_must_be_utf8() -> None:
    files = package_files()
    files[TYPES] = b"description: caf\xe9\n"
    files["manifest.mf"] = METADATA

    problem = only_problem(build_csar(files))
    assert problem.path == TYPES
    assert problem.message.startswith("not UTF-8 text")


def test_without_tosca_meta_exactly_one_root_yaml() -> None:
    problem = only_problem(build_csar({"a.yaml": VNFD_TEXT, "b.yml": VNFD_TEXT}))

    assert problem.path == "$"
    assert "exactly one YAML file, found 2: a.yaml, b.yml" in problem.message
    assert only_problem(build_csar({"README.txt": "hi"})).path == "$"


def test_manifest_named_after_the_entry_without_tosca_meta() -> None:
    problem = only_problem(build_csar({"sipp.yaml": VNFD_TEXT, "other.mf": METADATA}))

    assert problem == FieldProblem(
        "other.mf", "the manifest must be named sipp.mf, after sipp.yaml"
    )


def test_package_zipped_inside_a_folder_is_explained() -> None:
    files = {f"sipp/{name}": content for name, content in package_files().items()}
    problem = only_problem(build_csar(files))

    assert problem.path == "$"
    assert "zip the contents of sipp/, not the folder itself" in problem.message


def test_manifest_format_problems() -> None:
    files = package_files()
    files["manifest.mf"] = (
        METADATA
        + "\n"
        + "Algorithm: SHA-256\n"  # line 8: before any Source
        + f"Source: {VNFD}\nAlgorithm: MD5\nHash: abc\n"  # 9-11
        + f"Source: {SCRIPT}\nHash: {hexdigest(files[SCRIPT])}\n"  # 12-13
        + f"Source: {CONFIG}\nAlgorithm: SHA-256\nHash: 1234\n"  # 14-16
        + f"Source: {VNFD}\n"  # 17
        + "Sauce: typo.sh\n"  # 18
        + f"Source: {TYPES}\nAlgorithm: SHA-256\nAlgorithm: SHA-512\n"  # 19-21
    )
    problems = problems_of(build_csar(files))

    assert all(p.path == "manifest.mf" for p in problems), problems
    assert sorted(p.message for p in problems) == sorted(
        [
            "line 8: Algorithm comes before any Source",
            "line 18: unexpected 'Sauce': expected metadata, Source, Algorithm, Hash",
            "line 10: unknown digest algorithm 'MD5'; SOL004 allows SHA-256, SHA-384, SHA-512",
            f"line 12: {SCRIPT} has Hash but no Algorithm",
            "line 16: Hash is not a SHA-256 digest (64 hex digits)",
            f"line 17: {VNFD} is listed twice",
            f"line 21: a second Algorithm for {TYPES}",
            f"line 19: {TYPES} has Algorithm but no Hash",
        ]
    )


def test_manifest_algorithm_spellings_and_case() -> None:
    files = package_files()
    files["manifest.mf"] = (
        f"Source: {VNFD}\nAlgorithm: sha256\nHash: {hexdigest(VNFD_TEXT).upper()}\n"
    )
    package = read_csar(build_csar(files))

    assert package.manifest is not None
    assert package.manifest.entries[0].algorithm == "SHA-256"
    assert package.manifest.metadata == {}


def test_manifest_sources_may_not_leave_the_package() -> None:
    files = package_files()
    files["manifest.mf"] = METADATA + "\n" + listing("../../etc/passwd", "x")

    problem = only_problem(build_csar(files))
    assert problem.path == "manifest.mf"
    assert "'..'" in problem.message


def test_many_problems_are_reported_at_once() -> None:
    files = package_files()
    files[VNFD] = VNFD_TEXT + "# tampered\n"
    files[CONFIG] = b"<scenario name='tampered'/>\n"
    del files[SCRIPT]
    del files["ChangeLog.txt"]

    problems = problems_of(build_csar(files))
    assert FieldProblem(VNFD, f"SHA-256 digest of {VNFD} does not match the manifest") in problems
    assert FieldProblem(CONFIG, f"SHA-256 digest of {CONFIG} does not match the manifest") in (
        problems
    )
    assert {p.path for p in problems} == {VNFD, CONFIG, "manifest.mf", META}
    assert len(problems) == 5, problems  # + missing script, change log (listed and in meta)


# --- the archive ------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 not really", b"tosca_definitions_version: 1"])
def test_not_a_zip(data: bytes) -> None:
    problem = only_problem(data)

    assert problem.path == "$"
    assert problem.message.startswith("not a ZIP archive")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.sh", "'..'"),
        ("Files/../../evil.sh", "'..'"),
        ("/etc/cron.d/evil", "absolute"),
        ("C:/Windows/evil.bat", "absolute"),
        ("Files\\..\\evil.bat", "backslash"),
    ],
)
def test_path_traversal(name: str, reason: str) -> None:
    files = package_files()
    files[name] = "evil"

    problem = only_problem(build_csar(files))
    assert problem.path == name
    assert reason in problem.message


def test_too_many_files() -> None:
    files = package_files()
    assert read_csar(build_csar(files), max_files=len(files))

    problem = only_problem(build_csar(files), max_files=len(files) - 1)
    assert problem == FieldProblem(
        "$", f"{len(files)} entries; at most {len(files) - 1} are allowed"
    )


def test_too_large_uncompressed() -> None:
    files = package_files()
    files["Files/images/zeros.img"] = bytes(1_000_000)
    data = build_csar(files)
    assert len(data) < 10_000  # a tiny archive that inflates a thousandfold
    assert read_csar(data, max_size=1_100_000)

    problem = only_problem(data, max_size=1_000_000)
    total = sum(len(c) for c in files.values())
    assert problem == FieldProblem("$", f"{total} bytes uncompressed; at most 1000000 are allowed")


def test_inflated_size_is_counted_even_past_trusted_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As if a header lied and the up-front check believed it.
    monkeypatch.setattr(csar, "_check_limits", lambda infos, max_size, max_files: None)
    files = package_files()
    files["Files/images/zeros.img"] = bytes(1_000_000)

    problem = only_problem(build_csar(files), max_size=1_000_000)
    assert problem == FieldProblem("$", "inflates past the limit of 1000000 bytes (a zip bomb?)")


def _central_records(data: bytes) -> list[int]:
    """Offsets of the central directory file headers of an archive."""
    offsets, at = [], data.find(b"PK\x01\x02")
    while at != -1:
        offsets.append(at)
        at = data.find(b"PK\x01\x02", at + 4)
    return offsets


def test_overlapping_entries_are_a_zip_bomb() -> None:
    data = bytearray(build_csar({"a.yaml": VNFD_TEXT, "b.txt": "x" * 1000}))
    second = _central_records(bytes(data))[1]
    data[second + 42 : second + 46] = struct.pack("<I", 0)  # b.txt now reuses a.yaml's data

    problem = only_problem(bytes(data))
    assert problem.path == "$"
    assert "overlap" in problem.message


def test_size_lying_in_the_header_is_refused() -> None:
    data = bytearray(build_csar({"sipp.yaml": VNFD_TEXT, "Files/big.bin": bytes(100_000)}))
    second = _central_records(bytes(data))[1]
    data[second + 24 : second + 28] = struct.pack("<I", 10)  # claims 10 bytes uncompressed

    problem = only_problem(bytes(data))
    assert problem.path == "Files/big.bin"
    assert problem.message.startswith("cannot be read")


def test_encrypted_entries() -> None:
    data = bytearray(build_csar({"sipp.yaml": VNFD_TEXT, "Files/secret.bin": b"ciphertext"}))
    second = _central_records(bytes(data))[1]
    data[second + 8] |= 0x1  # zipfile cannot encrypt; set the "encrypted" flag bit

    assert only_problem(bytes(data)) == FieldProblem(
        "Files/secret.bin", "encrypted entries are not accepted"
    )


def test_symbolic_links() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sipp.yaml", VNFD_TEXT)
        link = zipfile.ZipInfo("Files/passwd")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")

    assert only_problem(buffer.getvalue()) == FieldProblem(
        "Files/passwd", "symbolic links are not accepted"
    )


def test_duplicate_names() -> None:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of the duplicate
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("sipp.yaml", VNFD_TEXT)
            archive.writestr("sipp.yaml", "tosca_definitions_version: evil\n")
            archive.writestr("Files/a.txt", "a")
            archive.writestr("./Files/a.txt", "b")

    problems = problems_of(buffer.getvalue())
    assert problems == [
        FieldProblem("sipp.yaml", "a second entry for sipp.yaml"),
        FieldProblem("./Files/a.txt", "a second entry for Files/a.txt"),
    ]


def test_archive_problems_are_all_reported() -> None:
    files = package_files()
    files["../a"] = "a"
    files["/b"] = "b"

    assert [p.path for p in problems_of(build_csar(files))] == ["../a", "/b"]


def test_directory_entries_are_not_files() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.mkdir("Definitions")
        archive.writestr(VNFD, VNFD_TEXT)
        archive.writestr(META, f"Entry-Definitions: {VNFD}\n")

    package: CsarPackage = read_csar(buffer.getvalue())
    assert set(package.files) == {VNFD, META}


def test_non_mano_artifacts_must_exist() -> None:
    files = package_files()
    files["manifest.mf"] = (
        METADATA + "\nnon_mano_artifact_sets:\n  prv.nubo.sipp:\n    Source: Files/gone.xml\n"
    )

    assert only_problem(build_csar(files)) == FieldProblem(
        "manifest.mf",
        "non-MANO artifact set prv.nubo.sipp: lists Files/gone.xml, which is not in the package",
    )
