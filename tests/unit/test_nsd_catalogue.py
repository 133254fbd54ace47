"""NsdCatalogue over the real SQL repositories with a stand-in NSD parser."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from nubo.app import Repositories
from nubo.catalogue import NsdCatalogue
from nubo.descriptors.openbaton import parse_nsd
from nubo.model.descriptors import Nsd, Vdu, Vnfd
from nubo.model.errors import Conflict, FieldProblem, InvalidDescriptor, NotFound
from nubo.model.packages import OperationalState
from nubo.model.records import NetworkServiceRecord
from nubo.model.states import NsStatus

SIPP_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"

SIPP = {
    "name": "sipp",
    "vendor": "fokus",
    "version": "1.0",
    "vnfd": [{"name": "uas", "type": "server", "vdu": [{"vm_image": ["sipp"], "scale": 2}]}],
}


def stand_in_parse(document: dict[str, Any]) -> Nsd:
    """Just enough of a parser: needs a name and VNFDs with names, reports every problem."""
    problems: list[FieldProblem] = []
    if not isinstance(document.get("name"), str):
        problems.append(FieldProblem("$.name", "required string"))
    vnfds = document.get("vnfd", [])
    for i, vnfd in enumerate(vnfds):
        if "name" not in vnfd:
            problems.append(FieldProblem(f"$.vnfd[{i}].name", "required"))
    if problems:
        raise InvalidDescriptor(problems)
    # Popping mutates the input; the catalogue must still store the original.
    vendor = str(document.pop("vendor", ""))
    return Nsd(
        name=document["name"],
        vendor=vendor,
        version=str(document.get("version", "")),
        vnfds=tuple(
            Vnfd(
                name=v["name"],
                type=v.get("type", v["name"]),
                vdus=tuple(
                    Vdu(
                        name=f"{v['name']}-{j}",
                        images=tuple(d["vm_image"]),
                        scale_in_out=d["scale"],
                    )
                    for j, d in enumerate(v.get("vdu", []))
                ),
            )
            for v in vnfds
        ),
    )


class CountingParser:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, document: dict[str, Any]) -> Nsd:
        self.calls += 1
        return stand_in_parse(document)


@pytest.fixture
def catalogue(store: Repositories) -> NsdCatalogue:
    return NsdCatalogue(store.nsds, store.nsrs, stand_in_parse)


@pytest.mark.parametrize(
    "document",
    [SIPP, json.dumps(SIPP), json.dumps(SIPP).encode()],
    ids=["dict", "str", "bytes"],
)
async def test_onboard_stores_the_original_document(
    catalogue: NsdCatalogue, document: dict[str, Any] | str | bytes
) -> None:
    entry = await catalogue.onboard(document)

    assert (entry.name, entry.vendor, entry.version, entry.format) == (
        "sipp",
        "fokus",
        "1.0",
        "openbaton",
    )
    assert entry.body == SIPP
    assert len(entry.id) == 36
    assert await catalogue.get(entry.id) == entry
    assert await catalogue.list() == [entry]
    assert SIPP["vendor"] == "fokus"


async def test_each_onboarding_gets_a_new_id(catalogue: NsdCatalogue) -> None:
    first = await catalogue.onboard(SIPP)
    second = await catalogue.onboard(SIPP)
    assert first.id != second.id
    assert {e.id for e in await catalogue.list()} == {first.id, second.id}


async def test_malformed_json_is_refused_at_the_root(catalogue: NsdCatalogue) -> None:
    with pytest.raises(InvalidDescriptor) as caught:
        await catalogue.onboard('{"name": "sipp",\n "vnfd": [}')
    [problem] = caught.value.problems
    assert problem.path == "$"
    assert "malformed JSON" in problem.message
    assert "line 2" in problem.message
    assert await catalogue.list() == []


@pytest.mark.parametrize("document", ["[1, 2]", b"\xff\xfe{", "null"])
async def test_non_object_documents_are_refused(
    catalogue: NsdCatalogue, document: str | bytes
) -> None:
    with pytest.raises(InvalidDescriptor) as caught:
        await catalogue.onboard(document)
    assert [p.path for p in caught.value.problems] == ["$"]
    assert await catalogue.list() == []


async def test_invalid_descriptor_lists_every_problem_and_stores_nothing(
    catalogue: NsdCatalogue,
) -> None:
    with pytest.raises(InvalidDescriptor) as caught:
        await catalogue.onboard({"vnfd": [{}, {"name": "ok"}, {}]})
    assert [p.path for p in caught.value.problems] == ["$.name", "$.vnfd[0].name", "$.vnfd[2].name"]
    assert await catalogue.list() == []


async def test_parsed_returns_model_and_caches_it(store: Repositories) -> None:
    parse = CountingParser()
    entry = await NsdCatalogue(store.nsds, store.nsrs, parse).onboard(SIPP)

    fresh = NsdCatalogue(store.nsds, store.nsrs, parse)  # as after a restart: nothing cached yet
    nsd = await fresh.parsed(entry.id)
    assert nsd.vnfd("uas").vdus[0].image == "sipp"
    assert await fresh.parsed(entry.id) is nsd
    assert parse.calls == 2  # once at onboarding, once after the "restart"


async def test_unknown_nsd_is_not_found(catalogue: NsdCatalogue) -> None:
    with pytest.raises(NotFound, match="NSD missing not found"):
        await catalogue.get("missing")
    with pytest.raises(NotFound, match="NSD missing not found"):
        await catalogue.parsed("missing")
    with pytest.raises(NotFound, match="NSD missing not found"):
        await catalogue.delete("missing")


async def test_delete_refused_while_a_service_uses_it(
    catalogue: NsdCatalogue, store: Repositories
) -> None:
    entry = await catalogue.onboard(SIPP)
    nsr = NetworkServiceRecord(
        project_id="default", id="nsr-1", name="sipp", descriptor_reference=entry.id
    )
    nsr.set_status(NsStatus.ACTIVE)
    await store.nsrs.save_nsr(nsr)

    with pytest.raises(Conflict) as caught:
        await catalogue.delete(entry.id)
    assert caught.value.code == "CONFLICT"
    assert "nsr-1" in caught.value.detail
    assert caught.value.extra["nsr_ids"] == ["nsr-1"]
    assert await catalogue.get(entry.id) == entry

    nsr.set_status(NsStatus.TERMINATING)
    nsr.set_status(NsStatus.TERMINATED)
    await store.nsrs.save_nsr(nsr)
    await catalogue.delete(entry.id)
    assert await catalogue.list() == []
    with pytest.raises(NotFound):
        await catalogue.parsed(entry.id)


async def test_onboard_the_sipp_example_with_the_open_baton_parser(store: Repositories) -> None:
    catalogue = NsdCatalogue(store.nsds, store.nsrs, parse_nsd)
    raw = SIPP_EXAMPLE.read_bytes()

    entry = await catalogue.onboard(raw)

    assert entry.body == json.loads(raw)
    nsd = await NsdCatalogue(store.nsds, store.nsrs, parse_nsd).parsed(entry.id)
    assert nsd.name == entry.name
    assert nsd.vnfds


# --- SOL005: created empty, uploaded, enabled/disabled -------------------------------------

TOSCA = SIPP_EXAMPLE.parents[1] / "sipp-tosca"


def tosca_upload() -> bytes:
    """The SIPp SOL001 NSD as an NSD CSAR that ships the VNFDs it imports."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        meta = "TOSCA-Meta-File-Version: 1.0\nEntry-Definitions: Definitions/nsd.yaml\n"
        archive.writestr("TOSCA-Metadata/TOSCA.meta", meta)
        archive.writestr("Definitions/nsd.yaml", (TOSCA / "nsd.yaml").read_text())
        for vnfd in sorted(TOSCA.glob("packages/*/Definitions/*.yaml")):
            archive.writestr(f"Definitions/{vnfd.name}", vnfd.read_text())
        for env in sorted(TOSCA.glob("packages/*/Files/*.env")):  # what the VNFDs name
            archive.writestr(f"Files/{env.name}", env.read_text())
    return buffer.getvalue()


async def test_a_created_nsd_is_not_usable_until_uploaded_and_enabled(
    catalogue: NsdCatalogue,
) -> None:
    entry = await catalogue.create({"team": "voip"})
    assert (entry.onboarding_state, entry.enabled, entry.info["userDefinedData"]) == (
        "CREATED",
        False,
        {"team": "voip"},
    )
    with pytest.raises(Conflict, match=r"has no content yet \(CREATED\)"):
        await catalogue.ensure_usable(entry.id)
    with pytest.raises(Conflict, match="no content yet"):
        await catalogue.parsed(entry.id)
    with pytest.raises(NotFound):
        await catalogue.ensure_usable("missing")

    onboarded = await catalogue.upload(entry.id, json.dumps(SIPP).encode(), "application/json")
    assert (onboarded.onboarding_state, onboarded.enabled, onboarded.name) == (
        "ONBOARDED",
        True,
        "sipp",
    )
    await catalogue.ensure_usable(entry.id)
    with pytest.raises(Conflict, match="already"):
        await catalogue.upload(entry.id, json.dumps(SIPP).encode(), "application/json")

    await catalogue.modify(entry.id, OperationalState.DISABLED)
    with pytest.raises(Conflict, match=f"NSD {entry.id} is DISABLED"):
        await catalogue.ensure_usable(entry.id)
    await catalogue.modify(entry.id, OperationalState.ENABLED)
    with pytest.raises(Conflict, match="ENABLED"):
        await catalogue.delete(entry.id, require_disabled=True)
    await catalogue.modify(entry.id, OperationalState.DISABLED)
    await catalogue.delete(entry.id, require_disabled=True)
    assert await catalogue.list() == []


async def test_an_invalid_upload_changes_nothing(catalogue: NsdCatalogue) -> None:
    entry = await catalogue.create()
    with pytest.raises(InvalidDescriptor):
        await catalogue.upload(entry.id, b'{"vnfd": [{}]}', "application/json")
    with pytest.raises(InvalidDescriptor) as caught:
        await catalogue.upload(entry.id, b"topology_template: [\n", "application/yaml")
    assert "malformed YAML" in caught.value.problems[0].message
    assert await catalogue.get(entry.id) == entry


async def test_the_parser_is_chosen_by_the_entry_format(store: Repositories) -> None:
    catalogue = NsdCatalogue(store.nsds, store.nsrs, stand_in_parse)
    sol001 = await catalogue.create()
    csar = tosca_upload()
    await catalogue.upload(sol001.id, csar, "application/zip")
    openbaton = await catalogue.onboard(SIPP)

    fresh = NsdCatalogue(store.nsds, store.nsrs, stand_in_parse)  # after a restart, nothing cached
    assert (await fresh.parsed(sol001.id)).name == "docker-test-NS-sipp"
    assert (await fresh.parsed(openbaton.id)).name == "sipp"
    assert (await fresh.get(sol001.id)).format == "sol001"
    content, media_type = await fresh.content(sol001.id)
    assert (content, media_type) == (csar, "application/zip")
