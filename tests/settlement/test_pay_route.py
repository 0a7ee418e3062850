"""``POST /settlement/orders`` is served by a plain Starlette route ahead of FastAPI's routes
(docs/adr/0012, sixth round). It must answer exactly as the documented FastAPI route does: each
request below is sent to the app as it is and to the app with the plain route taken out, and
the two answers compared (status, content type, body)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Route

from medcard.adapters import Adapters
from tests.settlement.conftest import MakePayer, Payer, add_bill

ORDERS = "/api/v1/settlement/orders"


@contextmanager
def documented_route_only(app: FastAPI) -> Iterator[None]:
    """The app without the plain route: FastAPI's documented route answers."""
    routes = app.router.routes
    (plain,) = [r for r in routes if isinstance(r, Route) and r.path == ORDERS and "POST" in (r.methods or ())]
    index = routes.index(plain)
    routes.remove(plain)
    try:
        yield
    finally:
        routes.insert(index, plain)


def answer(response: httpx.Response) -> tuple[int, str, Any]:
    return response.status_code, response.headers["content-type"], response.json()


def requests(payer: Payer, bill: str) -> dict[str, dict[str, Any]]:
    """Named requests: everything a client can get wrong, in each order FastAPI checks it (an
    ``Idempotency-Key`` the key store refuses included: the batch must not take it either)."""
    body = {"card_id": payer.card_id, "bill_number": bill}
    auth = payer.headers["Authorization"]
    json_type = {"Content-Type": "application/json"}
    return {
        "no login": {"json": body, "headers": {"Idempotency-Key": "k1"}},
        "bearer with no token": {"json": body, "headers": {"Authorization": "Bearer  ", "Idempotency-Key": "k1"}},
        "not JSON, no login": {"content": b"{oops", "headers": json_type},
        "not JSON": {"content": b'{"card_id": ', "headers": {**json_type, "Authorization": auth}},
        "no key": {"json": body, "headers": {"Authorization": auth}},
        "key too long": {"json": body, "headers": {"Authorization": auth, "Idempotency-Key": "k" * 65}},
        "no body": {"headers": {"Authorization": auth, "Idempotency-Key": "k1"}},
        "no key, no body": {"headers": {"Authorization": auth}},
        "text body": {
            "content": b"card",
            "headers": {"Authorization": auth, "Idempotency-Key": "k1", "Content-Type": "text/plain"},
        },
        "no content type": {"content": b'{"card_id": "x"}', "headers": {"Authorization": auth, "Idempotency-Key": "k"}},
        "JSON list": {"json": [1], "headers": {"Authorization": auth, "Idempotency-Key": "k1"}},
        "bad fields": {
            "json": {"card_id": "nope", "bill_number": ""},
            "headers": {"Authorization": auth, "Idempotency-Key": "k1"},
        },
        "bad fields, no key": {"json": {"bill_number": "x" * 41}, "headers": {"Authorization": auth}},
        "unknown login": {"json": body, "headers": {"Authorization": "Bearer nobody", "Idempotency-Key": "k1"}},
        "not UTF-8": {"content": b'{"card_id": "\xff"}', "headers": {**json_type, "Authorization": auth}},
        "key not visible ASCII": {"json": body, "headers": {"Authorization": auth, "Idempotency-Key": "a key"}},
        "key not ASCII": {
            "json": body,
            "headers": {"Authorization": auth.encode(), "Idempotency-Key": "密钥".encode()},
        },
        "empty key": {"json": body, "headers": {"Authorization": auth, "Idempotency-Key": ""}},
        "vnd+json, bill not found": {
            "content": f'{{"card_id": "{payer.card_id}", "bill_number": "NO-SUCH"}}',
            "headers": {
                "Authorization": auth,
                "Idempotency-Key": "k2",
                "Content-Type": "application/vnd.api+json; charset=utf-8",
            },
        },
    }


NAMES = list(requests(Payer("card", "his", "openid", {"Authorization": "Bearer t"}, False), "bill"))


@pytest.mark.parametrize("name", NAMES)
async def test_the_plain_route_refuses_every_bad_request_as_the_documented_route(
    name: str, app: FastAPI, client: httpx.AsyncClient, adapters: Adapters, make_payer: MakePayer
) -> None:
    payer = await make_payer(bind=False)
    request = requests(payer, add_bill(adapters, payer, ("C", 5_000)).bill_no)[name]
    plain = await client.post(ORDERS, **request)
    with documented_route_only(app):
        documented = await client.post(ORDERS, **request)
    assert answer(plain) == answer(documented)
    assert plain.status_code in (400, 401, 404, 422), plain.text


async def test_the_plain_route_pays_and_replays_as_the_documented_route(
    app: FastAPI, client: httpx.AsyncClient, adapters: Adapters, make_payer: MakePayer
) -> None:
    """A payment through each route (each its own bill), then each key again: the same answer,
    replayed, and each bill paid once."""
    payer = await make_payer(bind=False)
    first, second = (add_bill(adapters, payer, ("C", 12_000)).bill_no for _ in range(2))
    headers = {**payer.headers, "Idempotency-Key": "plain"}
    plain = await client.post(ORDERS, json={"card_id": payer.card_id, "bill_number": first}, headers=headers)
    plain_again = await client.post(ORDERS, json={"card_id": payer.card_id, "bill_number": first}, headers=headers)
    with documented_route_only(app):
        headers = {**payer.headers, "Idempotency-Key": "documented"}
        body = {"card_id": payer.card_id, "bill_number": second}
        documented = await client.post(ORDERS, json=body, headers=headers)
        documented_again = await client.post(ORDERS, json=body, headers=headers)
    assert plain.status_code == documented.status_code == 200, (plain.text, documented.text)
    assert plain.headers["content-type"] == documented.headers["content-type"]
    paid, other = plain.json(), documented.json()
    assert set(paid) == set(other) and paid["state"] == other["state"] == "paid"
    own = ("id", "bill_number", "created_at", "paid_at", "expires_at")
    assert {k: v for k, v in paid.items() if k not in own} == {k: v for k, v in other.items() if k not in own}
    assert plain_again.json() == paid and documented_again.json() == other
    assert plain_again.headers["idempotent-replayed"] == documented_again.headers["idempotent-replayed"] == "true"
