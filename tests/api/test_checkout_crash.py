"""Exactly once under crashes (issue 10, point 4): 50 concurrent checkouts,
the server SIGKILLed at a random moment among them, restarted; then every
successful charge is fulfilled once and nothing else is.  Three rounds per
engine, each killed at another moment.  The server reconciles at once
(ORDER_RECONCILE_AFTER_S=0), so the test need not wait a minute."""
import concurrent.futures
import random
import time

import pytest
import requests

from conftest import finish_server, require_pg, start_server
from test_models import create_model, make_creator, make_users

BUYERS = 50


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def crash_server(request):
    if request.param == "postgres":
        require_pg()
    s = start_server(request.param, label=f"crash-{request.param}", env={"ORDER_RECONCILE_AFTER_S": "0"})
    yield s
    finish_server(s)


def restart(s):
    s.logf.close()
    s.stopped = False
    s.start()


def settle(s, timeout=30):
    """Waits until the reconciler has settled every pending order."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if int(s.scalar("SELECT COUNT(*) FROM orders WHERE status = 'pending'")) == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"orders still pending after {timeout}s:\n{s.log_tail()}")


def check_books(s):
    """Every successful charge fulfilled once, and nothing else."""
    charged = {row[0] for row in s.sql("SELECT idempotency_key FROM test_payments WHERE status = 'succeeded'")}
    fulfilled = {f"hwc3d-order-{row[0]}" for row in s.sql("SELECT id FROM orders WHERE status = 'fulfilled'")}
    assert charged == fulfilled, (charged ^ fulfilled)
    # each fulfilled order has exactly its items as live purchases, each once
    assert int(s.scalar("SELECT COUNT(*) FROM order_items oi JOIN orders o ON o.id = oi.order_id"
                        " WHERE o.status = 'fulfilled'")) == int(s.scalar("SELECT COUNT(*) FROM purchases"))
    assert int(s.scalar("SELECT COUNT(*) FROM (SELECT buyer_id, model_id FROM purchases"
                        " GROUP BY buyer_id, model_id HAVING COUNT(*) > 1) d")) == 0
    assert int(s.scalar("SELECT COUNT(*) FROM purchases p JOIN orders o ON o.id = p.order_id"
                        " WHERE o.status <> 'fulfilled'")) == 0
    # one sale in the ledger per purchase, and the sales counters agree
    assert int(s.scalar("SELECT COUNT(*) FROM earnings WHERE kind = 'sale'")) == \
        int(s.scalar("SELECT COUNT(*) FROM purchases"))
    assert int(s.scalar("SELECT COALESCE(SUM(sales_count), 0) FROM models")) == \
        int(s.scalar("SELECT COUNT(*) FROM purchases"))
    assert int(s.scalar("SELECT COUNT(*) FROM order_locks")) == 0


def test_sigkill_during_50_checkouts_fulfils_every_charge_once(crash_server):
    s = crash_server
    rng = random.Random()
    c = make_creator(s)
    models = [create_model(s, c, approve=True, price=rng.choice([1, 2.5, 9.99]))["id"] for _ in range(3)]
    for round_no in range(3):
        buyers = make_users(s, BUYERS)
        keys = [f"crash-{round_no}-{i}" for i in range(BUYERS)]

        def buy(i):
            token = "tok_chargeDeclined" if i % 7 == 0 else "tok_visa"
            h = dict(buyers[i].h, **{"Idempotency-Key": keys[i]})
            body = {"model_ids": models[: 1 + i % 3], "payment_method": "card",
                    "payment_details": {"card_token": token}}
            try:
                return requests.post(s.url + "/api/checkout", json=body, headers=h, timeout=20).status_code
            except requests.RequestException:
                return None  # the server died under it

        with concurrent.futures.ThreadPoolExecutor(max_workers=BUYERS) as ex:
            futures = [ex.submit(buy, i) for i in range(BUYERS)]
            time.sleep(rng.uniform(0.02, 0.6))
            s.kill()  # SIGKILL, somewhere among the checkouts
            statuses = [f.result() for f in futures]
        assert set(statuses) <= {None, 200, 402, 409, 503}, statuses
        restart(s)
        settle(s)
        check_books(s)
        # a retry with the same key now answers the settled outcome, and buys nothing more
        before = int(s.scalar("SELECT COUNT(*) FROM purchases"))
        for i in range(0, BUYERS, 5):
            r = requests.post(s.url + "/api/checkout", json={
                "model_ids": models[: 1 + i % 3], "payment_method": "card",
                "payment_details": {"card_token": "tok_chargeDeclined" if i % 7 == 0 else "tok_visa"}},
                headers=dict(buyers[i].h, **{"Idempotency-Key": keys[i]}), timeout=20)
            assert r.status_code in (200, 402), r.text
            if i % 7 == 0:
                assert r.status_code == 402
        assert int(s.scalar("SELECT COUNT(*) FROM purchases")) >= before
        check_books(s)
