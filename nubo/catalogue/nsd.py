"""``NsdCatalogue``: onboard, list, show, enable/disable and delete network service descriptors.

Two ways in. The Open Baton route onboards a JSON document in one call. The
SOL005 way creates an empty NSD (CREATED, DISABLED) and then uploads its
content: Open Baton JSON, SOL001 YAML, or an NSD CSAR. A SOL001 NSD names
its VNFs by node types that the ONBOARDED, ENABLED VNF packages define, so it
is parsed with their Definitions, and stored with the files it used: it
parses to the same NSD for as long as it exists, whatever happens to the
packages (``vnfPkgIds`` records which it used, which keeps them IN_USE).

The catalogue keeps each document as the user sent it, so a later parser
version can re-read it and a user can download what they uploaded. Parsers
are chosen by the entry's format; the Open Baton one is injected, so tests
can stand in a tiny one.
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from nubo.catalogue.events import (
    NSD_CHANGE,
    NSD_DELETION,
    NSD_ONBOARDING,
    CatalogueEvents,
)
from nubo.catalogue.packages import UnsupportedContent, VnfPackageCatalogue, merge_patch
from nubo.descriptors.nsd_content import (
    SOL001,
    ContentKind,
    content_kind,
    original_content,
    parse_sol001_body,
    read_sol001_upload,
    with_package_hints,
)
from nubo.descriptors.openbaton_lifecycle import PACKAGE_SCRIPTS
from nubo.descriptors.openbaton_package import package_scripts
from nubo.descriptors.openbaton_references import referenced_ids, vnfds_by_id, with_references
from nubo.model.catalogue import DescriptorWarning, NsdEntry
from nubo.model.descriptors import Nsd
from nubo.model.errors import Conflict, FieldProblem, InvalidDescriptor, NuboError
from nubo.model.ids import new_id
from nubo.model.packages import OnboardingState, OperationalState, VnfPackage
from nubo.model.tenancy import SYSTEM, Scope, in_project
from nubo.store.port import NsdRepository, NsRecordRepository

log = logging.getLogger(__name__)

#: ``info`` key of the catalogue VNFDs an Open Baton NSD gives by reference, by id
REFERENCED_VNFDS = "referencedVnfds"

#: turns a decoded descriptor into an ``Nsd``; raises ``InvalidDescriptor`` listing every problem
NsdParser = Callable[[dict[str, Any]], Nsd]


class NsdCatalogue:
    """Network service descriptors: validated at onboarding, refused deletion while in use."""

    def __init__(
        self,
        store: NsdRepository,
        nsrs: NsRecordRepository,
        parse: NsdParser,
        *,
        descriptor_format: str = "openbaton",
        packages: VnfPackageCatalogue | None = None,
        events: CatalogueEvents | None = None,
    ):
        self._store = store
        self._events = events or CatalogueEvents()
        self._nsrs = nsrs
        self._parse = parse
        self._format = descriptor_format
        self._parsers: dict[str, NsdParser] = {SOL001: parse_sol001_body, descriptor_format: parse}
        self._packages = packages
        # One upload at a time: each checks the NSD is still CREATED before it stores.
        self._uploads = asyncio.Lock()
        # Parsed descriptors by NSD id. An entry's body never changes after
        # onboarding, so a cached parse stays valid until the NSD is deleted.
        self._parsed: dict[str, Nsd] = {}

    async def onboard(
        self, document: dict[str, Any] | str | bytes, scope: Scope = SYSTEM
    ) -> NsdEntry:
        """Validate and store a descriptor in the scope's project; nothing is stored when it
        is invalid. The VNFDs it references are looked for in that project only."""
        body, nsd, info = await self._read_document(document, scope.project_id)
        entry = NsdEntry(
            id=new_id(),
            project_id=scope.project_id,
            name=nsd.name,
            vendor=nsd.vendor,
            version=nsd.version,
            format=self._format,
            body=body,
            info=info,
            warnings=_warnings(nsd),
        )
        await self._store.add_nsd(entry)
        self._parsed[entry.id] = nsd
        log.info("nsd.onboarded nsd_id=%s name=%s version=%s", entry.id, nsd.name, nsd.version)
        self._events.nsd(NSD_ONBOARDING, entry)
        return entry

    async def _read_document(
        self, document: dict[str, Any] | str | bytes, project_id: str
    ) -> tuple[dict[str, Any], Nsd, dict[str, Any]]:
        """The body as sent, its parse, and the catalogue VNFDs of ``project_id`` it
        references (``info``)."""
        body = decode_document(document)
        wanted = referenced_ids(body)
        own = in_project(project_id)
        referenced, package_ids = await self._packaged_vnfds(wanted, own)
        if set(wanted) - set(referenced):
            entries = await self._store.list_nsds(own)
            bodies = [
                e.body
                for e in entries
                if e.format == self._format and e.onboarding_state == OnboardingState.ONBOARDED
            ]
            referenced |= vnfds_by_id(bodies, set(wanted) - set(referenced))
        # The parser gets its own copy so that whatever it does to its input,
        # the stored body stays the document the user sent.
        nsd = self._parse(with_references(body, referenced))
        info: dict[str, Any] = {REFERENCED_VNFDS: referenced} if referenced else {}
        if package_ids:
            info["vnfPkgIds"] = package_ids  # IN_USE while this NSD exists
        return body, nsd, info

    async def _packaged_vnfds(
        self, wanted: builtins.list[str], scope: Scope
    ) -> tuple[dict[str, Any], builtins.list[str]]:
        """The referenced VNFDs that ONBOARDED, ENABLED Open Baton VNF packages hold."""
        if not wanted or self._packages is None:
            return {}, []
        found: dict[str, Any] = {}
        package_ids: builtins.list[str] = []
        for package in await self._packages.list(scope):
            text = package.definitions.get(package.vnfd_file)
            if (
                package.vnfd_id in wanted
                and package.vnfd_id not in found
                and package.vnfd_file.endswith(".json")
                and text is not None
                and package.onboarding_state == OnboardingState.ONBOARDED
                and package.operational_state == OperationalState.ENABLED
            ):
                # the NSD keeps the scripts with its copy of the VNFD, so it runs
                # them the same for as long as it exists
                scripts = package_scripts(package.vnfd_file, package.definitions)
                found[package.vnfd_id] = json.loads(text) | {PACKAGE_SCRIPTS: scripts}
                package_ids.append(package.id)
        return found, package_ids

    async def list(self, scope: Scope = SYSTEM) -> builtins.list[NsdEntry]:
        return await self._store.list_nsds(scope)

    async def get(self, nsd_id: str, scope: Scope = SYSTEM) -> NsdEntry:
        """The entry; ``NotFound`` naming the id when there is none (in ``scope``)."""
        return await self._store.get_nsd(nsd_id, scope)

    async def parsed(self, nsd_id: str, flavour: str = "") -> Nsd:
        """The descriptor of an onboarded NSD as model objects, in NS deployment flavour
        ``flavour`` (empty: its default one, the only one of most NSDs)."""
        if flavour:
            default = await self.parsed(nsd_id)
            if flavour not in default.flavours or flavour == default.flavour_id:
                return default
            key = f"{nsd_id}#{flavour}"
            found = self._parsed.get(key)
            if found is None:
                entry = await self._store.get_nsd(nsd_id)
                found = await asyncio.to_thread(parse_sol001_body, entry.body, flavour)
                self._parsed[key] = found
            return found
        cached = self._parsed.get(nsd_id)
        if cached is not None:
            return cached
        entry = await self._store.get_nsd(nsd_id)
        if entry.onboarding_state != OnboardingState.ONBOARDED:
            raise _no_content(nsd_id, entry.onboarding_state)
        parse = self._parsers.get(entry.format)
        if parse is None:
            raise Conflict(f"NSD {nsd_id} has format {entry.format!r}, which nubo cannot read")
        body = with_references(entry.body, entry.info.get(REFERENCED_VNFDS) or {})
        nsd = await asyncio.to_thread(parse, body)
        self._parsed[nsd_id] = nsd
        return nsd

    async def ensure_usable(self, nsd_id: str, scope: Scope = SYSTEM) -> None:
        """``NotFound`` (also for an NSD ``scope`` does not see), or ``Conflict`` saying why
        the NSD may not be instantiated now."""
        entry = await self._store.get_nsd(nsd_id, scope)
        if entry.onboarding_state != OnboardingState.ONBOARDED:
            raise _no_content(nsd_id, entry.onboarding_state)
        if not entry.enabled:
            raise Conflict(f"NSD {nsd_id} is DISABLED: enable it first", nsd_id=nsd_id)
        if self._packages is None:
            return
        packages = {p.id: p for p in await self._packages.list(in_project(entry.project_id))}
        for package_id in entry.info.get("vnfPkgIds") or []:
            package = packages.get(str(package_id))
            if package is not None and package.operational_state != OperationalState.ENABLED:
                raise Conflict(
                    f"NSD {nsd_id} uses VNF package {package_id}, which is DISABLED",
                    nsd_id=nsd_id,
                    vnfPkgId=package_id,
                )

    # -- SOL005 --------------------------------------------------------------------------

    async def create(
        self, user_defined_data: dict[str, Any] | None = None, scope: Scope = SYSTEM
    ) -> NsdEntry:
        """A new NSD of the scope's project without content (CREATED, DISABLED)."""
        entry = NsdEntry(
            id=new_id(),
            project_id=scope.project_id,
            name="",
            format="",
            enabled=False,
            body={},
            onboarding_state=OnboardingState.CREATED,
            info={"userDefinedData": dict(user_defined_data or {})},
        )
        await self._store.add_nsd(entry)
        log.info("nsd.created nsd_id=%s", entry.id)
        return entry

    async def upload(
        self, nsd_id: str, data: bytes, media_type: str | None, scope: Scope = SYSTEM
    ) -> NsdEntry:
        """Onboard the content of a CREATED NSD; on any problem nothing changes (and
        subscribers hear of the failure)."""
        async with self._uploads:
            created = await self._store.get_nsd(nsd_id, scope)
            _ensure_created(created)  # refused before any upload was tried: no failure
            try:
                entry = await self._upload(nsd_id, data, media_type, scope)
            except NuboError as exc:
                self._events.nsd_onboarding_failed(created, exc)
                raise
        self._events.nsd(NSD_ONBOARDING, entry)
        return entry

    async def _upload(
        self, nsd_id: str, data: bytes, media_type: str | None, scope: Scope
    ) -> NsdEntry:
        entry = await self._store.get_nsd(nsd_id, scope)
        _ensure_created(entry)
        kind = content_kind(media_type, data)
        if kind is None:
            raise UnsupportedContent(
                f"NSD content of type {media_type!r} is not supported: send SOL001 YAML "
                "(application/yaml or text/plain), an NSD CSAR (application/zip) or Open "
                "Baton JSON (application/json)"
            )
        if kind is ContentKind.OPENBATON_JSON:
            body, nsd, info = await self._read_document(data, entry.project_id)
            onboarded = _onboarded(entry, nsd, self._format, body, {"nsdId": entry.id, **info})
            await self._save_upload(nsd_id, onboarded, nsd)
            return onboarded
        if self._packages is None:
            return await self._upload_sol001(entry, data, kind, [])
        async with self._packages.snapshot(in_project(entry.project_id)) as packages:
            # under the snapshot: no package changes until this NSD is stored
            return await self._upload_sol001(entry, data, kind, packages)

    async def _upload_sol001(
        self, entry: NsdEntry, data: bytes, kind: ContentKind, packages: builtins.list[VnfPackage]
    ) -> NsdEntry:
        enabled = [
            p
            for p in packages
            if p.onboarding_state == OnboardingState.ONBOARDED
            and p.operational_state == OperationalState.ENABLED
        ]
        files = {name: text for p in enabled for name, text in p.definitions.items()}
        try:
            upload = await asyncio.to_thread(read_sol001_upload, data, kind, files)
        except InvalidDescriptor as exc:
            raise InvalidDescriptor(_hinted(exc.problems, packages)) from None
        tosca = upload.tosca
        used = [p.id for p in enabled if tosca.files.get(p.vnfd_file) == p.definitions[p.vnfd_file]]
        props = tosca.ns_properties
        info = {
            "nsdId": _text(props.get("descriptor_id")) or entry.id,
            "nsdInvariantId": _text(props.get("invariant_id")),
            "vnfPkgIds": used,
        }
        onboarded = _onboarded(entry, tosca.nsd, SOL001, upload.body, info)
        await self._save_upload(entry.id, onboarded, tosca.nsd)
        return onboarded

    async def _save_upload(self, nsd_id: str, entry: NsdEntry, nsd: Nsd) -> None:
        # Read again: the NSD may have been deleted or uploaded to while this one was parsed.
        _ensure_created(await self._store.get_nsd(nsd_id))
        await self._store.update_nsd(entry)
        self._parsed[nsd_id] = nsd
        log.info(
            "nsd.onboarded nsd_id=%s name=%s format=%s vnf_pkg_ids=%s",
            nsd_id,
            entry.name,
            entry.format,
            ",".join(entry.info.get("vnfPkgIds") or []),
        )

    async def content(self, nsd_id: str, scope: Scope = SYSTEM) -> tuple[bytes, str]:
        """What was uploaded for the NSD, and its media type."""
        entry = await self._store.get_nsd(nsd_id, scope)
        if entry.onboarding_state != OnboardingState.ONBOARDED:
            raise _no_content(nsd_id, entry.onboarding_state)
        if entry.format == SOL001:
            return original_content(entry.body)
        return json.dumps(entry.body, indent=2).encode("utf-8"), "application/json"

    async def modify(
        self,
        nsd_id: str,
        operational_state: OperationalState | None = None,
        user_defined_data: dict[str, Any] | None = None,
        scope: Scope = SYSTEM,
    ) -> NsdEntry:
        """Enable or disable the NSD and/or merge-patch its userDefinedData."""
        entry = await self._store.get_nsd(nsd_id, scope)
        was_enabled = entry.enabled
        if operational_state is not None:
            enabled = operational_state == OperationalState.ENABLED
            if enabled != entry.enabled and entry.onboarding_state != OnboardingState.ONBOARDED:
                raise _no_content(nsd_id, entry.onboarding_state)
            entry.enabled = enabled
        if user_defined_data is not None:
            current = entry.info.get("userDefinedData") or {}
            entry.info["userDefinedData"] = merge_patch(current, user_defined_data)
        await self._store.update_nsd(entry)
        log.info("nsd.modified nsd_id=%s enabled=%s", nsd_id, entry.enabled)
        if entry.enabled != was_enabled:
            self._events.nsd(NSD_CHANGE, entry, in_use=bool(await self.users(nsd_id)))
        return entry

    async def instances(self, scope: Scope = SYSTEM) -> dict[str, builtins.list[str]]:
        """NSD id -> its NS instances (that ``scope`` sees) that are not TERMINATED (what
        makes it IN_USE)."""
        found: dict[str, builtins.list[str]] = {}
        for nsr in await self._nsrs.list_nsrs(include_terminated=False, scope=scope):
            found.setdefault(nsr.descriptor_reference, []).append(nsr.id)
        return found

    async def users(self, nsd_id: str) -> builtins.list[str]:
        """The NS instances (not TERMINATED) of the NSD."""
        return [nsr.id for nsr in await self._nsrs.nsrs_using_nsd(nsd_id)]

    async def delete(
        self, nsd_id: str, *, require_disabled: bool = False, scope: Scope = SYSTEM
    ) -> None:
        """Delete an NSD; ``Conflict`` naming the NSRs when running services still use it.

        SOL005 also wants the NSD DISABLED first (``require_disabled``); the
        Open Baton route never had that rule and keeps working without it.
        """
        entry = await self._store.get_nsd(nsd_id, scope)
        if require_disabled and entry.enabled:
            raise Conflict(f"NSD {nsd_id} is ENABLED: disable it before deleting it", nsd_id=nsd_id)
        nsr_ids = await self.users(nsd_id)
        if nsr_ids:
            raise Conflict(
                f"NSD {nsd_id} is used by network service records {', '.join(nsr_ids)}; "
                "terminate them first",
                nsd_id=nsd_id,
                nsr_ids=nsr_ids,
            )
        for key in [k for k in self._parsed if k == nsd_id or k.startswith(f"{nsd_id}#")]:
            self._parsed.pop(key, None)
        await self._store.delete_nsd(nsd_id)
        log.info("nsd.deleted nsd_id=%s", nsd_id)
        self._events.nsd(NSD_DELETION, entry)


def _ensure_created(entry: NsdEntry) -> None:
    if entry.onboarding_state != OnboardingState.CREATED:
        raise Conflict(
            f"NSD {entry.id} is {entry.onboarding_state}: its content was uploaded already; "
            "create a new NSD for another upload",
            nsd_id=entry.id,
        )


def _no_content(nsd_id: str, state: str) -> Conflict:
    return Conflict(f"NSD {nsd_id} has no content yet ({state}): upload it first", nsd_id=nsd_id)


def _onboarded(
    entry: NsdEntry, nsd: Nsd, descriptor_format: str, body: dict[str, Any], info: dict[str, Any]
) -> NsdEntry:
    return entry.onboarded(
        name=nsd.name,
        vendor=nsd.vendor,
        version=nsd.version,
        format=descriptor_format,
        body=body,
        enabled=True,
        info={**entry.info, **info},
        warnings=_warnings(nsd),
    )


def _warnings(nsd: Nsd) -> builtins.list[DescriptorWarning]:
    return [DescriptorWarning(path=w.path, message=w.message) for w in nsd.warnings]


def _hinted(
    problems: builtins.list[FieldProblem], packages: builtins.list[VnfPackage]
) -> builtins.list[FieldProblem]:
    disabled = [
        p
        for p in packages
        if p.onboarding_state == OnboardingState.ONBOARDED
        and p.operational_state == OperationalState.DISABLED
    ]
    files: Mapping[str, str] = {name: p.id for p in disabled for name in p.definitions}
    types: Mapping[str, str] = {p.vnf_node_type: p.id for p in disabled}
    return with_package_hints(problems, files, types)


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, dict | list) else str(value)


def decode_document(document: dict[str, Any] | str | bytes) -> dict[str, Any]:
    """The descriptor as a JSON object; ``InvalidDescriptor`` at path ``$`` when it is not one."""
    if isinstance(document, dict):
        return copy.deepcopy(document)
    if isinstance(document, bytes):
        try:
            document = document.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _invalid(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    try:
        decoded = json.loads(document)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno} (char {exc.pos})"
        raise _invalid(f"malformed JSON: {exc.msg} at {where}") from exc
    if not isinstance(decoded, dict):
        kind = _JSON_KINDS.get(type(decoded), type(decoded).__name__)
        raise _invalid(f"expected a JSON object, got {kind}")
    return decoded


# Users write JSON, so name what they sent in JSON's words, not Python's.
_JSON_KINDS: dict[type, str] = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _invalid(message: str) -> InvalidDescriptor:
    return InvalidDescriptor([FieldProblem(path="$", message=message)])
