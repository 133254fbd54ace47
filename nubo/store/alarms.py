"""``SqlAlarmRepository``: fault management's alarms (table ``alarms``)."""

from __future__ import annotations

import logging

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from nubo.model.alarms import Alarm
from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.database import Database
from nubo.store.rows import in_scope, read_bodies, read_body, to_utc, versioned
from nubo.store.tables import alarms

log = logging.getLogger(__name__)


class SqlAlarmRepository:
    """The ``AlarmRepository`` port; one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def save_alarm(self, alarm: Alarm) -> None:
        """Insert or replace: UPDATE, and INSERT when no row matched, in one transaction.

        Portable (no dialect-specific ON CONFLICT). Two writers inserting the
        same new id at once can only race on PostgreSQL; the loser's INSERT
        fails on the primary key and the retry then finds the row to update.
        """
        values = {
            "project_id": alarm.project_id,
            "managed_object_id": alarm.managed_object_id,
            "nsr_id": alarm.nsr_id,
            "probable_cause": alarm.probable_cause.value,
            "active": alarm.active,
            "alarm_raised_time": to_utc(alarm.alarm_raised_time),
            "body": alarm.model_dump(mode="json"),
        }
        for attempt in (1, 2):
            try:
                async with self._engine.begin() as conn:
                    result = await conn.execute(
                        update(alarms).where(alarms.c.id == alarm.id).values(**values)
                    )
                    if result.rowcount == 0:
                        await conn.execute(insert(alarms).values(id=alarm.id, **values))
                return
            except IntegrityError:
                if attempt == 2:
                    raise
                log.info("store.upsert_retry table=%s id=%s", alarms.name, alarm.id)

    async def get_alarm(self, alarm_id: str, scope: Scope = SYSTEM) -> Alarm:
        return await read_body(self._engine, alarms, alarm_id, Alarm, "alarm", "alarm_id", scope)

    async def list_alarms(
        self, active_only: bool = False, nsr_id: str | None = None, scope: Scope = SYSTEM
    ) -> list[Alarm]:
        """Newest first."""
        query = versioned(alarms).order_by(alarms.c.alarm_raised_time.desc(), alarms.c.id.desc())
        query = in_scope(query, alarms, scope)
        if active_only:
            query = query.where(alarms.c.active.is_(True))
        if nsr_id is not None:
            query = query.where(alarms.c.nsr_id == nsr_id)
        return await read_bodies(self._engine, query, Alarm)

    async def active_alarm(self, managed_object_id: str, probable_cause: str) -> Alarm | None:
        query = versioned(alarms).where(
            alarms.c.managed_object_id == managed_object_id,
            alarms.c.probable_cause == probable_cause,
            alarms.c.active.is_(True),
        )
        found = await read_bodies(self._engine, query, Alarm)
        return found[0] if found else None


__all__ = ["SqlAlarmRepository"]
