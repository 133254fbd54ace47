"""The CLI against a fake nubo API served by ``httpx.MockTransport``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from nubo.cli.client import CliConfig
from nubo.cli.main import main

Handler = Callable[[httpx.Request], httpx.Response]

NSR_ID = "nsr-1"
VNFR_CLIENT = "vnfr-client-1"
VNFR_SERVER = "vnfr-server-1"


def _nsr(status: str = "ACTIVE") -> dict[str, Any]:
    def vnfr(vnfr_id: str, name: str, host: str, ip: str, env: dict[str, str]) -> dict[str, Any]:
        return {
            "id": vnfr_id,
            "name": name,
            "type": name,
            "status": status,
            "vdu": [
                {
                    "id": f"vdu-{name}",
                    "name": f"vdu-{name}",
                    "image": f"nubo/{name}:latest",
                    "scale_in_out": 5,
                    "vnfc_instance": [
                        {
                            "id": f"vnfc-{name}-1",
                            "hostname": host,
                            "state": "RUNNING",
                            "vc_id": "c0ffee",
                            "addresses": {"private": ip},
                            "environment": {},
                        }
                    ],
                }
            ],
            "dependency_env": env,
            "configuration": {},
        }

    return {
        "id": NSR_ID,
        "name": "sipp",
        "descriptor_reference": "nsd-1",
        "status": status,
        "vim_id": "vim-1",
        "vnfr": [
            vnfr(VNFR_SERVER, "sipp-server", "sipp-server-0", "10.137.0.2", {}),
            vnfr(
                VNFR_CLIENT,
                "sipp-client",
                "sipp-client-0",
                "10.137.0.3",
                {"SERVER_PRIVATE": "10.137.0.2"},
            ),
        ],
        "vlr": [{"id": "vlr-1", "name": "private", "cidr": "10.137.0.0/24", "gateway": ""}],
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
    }


def _op(op_id: str, state: str, steps: list[tuple[str, str]], error: Any = None) -> dict[str, Any]:
    return {
        "id": op_id,
        "nsr_id": NSR_ID,
        "operation": "INSTANTIATE",
        "state": state,
        "start_time": "2024-01-01T00:00:00Z",
        "state_entered_time": "2024-01-01T00:00:01Z",
        "params": {},
        "steps": [
            {
                "name": name,
                "status": status,
                "started_at": "2024-01-01T00:00:00+00:00",
                "finished_at": "2024-01-01T00:00:01+00:00" if status != "STARTED" else None,
                "detail": "",
            }
            for name, status in steps
        ],
        "error": error,
    }


class FakeApi:
    """Routes keyed by (method, path); each answers a response or a list consumed in order."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *responses: httpx.Response) -> None:
        self.routes[(method, "/api/v1" + path)] = list(responses)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get((request.method, request.url.path))
        if not queue:
            return httpx.Response(
                404,
                json={"title": "Not found", "status": 404, "detail": request.url.path},
            )
        # The last answer repeats: a finished op stays finished however often it is polled.
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def calls(self, method: str) -> list[str]:
        return [r.url.path for r in self.requests if r.method == method]


def _run(handler: Handler, *args: str) -> Result:
    config = CliConfig(transport=httpx.MockTransport(handler), sleep=lambda _s: None)
    return CliRunner().invoke(main, list(args), obj=config)


def _accepted(body: dict[str, Any], op_id: str) -> httpx.Response:
    return httpx.Response(202, json=body, headers={"Location": f"/api/v1/lcm-operations/{op_id}"})


def test_onboard_prints_the_new_id(tmp_path: Path) -> None:
    nsd = tmp_path / "nsd.json"
    nsd.write_text(json.dumps({"name": "sipp", "vnfd": []}))
    api = FakeApi()
    entry = {
        "id": "nsd-42",
        "name": "sipp",
        "vendor": "v",
        "version": "1.0",
        "format": "openbaton",
        "enabled": True,
        "body": {},
        "created_at": "2024-01-01T00:00:00Z",
    }
    api.on("POST", "/ns-descriptors", httpx.Response(201, json=entry))

    result = _run(api, "nsd", "onboard", str(nsd))

    assert result.exit_code == 0, result.output
    assert "nsd-42" in result.stdout
    assert json.loads(api.requests[0].content) == {"name": "sipp", "vnfd": []}


def test_a_422_problem_prints_every_field_error_and_exits_1(tmp_path: Path) -> None:
    nsd = tmp_path / "nsd.json"
    nsd.write_text("{}")
    api = FakeApi()
    problem = {
        "title": "Invalid descriptor",
        "status": 422,
        "code": "INVALID_DESCRIPTOR",
        "detail": "the descriptor has 2 problems",
        "errors": [
            {"path": "$.vnfd[0].vdu[0].scale_in_out", "message": "must be >= 1"},
            {"path": "$.vnf_dependency[0].target", "message": "no VNFD named 'nope'"},
        ],
    }
    api.on(
        "POST",
        "/ns-descriptors",
        httpx.Response(422, json=problem, headers={"content-type": "application/problem+json"}),
    )

    result = _run(api, "nsd", "onboard", str(nsd))

    assert result.exit_code == 1
    assert "Invalid descriptor" in result.stderr
    assert "the descriptor has 2 problems" in result.stderr
    assert "$.vnfd[0].vdu[0].scale_in_out: must be >= 1" in result.stderr
    assert "$.vnf_dependency[0].target: no VNFD named 'nope'" in result.stderr


def test_unreachable_server_exits_3_with_a_hint() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    result = _run(refuse, "--url", "http://127.0.0.1:9", "ns", "list")

    assert result.exit_code == 3
    assert "cannot reach nubo at http://127.0.0.1:9" in result.stderr
    assert "nubo serve" in result.stderr


def test_instantiate_waits_until_completed_and_prints_addresses() -> None:
    api = FakeApi()
    api.on("POST", "/ns-records/nsd-1", _accepted(_nsr("INITIALIZED"), "op-1"))
    api.on(
        "GET",
        "/lcm-operations/op-1",
        httpx.Response(200, json=_op("op-1", "PROCESSING", [("allocate", "STARTED")])),
        httpx.Response(
            200,
            json=_op("op-1", "PROCESSING", [("allocate", "DONE"), ("configure", "STARTED")]),
        ),
        httpx.Response(
            200,
            json=_op(
                "op-1",
                "COMPLETED",
                [("allocate", "DONE"), ("configure", "DONE"), ("start", "DONE")],
            ),
        ),
    )
    api.on("GET", f"/ns-records/{NSR_ID}", httpx.Response(200, json=_nsr()))

    result = _run(api, "ns", "instantiate", "nsd-1", "--name", "sipp")

    assert result.exit_code == 0, result.output
    assert api.calls("GET").count("/api/v1/lcm-operations/op-1") == 3
    assert json.loads(api.requests[0].content) == {"name": "sipp"}
    assert "sipp-client-0" in result.stdout
    assert "private=10.137.0.3" in result.stdout
    assert "SERVER_PRIVATE=10.137.0.2" in result.stdout
    # plain progress lines, one per finished step, no spinner frames
    for step in ("allocate", "configure", "start"):
        assert f"[ok] {step}" in result.stderr
    assert result.stderr.count("[ok] allocate") == 1


def test_a_rolled_back_operation_exits_1_with_the_error() -> None:
    api = FakeApi()
    api.on("POST", "/ns-records/nsd-1", _accepted(_nsr("INITIALIZED"), "op-2"))
    error = {
        "title": "VIM error",
        "status": 502,
        "code": "VIM_ERROR",
        "detail": "image nubo/sipp-server:latest not found",
        "step": "allocate",
    }
    api.on(
        "GET",
        "/lcm-operations/op-2",
        httpx.Response(200, json=_op("op-2", "ROLLING_BACK", [("allocate", "FAILED")])),
        httpx.Response(200, json=_op("op-2", "ROLLED_BACK", [("allocate", "FAILED")], error)),
    )

    result = _run(api, "ns", "instantiate", "nsd-1")

    assert result.exit_code == 1
    assert "ROLLED_BACK" in result.stderr
    assert "image nubo/sipp-server:latest not found" in result.stderr
    assert "step: allocate" in result.stderr
    assert f"/api/v1/ns-records/{NSR_ID}" not in api.calls("GET")


@pytest.mark.parametrize("vnf", ["sipp-client", VNFR_CLIENT])
def test_scale_out_resolves_the_vnf_to_its_record(vnf: str) -> None:
    api = FakeApi()
    api.on("GET", f"/ns-records/{NSR_ID}", httpx.Response(200, json=_nsr()))
    path = f"/ns-records/{NSR_ID}/vnfrecords/{VNFR_CLIENT}/vduunits/vdu-sipp-client/vnfcinstances"
    op = _op("op-3", "PROCESSING", [])
    api.on("POST", path, _accepted(op, "op-3"))

    result = _run(api, "ns", "scale-out", NSR_ID, vnf, "--no-wait")

    assert result.exit_code == 0, result.output
    assert api.calls("POST") == ["/api/v1" + path]
    assert "op-3" in result.stdout


def test_scale_out_of_an_unknown_vnf_is_a_usage_error() -> None:
    api = FakeApi()
    api.on("GET", f"/ns-records/{NSR_ID}", httpx.Response(200, json=_nsr()))

    result = _run(api, "ns", "scale-out", NSR_ID, "nope")

    assert result.exit_code == 2
    assert "sipp-client" in result.stderr
    assert api.calls("POST") == []


def test_json_output_is_raw_json() -> None:
    api = FakeApi()
    api.on("GET", "/ns-records", httpx.Response(200, json=[_nsr()]))

    result = _run(api, "ns", "list", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["id"] == NSR_ID


def test_all_projects_asks_for_every_projects_records_on_each_request() -> None:
    api = FakeApi()
    api.on("GET", "/ns-records", httpx.Response(200, json=[_nsr()]))

    assert _run(api, "ns", "list", "--json").exit_code == 0
    assert _run(api, "--all-projects", "ns", "list", "--json").exit_code == 0

    own, every = (r.url.params for r in api.requests)
    assert "allProjects" not in own and every["allProjects"] == "true"


def test_instantiate_retries_a_lost_answer_with_the_same_idempotency_key() -> None:
    api = FakeApi()
    api.on("POST", "/ns-records/nsd-1", _accepted(_nsr("INITIALIZED"), "op-1"))
    api.on("GET", "/lcm-operations/op-1", httpx.Response(200, json=_op("op-1", "COMPLETED", [])))
    api.on("GET", f"/ns-records/{NSR_ID}", httpx.Response(200, json=_nsr()))
    keys: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            keys.append(request.headers["Idempotency-Key"])
            if len(keys) == 1:
                raise httpx.ReadTimeout("the answer was lost", request=request)
        return api(request)

    result = _run(flaky, "ns", "instantiate", "nsd-1")

    assert result.exit_code == 0, result.output
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) == 36
