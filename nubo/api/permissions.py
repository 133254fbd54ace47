"""Who may call what: the one table of every operation's minimal access, and its check.

Each operation of the API (method and route template) needs one of:
``PUBLIC`` (no token: token issuance, health), a role in the token's
project (``GUEST`` reads, ``USER`` operates, ``ADMIN`` manages the project),
``SELF`` (a user acting on its own account, named by the ``user_id`` path
parameter; a system administrator on any), or ``SYSTEM_ADMIN``. The API
refuses to start when a route has no entry or an entry no route, so a new
route cannot be served before someone decided who may call it; the table is
also published in the OpenAPI document (``x-nubo-access``), from which the
permission tests are generated.

What depends on the record (a project ADMIN manages its own project only) is
checked by the service that reads the record; this table is what can be
decided from the route alone.
"""

from __future__ import annotations

from enum import StrEnum

from nubo.model.identity import Principal, Role


class Access(StrEnum):
    PUBLIC = "PUBLIC"
    GUEST = "GUEST"
    USER = "USER"
    ADMIN = "ADMIN"
    SELF = "SELF"
    SYSTEM_ADMIN = "SYSTEM_ADMIN"


PUBLIC, GUEST, USER, ADMIN, SELF, SYSTEM_ADMIN = (
    Access.PUBLIC,
    Access.GUEST,
    Access.USER,
    Access.ADMIN,
    Access.SELF,
    Access.SYSTEM_ADMIN,
)

_NS = "/api/v1/ns-records/{nsr_id}"
_VNFC = _NS + "/vnfrecords/{vnfr_id}/vduunits/{vdu_id}/vnfcinstances"
_NSDS = "/nsd/v1/ns_descriptors"
_PKGS = "/vnfpkgm/v1/vnf_packages"
_NSI = "/nslcm/v1/ns_instances"
_OCCS = "/nslcm/v1/ns_lcm_op_occs"
_PROJECT = "/api/v1/projects/{project_id}"

#: (method, route template) -> the least a caller needs
PERMISSIONS: dict[tuple[str, str], Access] = {
    # identity
    ("GET", "/health"): PUBLIC,
    ("POST", "/oauth/token"): PUBLIC,
    ("POST", "/oauth/revoke"): GUEST,
    ("GET", "/api/v1/whoami"): GUEST,
    ("GET", "/api/v1/audit"): ADMIN,
    ("GET", "/api/v1/users"): SYSTEM_ADMIN,
    ("POST", "/api/v1/users"): SYSTEM_ADMIN,
    ("GET", "/api/v1/users/{user_id}"): SELF,
    ("PATCH", "/api/v1/users/{user_id}"): SYSTEM_ADMIN,
    ("DELETE", "/api/v1/users/{user_id}"): SYSTEM_ADMIN,
    ("PUT", "/api/v1/users/{user_id}/password"): SELF,
    ("GET", "/api/v1/projects"): GUEST,
    ("POST", "/api/v1/projects"): SYSTEM_ADMIN,
    ("GET", _PROJECT): GUEST,
    ("DELETE", _PROJECT): SYSTEM_ADMIN,
    ("GET", _PROJECT + "/members"): ADMIN,
    ("PUT", _PROJECT + "/members/{user_name}"): ADMIN,
    ("DELETE", _PROJECT + "/members/{user_name}"): ADMIN,
    ("GET", _PROJECT + "/clients"): ADMIN,
    ("POST", _PROJECT + "/clients"): ADMIN,
    ("DELETE", _PROJECT + "/clients/{client_id}"): ADMIN,
    ("POST", _PROJECT + "/clients/{client_id}/secret"): ADMIN,
    ("GET", "/api/v1/signing-keys"): SYSTEM_ADMIN,
    ("POST", "/api/v1/signing-keys"): SYSTEM_ADMIN,
    # SOL005 API versions
    **{
        ("GET", f"/{api}{major}/api_versions"): GUEST
        for api in ("nsd", "vnfpkgm", "nslcm", "nsfm")
        for major in ("", "/v1")
    },
    # Open Baton routes
    ("GET", "/api/v1/ns-descriptors"): GUEST,
    ("POST", "/api/v1/ns-descriptors"): USER,
    ("GET", "/api/v1/ns-descriptors/{nsd_id}"): GUEST,
    ("DELETE", "/api/v1/ns-descriptors/{nsd_id}"): USER,
    ("POST", "/api/v1/ns-records/{nsd_id}"): USER,
    ("GET", "/api/v1/ns-records"): GUEST,
    ("GET", _NS): GUEST,
    ("DELETE", _NS): USER,
    ("POST", _VNFC): USER,
    ("DELETE", _VNFC): USER,
    ("DELETE", _VNFC + "/{vnfc_id}"): USER,
    ("POST", _VNFC + "/{vnfc_id}/start"): USER,
    ("POST", _VNFC + "/{vnfc_id}/stop"): USER,
    ("GET", _NS + "/lcm-operations"): GUEST,
    ("GET", "/api/v1/lcm-operations"): GUEST,
    ("GET", "/api/v1/lcm-operations/{op_id}"): GUEST,
    ("GET", "/api/v1/vims"): GUEST,
    ("POST", "/api/v1/vims"): ADMIN,
    ("GET", "/api/v1/vims/{vim_id}"): GUEST,
    ("GET", "/api/v1/vims/{vim_id}/alarms"): GUEST,
    # fault, monitoring, auto-scaling, KPIs
    ("GET", "/nsfm/v1/alarms"): GUEST,
    ("GET", "/nsfm/v1/alarms/{alarm_id}"): GUEST,
    ("PATCH", "/nsfm/v1/alarms/{alarm_id}"): USER,
    ("GET", "/api/v1/metrics"): GUEST,
    ("GET", "/metrics"): GUEST,
    ("GET", _NS + "/scaling-decisions"): GUEST,
    ("POST", _NS + "/kpis"): USER,
    ("GET", _NS + "/kpis"): GUEST,
    ("GET", _NS + "/kpis/{kpi_id}"): GUEST,
    ("DELETE", _NS + "/kpis/{kpi_id}"): USER,
    ("GET", _NS + "/kpis/{kpi_id}/events"): GUEST,
    ("GET", _NS + "/history"): GUEST,
    # SOL005 NSD management
    ("POST", _NSDS): USER,
    ("GET", _NSDS): GUEST,
    ("GET", _NSDS + "/{nsd_id}"): GUEST,
    ("PATCH", _NSDS + "/{nsd_id}"): USER,
    ("DELETE", _NSDS + "/{nsd_id}"): USER,
    ("PUT", _NSDS + "/{nsd_id}/nsd_content"): USER,
    ("GET", _NSDS + "/{nsd_id}/nsd_content"): GUEST,
    # SOL005 VNF package management
    ("POST", _PKGS): USER,
    ("GET", _PKGS): GUEST,
    ("GET", _PKGS + "/{package_id}"): GUEST,
    ("PATCH", _PKGS + "/{package_id}"): USER,
    ("DELETE", _PKGS + "/{package_id}"): USER,
    ("PUT", _PKGS + "/{package_id}/package_content"): USER,
    ("GET", _PKGS + "/{package_id}/package_content"): GUEST,
    ("POST", _PKGS + "/{package_id}/package_content/upload_from_uri"): USER,
    ("GET", _PKGS + "/{package_id}/vnfd"): GUEST,
    ("GET", _PKGS + "/{package_id}/artifacts/{artifact_path}"): GUEST,
    # SOL005 NS lifecycle management
    ("POST", _NSI): USER,
    ("GET", _NSI): GUEST,
    ("GET", _NSI + "/{ns_instance_id}"): GUEST,
    ("DELETE", _NSI + "/{ns_instance_id}"): USER,
    ("POST", _NSI + "/{ns_instance_id}/instantiate"): USER,
    ("POST", _NSI + "/{ns_instance_id}/scale"): USER,
    ("POST", _NSI + "/{ns_instance_id}/heal"): USER,
    ("POST", _NSI + "/{ns_instance_id}/terminate"): USER,
    ("GET", _OCCS): GUEST,
    ("GET", _OCCS + "/{op_id}"): GUEST,
    ("POST", _OCCS + "/{op_id}/retry"): USER,
    ("POST", _OCCS + "/{op_id}/rollback"): USER,
    ("POST", _OCCS + "/{op_id}/fail"): USER,
    ("POST", _OCCS + "/{op_id}/cancel"): USER,
    # SOL005 subscriptions, alike on every API
    **{
        (method, f"/{api}/v1/subscriptions{tail}"): access
        for api in ("nsd", "vnfpkgm", "nslcm", "nsfm")
        for method, tail, access in (
            ("POST", "", USER),
            ("GET", "", GUEST),
            ("GET", "/{subscription_id}", GUEST),
            ("DELETE", "/{subscription_id}", USER),
        )
    },
}

#: paths served without a token that are not API operations (the OpenAPI document, its UI)
PUBLIC_DOCUMENTS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})

_ROLE_OF = {GUEST: Role.GUEST, USER: Role.USER, ADMIN: Role.ADMIN}


def public_paths() -> frozenset[str]:
    """Concrete paths that need no token (none of the public operations has parameters)."""
    return PUBLIC_DOCUMENTS | {path for (_m, path), a in PERMISSIONS.items() if a is PUBLIC}


def allowed(access: Access, caller: Principal | None, path_params: dict[str, str]) -> bool:
    """Whether ``caller`` (``None``: no token) may call an operation needing ``access``."""
    if access is PUBLIC:
        return True
    if caller is None:
        return False
    if caller.system_admin:
        return True
    if access is SYSTEM_ADMIN:
        return False
    if access is SELF:
        named = path_params.get("user_id")
        return not caller.client and named in (caller.subject, caller.name)
    return caller.role.allows(_ROLE_OF[access])
