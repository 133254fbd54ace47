"""The schema check every SOL005 test runs through: it catches violations, and needs the schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import sol005_schemas
from tests.sol005_schemas import (
    SchemaViolation,
    check_notification,
    check_response,
    require_schemas,
)

JSON = {"content-type": "application/json"}
PROBLEM = {"content-type": "application/problem+json"}


def body(document: object) -> bytes:
    return json.dumps(document).encode()


def test_a_missing_schema_folder_fails_instead_of_skipping(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NUBO_SOL005_SCHEMAS", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="NUBO_SOL005_SCHEMAS"):
        require_schemas()


def test_the_default_folder_is_beside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUBO_SOL005_SCHEMAS", raising=False)
    root = sol005_schemas.schema_root()
    assert root == sol005_schemas.REPOSITORY.parent / "shared" / "etsi-sol005"


def test_a_violation_names_the_route_and_the_path() -> None:
    instance = {"id": "x", "nsInstanceName": "n", "nsdId": "d", "nsdInfoId": "i"}
    with pytest.raises(SchemaViolation) as caught:
        check_response("GET", "/nslcm/v1/ns_instances/x", 200, JSON, body(instance))
    text = str(caught.value)
    assert "GET /nslcm/v1/ns_instances/x -> 200" in text
    assert "'nsState' is a required property" in text and "nsInstanceDescription" in text


def test_null_for_an_absent_attribute_is_a_violation() -> None:
    instance = {
        "id": "x",
        "nsInstanceName": "n",
        "nsInstanceDescription": "",
        "nsdId": "d",
        "nsdInfoId": "i",
        "nsState": "NOT_INSTANTIATED",
        "flavourId": None,
        "_links": {"self": {"href": "/nslcm/v1/ns_instances/x"}},
    }
    with pytest.raises(SchemaViolation, match=r"\$\.flavourId: None is not of type 'string'"):
        check_response("GET", "/nslcm/v1/ns_instances/x", 200, JSON, body(instance))
    del instance["flavourId"]
    check_response("GET", "/nslcm/v1/ns_instances/x", 200, JSON, body(instance))


def test_bodies_where_the_gs_wants_none_and_errors_without_problems() -> None:
    with pytest.raises(SchemaViolation, match="a 202 answer with a body"):
        check_response("POST", "/nslcm/v1/ns_instances/x/heal", 202, JSON, b"null")
    check_response("POST", "/nslcm/v1/ns_instances/x/heal", 202, {}, b"")
    with pytest.raises(SchemaViolation, match="without a problem document"):
        check_response("GET", "/nsd/v1/ns_descriptors/x", 404, JSON, b"{}")
    with pytest.raises(SchemaViolation, match="ProblemDetails"):
        check_response("GET", "/nsd/v1/ns_descriptors/x", 404, PROBLEM, body({"title": "t"}))
    with pytest.raises(SchemaViolation, match="no schema known"):
        check_response("GET", "/nslcm/v1/no_such_resource", 200, JSON, b"{}")
    # other APIs are not SOL005: not checked
    check_response("GET", "/api/v1/ns-records", 200, JSON, b"[null]")


def test_the_known_schema_defects_are_patched_as_the_gs_says() -> None:
    op = {
        "id": "o",
        "operationState": "COMPLETED",
        "stateEnteredTime": "2026-12-01T10:00:00+00:00",
        "nsInstanceId": "x",
        "lcmOperationType": "INSTANTIATE",
        "startTime": "2026-12-01T10:00:00+00:00",
        "isAutomaticInvocation": False,
        "operationParams": {"nsFlavourId": "default"},
        "isCancelPending": False,
        "_links": {"self": {"href": "h"}, "nsInstance": {"href": "h"}},
    }
    check_response("GET", "/nslcm/v1/ns_lcm_op_occs/o", 200, JSON, body(op))
    with pytest.raises(SchemaViolation, match="is not a 'date-time'"):
        bad = op | {"startTime": "yesterday"}
        check_response("GET", "/nslcm/v1/ns_lcm_op_occs/o", 200, JSON, body(bad))
    modifications = {"nsdOperationalState": "DISABLED", "userDefinedData": {"a": "b"}}
    check_response("PATCH", "/nsd/v1/ns_descriptors/x", 200, JSON, body(modifications))


def test_notifications_are_checked_by_their_type() -> None:
    with pytest.raises(SchemaViolation, match="unknown type"):
        check_notification({"notificationType": "Nonsense"})
    with pytest.raises(SchemaViolation, match="'nsInstanceId' is a required property"):
        check_notification(
            {
                "id": "n",
                "notificationType": "NsIdentifierCreationNotification",
                "subscriptionId": "s",
                "timeStamp": "2026-12-01T10:00:00+00:00",
                "_links": {"nsInstance": {"href": "h"}, "subscription": {"href": "h"}},
            }
        )
