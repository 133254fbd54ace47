"""What a notification says: fault and KPI events as SOL005 bodies, and every body's links.

The NFVO publishes its lifecycle notifications on the ``EventBus`` itself;
fault management and KPI evaluation only call a ``notify`` hook with their
own objects, which this module turns into SOL005-shaped bodies:

- an alarm raised or changed (acknowledged, new severity or details) is an
  ``AlarmNotification`` carrying the alarm as ``GET /nsfm/v1/alarms/{id}``
  renders it; the change that clears it is an ``AlarmClearedNotification``
  (``alarmId``, ``alarmClearedTime``, and the alarm too). Acknowledging an
  alarm after it cleared is an ``AlarmNotification`` again: the alarm changed.
- an alarm about no NS instance (a VIM that does not answer) is not an NS
  alarm and is not notified (SOL005's ``managedObjectId`` names an NS instance).
- a KPI that turns VIOLATED is a ``ThresholdCrossedNotification`` with
  ``crossingDirection`` UP, one that turns OK again is one with DOWN (also
  after NO_DATA: the value is on the OK side). A KPI losing its data
  (NO_DATA) crossed no threshold and is not notified; its events list it.

nubo's own ids ride along as ``nsInstanceId`` so that the NS filter of a
subscription applies to every kind of notification.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from nubo.model.alarms import ALARMS_HREF, Alarm, is_ns_alarm, sol005_alarm
from nubo.model.errors import NotFound
from nubo.model.kpis import KpiEvent, KpiState
from nubo.model.subscription_filters import MATCH_KEY
from nubo.model.subscriptions import NotificationType
from nubo.store.port import NsdRepository, NsRecordRepository, PackageRepository

NSLCM_HREF = "/nslcm/v1"
NSD_HREF = "/nsd/v1/ns_descriptors"
PACKAGES_HREF = "/vnfpkgm/v1/vnf_packages"
KPIS_HREF = "/api/v1/ns-records/{nsr_id}/kpis/{kpi_id}"

Notification = tuple[NotificationType, dict[str, Any]]


def alarm_notification(alarm: Alarm, ns: Mapping[str, Any] | None = None) -> Notification | None:
    """The notification of an alarm that was raised, changed or cleared.

    ``ns`` holds what fault management filters match the alarm's NS instance on
    (``ns_facts``); the alarm's own attributes are added here. An alarm about no NS
    instance (a VIM's) is not an NS alarm: None.
    """
    if not is_ns_alarm(alarm):
        return None
    document = sol005_alarm(alarm)
    facts: dict[str, Any] = dict(ns or {})
    facts.update(
        perceivedSeverities=document["perceivedSeverity"],
        eventTypes=document["eventType"],
        probableCauses=document["probableCause"],
    )
    resource = document.get("rootCauseFaultyResource") or {}
    if resource.get("faultyResourceType"):
        facts["faultyResourceTypes"] = resource["faultyResourceType"]
    body: dict[str, Any] = {MATCH_KEY: facts}
    if alarm.nsr_id:
        body["nsInstanceId"] = alarm.nsr_id
        facts["nsInstanceIds"] = alarm.nsr_id
    # clearing sets both times to the same instant; a later change moves only the second
    cleared = alarm.alarm_cleared_time
    if cleared is not None and cleared == alarm.alarm_changed_time:
        body.update(alarmId=alarm.id, alarmClearedTime=document["alarmClearedTime"], alarm=document)
        return NotificationType.ALARM_CLEARED, body
    body["alarm"] = document
    return NotificationType.ALARM, body


def threshold_crossed_notification(event: KpiEvent) -> Notification | None:
    """The notification of a KPI's crossing; None for a change that crossed nothing."""
    if event.state is KpiState.VIOLATED:
        direction = "UP"
    elif event.state is KpiState.OK:
        direction = "DOWN"
    else:
        return None
    body = {
        "thresholdId": event.kpi_id,
        "crossingDirection": direction,
        "objectType": "Ns",
        "objectInstanceId": event.nsr_id,
        "nsInstanceId": event.nsr_id,
        "performanceMetric": event.metric.value,
        "performanceValue": event.value,
        "kpi": {
            "id": event.kpi_id,
            "name": event.kpi_name,
            "state": event.state.value,
            "previousState": event.previous_state.value if event.previous_state else None,
            "vnf": event.vnf,
            "aggregate": event.aggregate.value,
            "window": event.window,
            "comparisonOperator": event.comparison_operator.value,
            "threshold": event.threshold,
            "clearThreshold": event.clear_threshold,
            "evaluatedAt": datetime.fromtimestamp(event.time, UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            "eventId": event.id,
        },
    }
    return NotificationType.THRESHOLD_CROSSED, body


def notification_links(event: dict[str, Any], subscription_href: str) -> dict[str, Any]:
    """SOL005 ``_links`` of a notification: its subscription and what it is about."""
    links: dict[str, Any] = {"subscription": {"href": subscription_href}}
    kind = str(event.get("notificationType") or "")
    if kind.startswith("Nsd") and event.get("nsdInfoId"):
        links["nsdInfo"] = {"href": f"{NSD_HREF}/{event['nsdInfoId']}"}
    if kind.startswith("VnfPackage") and event.get("vnfPkgId"):
        links["vnfPackage"] = {"href": f"{PACKAGES_HREF}/{event['vnfPkgId']}"}
    if kind == "AlarmListRebuiltNotification":
        links["alarms"] = {"href": ALARMS_HREF}
    ns_id = event.get("nsInstanceId")
    if ns_id:
        links["nsInstance"] = {"href": f"{NSLCM_HREF}/ns_instances/{ns_id}"}
    op_id = event.get("nsLcmOpOccId")
    if op_id:
        links["nsLcmOpOcc"] = {"href": f"{NSLCM_HREF}/ns_lcm_op_occs/{op_id}"}
    alarm = event.get("alarm")
    alarm_id = event.get("alarmId") or (alarm.get("id") if isinstance(alarm, dict) else None)
    if alarm_id:
        links["alarm"] = {"href": f"{ALARMS_HREF}/{alarm_id}"}
    threshold_id = event.get("thresholdId")
    if threshold_id and ns_id:
        links["threshold"] = {"href": KPIS_HREF.format(nsr_id=ns_id, kpi_id=threshold_id)}
        links["objectInstance"] = links["nsInstance"]
    return links


class NsFactsReader:
    """What fault filters match an NS instance on: its name, its NSD's own id, its VNFDs.

    The VNFD ids are those of the VNF packages its NSD was onboarded with
    (``vnfPkgIds``); an NSD onboarded without packages (Open Baton JSON) names none.
    """

    def __init__(
        self, nsrs: NsRecordRepository, nsds: NsdRepository, packages: PackageRepository
    ) -> None:
        self._nsrs = nsrs
        self._nsds = nsds
        self._packages = packages

    async def __call__(self, nsr_id: str) -> dict[str, Any]:
        nsr = await self._nsrs.get_nsr(nsr_id)
        facts: dict[str, Any] = {"nsInstanceNames": nsr.name}
        try:
            entry = await self._nsds.get_nsd(nsr.descriptor_reference)
        except NotFound:
            return facts
        facts["nsdIds"] = str(entry.info.get("nsdId") or entry.id)
        vnfd_ids = []
        for package_id in entry.info.get("vnfPkgIds") or ():
            try:
                package = await self._packages.get(str(package_id))
            except NotFound:
                continue
            if package.vnfd_id:
                vnfd_ids.append(package.vnfd_id)
        facts["vnfdIds"] = vnfd_ids
        return facts
