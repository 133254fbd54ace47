"""HTTP conditions of SOL005 (SOL013 §4.5, RFC 9110, RFC 9111): ``ETag``/``If-Match``
on modifiable resources, ``Range`` on content.

The entity tag of a resource is a digest of its JSON representation as
``GET`` renders it, so any change a client could see changes the tag, and
two replicas give the same tag for the same state. A ``PATCH`` with
``If-Match`` is refused with 412 when the tag it names is not the current
one (a read-modify-write that lost a race); the check happens just before
the change, so a change by another client between the two is not excluded:
the window is the time of one update, not the client's.

``Range`` serves one byte range of a single-range request (``bytes=a-b``,
``bytes=a-``, ``bytes=-n``) with 206 and ``Content-Range``; a range beyond
the content is 416 with ``Content-Range: bytes */size``; several ranges are
answered with the whole content (200), which RFC 9110 allows.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from fastapi import Request, Response

from nubo.model.errors import NuboError


class PreconditionFailed(NuboError):
    code = "PRECONDITION_FAILED"
    status = 412
    title = "Precondition failed"


class RangeNotSatisfiable(NuboError):
    code = "RANGE_NOT_SATISFIABLE"
    status = 416
    title = "Range not satisfiable"

    def __init__(self, detail: str, size: int) -> None:
        super().__init__(detail)
        self.size = size

    def response_headers(self) -> dict[str, str]:
        return {"Content-Range": f"bytes */{self.size}"}


def etag_of(document: Any) -> str:
    """A strong entity tag of a JSON document (its canonical form)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def check_if_match(request: Request, current: str, what: str) -> None:
    """``PreconditionFailed`` unless ``If-Match`` (when given) names the ``current`` tag."""
    header = request.headers.get("if-match")
    if header is None:
        return
    tags = [tag.strip() for tag in header.split(",")]
    if "*" in tags or current in tags or f"W/{current}" in tags:
        return
    raise PreconditionFailed(
        f"If-Match {header} does not name the current entity tag of {what} ({current}): "
        "it changed since it was read; GET it again and send its ETag",
        field="If-Match",
    )


_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def content_response(request: Request, content: bytes, media_type: str) -> Response:
    """The content, or the byte range the request asks for (206), or 416."""
    headers = {"Accept-Ranges": "bytes"}
    wanted = request.headers.get("range")
    if wanted is None or "," in wanted:
        return Response(content, media_type=media_type, headers=headers)
    size = len(content)
    match = _RANGE.match(wanted)
    if match is None or match.groups() == ("", ""):
        raise RangeNotSatisfiable(
            f"Range {wanted!r} is not a byte range nubo serves: give bytes=first-last, "
            "bytes=first- or bytes=-suffix",
            size,
        )
    first_text, last_text = match.groups()
    if first_text:
        first = int(first_text)
        last = min(int(last_text), size - 1) if last_text else size - 1
    else:
        first, last = max(0, size - int(last_text)), size - 1
    if first >= size or last < first or (not first_text and int(last_text) == 0):
        raise RangeNotSatisfiable(
            f"Range {wanted!r} lies outside the content, which has {size} bytes", size
        )
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return Response(content[first : last + 1], 206, headers=headers, media_type=media_type)
