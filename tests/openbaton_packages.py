"""Open Baton VNF packages for tests, shaped as Open Baton's iperf tutorial ships them.

Two packages (a tar each: ``Metadata.yaml``, ``vnfd.json``, ``scripts/``) and
an NSD naming both VNFDs by id: the client ``requires`` the server's address
on ``private``, its hostname and the ``port`` it ``provides``. The scripts do
what the tutorial's do in spirit, on containers: note that they ran and what
they received in files under ``/var/lib/iperf`` that a test reads back.
"""

from __future__ import annotations

import copy
import io
import json
import tarfile
from typing import Any

IMAGE = "nubo/debian:bookworm"
STATE_DIR = "/var/lib/iperf"

SERVER_VNFD: dict[str, Any] = {
    "id": "iperf-server-vnfd",
    "name": "iperf-server",
    "type": "server",
    "vendor": "nubo-tests",
    "version": "1.0",
    "endpoint": "generic",
    "provides": ["port"],
    "configurations": {
        "name": "server-configuration",
        "configurationParameters": [{"confKey": "port", "value": "5201"}],
    },
    "vdu": [
        {
            "vm_image": [IMAGE],
            "scale_in_out": 3,
            "vnfc": [{"connection_point": [{"virtual_link_reference": "private"}]}],
        }
    ],
    "virtual_link": [{"name": "private"}],
    "lifecycle_event": [
        {"event": "INSTANTIATE", "lifecycle_events": ["install-srv.sh"]},
        {"event": "START", "lifecycle_events": ["start-srv.sh"]},
        {"event": "TERMINATE", "lifecycle_events": ["stop-srv.sh"]},
    ],
}

CLIENT_VNFD: dict[str, Any] = {
    "id": "iperf-client-vnfd",
    "name": "iperf-client",
    "type": "client",
    "vendor": "nubo-tests",
    "version": "1.0",
    "endpoint": "generic",
    "requires": {"server": {"parameters": ["private", "hostname", "port"]}},
    "configurations": {
        "name": "client-configuration",
        "configurationParameters": [{"confKey": "duration", "value": "30"}],
    },
    "vdu": [
        {
            "vm_image": [IMAGE],
            "scale_in_out": 2,
            "vnfc": [{"connection_point": [{"virtual_link_reference": "private"}]}],
        }
    ],
    "virtual_link": [{"name": "private"}],
    "lifecycle_event": [
        {"event": "INSTANTIATE", "lifecycle_events": ["install-clt.sh"]},
        {"event": "CONFIGURE", "lifecycle_events": ["server_configure.sh", "summary.sh"]},
        {"event": "START", "lifecycle_events": ["start-clt.sh"]},
    ],
}

SERVER_SCRIPTS = {
    "install-srv.sh": f"#!/bin/sh\nset -e\nmkdir -p {STATE_DIR}\n"
    f'echo "installed on $hostname at $private" > {STATE_DIR}/installed\necho installed\n',
    "start-srv.sh": f'mkdir -p {STATE_DIR}\necho "listening on $port" > {STATE_DIR}/started\n',
    "stop-srv.sh": "#!/bin/sh\necho stopping iperf server\n",
}

CLIENT_SCRIPTS = {
    "install-clt.sh": f"#!/bin/sh\nset -e\nmkdir -p {STATE_DIR}\necho installed\n",
    # once per server VNFC, with that VNFC's values (Open Baton's prefix rule)
    "server_configure.sh": "#!/bin/sh\nset -e\n"
    f'echo "$server_private $server_hostname $server_port" >> {STATE_DIR}/servers\n'
    'echo "configured for $server_hostname"\n',
    # once, with every server VNFC's values comma-separated
    "summary.sh": f'#!/bin/sh\necho "$server_private" > {STATE_DIR}/summary\n',
    "start-clt.sh": f'#!/bin/sh\necho "duration $duration" > {STATE_DIR}/started\n',
}

NSD: dict[str, Any] = {
    "name": "iperf-ns",
    "vendor": "nubo-tests",
    "version": "1.0",
    "vld": [{"name": "private"}],
    "vnfd": [{"id": "iperf-server-vnfd"}, {"id": "iperf-client-vnfd"}],
}


def package(
    vnfd: dict[str, Any],
    scripts: dict[str, str],
    *,
    name: str | None = None,
    gzip: bool = False,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A tar Open Baton VNF package of ``vnfd`` and its ``scripts``."""
    files = {
        "Metadata.yaml": (
            f"name: {name or vnfd['name']}\nprovider: nubo-tests\nnfvo_version: 6.0.0\n"
            "image:\n  upload: false\n  names: []\n"
        ).encode(),
        "vnfd.json": json.dumps(vnfd, indent=2).encode(),
        **{f"scripts/{n}": text.encode() for n, text in scripts.items()},
        **(extra or {}),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gzip else "w") as archive:
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(content), 0o755
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def with_image(vnfd: dict[str, Any], image: str) -> dict[str, Any]:
    """A copy of ``vnfd`` whose VDUs run ``image``."""
    changed = copy.deepcopy(vnfd)
    for vdu in changed["vdu"]:
        vdu["vm_image"] = [image]
    return changed


def server_package(image: str = IMAGE, **changes: Any) -> bytes:
    return package(with_image(SERVER_VNFD, image), SERVER_SCRIPTS, **changes)


def client_package(
    image: str = IMAGE, scripts: dict[str, str] | None = None, **changes: Any
) -> bytes:
    return package(with_image(CLIENT_VNFD, image), scripts or CLIENT_SCRIPTS, **changes)
