"""What the rest of nubo needs from persistence: one repository port per aggregate.

The services are given these by the composition root (``nubo.app``), built on
one ``Database``; the SQL implementations live beside this package in
``nubo.store`` and are the only code that sees SQLAlchemy. Every method is one
transaction. An NSR is saved whole (it is an aggregate), under the NS's
lease, and every write of an NSR or an occurrence is a compare-and-set on the
revision it was read at (``StaleRecord`` otherwise).
"""

from __future__ import annotations

from nubo.store.port.alarms import AlarmRepository
from nubo.store.port.audit import AuditQuery, AuditRepository
from nubo.store.port.catalogue import NsdRepository, PackageRepository, VimRepository
from nubo.store.port.coordination import Leadership, LoopMemory, NsLeases
from nubo.store.port.decisions import DecisionLike, DecisionRepository
from nubo.store.port.identity import IdentityRepository, TokenRepository, TokenState
from nubo.store.port.monitoring import KpiRepository, MetricRepository, PruneReport, SampleFeed
from nubo.store.port.notifications import Outbox, OutboxEntry, SubscriptionRepository
from nubo.store.port.operations import OperationRepository
from nubo.store.port.records import NsRecordRepository

__all__ = [
    "AlarmRepository",
    "AuditQuery",
    "AuditRepository",
    "DecisionLike",
    "DecisionRepository",
    "IdentityRepository",
    "KpiRepository",
    "Leadership",
    "LoopMemory",
    "MetricRepository",
    "NsLeases",
    "NsRecordRepository",
    "NsdRepository",
    "OperationRepository",
    "Outbox",
    "OutboxEntry",
    "PackageRepository",
    "PruneReport",
    "SampleFeed",
    "SubscriptionRepository",
    "TokenRepository",
    "TokenState",
    "VimRepository",
]
