"""``PackageFetcher``: VNF package content fetched from a URI (SOL005 ``upload_from_uri``).

The orchestrator makes the request, so the URI could point it at anything it
can reach: only hosts the operator lists (``package_fetch_allowed_hosts``:
names, addresses, CIDR networks) are fetched from, and an empty list refuses
every fetch. Redirects are not followed (they could lead elsewhere), the
proxy settings of the environment are not used, and the content is read in
chunks and refused as soon as it grows past ``package_fetch_max_bytes``.

The request is answered 202 once the URI is accepted; the fetch runs in the
background and its content is onboarded exactly as a ``PUT`` upload is
(``VnfPackageCatalogue.upload``: the same checks, CREATED -> ONBOARDED). The
package stays CREATED while its content is fetched, as it does while a PUT's
body is read. A failure (the host does not answer, a 404, too large, an
invalid package) leaves it CREATED with nothing stored and the problem
document kept as ``nuboOnboardingFailure`` of its VnfPkgInfo, until a later
upload or fetch succeeds. A fetch in progress is lost with the process that
runs it (the package stays CREATED; the client may ask again).
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import httpx

from nubo.catalogue.packages import VnfPackageCatalogue
from nubo.model.errors import BadRequest, Conflict, NuboError
from nubo.model.packages import OnboardingState
from nubo.model.subscriptions import CallbackHosts
from nubo.model.tenancy import SYSTEM, Scope

log = logging.getLogger("nubo.catalogue")

SETTING = "NUBO_PACKAGE_FETCH_ALLOWED_HOSTS"
_CHUNK = 64 * 1024


class FetchFailed(NuboError):
    code = "PACKAGE_FETCH_FAILED"
    status = 502
    title = "VNF package content could not be fetched"


class PackageFetcher:
    """Starts, runs and stops the fetches of VNF package content."""

    def __init__(
        self,
        packages: VnfPackageCatalogue,
        *,
        allowed_hosts: str = "",
        max_bytes: int = 64 * 1024 * 1024,
        timeout: float = 300.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.packages = packages
        self.hosts = CallbackHosts(allowed_hosts)
        self.max_bytes = max_bytes
        self.timeout = timeout
        self._transport = transport
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def fetching(self, package_id: str) -> bool:
        return package_id in self._tasks

    async def start(
        self,
        package_id: str,
        uri: str,
        user: str | None = None,
        password: str | None = None,
        scope: Scope = SYSTEM,
    ) -> None:
        """Check the request, then fetch in the background; ``BadRequest`` names what is
        refused, ``Conflict`` a package that is not CREATED or is being fetched already."""
        package = await self.packages.get(package_id, scope)  # another project's: 404 first
        self._check_uri(uri)
        if package.onboarding_state != OnboardingState.CREATED:
            raise Conflict(
                f"VNF package {package_id} is {package.onboarding_state.value}: its content "
                "was uploaded already; create a new package for another upload",
                vnfPkgId=package_id,
            )
        if self.fetching(package_id):
            raise Conflict(
                f"the content of VNF package {package_id} is being fetched already",
                vnfPkgId=package_id,
            )
        await self.packages.note_failure(package_id, None)
        auth = httpx.BasicAuth(user, password or "") if user is not None else None
        task = asyncio.create_task(
            self._fetch(package_id, uri, auth, scope), name=f"package-fetch-{package_id}"
        )
        self._tasks[package_id] = task
        log.info("vnf_package.fetch_started vnf_pkg_id=%s uri=%s", package_id, uri)

    async def stop(self) -> None:
        """Cancel the fetches in progress (their packages stay CREATED)."""
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _check_uri(self, uri: str) -> None:
        field = "addressInformation"
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadRequest(
                f"addressInformation {uri!r} is refused: give an absolute http:// or "
                "https:// URL with a host",
                field=field,
            )
        if not self.hosts.spec:
            raise BadRequest(
                f"addressInformation {uri!r} is refused: this orchestrator fetches VNF "
                f"packages from no host; its operator lists the allowed ones in {SETTING} "
                "(names, addresses or CIDR networks, comma-separated)",
                field=field,
            )
        if not self.hosts.allows(parts.hostname):
            raise BadRequest(
                f"addressInformation {uri!r} is refused: host {parts.hostname!r} is not "
                f"among the hosts VNF packages are fetched from ({self.hosts.spec}; {SETTING})",
                field=field,
            )

    async def _fetch(
        self, package_id: str, uri: str, auth: httpx.Auth | None, scope: Scope
    ) -> None:
        try:
            archive = await self._download(uri, auth)
            await self.packages.upload(package_id, archive, scope)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = (
                exc if isinstance(exc, NuboError) else FetchFailed(f"{type(exc).__name__}: {exc}")
            )
            log.warning(
                "vnf_package.fetch_failed vnf_pkg_id=%s uri=%s reason=%r",
                package_id,
                uri,
                error.detail,
            )
            problem = error.to_problem(instance=f"/vnfpkgm/v1/vnf_packages/{package_id}")
            await self.packages.note_failure(package_id, problem)
        else:
            log.info("vnf_package.fetched vnf_pkg_id=%s bytes=%d", package_id, len(archive))
        finally:
            if self._tasks.get(package_id) is asyncio.current_task():
                del self._tasks[package_id]

    async def _download(self, uri: str, auth: httpx.Auth | None) -> bytes:
        async with httpx.AsyncClient(
            timeout=self.timeout,
            transport=self._transport,
            trust_env=False,
            follow_redirects=False,
        ) as client:
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._read(client, uri, auth)
            except (TimeoutError, httpx.TimeoutException):
                raise FetchFailed(
                    f"{uri} did not send the package within {self.timeout:g} s"
                ) from None
            except httpx.HTTPError as exc:
                raise FetchFailed(
                    f"{uri} could not be fetched: {type(exc).__name__}: {exc}"
                ) from None

    async def _read(self, client: httpx.AsyncClient, uri: str, auth: httpx.Auth | None) -> bytes:
        request = client.build_request("GET", uri)
        response = await client.send(request, auth=auth or httpx.USE_CLIENT_DEFAULT, stream=True)
        try:
            if response.status_code != 200:
                where = response.headers.get("location")
                to = f" (to {where}; redirects are not followed)" if where else ""
                raise FetchFailed(
                    f"{uri} answered {response.status_code} {response.reason_phrase}{to}; "
                    "nubo expects 200 with the package"
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise self._too_large(uri, int(declared))
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes(_CHUNK):
                size += len(chunk)
                if size > self.max_bytes:
                    raise self._too_large(uri, size)
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            await response.aclose()

    def _too_large(self, uri: str, size: int) -> FetchFailed:
        return FetchFailed(
            f"{uri} sends more than nubo fetches ({size} bytes read or declared, at most "
            f"{self.max_bytes} bytes: NUBO_PACKAGE_FETCH_MAX_BYTES)"
        )
