"""The SOL005 APIs nubo serves and their versions (GS NFV-SOL 013 §9.1).

Kept apart from the negotiation middleware (``nubo.api.negotiation``) so that
the CLI can name the version it speaks without importing the web framework.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sol005Api:
    """One SOL005 API: its name in the URI, its major version and the versions served."""

    name: str
    major: int
    versions: tuple[str, ...]

    @property
    def prefix(self) -> str:
        return f"/{self.name}/v{self.major}"

    @property
    def current(self) -> str:
        return self.versions[-1]


#: the SOL005 V2.6.1 APIs nubo serves; versions oldest first, the last one is answered
SOL005_APIS: tuple[Sol005Api, ...] = (
    Sol005Api("nsd", 1, ("1.2.0",)),
    Sol005Api("vnfpkgm", 1, ("1.2.0",)),
    Sol005Api("nslcm", 1, ("1.2.0",)),
    Sol005Api("nsfm", 1, ("1.2.0",)),
)


def api_of(path: str) -> Sol005Api | None:
    """The SOL005 API a request path belongs to, if any."""
    for api in SOL005_APIS:
        if path.startswith(f"/{api.name}/"):
            return api
    return None
