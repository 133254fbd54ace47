"""Fuzz every operation of the OpenAPI document against a running `nubo serve`.

Schemathesis generates requests from the document (valid and invalid ones)
and sends them to a real server on loopback with the in-memory VIM. Two
properties must hold for every answer: no 5xx, and every error is an RFC 9457
problem document with nubo's fields. The run is bounded: a fixed number of
examples per operation and no shrinking past a time limit.

Left out: creating a subscription and registering a VIM, because both make
nubo contact the address given in the request (the callback URI, the VIM
endpoint) and generated addresses could point anywhere; their validation is
tested with loopback addresses in their own tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.nubo_process import NuboProcess

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"
EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuboProcess]:
    process = NuboProcess(tmp_path_factory.mktemp("nubo-fuzz") / "data")
    # everything on (a 503 "monitoring disabled" would be an honest 5xx, but not fuzzing)
    process.start(NUBO_DEFAULT_VIM_TYPE="fake", NUBO_CRASH_AT="")
    try:
        # something to find: an NSD and an NS, so that ids in paths can hit
        nsd = httpx.post(f"{process.url}/api/v1/ns-descriptors", content=NSD.read_bytes())
        nsd.raise_for_status()
        httpx.post(f"{process.url}/api/v1/ns-records/{nsd.json()['id']}").raise_for_status()
        yield process
    finally:
        process.stop()
        log = process.log()
        assert "api.unexpected" not in log, log


#: (method, path) left out, see the module docstring
EXCLUDED = {("POST", "/nslcm/v1/subscriptions"), ("POST", "/api/v1/vims")}


def _check(case: Any, server: NuboProcess) -> None:
    response = case.call(base_url=server.url, timeout=10)
    where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    assert response.status_code < 500, where
    if response.status_code >= 400:
        found = response.headers.get("content-type") or [""]
        content_type = found[0] if isinstance(found, list) else found
        assert content_type.startswith("application/problem+json"), where
        problem = response.json()
        assert problem["status"] == response.status_code, where
        assert problem["code"] and problem["title"] and problem["detail"], where


def test_no_server_error_and_every_error_is_a_problem(server: NuboProcess) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40  # the document lists every route
    fuzzed = 0
    for operation in operations:
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def fuzz(case: Any) -> None:
                _check(case, server)

            try:
                fuzz()
            except Unsatisfiable:
                # nothing of this operation can be made invalid (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, operation.label
        fuzzed += 1
    assert fuzzed == len(operations) - len(EXCLUDED)
