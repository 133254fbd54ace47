"""Secrets stay secret: a secret configuration parameter, the values a dependency
carries from it, env-file variables, passwords and tokens appear in no answer of
the API, no log line and no notification of a whole lifecycle."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.api.redaction import redacted
from nubo.model.records import REDACTED, NetworkServiceRecord, VduRecord, VnfRecord
from tests.auth import ADMIN, ADMIN_PASSWORD
from tests.callback_server import CallbackServer
from tests.conftest import fake_nubo, running
from tests.sol005 import asgi_client

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"
SECRET = "s3cret-Q7-in-the-config"


def nsd_with_a_secret() -> bytes:
    """The SIPp NSD; the server has a secret parameter, which its dependency carries
    to the client too."""
    document = json.loads(NSD.read_text())
    server = next(v for v in document["vnfd"] if v["name"] == "sipp-server")
    server["configurations"] = {
        "name": "server-conf",
        "configurationParameters": [{"confKey": "DB_PASSWORD", "value": SECRET, "secret": True}],
    }
    document["vnf_dependency"][0]["parameters"].append("DB_PASSWORD")
    return json.dumps(document).encode()


async def finished(http: httpx.AsyncClient, op_id: str) -> dict[str, Any]:
    for _ in range(200):
        op = (await http.get(f"/api/v1/lcm-operations/{op_id}")).json()
        if op["state"] in ("COMPLETED", "FAILED", "FAILED_TEMP", "ROLLED_BACK"):
            return dict(op)
        await asyncio.sleep(0.05)
    raise AssertionError(f"operation {op_id} did not end")


async def test_a_lifecycle_leaks_no_secret_no_password_and_no_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers: list[httpx.Response] = []
    with CallbackServer() as callback:
        async with running(fake_nubo(tmp_path, background=True)) as app:
            async with asgi_client(app.api(), version=None) as anonymous:
                login = await anonymous.post(
                    "/oauth/token",
                    data={"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD},
                )
                assert login.status_code == 200
                tokens = login.json()
            async with asgi_client(app.api(), token=tokens["access_token"]) as http:

                async def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
                    answer = await http.request(method, path, **kwargs)
                    answers.append(answer)
                    assert answer.status_code < 400, answer.text
                    return answer

                await call("POST", "/nslcm/v1/subscriptions", json={"callbackUri": callback.url})
                entry = await call("POST", "/api/v1/ns-descriptors", content=nsd_with_a_secret())
                nsr = (await call("POST", f"/api/v1/ns-records/{entry.json()['id']}")).json()
                op_id = answers[-1].headers["location"].rsplit("/", 1)[1]
                assert (await finished(http, op_id))["state"] == "COMPLETED"
                shown = (await call("GET", f"/api/v1/ns-records/{nsr['id']}")).json()
                client = next(v for v in shown["vnfr"] if v["name"] == "sipp-client")
                vdu = client["vdu"][0]
                await call(
                    "POST",
                    f"/api/v1/ns-records/{nsr['id']}/vnfrecords/{client['id']}"
                    f"/vduunits/{vdu['id']}/vnfcinstances",
                )
                op_id = answers[-1].headers["location"].rsplit("/", 1)[1]
                assert (await finished(http, op_id))["state"] == "COMPLETED"
                await call("GET", "/api/v1/ns-records")
                await call("GET", f"/nslcm/v1/ns_instances/{nsr['id']}")
                await call("GET", f"/api/v1/ns-records/{nsr['id']}/lcm-operations")
                await call("GET", "/nslcm/v1/ns_lcm_op_occs")
                await call("GET", "/api/v1/audit")
                await call("DELETE", f"/api/v1/ns-records/{nsr['id']}")
                # the VNFCs did get the secret: only the API does not show it
                record = await app.ns.get(nsr["id"])
                server = record.vnfr_by_name("sipp-server")
                assert server.configuration["DB_PASSWORD"] == SECRET
            for _ in range(100):  # the notifications of the lifecycle
                if len(callback.bodies()) >= 4:
                    break
                await asyncio.sleep(0.05)
    # the record as shown: the keys are there, their values are not
    server_view = next(v for v in shown["vnfr"] if v["name"] == "sipp-server")
    assert server_view["configuration"]["DB_PASSWORD"] == REDACTED
    assert REDACTED in client["dependency_env"].values()
    assert callback.bodies(), "no notification came: nothing was searched"
    forbidden = {
        "the secret parameter": SECRET,
        "the password": ADMIN_PASSWORD,
        "the access token": tokens["access_token"],
        "the refresh token": tokens["refresh_token"],
    }
    places = {
        "answers": "\n".join(a.text + json.dumps(dict(a.headers)) for a in answers),
        "log lines": "\n".join(r.getMessage() for r in caplog.records) + caplog.text,
        "notifications": json.dumps(callback.bodies()),
    }
    leaks = [f"{what} in the {where}" for what, value in forbidden.items()
             for where, text in places.items() if value in text]  # fmt: skip
    where = [f"{a.request.method} {a.request.url.path}" for a in answers if SECRET in a.text]
    where += [r.getMessage()[:300] for r in caplog.records if SECRET in r.getMessage()]
    assert leaks == [], where


def test_env_file_values_and_their_copies_are_hidden() -> None:
    vnfr = VnfRecord(
        id="f",
        name="media",
        type="media",
        vdu=[VduRecord(id="d", name="m", image="i", scale_in_out=1, environment={"TURN": "k3y"})],
        configuration={"MODE": "fast", "API_KEY": "zz-top"},
        secret_keys=["API_KEY", "TURN"],
    )
    peer = VnfRecord(id="g", name="peer", type="peer", dependency_env={"MEDIA_TURN": "k3y"})
    nsr = NetworkServiceRecord(
        id="n", name="ns", descriptor_reference="d", project_id="p", vnfr=[vnfr, peer]
    )
    shown = redacted(nsr)
    assert shown.vnfr[0].configuration == {"MODE": "fast", "API_KEY": REDACTED}
    assert shown.vnfr[0].vdu[0].environment == {"TURN": REDACTED}
    assert shown.vnfr[1].dependency_env == {"MEDIA_TURN": REDACTED}
    assert nsr.vnfr[0].configuration["API_KEY"] == "zz-top"  # the record itself keeps it
    plain = NetworkServiceRecord(
        id="p", name="ns", descriptor_reference="d", project_id="p", vnfr=[peer]
    )
    assert redacted(plain) is plain


async def test_a_secret_flag_that_is_not_a_boolean_is_refused_at_its_path(tmp_path: Path) -> None:
    document = json.loads(nsd_with_a_secret())
    server = next(v for v in document["vnfd"] if v["name"] == "sipp-server")
    server["configurations"]["configurationParameters"][0]["secret"] = "maybe"
    async with running(fake_nubo(tmp_path)) as app:
        with pytest.raises(Exception) as refused:
            await app.catalogue.onboard(json.dumps(document).encode())
    text = str(getattr(refused.value, "problems", refused.value))
    assert "configurationParameters[0].secret" in text and "true or false" in text
