"""The notification outbox: what was accepted survives a restart, one replica delivers it,
a deleted subscription takes its rows along, and a subscriber's rows are bounded.

Every notification is POSTed for real to a ``CallbackServer`` on 127.0.0.1; a
callback that is "down" answers 500 until the test lets it accept.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from nubo.app import Nubo
from tests.callback_server import CallbackServer
from tests.conftest import api_client, fake_nubo, running
from tests.databases import database_url_for
from tests.unit.test_subscriptions import SUBS, eventually, subscribe

#: retries go on (quickly) for as long as a test keeps the callback down
PATIENT = {"notification_backoff": 0.05, "notification_attempts": 1000, "notification_timeout": 2.0}
CREATED = "NsIdentifierCreationNotification"


async def pending(app: Nubo, subscription_id: str) -> int:
    return (await app.subscriptions.outbox.counts([subscription_id])).get(subscription_id, 0)


def ns_ids(bodies: list[dict[str, Any]]) -> list[str]:
    return [b["nsInstanceId"] for b in bodies]


async def test_accepted_notifications_are_delivered_in_order_after_a_restart(
    tmp_path: Path,
) -> None:
    with CallbackServer(fail_always=True) as callback:
        async with running(fake_nubo(tmp_path, **PATIENT)) as first, api_client(first) as http:
            sub = await subscribe(http, callback.url)
            for n in range(1, 4):
                first.events.publish(CREATED, nsInstanceId=f"ns-{n}", project_id="default")

            async def all_written() -> bool:
                return await pending(first, sub["id"]) == 3

            await eventually(all_written)
            await eventually(lambda: callback.posts >= 2)  # the head is being retried
            head, *rest = await first.subscriptions.outbox.head(sub["id"], 10)
            assert head.body["nsInstanceId"] == "ns-1" and head.attempts >= 1
            assert [r.attempts for r in rest] == [0, 0]
            accepted = [head.body["id"], *(r.body["id"] for r in rest)]
        assert callback.received == []

        callback.fail_always = False
        async with running(fake_nubo(tmp_path, **PATIENT)) as second:
            second.events.publish(CREATED, nsInstanceId="ns-4", project_id="default")
            await callback.wait_for(4)
            await asyncio.sleep(0.3)  # nothing more may come
            got = callback.bodies()
            assert ns_ids(got) == ["ns-1", "ns-2", "ns-3", "ns-4"]
            assert [b["id"] for b in got[:3]] == accepted  # the same notifications, not new ones
            await eventually(lambda: _empty(second, sub["id"]))
            async with api_client(second) as http:
                counters = (await http.get(f"{SUBS}/{sub['id']}")).json()["nuboDelivery"]
            assert (counters["delivered"], counters["queued"], counters["dropped"]) == (4, 0, 0)


async def _empty(app: Nubo, subscription_id: str) -> bool:
    return await pending(app, subscription_id) == 0


async def test_two_replicas_on_one_database_deliver_each_notification_once(
    tmp_path: Path,
) -> None:
    url = database_url_for(tmp_path / "shared")  # one database, two replicas
    fast = {"notification_backoff": 0.02, "notification_attempts": 3, "database_url": url}
    a = fake_nubo(tmp_path / "a", replica_id="replica-a", **fast)
    b = fake_nubo(tmp_path / "b", replica_id="replica-b", **fast)
    with CallbackServer() as callback:
        async with running(a), running(b), api_client(a) as on_a:
            assert (a.subscriptions.delivering, b.subscriptions.delivering) == (True, False)
            sub = await subscribe(on_a, callback.url)
            await eventually(lambda: sub["id"] in b.subscriptions.watched())
            for n in range(12):
                (a if n % 2 else b).events.publish(
                    CREATED, nsInstanceId=f"ns-{n:02}", project_id="default"
                )

            await callback.wait_for(12)
            await asyncio.sleep(1.5)  # more than a poll: a second sender would have sent by now
            got = callback.bodies()
            assert len(got) == 12 and len({body["id"] for body in got}) == 12
            assert sorted(ns_ids(got)) == [f"ns-{n:02}" for n in range(12)]
            # what one replica published arrives in its order
            from_a = [ns for ns in ns_ids(got) if int(ns[3:]) % 2]
            from_b = [ns for ns in ns_ids(got) if not int(ns[3:]) % 2]
            assert from_a == sorted(from_a) and from_b == sorted(from_b)
            on_a_counts = (await a.subscriptions.counters([sub["id"]]))[sub["id"]]
            on_b_counts = (await b.subscriptions.counters([sub["id"]]))[sub["id"]]
            assert (on_a_counts.delivered, on_b_counts.delivered) == (12, 0)


async def test_the_next_leader_delivers_what_a_stopped_replica_left(tmp_path: Path) -> None:
    url = database_url_for(tmp_path / "shared")  # one database, two replicas
    shared = {"database_url": url, "lease_seconds": 1.5, **PATIENT}
    a = fake_nubo(tmp_path / "a", replica_id="replica-a", **shared)
    b = fake_nubo(tmp_path / "b", replica_id="replica-b", **shared)
    with CallbackServer(fail_always=True) as callback:
        await a.start()  # first: a leads delivery
        stopped = False
        try:
            async with running(b):
                assert a.subscriptions.delivering and not b.subscriptions.delivering
                async with api_client(b) as on_b:
                    sub = await subscribe(on_b, callback.url)
                await eventually(lambda: sub["id"] in a.subscriptions.watched())
                b.events.publish(
                    CREATED, nsInstanceId="ns-1", project_id="default"
                )  # written by b, sent by a
                b.events.publish(CREATED, nsInstanceId="ns-2", project_id="default")
                await eventually(lambda: callback.posts >= 1)
                await a.stop()  # resigns: b leads at its next look
                stopped = True
                callback.fail_always = False
                await eventually(lambda: b.subscriptions.delivering)
                await callback.wait_for(2)
                await asyncio.sleep(0.3)
                assert ns_ids(callback.bodies()) == ["ns-1", "ns-2"]
                assert await pending(b, sub["id"]) == 0
        finally:
            if not stopped:
                await a.stop()


async def test_deleting_a_subscription_deletes_its_pending_notifications(tmp_path: Path) -> None:
    with CallbackServer(fail_always=True) as callback:
        async with running(fake_nubo(tmp_path, **PATIENT)) as app, api_client(app) as http:
            sub = await subscribe(http, callback.url)
            kept = await subscribe(http, callback.url, notificationTypes=[CREATED])
            for n in range(3):
                app.events.publish(CREATED, nsInstanceId=f"ns-{n}", project_id="default")

            async def written() -> bool:
                counts = await app.subscriptions.outbox.counts([sub["id"], kept["id"]])
                return counts == {sub["id"]: 3, kept["id"]: 3}

            await eventually(written)
            assert (await http.delete(f"{SUBS}/{sub['id']}")).status_code == 204
            assert await pending(app, sub["id"]) == 0
            assert await pending(app, kept["id"]) == 3
            callback.fail_always = False
            await callback.wait_for(3)
            await asyncio.sleep(0.3)
            assert {b["subscriptionId"] for b in callback.bodies()} == {kept["id"]}
            assert len(callback.bodies()) == 3


async def test_a_full_outbox_drops_the_oldest_notification(tmp_path: Path) -> None:
    settings = {**PATIENT, "notification_queue_size": 2}
    with CallbackServer(fail_always=True) as callback:
        async with running(fake_nubo(tmp_path, **settings)) as app, api_client(app) as http:
            sub = await subscribe(http, callback.url)
            app.events.publish(CREATED, nsInstanceId="ns-1", project_id="default")
            await eventually(lambda: callback.posts >= 1)  # ns-1 is being retried
            for n in range(2, 6):
                app.events.publish(CREATED, nsInstanceId=f"ns-{n}", project_id="default")

            async def bounded() -> bool:
                counters = (await app.subscriptions.counters([sub["id"]]))[sub["id"]]
                return counters.dropped == 3

            await eventually(bounded)
            rows = await app.subscriptions.outbox.head(sub["id"], 10)
            assert [r.body["nsInstanceId"] for r in rows] == ["ns-4", "ns-5"]
            counters = (await http.get(f"{SUBS}/{sub['id']}")).json()["nuboDelivery"]
            # queued leaves out the one being sent, and the head is retried on and off
            assert counters["dropped"] == 3 and counters["queued"] in (1, 2), counters
            callback.fail_always = False
            await callback.wait_for(2)
            await asyncio.sleep(0.3)
            assert ns_ids(callback.bodies()) == ["ns-4", "ns-5"]
