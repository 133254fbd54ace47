"""Which project's records a call sees, and which project it creates records in.

Every record (VIM, NSD, VNF package, NS record, operation occurrence, alarm,
subscription, KPI) belongs to one project; metric samples, scaling decisions
and the configuration history belong to the project of their NS. A request
acts in the project its token names and sees only that project's records: a
record of another project answers as a missing one would. A system
administrator sees every project's records only when it asks to
(``allProjects=true``), and creates records in its token's project still.

Background work (healing, auto-scaling, notification delivery) is not a
caller: it reads across projects (``SYSTEM``) and acts in the project of the
record it serves (a heal's occurrence belongs to its NS's project).
"""

from __future__ import annotations

from dataclasses import dataclass

#: the id (and name) of the project an orchestrator starts with, which owns the
#: records made before records had projects and the VIM registered from the settings
DEFAULT_PROJECT = "default"


@dataclass(frozen=True, slots=True)
class Scope:
    """The project a call acts in, and whether it sees every project's records."""

    #: the project new records are created in
    project_id: str
    #: True: records of every project are visible (a system administrator asking, or
    #: background work); False: only ``project_id``'s
    all_projects: bool = False

    @property
    def visible(self) -> str | None:
        """The one project whose records are visible; None when every project's are."""
        return None if self.all_projects else self.project_id

    def sees(self, project_id: str) -> bool:
        """Whether a record of ``project_id`` is visible in this scope."""
        return self.all_projects or project_id == self.project_id


def in_project(project_id: str) -> Scope:
    """The scope of a caller acting in ``project_id`` only."""
    return Scope(project_id)


#: background work and start-up: sees every project, creates in the default project
SYSTEM = Scope(DEFAULT_PROJECT, all_projects=True)
