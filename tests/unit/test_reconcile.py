"""Start-up reconciliation over the in-memory VIM."""

from __future__ import annotations

from pathlib import Path

from nubo.model.states import OpState, VnfcState
from nubo.nfvo.reconcile import Reconciler
from nubo.vim.fake import FakeVimDriver
from nubo.vim.port import LABEL_NS, LABEL_VNFC, NetworkSpec, ServerSpec
from tests.conftest import fake_nubo

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"


async def test_orphans_are_removed_and_missing_servers_recorded(tmp_path: Path) -> None:
    app = fake_nubo(tmp_path)
    await app.start()
    try:
        entry = await app.catalogue.onboard(NSD.read_bytes())
        nsr, op = await app.ns.instantiate(entry.id)
        assert (await app.runner.wait(op.id, timeout=5)).state == OpState.COMPLETED
        nsr = await app.ns.get(nsr.id)
        fake = await app.vims.driver(nsr.vim_id)
        assert isinstance(fake, FakeVimDriver)
        labels = {LABEL_NS: nsr.id, "io.nubo.managed": "true"}
        network = nsr.vlr[0].vim_network_id
        orphan = await fake.create_server(
            ServerSpec(
                name="orphan",
                image="nubo/sipp-client:latest",
                networks={"private": network},
                labels=labels | {LABEL_VNFC: "no-such-vnfc"},
            )
        )
        stray = await fake.create_network(NetworkSpec(name="stray", labels=labels))
        client = nsr.vnfr_by_name("sipp-client").vnfcs()[0]
        fake.vanish(client.vc_id)
        untouched = await fake.create_server(
            ServerSpec(
                name="other-ns",
                image="nubo/sipp-client:latest",
                networks={"private": network},
                labels={LABEL_NS: "another-orchestrator"},
            )
        )

        report = await Reconciler(app.ns).run_once()

        found = {d.what: d.action for d in report.differences}
        assert found == {
            "server orphan has no VNFC record": "removed",
            "network stray has no VLR": "removed",
            "VNFC sipp-client-0 has no server": "recorded FAILED",
        }
        ids = {s.id for s in await fake.list_servers()}
        assert orphan.id not in ids and untouched.id in ids
        assert stray.id not in {n.id for n in await fake.list_networks()}
        _, _, seen = (await app.ns.get(nsr.id)).find_vnfc(client.id)
        assert seen.state == VnfcState.FAILED
        assert (await Reconciler(app.ns).run_once()).differences == []
    finally:
        await app.stop()
