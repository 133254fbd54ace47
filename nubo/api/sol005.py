"""What the SOL005-shaped routers share: camelCase views, links, 202 answers.

SOL005 names its fields in camelCase and puts links under ``_links``; nubo's
models use snake_case. Each view here is a pydantic model with a camelCase
alias generator, so the OpenAPI document shows the SOL005 names.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from nubo.api.problems import PROBLEM_JSON
from nubo.model.errors import PayloadTooLarge
from nubo.model.records import LcmOpOcc
from nubo.nfvo.instances import NsInstances
from nubo.nfvo.service import NsService

NSLCM = "/nslcm/v1"

#: the largest upload (a CSAR, an NSD) nubo reads; a CSAR's unpacked size has its own bound
MAX_UPLOAD = 64 * 1024 * 1024

#: OpenAPI "responses" for routes that answer problems
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"description": "problem details", "content": {PROBLEM_JSON: {}}}
    for code in (400, 404, 409, 422, 503)
}


class Sol005Model(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown request fields are ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


def ns_of(request: Request) -> NsService:
    ns: NsService = request.app.state.services.ns
    return ns


def instances_of(request: Request) -> NsInstances:
    instances: NsInstances = request.app.state.services.instances
    return instances


def link(href: str) -> dict[str, str]:
    return {"href": href}


def op_location(op: LcmOpOcc) -> str:
    return f"{NSLCM}/ns_lcm_op_occs/{op.id}"


def accepted(op: LcmOpOcc) -> Response:
    """SOL005: an asynchronous task answers 202 with the occurrence's Location and no body."""
    return Response(status_code=202, headers={"Location": op_location(op)})


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """The request body, refused with 413 as soon as it grows past ``limit`` bytes.

    The body is read in chunks so that an oversized upload is never held in
    memory whole; a declared ``Content-Length`` past the limit is refused
    before reading anything. ``limit`` defaults to ``MAX_UPLOAD``.
    """
    limit = MAX_UPLOAD if limit is None else limit
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is larger than nubo accepts ({size} bytes read or declared, "
        f"at most {limit} bytes = {limit // (1024 * 1024)} MiB)",
        limit=limit,
    )
