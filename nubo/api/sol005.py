"""What the SOL005-shaped routers share: camelCase views, links, 202 answers.

SOL005 names its fields in camelCase and puts links under ``_links``; nubo's
models use snake_case. Each view here is a pydantic model with a camelCase
alias generator, so the OpenAPI document shows the SOL005 names.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from nubo.api.problems import PROBLEM_JSON
from nubo.model.records import LcmOpOcc

NSLCM = "/nslcm/v1"

#: OpenAPI "responses" for routes that answer problems
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"description": "problem details", "content": {PROBLEM_JSON: {}}}
    for code in (400, 404, 409, 422, 503)
}


class Sol005Model(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown request fields are ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


def link(href: str) -> dict[str, str]:
    return {"href": href}


def op_location(op: LcmOpOcc) -> str:
    return f"{NSLCM}/ns_lcm_op_occs/{op.id}"


def accepted(response: Response, op: LcmOpOcc) -> None:
    """SOL005: an asynchronous task answers 202 with the occurrence's Location."""
    response.status_code = 202
    response.headers["Location"] = op_location(op)
