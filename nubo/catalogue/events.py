"""``CatalogueEvents``: what the NSD and VNF package catalogues tell subscribers.

The catalogues sit below the event bus, so they only call a hook with a
SOL005 notification type, the project of the record and the body
(``NsdOnBoardingNotification``, ``NsdChangeNotification``,
``VnfPackageOnboardingNotification`` ... of GS NFV-SOL 005 V2.6.1 §5.5.2,
§9.5.2); the composition root connects the hook to the bus. Every body also
carries, under ``MATCH_KEY``, the record's attributes the subscription
filters match on, as they were when the event happened.

A VNF package deleted before it was ever onboarded has no VNFD id, which
``VnfPackageChangeNotification`` requires: its deletion is not notified.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nubo.model.catalogue import NsdEntry
from nubo.model.errors import NuboError
from nubo.model.packages import VnfPackage
from nubo.model.subscription_filters import MATCH_KEY

log = logging.getLogger("nubo.catalogue")

#: (notification type, project id, body) -> None; must not block
CatalogueHook = Callable[[str, str, dict[str, Any]], None]

NSD_ONBOARDING = "NsdOnBoardingNotification"
NSD_ONBOARDING_FAILURE = "NsdOnBoardingFailureNotification"
NSD_CHANGE = "NsdChangeNotification"
NSD_DELETION = "NsdDeletionNotification"
PACKAGE_ONBOARDING = "VnfPackageOnboardingNotification"
PACKAGE_CHANGE = "VnfPackageChangeNotification"


def nsd_own_id(entry: NsdEntry) -> str:
    """NsdInfo.nsdId: the NSD's own identifier (the NsdInfo id when it names none)."""
    return str(entry.info.get("nsdId") or entry.id)


def _operational(enabled: bool) -> str:
    return "ENABLED" if enabled else "DISABLED"


class CatalogueEvents:
    """Builds the catalogue's notifications and hands them to the hook (if any)."""

    def __init__(self, hook: CatalogueHook | None = None) -> None:
        self.hook = hook

    def _emit(self, kind: str, project_id: str, body: dict[str, Any]) -> None:
        if self.hook is None:
            return
        try:
            self.hook(kind, project_id, body)
        except Exception:  # a notification must never undo a catalogue change
            log.exception("catalogue.notify_failed type=%s", kind)

    # -- NSDs ---------------------------------------------------------------------------
    def nsd(self, kind: str, entry: NsdEntry, *, in_use: bool = False) -> None:
        """An NSD onboarded, changed (its operational state) or deleted."""
        body: dict[str, Any] = {"nsdInfoId": entry.id, "nsdId": nsd_own_id(entry)}
        if kind == NSD_CHANGE:
            body["nsdOperationalState"] = _operational(entry.enabled)
        body[MATCH_KEY] = _nsd_facts(entry, in_use)
        self._emit(kind, entry.project_id, body)

    def nsd_onboarding_failed(self, entry: NsdEntry, error: NuboError) -> None:
        """An upload of NSD content that was refused: the NSD stays as it was."""
        problem = error.to_problem()
        details = {
            key: problem[key] for key in ("type", "title", "status", "detail") if key in problem
        }
        body: dict[str, Any] = {
            "nsdInfoId": entry.id,
            "onboardingFailureDetails": details,
            MATCH_KEY: _nsd_facts(entry, False),
        }
        self._emit(NSD_ONBOARDING_FAILURE, entry.project_id, body)

    # -- VNF packages -------------------------------------------------------------------
    def package_onboarded(self, package: VnfPackage) -> None:
        if package.vnfd_id is None:
            return
        body = {"vnfPkgId": package.id, "vnfdId": package.vnfd_id}
        self._emit(PACKAGE_ONBOARDING, package.project_id, _with_facts(body, package, False))

    def package_changed(self, package: VnfPackage, change_type: str, *, in_use: bool) -> None:
        """``OP_STATE_CHANGE`` or ``PKG_DELETE`` of a package that has a VNFD."""
        if package.vnfd_id is None:
            return
        body: dict[str, Any] = {
            "vnfPkgId": package.id,
            "vnfdId": package.vnfd_id,
            "changeType": change_type,
        }
        if change_type == "OP_STATE_CHANGE":
            body["operationalState"] = package.operational_state.value
        self._emit(PACKAGE_CHANGE, package.project_id, _with_facts(body, package, in_use))


def _nsd_facts(entry: NsdEntry, in_use: bool) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "nsdInfoId": entry.id,
        "nsdId": nsd_own_id(entry),
        "vnfPkgIds": [str(i) for i in entry.info.get("vnfPkgIds") or ()],
        "nsdOnboardingState": entry.onboarding_state.value,
        "nsdOperationalState": _operational(entry.enabled),
        "nsdUsageState": "IN_USE" if in_use else "NOT_IN_USE",
    }
    if entry.name:
        facts.update(nsdName=entry.name, nsdVersion=entry.version, nsdDesigner=entry.vendor)
        facts["nsdInvariantId"] = str(entry.info.get("nsdInvariantId") or facts["nsdId"])
    return facts


def _with_facts(body: dict[str, Any], package: VnfPackage, in_use: bool) -> dict[str, Any]:
    body[MATCH_KEY] = {
        "vnfPkgId": package.id,
        "vnfdId": package.vnfd_id,
        "vnfProvider": package.vnf_provider,
        "vnfProductName": package.vnf_product_name,
        "vnfSoftwareVersion": package.vnf_software_version,
        "vnfdVersion": package.vnfd_version,
        "operationalState": package.operational_state.value,
        "usageState": "IN_USE" if in_use else "NOT_IN_USE",
    }
    return body
