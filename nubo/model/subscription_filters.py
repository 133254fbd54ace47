"""The subscription filters of SOL005's NSD, VNF package and NS fault management APIs.

``/nslcm/v1/subscriptions`` keeps its own filter (``nubo.model.subscriptions``);
the other three APIs subscribe with ``NsdmSubscriptionFilter``,
``PkgmSubscriptionFilter`` and ``FmSubscriptionFilter`` (GS NFV-SOL 005
V2.6.1 §5.5.3.2, §9.5.3.2, §8.5.3.2). A filter is kept as the SOL005 document
the client sent, validated and normalised (lists sorted, without repeats),
so it renders as written and two requests that differ in order only are the
same subscription.

Matching follows the GS: every attribute present must match (one of its
values), absent ones match everything. An attribute constrains only the
notifications about what it describes (the NSD attributes the NSD
notifications, the PNFD ones the PNFD notifications, the alarm attributes
the alarm notifications, not ``AlarmListRebuiltNotification``;
``perceivedSeverities`` only ``AlarmNotification``, so that a subscriber of
CRITICAL alarms hears of their clearing too). The values
an event is matched against travel with it under ``MATCH_KEY``, a key that is
never sent to a subscriber: a deletion notification carries no state, but
its NSD's state at deletion can still be filtered on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from nubo.model.errors import BadRequest

#: the key of an event that holds what filters match against (never sent to a subscriber)
MATCH_KEY = "_match"


class SubscriptionApi(StrEnum):
    """The SOL005 API a subscription belongs to (the first segment of its URI)."""

    NSLCM = "nslcm"
    NSD = "nsd"
    VNFPKGM = "vnfpkgm"
    NSFM = "nsfm"

    @property
    def href(self) -> str:
        return f"/{self.value}/v1/subscriptions"


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


_Values = list[str] | None


class NsdmSubscriptionFilter(_Camel):
    """SOL005 ``NsdmSubscriptionFilter``; nubo has no PNFDs, so PNFD attributes match nothing."""

    notification_types: _Values = None
    nsd_info_id: _Values = None
    nsd_id: _Values = None
    nsd_name: _Values = None
    nsd_version: _Values = None
    nsd_designer: _Values = None
    nsd_invariant_id: _Values = None
    vnf_pkg_ids: _Values = None
    pnfd_info_ids: _Values = None
    nested_nsd_info_ids: _Values = None
    nsd_onboarding_state: _Values = None
    nsd_operational_state: _Values = None
    nsd_usage_state: _Values = None
    pnfd_id: _Values = None
    pnfd_name: _Values = None
    pnfd_version: _Values = None
    pnfd_provider: _Values = None
    pnfd_invariant_id: _Values = None
    pnfd_onboarding_state: _Values = None
    pnfd_usage_state: _Values = None


class VnfProductVersionFilter(_Camel):
    vnf_software_version: str
    vnfd_versions: _Values = None


class VnfProductFilter(_Camel):
    vnf_product_name: str
    versions: list[VnfProductVersionFilter] | None = None


class VnfProductsFromProviderFilter(_Camel):
    vnf_provider: str
    vnf_products: list[VnfProductFilter] | None = None


class PkgmSubscriptionFilter(_Camel):
    """SOL005 ``PkgmSubscriptionFilter``."""

    notification_types: _Values = None
    vnf_products_from_providers: list[VnfProductsFromProviderFilter] | None = None
    vnfd_id: _Values = None
    vnf_pkg_id: _Values = None
    operational_state: _Values = None
    usage_state: _Values = None


class FmNsInstanceSubscriptionFilter(_Camel):
    """SOL005 ``NsInstanceSubscriptionFilter`` as the fault management filter has it."""

    nsd_ids: _Values = None
    vnfd_ids: _Values = None
    pnfd_ids: _Values = None
    ns_instance_ids: _Values = None
    ns_instance_names: _Values = None


class FmSubscriptionFilter(_Camel):
    """SOL005 ``FmSubscriptionFilter``."""

    ns_instance_subscription_filter: FmNsInstanceSubscriptionFilter | None = None
    notification_types: _Values = None
    faulty_resource_types: _Values = None
    perceived_severities: _Values = None
    event_types: _Values = None
    probable_causes: _Values = None


class _Request(_Camel):
    callback_uri: str
    authentication: dict[str, Any] | None = None


class NsdmSubscriptionRequest(_Request):
    """The body of ``POST /nsd/v1/subscriptions``."""

    filter: NsdmSubscriptionFilter | None = None


class PkgmSubscriptionRequest(_Request):
    """The body of ``POST /vnfpkgm/v1/subscriptions``."""

    filter: PkgmSubscriptionFilter | None = None


class FmSubscriptionRequest(_Request):
    """The body of ``POST /nsfm/v1/subscriptions``."""

    filter: FmSubscriptionFilter | None = None


# -- what each attribute matches ---------------------------------------------------------

NSD_NOTIFICATIONS = (
    "NsdOnBoardingNotification",
    "NsdOnBoardingFailureNotification",
    "NsdChangeNotification",
    "NsdDeletionNotification",
)
PNFD_NOTIFICATIONS = (
    "PnfdOnBoardingNotification",
    "PnfdOnBoardingFailureNotification",
    "PnfdDeletionNotification",
)
PKG_NOTIFICATIONS = ("VnfPackageOnboardingNotification", "VnfPackageChangeNotification")
ALARM_NOTIFICATIONS = ("AlarmNotification", "AlarmClearedNotification")
FM_NOTIFICATIONS = (*ALARM_NOTIFICATIONS, "AlarmListRebuiltNotification")
#: spellings of ETSI's JSON schema that the GS spells otherwise, accepted as the GS's
_SPELLINGS = {"NsdOnboardingFailureNotification": "NsdOnBoardingFailureNotification"}

_ONBOARDING = ("CREATED", "UPLOADING", "PROCESSING", "ONBOARDED")
_OPERATIONAL = ("ENABLED", "DISABLED")
_USAGE = ("IN_USE", "NOT_IN_USE")
_SEVERITIES = ("CRITICAL", "MAJOR", "MINOR", "WARNING", "INDETERMINATE", "CLEARED")
_EVENT_TYPES = (
    "COMMUNICATIONS_ALARM",
    "PROCESSING_ERROR_ALARM",
    "ENVIRONMENTAL_ALARM",
    "QOS_ALARM",
    "EQUIPMENT_ALARM",
)


@dataclass(frozen=True)
class Attribute:
    """A filter attribute: its path in the filter, its allowed values, what it constrains."""

    path: str
    applies_to: tuple[str, ...]
    allowed: tuple[str, ...] | None = None

    @property
    def fact(self) -> str:
        """The key of the event's match values this attribute is compared with."""
        return self.path.rsplit(".", 1)[-1]


def _attrs(
    names: str, applies_to: tuple[str, ...], allowed: tuple[str, ...] | None = None
) -> list[Attribute]:
    return [Attribute(name, applies_to, allowed) for name in names.split()]


@dataclass(frozen=True)
class FilterSpec:
    """One API's filter: the notifications it may subscribe to and its attributes."""

    notification_types: tuple[str, ...]
    attributes: tuple[Attribute, ...]


_NSD = NSD_NOTIFICATIONS
_PNFD = PNFD_NOTIFICATIONS
SPECS: Mapping[SubscriptionApi, FilterSpec] = {
    SubscriptionApi.NSD: FilterSpec(
        (*NSD_NOTIFICATIONS, *PNFD_NOTIFICATIONS),
        (
            *_attrs("nsdInfoId nsdId nsdName nsdVersion nsdDesigner nsdInvariantId", _NSD),
            *_attrs("vnfPkgIds pnfdInfoIds nestedNsdInfoIds", _NSD),
            *_attrs("nsdOnboardingState", _NSD, _ONBOARDING),
            *_attrs("nsdOperationalState", _NSD, _OPERATIONAL),
            *_attrs("nsdUsageState", _NSD, _USAGE),
            *_attrs("pnfdId pnfdName pnfdVersion pnfdProvider pnfdInvariantId", _PNFD),
            *_attrs("pnfdOnboardingState", _PNFD, _ONBOARDING),
            *_attrs("pnfdUsageState", _PNFD, _USAGE),
        ),
    ),
    SubscriptionApi.VNFPKGM: FilterSpec(
        PKG_NOTIFICATIONS,
        (
            *_attrs("vnfdId vnfPkgId", PKG_NOTIFICATIONS),
            *_attrs("operationalState", PKG_NOTIFICATIONS, _OPERATIONAL),
            *_attrs("usageState", PKG_NOTIFICATIONS, _USAGE),
        ),
    ),
    SubscriptionApi.NSFM: FilterSpec(
        FM_NOTIFICATIONS,
        (
            *_attrs(
                " ".join(
                    f"nsInstanceSubscriptionFilter.{name}"
                    for name in ("nsdIds", "vnfdIds", "pnfdIds", "nsInstanceIds", "nsInstanceNames")
                ),
                ALARM_NOTIFICATIONS,
            ),
            *_attrs("faultyResourceTypes", ALARM_NOTIFICATIONS, ("COMPUTE", "STORAGE", "NETWORK")),
            # a clearing is matched on what cleared, not on its severity (CLEARED)
            *_attrs("perceivedSeverities", ("AlarmNotification",), _SEVERITIES),
            *_attrs("eventTypes", ALARM_NOTIFICATIONS, _EVENT_TYPES),
            *_attrs("probableCauses", ALARM_NOTIFICATIONS),
        ),
    ),
}


def normalised_filter(api: SubscriptionApi, request: BaseModel | None) -> dict[str, Any]:
    """A client's filter of ``api`` validated and normalised; ``BadRequest`` names the
    attribute in error and what it may hold."""
    if request is None:
        return {}
    spec = SPECS[api]
    document: dict[str, Any] = request.model_dump(by_alias=True, exclude_none=True)
    if "notificationTypes" in document:
        types = [_SPELLINGS.get(t, t) for t in document["notificationTypes"]]
        document["notificationTypes"] = _checked(
            "notificationTypes", types, spec.notification_types
        )
    for attribute in spec.attributes:
        values = _get(document, attribute.path)
        if values is not None:
            _set(document, attribute.path, _checked(attribute.path, values, attribute.allowed))
    if document.get("nsInstanceSubscriptionFilter") == {}:
        del document["nsInstanceSubscriptionFilter"]
    for index, provider in enumerate(document.get("vnfProductsFromProviders") or ()):
        _check_products(provider, f"filter.vnfProductsFromProviders.{index}")
    return document


def _checked(path: str, values: Iterable[str], allowed: tuple[str, ...] | None) -> list[str]:
    found = sorted(set(values))
    if not found:
        raise BadRequest(
            f"filter.{path} is an empty list, which would match nothing: "
            "give at least one value or leave the attribute out",
            field=f"filter.{path}",
        )
    for value in found:
        if not value.strip():
            raise BadRequest(f"filter.{path} holds an empty value", field=f"filter.{path}")
        if allowed is not None and value not in allowed:
            raise BadRequest(
                f"unknown value {value!r} in filter.{path}; allowed: {', '.join(allowed)}",
                field=f"filter.{path}",
            )
    return found


def _check_products(provider: dict[str, Any], path: str) -> None:
    if not provider["vnfProvider"].strip():
        raise BadRequest(f"{path}.vnfProvider is empty", field=f"{path}.vnfProvider")
    for index, product in enumerate(provider.get("vnfProducts") or ()):
        if not product["vnfProductName"].strip():
            where = f"{path}.vnfProducts.{index}.vnfProductName"
            raise BadRequest(f"{where} is empty", field=where)


def _get(document: Mapping[str, Any], path: str) -> Any:
    node: Any = document
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[part]
    node[last] = value


def filter_matches(
    api: SubscriptionApi, document: Mapping[str, Any], event: Mapping[str, Any]
) -> bool:
    """Whether an event (with its ``MATCH_KEY`` values) passes a normalised filter of ``api``."""
    spec = SPECS[api]
    kind = event.get("notificationType")
    if kind not in spec.notification_types:
        return False
    types = document.get("notificationTypes")
    if types and kind not in types:
        return False
    facts: Mapping[str, Any] = event.get(MATCH_KEY) or {}
    for attribute in spec.attributes:
        wanted = _get(document, attribute.path)
        if wanted is None or kind not in attribute.applies_to:
            continue
        if not set(_as_list(facts.get(attribute.fact))) & set(wanted):
            return False
    providers = document.get("vnfProductsFromProviders")
    return not providers or any(_provider_matches(p, facts) for p in providers)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _provider_matches(provider: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    if provider["vnfProvider"] != facts.get("vnfProvider"):
        return False
    products = provider.get("vnfProducts")
    return not products or any(_product_matches(p, facts) for p in products)


def _product_matches(product: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    if product["vnfProductName"] != facts.get("vnfProductName"):
        return False
    versions = product.get("versions")
    return not versions or any(
        v["vnfSoftwareVersion"] == facts.get("vnfSoftwareVersion")
        and (not v.get("vnfdVersions") or facts.get("vnfdVersion") in v["vnfdVersions"])
        for v in versions
    )
