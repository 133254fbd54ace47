"""Two replicas' token services on one database: what each knows, and how soon."""

from __future__ import annotations

import time

import pytest

from nubo.app import Repositories
from nubo.auth.tokens import TokenPolicy, TokenService
from nubo.model.errors import Unauthorized
from nubo.model.identity import Principal, Role, User


async def test_a_revocation_on_one_replica_holds_on_another_within_the_sync_interval(
    store: Repositories,
) -> None:
    offset = [0.0]

    def clock() -> float:
        return time.time() + offset[0]

    policy = TokenPolicy(sync_interval=1.0)
    a = TokenService(store.tokens, policy, clock=clock)
    b = TokenService(store.tokens, policy, clock=clock)
    await a.start()
    await b.start()
    assert len(await a.signing_keys()) == 1  # the second start found the first's key

    # a user made after b read its state: b reads it again for a valid token naming it
    await store.identity.add_user(User(id="u1", name="u1", password_hash="-"))
    principal = Principal(subject="u1", name="u1", project_id="p", role=Role.USER)
    token = (await a.issue(principal, 1, refresh=False)).access_token
    assert (await b.verify(token)).subject == "u1"

    await a.revoke(token)
    with pytest.raises(Unauthorized, match="revoked"):
        await a.verify(token)
    assert (await b.verify(token)).subject == "u1"  # b trusts its copy for up to a second
    offset[0] += 1.1
    with pytest.raises(Unauthorized, match="revoked"):
        await b.verify(token)


async def test_a_newer_generation_ends_older_tokens(store: Repositories) -> None:
    tokens = TokenService(store.tokens)
    await tokens.start()
    await store.identity.add_user(User(id="u1", name="u1", password_hash="-"))
    principal = Principal(subject="u1", name="u1", project_id="p", role=Role.USER)
    old = (await tokens.issue(principal, 1, refresh=False)).access_token
    user = await store.identity.get_user("u1")
    await store.identity.save_user(user.model_copy(update={"generation": 2}))
    tokens.invalidate()
    with pytest.raises(Unauthorized):
        await tokens.verify(old)
    new = (await tokens.issue(principal, 2, refresh=False)).access_token
    assert (await tokens.verify(new)).role is Role.USER
