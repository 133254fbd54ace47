"""SOL001 Vnflcm operations implemented by scripts of the package: mapped onto lifecycle
events and run in the VNFCs (over the in-memory VIM), or refused when nubo cannot run them."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nubo.app import Nubo
from nubo.descriptors.vnf_package import read_package
from nubo.model.descriptors import LifecycleEvent, LifecycleEventType
from nubo.model.states import OpState
from nubo.vim.fake import FakeVimDriver
from tests.conftest import fake_nubo
from tests.unit.test_sol001_layouts import (
    NODES,
    PACKAGE,
    definitions,
    nsd_text,
    parse,
    problems_of,
)

SIMPLE = "media_df_simple.yaml"
OPS = f"{SIMPLE}:{NODES}.VNF.interfaces.Vnflcm"
SCRIPTS = {
    "../Scripts/install.sh": "#!/bin/sh\nmkdir -p /var/lib/relay\necho installed\n",
    "../Scripts/configure.sh": 'echo "peers $edge_relay_media" > /var/lib/relay/peers\n',
    "../Scripts/drain.py": "#!/usr/bin/env python3\nprint('drained')\n",
}


def with_operations(
    extra_artifacts: dict[str, Any] | None = None, **operations: Any
) -> dict[str, str]:
    """The package's Definitions with the simple flavour's VNF node given ``operations``."""

    def edit(d: dict[str, Any]) -> None:
        vnf = d["topology_template"]["node_templates"]["VNF"]
        vnf["interfaces"]["Vnflcm"] = {"instantiate": [], "terminate": []} | operations
        vnf["artifacts"] = {
            "install": {
                "type": "tosca.artifacts.Implementation.Bash",
                "file": "../Scripts/install.sh",
            },
            "drain": {
                "type": "tosca.artifacts.Implementation.Python",
                "file": "../Scripts/drain.py",
            },
            "workflow": {
                "type": "tosca.artifacts.Implementation.nfv.Mistral",
                "file": "../Workflows/instantiate.yaml",
            },
        } | (extra_artifacts or {})

    return definitions(media_df_simple=edit) | SCRIPTS


TACKER_STYLE = {
    "instantiate_start": {"implementation": "install"},
    "instantiate": "../Scripts/configure.sh",
    "terminate_start": {"implementation": {"primary": "drain"}},
}


def test_operations_with_scripts_become_lifecycle_events_with_the_scripts_text() -> None:
    nsd = parse(with_operations(**TACKER_STYLE))
    edge = nsd.vnfd("edge-relay")
    assert edge.lifecycle_events == (
        LifecycleEvent(LifecycleEventType.INSTANTIATE, ("install.sh",)),
        LifecycleEvent(LifecycleEventType.CONFIGURE, ("configure.sh",)),
        LifecycleEvent(LifecycleEventType.TERMINATE, ("drain.py",)),
    )
    assert [s.text for s in edge.scripts] == [
        SCRIPTS["../Scripts/install.sh"],
        SCRIPTS["../Scripts/configure.sh"],
        SCRIPTS["../Scripts/drain.py"],
    ]
    # the artifacts the operations use are not "unused"; the Mistral one nobody names is
    unused = [w.path for w in nsd.warnings if ".VNF." in w.path]
    assert unused == [f"{SIMPLE}:{NODES}.VNF.artifacts.workflow"]


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            {"implementation": "workflow"},
            "'../Workflows/instantiate.yaml' is a Mistral workflow: nubo has no workflow "
            "engine; it runs scripts (tosca.artifacts.Implementation.Bash) inside the VNFC's "
            "container",
        ),
        (
            "../Playbooks/site.yaml",
            "'../Playbooks/site.yaml' is a Mistral workflow: nubo has no workflow engine; it "
            "runs scripts (tosca.artifacts.Implementation.Bash) inside the VNFC's container",
        ),
        (
            "../Scripts/missing.sh",
            "cannot read the implementation '../Scripts/missing.sh': no file ../Scripts/"
            "missing.sh in the package (the path is relative to this VNFD, as imports are)",
        ),
        (
            "https://example.com/install.sh",
            "'https://example.com/install.sh': nubo reads implementations from the package "
            "only; put the script in it and give its path relative to this VNFD "
            "(../Scripts/install.sh for a VNFD in Definitions/)",
        ),
    ],
)
def test_implementations_nubo_cannot_run_are_refused_at_the_operation(
    operation: Any, message: str
) -> None:
    problems = problems_of(with_operations(instantiate_end=operation))
    assert [(p.path, p.message) for p in problems] == [(f"{OPS}.instantiate_end", message)]


def test_an_ansible_artifact_and_python_without_a_shebang_are_refused() -> None:
    ansible = {"type": "tosca.artifacts.Implementation.Ansible", "file": "../Scripts/site.yml"}
    files = with_operations(
        extra_artifacts={"site": ansible},
        instantiate_end={"implementation": "site"},
        terminate={"implementation": "drain"},
    ) | {"../Scripts/drain.py": "print('no #!')\n"}
    problems = problems_of(files)
    assert [p.path for p in problems] == [f"{OPS}.instantiate_end", f"{OPS}.terminate"]
    assert problems[0].message.startswith(
        "'../Scripts/site.yml' is an Ansible playbook, which runs against VMs over SSH"
    )
    assert problems[1].message == (
        "'../Scripts/drain.py' is Python without a #! line: nubo runs an implementation "
        "inside the VNFC's container by its #! line (#!/usr/bin/env python3), else with /bin/sh"
    )


def test_a_package_keeps_the_scripts_its_operations_name() -> None:
    files = with_operations(**TACKER_STYLE)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "TOSCA-Metadata/TOSCA.meta", (PACKAGE / "TOSCA-Metadata/TOSCA.meta").read_text()
        )
        for name, text in files.items():
            path = name.removeprefix("../") if name.startswith("../") else f"Definitions/{name}"
            archive.writestr(path, text)
    content = read_package(buffer.getvalue())
    for name, text in SCRIPTS.items():
        assert content.definitions[name] == text
    assert "Scripts/install.sh" in [a.path for a in content.artifacts]


# --- run over the in-memory VIM ---------------------------------------------------------


@pytest.fixture
async def nubo(tmp_path: Path) -> AsyncIterator[Nubo]:
    app = fake_nubo(tmp_path, start_timeout=2, default_vim_endpoint="fake:?images=*")
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def test_the_scripts_run_in_each_vnfc_in_operation_order_with_dependency_values(
    nubo: Nubo,
) -> None:
    files = with_operations(**TACKER_STYLE)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "TOSCA-Metadata/TOSCA.meta", (PACKAGE / "TOSCA-Metadata/TOSCA.meta").read_text()
        )
        for name, text in files.items():
            path = name.removeprefix("../") if name.startswith("../") else f"Definitions/{name}"
            archive.writestr(path, text)
    package = await nubo.packages.create()
    await nubo.packages.upload(package.id, buffer.getvalue())
    entry = await nubo.catalogue.create()
    await nubo.catalogue.upload(entry.id, nsd_text().encode(), "application/yaml")
    nsd = await nubo.catalogue.parsed(entry.id)
    assert [s.name for s in nsd.vnfd("edge-relay").scripts] == [
        "install.sh",
        "configure.sh",
        "drain.py",
    ]
    nsr, op = await nubo.ns.instantiate(entry.id, name="media")
    done = await nubo.runner.wait(op.id, timeout=10)
    assert done.state == OpState.COMPLETED, done.error
    vim = await nubo.vims.default()
    fake = await nubo.vims.driver(vim.id)
    assert isinstance(fake, FakeVimDriver)
    edge_runs = [r for r in fake.execs if "edge-relay" in r.server_name]
    assert [r.command[-1].rsplit("./", 1)[-1] for r in edge_runs] == [
        "install.sh",
        "configure.sh",
    ]
    assert [(r.event, r.script) for r in done.scripts] == [
        ("INSTANTIATE", "install.sh"),
        ("CONFIGURE", "configure.sh"),
    ]
    fake.execs.clear()
    terminated = await nubo.runner.wait((await nubo.ns.terminate(nsr.id)).id, timeout=10)
    assert terminated.state == OpState.COMPLETED, terminated.error
    assert [r.command[-1] for r in fake.execs] == ["cd /opt/nubo/scripts && exec ./drain.py"]
