"""``nubo package``: VNF packages (SOL005 VNF-PKGM), and the SOL005 half of ``nubo nsd``.

Onboarding is two calls in SOL005 (create the resource, upload its
content); the CLI makes it one command, and deletes the empty resource again
when the upload is refused, so that a typo leaves nothing behind. A package
given as a directory is zipped on the fly, its root being the CSAR's root.
``nubo package manifest DIR`` refreshes the digests of a package directory's
manifest after its files were edited (the only command that works offline).
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from nubo.cli import render
from nubo.cli.client import (
    ApiError,
    CliConfig,
    NuboClient,
    Unreachable,
    echo_json,
    json_option,
    pass_config,
)

VNFPKGM = "/vnfpkgm/v1"
NSD = "/nsd/v1"
ZIP = "application/zip"
YAML = "application/yaml"
_ZIP_SUFFIXES = (".zip", ".csar")
#: Open Baton VNF packages, as its package tool makes them
TAR = "application/x-tar"
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")


def sol005(config: CliConfig, prefix: str) -> AbstractContextManager[NuboClient]:
    """A client of one SOL005 API; uploads may take a while, so two minutes per call."""
    return config.api(prefix, timeout=120.0)


def zip_directory(directory: Path) -> bytes:
    """The files under ``directory`` as a zip, paths relative to it; hidden files left out."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in package_files(directory):
            archive.write(path, name)
    return buffer.getvalue()


def package_files(directory: Path) -> list[tuple[Path, str]]:
    """(file, path inside the package) for each non-hidden file under ``directory``, sorted."""
    found: list[tuple[Path, str]] = []
    for path in sorted(directory.rglob("*")):
        name = path.relative_to(directory).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in name.split("/")):
            found.append((path, name))
    return found


def read_content(path: Path, text_type: str = YAML) -> tuple[bytes, str]:
    """The bytes to upload for ``path`` and their media type (a directory is zipped)."""
    if path.is_dir():
        return zip_directory(path), ZIP
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="PATH") from None
    if path.name.lower().endswith(_TAR_SUFFIXES):
        return data, TAR
    return data, ZIP if path.suffix.lower() in _ZIP_SUFFIXES else text_type


def create_and_upload(
    api: NuboClient,
    collection: str,
    content: str,
    data: bytes,
    media_type: str,
    create: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create a resource, upload its content; a refused upload deletes the empty resource."""
    created = api.request("POST", collection, body=create or {}).json()
    resource = f"{collection}/{created['id']}"
    try:
        # onboarding is synchronous: 204 once the content is in (SOL005), then read it back
        api.request("PUT", f"{resource}/{content}", content=data, content_type=media_type)
    except ApiError:
        with contextlib.suppress(ApiError, Unreachable):
            api.request("DELETE", resource)
        raise
    uploaded: dict[str, Any] = api.get(resource)
    return uploaded


def onboard_nsd_content(config: CliConfig, path: Path) -> dict[str, Any]:
    """``nubo nsd onboard`` for SOL001 YAML or an NSD CSAR: NsdInfo of the new NSD."""
    data, media_type = read_content(path)
    with sol005(config, NSD) as api:
        return create_and_upload(api, "/ns_descriptors", "nsd_content", data, media_type)


def set_nsd_state(config: CliConfig, nsd_id: str, state: str) -> dict[str, Any]:
    with sol005(config, NSD) as api:
        changed: dict[str, Any] = api.request(
            "PATCH", f"/ns_descriptors/{nsd_id}", body={"nsdOperationalState": state}
        ).json()
        return changed


# -- rendering ---------------------------------------------------------------------


def _table(*columns: str, title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


_s = render.cell


def package_table(packages: list[dict[str, Any]]) -> Table:
    table = _table("ID", "VNFD ID", "PRODUCT", "VERSION", "ONBOARDING", "OPERATIONAL", "USAGE")
    for p in packages:
        table.add_row(
            _s(p.get("id")),
            _s(p.get("vnfdId")),
            _s(p.get("vnfProductName")),
            _s(p.get("vnfSoftwareVersion")),
            render.state(p.get("onboardingState")),
            _s(p.get("operationalState")),
            _s(p.get("usageState")),
        )
    return table


def package_detail(package: dict[str, Any]) -> list[Table]:
    summary = _table("FIELD", "VALUE")
    for key in (
        "id",
        "vnfdId",
        "vnfProvider",
        "vnfProductName",
        "vnfSoftwareVersion",
        "vnfdVersion",
        "onboardingState",
        "operationalState",
        "usageState",
    ):
        summary.add_row(key, _s(package.get(key)))
    checksum = package.get("checksum") or {}
    summary.add_row("checksum", _s(checksum.get("hash")))
    summary.add_row("userDefinedData", _s(package.get("userDefinedData") or None))
    images = _table("VDU", "IMAGE", "FORMAT", title="Software images")
    for image in package.get("softwareImages") or []:
        images.add_row(_s(image.get("id")), _s(image.get("name")), _s(image.get("containerFormat")))
    artifacts = _table("PATH", "SHA-256", title="Artifacts")
    for artifact in package.get("additionalArtifacts") or []:
        digest = (artifact.get("checksum") or {}).get("hash")
        artifacts.add_row(_s(artifact.get("artifactPath")), _s(digest))
    return [summary, images, artifacts]


# -- commands -----------------------------------------------------------------------


@click.group()
def package() -> None:
    """VNF packages (SOL004 CSARs) in the catalogue."""


@package.command("onboard")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--user-data", "user_data", multiple=True, metavar="KEY=VALUE", help="userDefinedData."
)
@json_option
@pass_config
def package_onboard(
    config: CliConfig, path: Path, user_data: tuple[str, ...], as_json: bool
) -> None:
    """Onboard the VNF package at PATH (a .zip/.csar file, a CSAR directory, or an Open
    Baton package: .tar, .tar.gz or .zip)."""
    data, media = read_content(path, text_type=ZIP)
    with sol005(config, VNFPKGM) as api:
        info = create_and_upload(
            api, "/vnf_packages", "package_content", data, media, _user_data(user_data)
        )
    if as_json:
        echo_json(info)
        return
    click.echo(
        f"onboarded VNF package {info['id']}: VNFD {info.get('vnfdId')} "
        f"({info.get('vnfProductName')} {info.get('vnfSoftwareVersion')}), "
        f"{info.get('onboardingState')}, {info.get('operationalState')}"
    )


def _user_data(pairs: tuple[str, ...]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--user-data")
        data[key] = value
    return {"userDefinedData": data} if data else {}


@package.command("list")
@json_option
@pass_config
def package_list(config: CliConfig, as_json: bool) -> None:
    """List VNF packages."""
    with sol005(config, VNFPKGM) as api:
        packages = api.get("/vnf_packages")
    if as_json:
        echo_json(packages)
    else:
        render.console().print(package_table(packages))


@package.command("show")
@click.argument("package_id")
@json_option
@pass_config
def package_show(config: CliConfig, package_id: str, as_json: bool) -> None:
    """Show a VNF package: its VNFD, images and artifacts."""
    with sol005(config, VNFPKGM) as api:
        info = api.get(f"/vnf_packages/{package_id}")
    if as_json:
        echo_json(info)
        return
    out = render.console()
    for table in package_detail(info):
        out.print(table)


@package.command("vnfd")
@click.argument("package_id")
@pass_config
def package_vnfd(config: CliConfig, package_id: str) -> None:
    """Print the VNFD of a VNF package."""
    with sol005(config, VNFPKGM) as api:
        click.echo(api.request("GET", f"/vnf_packages/{package_id}/vnfd").text, nl=False)


def _set_state(config: CliConfig, package_id: str, state: str, as_json: bool) -> None:
    with sol005(config, VNFPKGM) as api:
        changed = api.request(
            "PATCH", f"/vnf_packages/{package_id}", body={"operationalState": state}
        ).json()
    if as_json:
        echo_json(changed)
    else:
        click.echo(f"VNF package {package_id} {state}")


@package.command("enable")
@click.argument("package_id")
@json_option
@pass_config
def package_enable(config: CliConfig, package_id: str, as_json: bool) -> None:
    """Enable a VNF package: NSDs may use it again."""
    _set_state(config, package_id, "ENABLED", as_json)


@package.command("disable")
@click.argument("package_id")
@json_option
@pass_config
def package_disable(config: CliConfig, package_id: str, as_json: bool) -> None:
    """Disable a VNF package: no new NSD may use it, nor instantiate NSDs that do."""
    _set_state(config, package_id, "DISABLED", as_json)


@package.command("delete")
@click.argument("package_id")
@pass_config
def package_delete(config: CliConfig, package_id: str) -> None:
    """Delete a VNF package (it must be DISABLED, and no NSD may use it)."""
    with sol005(config, VNFPKGM) as api:
        api.request("DELETE", f"/vnf_packages/{package_id}")
    click.echo(f"deleted VNF package {package_id}")


@package.command("artifact")
@click.argument("package_id")
@click.argument("artifact_path")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file."
)
@pass_config
def package_artifact(
    config: CliConfig, package_id: str, artifact_path: str, output: Path | None
) -> None:
    """Fetch one file of a VNF package (stdout unless -o)."""
    with sol005(config, VNFPKGM) as api:
        content = api.request("GET", f"/vnf_packages/{package_id}/artifacts/{artifact_path}")
    if output is None:
        click.echo(content.content, nl=False)  # bytes go to the binary stream as they are
    else:
        output.write_bytes(content.content)
        click.echo(f"wrote {output} ({len(content.content)} bytes)", err=True)


@package.command("manifest")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Only check: exit 1 if a digest is stale.")
def package_manifest(directory: Path, check: bool) -> None:
    """Refresh the digests in the manifest of the package directory DIRECTORY."""
    from nubo.descriptors.manifest_digests import refresh_manifest
    from nubo.model.errors import InvalidDescriptor

    manifest = _manifest_path(directory)
    files = {name: path.read_bytes() for path, name in package_files(directory)}
    if manifest not in files:
        raise click.ClickException(f"{directory}: no manifest {manifest}")
    try:
        text, changes = refresh_manifest(files[manifest].decode("utf-8"), files, manifest)
    except InvalidDescriptor as exc:
        lines = [f"  - {p.path}: {p.message}" for p in exc.problems]
        message = "the manifest cannot be refreshed:\n" + "\n".join(lines)
        raise click.ClickException(message) from None
    for change in changes:
        click.echo(change)
    if check:
        if changes:
            raise click.ClickException(f"{manifest} is stale: run `nubo package manifest`")
        click.echo(f"{manifest} is up to date")
    elif changes:
        (directory / manifest).write_text(text, encoding="utf-8")
        click.echo(f"updated {directory / manifest}")
    else:
        click.echo(f"{manifest} is up to date")


def _manifest_path(directory: Path) -> str:
    """The manifest TOSCA.meta names, else the one .mf file at the root."""
    meta = directory / "TOSCA-Metadata" / "TOSCA.meta"
    if meta.is_file():
        for line in meta.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "ETSI-Entry-Manifest" and value.strip():
                return value.strip().lstrip("/")
    roots = sorted(p.name for p in directory.glob("*.mf"))
    if len(roots) != 1:
        raise click.ClickException(
            f"{directory}: no ETSI-Entry-Manifest in TOSCA-Metadata/TOSCA.meta and "
            f"{len(roots)} .mf files at the root"
        )
    return roots[0]
