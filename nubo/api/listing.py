"""One answer for every SOL005 list: filter, attribute selectors and paging (SOL013 §5.2-5.4).

A list route builds the views of its records and hands them to its
``Listing``, which filters them (``nubo.api.filters``), cuts the page,
selects attributes (``nubo.api.selectors``) and answers, with a
``Link: <...>; rel="next"`` header while more items follow. It works on the
JSON a route answers rather than on SQL so that every list behaves the same,
whichever service its records come from, and a filter can name any attribute
of the view, also one computed from several records.

Paging is the GS's server-driven kind: at most ``page_size`` items per answer
(``NUBO_PAGE_SIZE``); the ``next`` link repeats the query with a
``nextpage_opaque_marker`` that says where the next page starts. The marker is
opaque to clients; a marker nubo did not make is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from nubo.api.attributes import Attribute, attributes_of
from nubo.api.filters import parse_filter
from nubo.api.selectors import parse_selection
from nubo.model.errors import BadRequest

#: items per page when the composition root does not say
DEFAULT_PAGE_SIZE = 100
_MARKER = "nextpage_opaque_marker"


@dataclass(frozen=True)
class ListQuery:
    """The SOL013 query parameters of a list request, as sent."""

    filter: str | None = None
    fields: str | None = None
    exclude_fields: str | None = None
    exclude_default: bool = False
    all_fields: bool = False
    marker: str | None = None


def _list_query(
    filter: Annotated[
        str | None,
        Query(description="SOL013 attribute filter, e.g. (eq,nsState,INSTANTIATED);(cont,a/b,x)"),
    ] = None,
    fields: Annotated[
        str | None, Query(description="complex attributes to include (a,b/c)")
    ] = None,
    exclude_fields: Annotated[
        str | None, Query(description="complex attributes to exclude (a,b/c)")
    ] = None,
    exclude_default: Annotated[
        str | None, Query(description="exclude the attributes excluded by default (no value)")
    ] = None,
    all_fields: Annotated[
        str | None, Query(description="include every attribute (no value)")
    ] = None,
    nextpage_opaque_marker: Annotated[
        str | None, Query(description="where the next page starts (from a Link header)")
    ] = None,
) -> ListQuery:
    return ListQuery(
        filter=filter,
        fields=fields,
        exclude_fields=exclude_fields,
        exclude_default=exclude_default is not None,
        all_fields=all_fields is not None,
        marker=nextpage_opaque_marker,
    )


#: the dependency a list route takes its SOL013 parameters with
ListQueryParams = Annotated[ListQuery, Depends(_list_query)]


@dataclass(frozen=True)
class Listing:
    """How one resource's list answers: its view's model and the GS's default exclusions."""

    model: type[BaseModel]
    default_exclusions: Sequence[str] = ()

    @cached_property
    def attributes(self) -> Attribute:
        return attributes_of(self.model)

    def answer(
        self, request: Request, query: ListQuery, views: Sequence[dict[str, Any]]
    ) -> JSONResponse:
        """The page of ``views`` the query asks for, filtered, paged and selected."""
        selection = parse_selection(
            self.attributes,
            self.default_exclusions,
            all_fields=query.all_fields,
            fields=query.fields,
            exclude_fields=query.exclude_fields,
            exclude_default=query.exclude_default,
        )
        matching = list(views)
        if query.filter is not None:
            chosen = parse_filter(query.filter, self.attributes)
            matching = [view for view in matching if chosen.matches(view)]
        start = _offset(query.marker) if query.marker is not None else 0
        size = page_size(request)
        page = matching[start : start + size]
        headers = {}
        if start + size < len(matching):
            after = request.url.include_query_params(**{_MARKER: _marker(start + size)})
            headers["Link"] = f'<{after}>; rel="next"'
        return JSONResponse([selection.apply(view) for view in page], headers=headers)


def page_size(request: Request) -> int:
    size = getattr(request.app.state.services, "page_size", None)
    return size if isinstance(size, int) and size > 0 else DEFAULT_PAGE_SIZE


def _marker(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _offset(marker: str) -> int:
    try:
        padded = marker + "=" * (-len(marker) % 4)
        document = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = document["offset"]
    except (ValueError, binascii.Error, KeyError, TypeError):
        offset = None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise BadRequest(
            f"{_MARKER} {marker!r} is not a marker nubo gave out; follow the Link header",
            field=_MARKER,
        )
    return offset
