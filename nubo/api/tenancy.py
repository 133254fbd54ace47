"""The projects a request sees: its token's, or every one when a system administrator asks.

Every route that reads or changes records takes ``RequestScope``: the
caller's project (from its token), so that lists hold that project's records
only and another project's id answers 404 exactly as a missing one does. A
system administrator sees every project's records by adding the query
parameter ``allProjects=true`` to a request; anyone else asking for that is
refused (403). Records a request creates belong to its token's project either
way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from nubo.api.security import caller
from nubo.model.errors import Forbidden
from nubo.model.tenancy import Scope, in_project

#: the query parameter with which a system administrator sees every project's records
ALL_PROJECTS = "allProjects"


def request_scope(
    request: Request,
    all_projects: Annotated[
        bool,
        Query(
            alias=ALL_PROJECTS,
            description="system administrators only: see the records of every project "
            "(default: the token's project only)",
        ),
    ] = False,
) -> Scope:
    """The scope of the request's caller (``Forbidden`` for ``allProjects`` from others)."""
    principal = caller(request)
    if not all_projects:
        return in_project(principal.project_id)
    if not principal.system_admin:
        raise Forbidden(
            f"{ALL_PROJECTS}=true is for system administrators; the caller sees its own "
            "project's records only",
            field=ALL_PROJECTS,
        )
    return Scope(principal.project_id, all_projects=True)


#: a route's parameter: the scope its services act in
RequestScope = Annotated[Scope, Depends(request_scope)]
