"""Records of one project, and a request to every API operation that names them.

The tenancy tests make a record of every kind in the ``default`` project
(``make_records``) and then call each operation of the OpenAPI document as a
caller of another project, with the real ids in the path and a body the
operation accepts (``request_for``): the body must not be what stops the
request, or a 400 would hide whether the record was found.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx

from nubo.app import Nubo
from nubo.model.alarms import PerceivedSeverity, ProbableCause
from nubo.model.metrics import Metric, Sample
from nubo.model.tenancy import DEFAULT_PROJECT

NSD = Path(__file__).resolve().parents[1] / "examples" / "sipp" / "nsd.json"

#: path parameters that name a record of a project (the others name identity objects)
RECORD_PARAMS = frozenset(
    {
        "nsd_id",
        "nsr_id",
        "vnfr_id",
        "vdu_id",
        "vnfc_id",
        "op_id",
        "vim_id",
        "alarm_id",
        "kpi_id",
        "package_id",
        "artifact_path",
        "ns_instance_id",
        "subscription_id",
    }
)
#: the operations of identity, tokens and API versions: not records of a project
IDENTITY_PREFIXES = (
    "/api/v1/users",
    "/api/v1/projects",
    "/api/v1/signing-keys",
    "/api/v1/whoami",
    "/oauth/",
    "/health",
)


def is_identity(path: str) -> bool:
    return path.startswith(IDENTITY_PREFIXES) or path.endswith("/api_versions")


def record_params(path: str) -> set[str]:
    """The record parameters a route template names."""
    return {p for p in RECORD_PARAMS if "{" + p + "}" in path}


async def wait_op(http: httpx.AsyncClient, location: str) -> dict[str, Any]:
    for _ in range(300):
        op: dict[str, Any] = (await http.get(location)).json()
        if op["state"] in ("COMPLETED", "FAILED", "ROLLED_BACK", "FAILED_TEMP"):
            return op
        await asyncio.sleep(0.02)
    raise AssertionError(f"operation {location} did not finish")


async def make_records(app: Nubo, http: httpx.AsyncClient, callback: str) -> dict[str, str]:
    """One record of every kind in the project of ``http``'s token (``default``): path
    parameter -> id. ``http`` must be a project ADMIN (it registers a VIM)."""
    ids: dict[str, str] = {}

    def created(response: httpx.Response) -> dict[str, Any]:
        assert response.status_code in (200, 201, 202), response.text
        body: dict[str, Any] = response.json()
        return body

    ids["vim_id"] = created(
        await http.post("/api/v1/vims", json={"name": "a-vim", "type": "fake"})
    )["id"]
    nsd = created(await http.post("/api/v1/ns-descriptors", json=json.loads(NSD.read_text())))
    ids["nsd_id"] = nsd["id"]
    deployed = await http.post(f"/api/v1/ns-records/{nsd['id']}", json={"vim": "a-vim"})
    nsr = created(deployed)
    op = await wait_op(http, deployed.headers["location"])
    assert op["state"] == "COMPLETED", op
    nsr = created(await http.get(f"/api/v1/ns-records/{nsr['id']}"))
    vnfr = nsr["vnfr"][0]
    vdu = vnfr["vdu"][0]
    ids |= {
        "nsr_id": nsr["id"],
        "ns_instance_id": nsr["id"],
        "op_id": op["id"],
        "vnfr_id": vnfr["id"],
        "vdu_id": vdu["id"],
        "vnfc_id": vdu["vnfc_instance"][0]["id"],
    }
    package = created(await http.post("/vnfpkgm/v1/vnf_packages", json={}))
    ids["package_id"] = package["id"]
    ids["artifact_path"] = "Definitions/vnfd.yaml"
    sub = created(await http.post("/nslcm/v1/subscriptions", json={"callbackUri": callback}))
    ids["subscription_id"] = sub["id"]
    kpi = created(
        await http.post(
            f"/api/v1/ns-records/{nsr['id']}/kpis",
            json={
                "name": "cpu",
                "metric": "cpu.percent",
                "comparison_operator": ">=",
                "threshold": 80,
            },
        )
    )
    ids["kpi_id"] = kpi["id"]
    # an alarm of an object no loop watches, so that nothing clears it meanwhile
    alarm = await app.fault.alarms.raise_alarm(
        "vnfc-elsewhere",
        ProbableCause.HEAL_FAILED,
        PerceivedSeverity.MAJOR,
        ["made by the test"],
        project_id=DEFAULT_PROJECT,
        nsr_id=nsr["id"],
    )
    ids["alarm_id"] = alarm.id
    now = time.time()
    await app.repositories.metrics.write(
        [Sample(now - 1, nsr["id"], vnfr["id"], ids["vnfc_id"], Metric.CPU_PERCENT, 42.0)]
    )
    return ids


def concrete(path: str, ids: dict[str, str], missing: str = "no-such-id") -> str:
    """``path`` with every parameter replaced: from ``ids`` where it names one, else
    ``missing``."""
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        name = path[start + 1 : end]
        path = path[:start] + ids.get(name, missing) + path[end + 1 :]
    return path


#: bodies each operation accepts, so that it reaches the record (by method and template)
_NSI = "/nslcm/v1/ns_instances"
_VNFCS = "/api/v1/ns-records/{nsr_id}/vnfrecords/{vnfr_id}/vduunits/{vdu_id}/vnfcinstances"
JSON_BODIES: dict[tuple[str, str], Any] = {
    ("patch", "/nsd/v1/ns_descriptors/{nsd_id}"): {"nsdOperationalState": "DISABLED"},
    ("patch", "/vnfpkgm/v1/vnf_packages/{package_id}"): {"operationalState": "DISABLED"},
    ("patch", "/nsfm/v1/alarms/{alarm_id}"): {"ackState": "ACKNOWLEDGED"},
    ("post", "/vnfpkgm/v1/vnf_packages/{package_id}/package_content/upload_from_uri"): {
        "addressInformation": "http://127.0.0.1:9/package.zip"
    },
    ("post", "/api/v1/ns-records/{nsr_id}/kpis"): {
        "name": "cpu-b",
        "metric": "cpu.percent",
        "comparison_operator": ">=",
        "threshold": 80,
    },
    ("post", _NSI + "/{ns_instance_id}/instantiate"): {"nsFlavourId": "default"},
    ("post", _NSI + "/{ns_instance_id}/scale"): {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [{"vnfInstanceId": "{vnfr_id}", "scaleVnfType": "SCALE_OUT"}],
    },
    ("post", _NSI + "/{ns_instance_id}/heal"): {
        "healVnfData": [{"vnfInstanceId": "{vnfr_id}"}],
    },
    ("post", _NSI): {"nsdId": "{nsd_id}", "nsName": "from-another-project"},
    ("post", _VNFCS): {},
}
#: uploads: (content type, body)
CONTENT_BODIES: dict[tuple[str, str], tuple[str, bytes]] = {
    ("put", "/nsd/v1/ns_descriptors/{nsd_id}/nsd_content"): ("application/json", NSD.read_bytes()),
    ("put", "/vnfpkgm/v1/vnf_packages/{package_id}/package_content"): (
        "application/zip",
        b"PK\x05\x06" + b"\x00" * 18,
    ),
}


def request_for(method: str, path: str, ids: dict[str, str]) -> dict[str, Any]:
    """The keyword arguments of ``httpx.AsyncClient.request`` for one operation."""
    key = (method, path)
    if key in CONTENT_BODIES:
        media, content = CONTENT_BODIES[key]
        return {"content": content, "headers": {"content-type": media}}
    if key in JSON_BODIES:
        text = json.dumps(JSON_BODIES[key])
        for name in RECORD_PARAMS:
            text = text.replace("{" + name + "}", ids.get(name, "no-such-id"))
        return {"json": json.loads(text)}
    if method in ("post", "put", "patch"):
        return {"json": {}}
    return {}
