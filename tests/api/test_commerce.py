"""Cart, checkout with the built-in test processor, purchases and signed
downloads (issue 10), on SQLite and PostgreSQL."""
import re
import time
import urllib.parse

import requests

from conftest import assert_error, uniq
from test_models import CUBE_OBJ, create_model, make_buyer, make_creator, parallel


def sale(server, creator=None, price=9.99, **fields):
    """An approved model for sale by a fresh creator (or the given one)."""
    c = creator or make_creator(server)
    return c, create_model(server, c, approve=True, price=price, **fields)


def cart(server, who):
    r = server.get("/api/cart", headers=who.h)
    assert r.status_code == 200, r.text
    return r.json()


def add(server, who, mid):
    return server.post("/api/cart", json={"model_id": mid}, headers=who.h)


def checkout(server, who, key=None, **body):
    body.setdefault("payment_method", "card")
    body.setdefault("payment_details", {"card_token": "tok_visa"})
    h = dict(who.h)
    if key:
        h["Idempotency-Key"] = key
    return server.post("/api/checkout", json=body, headers=h)


# ---------------------------------------------------------------- cart

def test_cart_add_list_remove_and_total(server):
    b = make_buyer(server)
    _, m1 = sale(server, price=10.5)
    _, m2 = sale(server, price=4.25)
    assert cart(server, b) == {"items": [], "count": 0, "available_count": 0, "total_amount": 0, "currency": "USD"}
    r = add(server, b, m1["id"])
    assert r.status_code == 201, r.text
    assert add(server, b, m2["id"]).status_code == 201
    r = add(server, b, m1["id"])  # twice: harmless
    assert r.status_code == 200
    body = cart(server, b)
    assert [i["model_id"] for i in body["items"]] == [m1["id"], m2["id"]]
    assert body["total_amount"] == 14.75 and body["count"] == 2
    assert body["items"][0]["model"]["title"] == m1["title"] and body["items"][0]["price"] == 10.5
    assert all(i["is_available"] for i in body["items"])
    r = server.delete(f"/api/cart/{m1['id']}", headers=b.h)
    assert r.status_code == 200 and [i["model_id"] for i in r.json()["items"]] == [m2["id"]]
    assert_error(server.delete(f"/api/cart/{m1['id']}", headers=b.h), 404, "NOT_FOUND")
    assert cart(server, b)["total_amount"] == 4.25


def test_cart_refuses_what_cannot_be_bought(server):
    c = make_creator(server)
    b = make_buyer(server)
    own = create_model(server, c, approve=True)
    free = create_model(server, c, approve=True, price=0, is_free=True)
    pending = create_model(server, c)
    assert_error(add(server, c, own["id"]), 422, "VALIDATION_ERROR", "model_id")
    assert_error(add(server, b, free["id"]), 422, "VALIDATION_ERROR", "model_id")
    assert_error(add(server, b, pending["id"]), 404, "NOT_FOUND")  # someone else's unpublished: missing
    assert_error(add(server, c, pending["id"]), 422, "VALIDATION_ERROR", "model_id")  # own, in any case
    assert_error(add(server, b, 10 ** 12), 404, "NOT_FOUND")
    for bad in ({}, {"model_id": "x"}, {"model_id": 0}, {"model_id": -3}, {"model_id": 1.5}, {"model_id": None}):
        assert_error(server.post("/api/cart", json=bad, headers=b.h), 422, "VALIDATION_ERROR", "model_id")
    assert_error(server.get("/api/cart"), 401, "UNAUTHORIZED")
    assert_error(server.post("/api/cart", json={"model_id": own["id"]}), 401, "UNAUTHORIZED")
    assert cart(server, b)["items"] == []


def test_a_model_that_stops_being_for_sale_stays_listed_unavailable(server):
    b = make_buyer(server)
    c, m = sale(server, price=3)
    _, other = sale(server, price=2)
    assert add(server, b, m["id"]).status_code == 201
    assert add(server, b, other["id"]).status_code == 201
    r = server.post(f"/api/models/{m['id']}/toggle-publish", headers=c.h)  # unpublished
    assert r.status_code == 200, r.text
    body = cart(server, b)
    state = {i["model_id"]: i["is_available"] for i in body["items"]}
    assert state == {m["id"]: False, other["id"]: True}
    assert body["total_amount"] == 2 and body["available_count"] == 1


def test_checkout_of_the_cart_takes_only_what_can_still_be_bought(server):
    b = make_buyer(server)
    c, gone = sale(server, price=3)
    _, m = sale(server, price=2)
    add(server, b, gone["id"])
    add(server, b, m["id"])
    assert server.post(f"/api/models/{gone['id']}/toggle-publish", headers=c.h).status_code == 200
    r = checkout(server, b)
    assert r.status_code == 200, r.text
    assert [p["model_id"] for p in r.json()["purchases"]] == [m["id"]] and r.json()["total_amount"] == 2
    # only the unavailable model is left, and nothing can be bought
    assert [i["model_id"] for i in cart(server, b)["items"]] == [gone["id"]]
    assert_error(checkout(server, b), 422, "VALIDATION_ERROR", "model_ids")


def test_carts_are_private(server):
    a, b = make_buyer(server), make_buyer(server)
    _, m = sale(server)
    assert add(server, a, m["id"]).status_code == 201
    assert cart(server, b)["items"] == []
    assert_error(server.delete(f"/api/cart/{m['id']}", headers=b.h), 404, "NOT_FOUND")
    assert [i["model_id"] for i in cart(server, a)["items"]] == [m["id"]]


# ------------------------------------------------------------- checkout

def test_checkout_of_the_cart_buys_once_at_database_prices(server):
    b = make_buyer(server)
    c1, m1 = sale(server, price=19.99)
    c2, m2 = sale(server, price=40)
    add(server, b, m1["id"])
    add(server, b, m2["id"])
    # a price sent by the client is ignored
    r = checkout(server, b, total_amount=0.01, prices={str(m1["id"]): 0.01})
    assert r.status_code == 200, r.text
    body = r.json()
    assert re.fullmatch(r"TXN-\d{4}-\d{6}", body["transaction_id"])
    assert body["total_amount"] == 59.99 and body["status"] == "completed"
    # 12% of each price, rounded half up: 2.40 + 4.80
    assert body["platform_fee"] == 7.2
    assert sorted(p["model_id"] for p in body["purchases"]) == sorted([m1["id"], m2["id"]])
    for p in body["purchases"]:
        assert p["download_url"].startswith(server.url + "/api/downloads/") or "/api/downloads/" in p["download_url"]
    assert cart(server, b)["items"] == []
    # the books: purchases, earnings net of the fee, sales counted
    assert int(server.scalar(f"SELECT COUNT(*) FROM purchases WHERE buyer_id = {b.id}")) == 2
    assert int(server.scalar(f"SELECT SUM(amount_cents) FROM earnings WHERE creator_id = {c1.id}")) == 1999 - 240
    assert int(server.scalar(f"SELECT SUM(amount_cents) FROM earnings WHERE creator_id = {c2.id}")) == 4000 - 480
    # (signed in: an anonymous answer may be the cached one for up to 30 s)
    assert server.get(f"/api/models/{m1['id']}", headers=b.h).json()["sales_count"] == 1
    assert int(server.scalar(f"SELECT COUNT(*) FROM notifications WHERE user_id = {c1.id}"
                             " AND type = 'model_purchased'")) == 1
    # buying again is refused, and so is adding to the cart
    assert_error(checkout(server, b, model_ids=[m1["id"]]), 409, "CONFLICT")
    assert_error(add(server, b, m1["id"]), 409, "CONFLICT")


def test_checkout_of_named_models_leaves_the_rest_of_the_cart(server):
    b = make_buyer(server)
    _, m1 = sale(server, price=5)
    _, m2 = sale(server, price=6)
    add(server, b, m1["id"])
    add(server, b, m2["id"])
    r = checkout(server, b, model_ids=[m2["id"], m2["id"]])  # a repeat is one item
    assert r.status_code == 200, r.text
    assert r.json()["total_amount"] == 6 and len(r.json()["purchases"]) == 1
    assert [i["model_id"] for i in cart(server, b)["items"]] == [m1["id"]]


def test_declined_card_is_402_and_buys_nothing(server):
    b = make_buyer(server)
    c, m = sale(server)
    add(server, b, m["id"])
    r = checkout(server, b, payment_details={"card_token": "tok_chargeDeclined"})
    assert_error(r, 402, "PAYMENT_FAILED")
    assert "declined" in r.json()["detail"].lower()
    assert int(server.scalar(f"SELECT COUNT(*) FROM purchases WHERE buyer_id = {b.id}")) == 0
    assert int(server.scalar(f"SELECT COUNT(*) FROM earnings WHERE creator_id = {c.id}")) == 0
    assert [i["model_id"] for i in cart(server, b)["items"]] == [m["id"]]  # still there to retry
    assert checkout(server, b).status_code == 200  # and a good card then buys it


def test_idempotency_key_replays_the_first_answer_and_charges_once(server):
    b = make_buyer(server)
    _, m = sale(server, price=12)
    key = uniq("idem")
    first = checkout(server, b, key=key, model_ids=[m["id"]])
    assert first.status_code == 200, first.text
    again = checkout(server, b, key=key, model_ids=[m["id"]])
    assert again.status_code == 200, again.text
    assert again.json()["transaction_id"] == first.json()["transaction_id"]
    assert int(server.scalar(f"SELECT COUNT(*) FROM orders WHERE buyer_id = {b.id}")) == 1
    assert int(server.scalar(f"SELECT COUNT(*) FROM test_payments WHERE amount_cents = 1200"
                             f" AND idempotency_key IN (SELECT 'hwc3d-order-' || id FROM orders"
                             f" WHERE buyer_id = {b.id})")) == 1
    # the same key for another request is refused
    _, m2 = sale(server)
    assert_error(checkout(server, b, key=key, model_ids=[m2["id"]]), 422, "VALIDATION_ERROR", "Idempotency-Key")
    # a declined checkout replays its 402
    _, m3 = sale(server)
    k2 = uniq("idem")
    assert checkout(server, b, key=k2, model_ids=[m3["id"]],
                    payment_details={"card_token": "tok_chargeDeclined"}).status_code == 402
    assert_error(checkout(server, b, key=k2, model_ids=[m3["id"]],
                          payment_details={"card_token": "tok_chargeDeclined"}), 402, "PAYMENT_FAILED")
    # keys are per buyer: another buyer's same key is their own
    other = make_buyer(server)
    assert checkout(server, other, key=key, model_ids=[m["id"]]).status_code == 200


def test_two_checkouts_of_one_cart_at_once_buy_once(server):
    b = make_buyer(server)
    c, m = sale(server, price=7)
    add(server, b, m["id"])
    statuses = parallel(lambda _: checkout(server, b).status_code, range(8), workers=8)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 409, 422}, statuses
    assert int(server.scalar(f"SELECT COUNT(*) FROM purchases WHERE buyer_id = {b.id}")) == 1
    assert int(server.scalar(f"SELECT COUNT(*) FROM earnings WHERE creator_id = {c.id}")) == 1
    assert int(server.scalar(f"SELECT COUNT(*) FROM test_payments t JOIN orders o"
                             f" ON t.idempotency_key = 'hwc3d-order-' || o.id"
                             f" WHERE o.buyer_id = {b.id} AND t.status = 'succeeded'")) == 1


def test_checkout_validation(server):
    b = make_buyer(server)
    _, m = sale(server)
    assert_error(checkout(server, b, model_ids=[]), 422, "VALIDATION_ERROR", "model_ids")  # nothing to buy
    assert_error(checkout(server, b), 422, "VALIDATION_ERROR", "model_ids")  # empty cart
    for ids in (["1"], [0], [-1], [1.5], "1", [None], list(range(1, 102))):
        assert_error(checkout(server, b, model_ids=ids), 422, "VALIDATION_ERROR", "model_ids")
    assert_error(checkout(server, b, model_ids=[m["id"]], payment_method="bitcoin"), 422, "VALIDATION_ERROR",
                 "payment_method")
    assert_error(checkout(server, b, model_ids=[m["id"]], payment_details={}), 422, "VALIDATION_ERROR",
                 "payment_details.card_token")
    assert_error(checkout(server, b, model_ids=[m["id"]], payment_details={"card_token": "tok visa"}), 422,
                 "VALIDATION_ERROR", "payment_details.card_token")
    assert_error(checkout(server, b, model_ids=[m["id"]], payment_details={"card_token": "t" * 256}), 422,
                 "VALIDATION_ERROR", "payment_details.card_token")
    assert_error(checkout(server, b, model_ids=[m["id"]], payment_details="tok_visa"), 422, "VALIDATION_ERROR",
                 "payment_details")
    assert_error(checkout(server, b, key="x" * 256, model_ids=[m["id"]]), 422, "VALIDATION_ERROR",
                 "Idempotency-Key")
    # PayPal is not configured on this server
    assert_error(checkout(server, b, model_ids=[m["id"]], payment_method="paypal", payment_details={}), 422,
                 "VALIDATION_ERROR", "payment_method")
    assert_error(checkout(server, b, model_ids=[10 ** 12]), 404, "NOT_FOUND")
    assert int(server.scalar(f"SELECT COUNT(*) FROM orders WHERE buyer_id = {b.id}")) == 0


def test_checkout_needs_a_verified_account(server):
    b = make_users_unverified(server)
    _, m = sale(server)
    assert_error(checkout(server, b, model_ids=[m["id"]]), 403, "EMAIL_NOT_VERIFIED")
    assert_error(server.post("/api/checkout", json={"model_ids": [m["id"]]}), 401, "UNAUTHORIZED")


def make_users_unverified(server):
    from test_models import make_users
    return make_users(server, 1, verified=False)[0]


def test_own_and_free_models_cannot_be_checked_out(server):
    c = make_creator(server)
    own = create_model(server, c, approve=True)
    free = create_model(server, c, approve=True, price=0, is_free=True)
    b = make_buyer(server)
    assert_error(checkout(server, c, model_ids=[own["id"]]), 422, "VALIDATION_ERROR", "model_ids")
    assert_error(checkout(server, b, model_ids=[free["id"]]), 422, "VALIDATION_ERROR", "model_ids")


# ------------------------------------------------------------ downloads

def test_download_by_signed_link_with_ranges_and_counting(server):
    b = make_buyer(server)
    _, m = sale(server)
    r = checkout(server, b, model_ids=[m["id"]])
    url = r.json()["purchases"][0]["download_url"]
    path = url[url.index("/api/downloads/"):]
    got = requests.get(server.url + path, timeout=10)  # no token needed: the link is the right
    assert got.status_code == 200 and got.content == CUBE_OBJ
    assert "attachment" in got.headers["Content-Disposition"]
    part = requests.get(server.url + path, headers={"Range": "bytes=2-5"}, timeout=10)
    assert part.status_code == 206 and part.content == CUBE_OBJ[2:6]
    assert server.get(f"/api/models/{m['id']}", headers=b.h).json()["downloads_count"] == 1  # the range did not count
    # tampering: another model, another user, a later expiry, a changed signature
    q = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    base = f"/api/downloads/{m['id']}"
    for bad in (f"{base}?user={q['user'][0]}&expires={int(q['expires'][0]) + 60}&sig={q['sig'][0]}",
                f"{base}?user={int(q['user'][0]) + 1}&expires={q['expires'][0]}&sig={q['sig'][0]}",
                f"/api/downloads/{m['id'] + 1}?user={q['user'][0]}&expires={q['expires'][0]}&sig={q['sig'][0]}",
                f"{base}?user={q['user'][0]}&expires={q['expires'][0]}&sig={'0' * 64}",
                f"{base}?user={q['user'][0]}&expires={q['expires'][0]}",
                f"{base}?user=x&expires=y&sig=z", base):
        assert_error(requests.get(server.url + bad, timeout=10), 403, "FORBIDDEN")


def test_expired_links_are_refused(server):
    b = make_buyer(server)
    _, m = sale(server)
    checkout(server, b, model_ids=[m["id"]])
    r = server.get(f"/api/models/{m['id']}/download", headers=b.h)
    assert r.status_code == 200, r.text
    assert r.json()["expires_in"] == 900
    url = r.json()["download_url"]
    q = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    past = int(time.time()) - 1
    bad = f"/api/downloads/{m['id']}?user={q['user'][0]}&expires={past}&sig={q['sig'][0]}"
    assert_error(requests.get(server.url + bad, timeout=10), 403, "FORBIDDEN")


def test_who_may_get_a_download_link(server):
    c, m = sale(server)
    b, stranger = make_buyer(server), make_buyer(server)
    free = create_model(server, c, approve=True, price=0, is_free=True)
    pending = create_model(server, c)
    assert_error(server.get(f"/api/models/{m['id']}/download", headers=stranger.h), 403, "FORBIDDEN")
    assert_error(server.get(f"/api/models/{pending['id']}/download", headers=stranger.h), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/models/{m['id']}/download"), 401, "UNAUTHORIZED")
    assert server.get(f"/api/models/{free['id']}/download", headers=stranger.h).status_code == 200
    assert server.get(f"/api/models/{m['id']}/download", headers=c.h).status_code == 200
    assert server.get(f"/api/models/{pending['id']}/download", headers=c.h).status_code == 200
    assert server.get(f"/api/models/{m['id']}/download", headers=server.admin_headers()).status_code == 200
    checkout(server, b, model_ids=[m["id"]])
    r = server.get(f"/api/models/{m['id']}/download", headers=b.h)
    assert r.status_code == 200
    link = r.json()["download_url"]
    got = requests.get(server.url + link[link.index("/api/downloads/"):], timeout=10)
    assert got.status_code == 200 and got.content == CUBE_OBJ
    # a buyer keeps the download when the creator removes the model
    assert server.delete(f"/api/models/{m['id']}", headers=c.h).status_code == 200
    assert server.get(f"/api/models/{m['id']}/download", headers=b.h).status_code == 200


def test_my_purchases(server):
    b = make_buyer(server)
    _, m1 = sale(server, price=1)
    _, m2 = sale(server, price=2)
    t1 = checkout(server, b, model_ids=[m1["id"]]).json()["transaction_id"]
    checkout(server, b, model_ids=[m2["id"]])
    r = server.get("/api/users/me/purchases", headers=b.h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2 and [p["model_id"] for p in body["items"]] == [m2["id"], m1["id"]]
    assert body["items"][1]["transaction_id"] == t1 and body["items"][1]["price"] == 1
    assert all("/api/downloads/" in p["download_url"] for p in body["items"])
    assert server.get("/api/users/me/purchases", headers=make_buyer(server).h).json()["total"] == 0
    assert_error(server.get("/api/users/me/purchases"), 401, "UNAUTHORIZED")


def test_purchase_receipt_is_mailed(server):
    b = make_buyer(server)
    _, m = sale(server)
    checkout(server, b, model_ids=[m["id"]])
    rows = server.sql(f"SELECT subject FROM mail_outbox WHERE to_addr = '{b.email}' AND kind = 'purchase_receipt'")
    assert len(rows) == 1 and rows[0][0].startswith("Your HWC3D purchase TXN-")


def test_is_purchased_for_the_buyer_only(server):
    b, other = make_buyer(server), make_buyer(server)
    _, m = sale(server)
    assert server.get(f"/api/models/{m['id']}", headers=b.h).json()["is_purchased"] is False
    checkout(server, b, model_ids=[m["id"]])
    assert server.get(f"/api/models/{m['id']}", headers=b.h).json()["is_purchased"] is True
    assert server.get(f"/api/models/{m['id']}", headers=other.h).json()["is_purchased"] is False
    assert "is_purchased" not in server.get(f"/api/models/{m['id']}").json()
    items = server.get("/api/models", params={"limit": 100}, headers=b.h).json()["items"]
    assert {i["id"]: i["is_purchased"] for i in items}[m["id"]] is True
    assert all(i["is_purchased"] is False for i in items if i["id"] != m["id"])


def test_license_certificate(server):
    b = make_buyer(server)
    c, m = sale(server, price=8)
    txn = checkout(server, b, model_ids=[m["id"]]).json()["transaction_id"]
    pid = server.get("/api/users/me/purchases", headers=b.h).json()["items"][0]["id"]
    r = server.get(f"/api/users/me/purchases/{pid}/license", headers=b.h)
    assert r.status_code == 200, r.text
    cert = r.json()
    assert cert["transaction_id"] == txn and cert["model"] == {"id": m["id"], "title": m["title"]}
    assert cert["license"]["type"] == "standard" and "resold" in cert["license"]["terms"]
    assert cert["licensee"]["id"] == b.id and cert["licensee"]["email"] == b.email
    assert cert["creator"]["id"] == c.id and cert["price"] == 8
    assert re.fullmatch(r"[0-9a-f]{64}", cert["signature"])
    assert cert["certificate_id"].startswith("LIC-")
    # the same certificate twice carries the same signature; another buyer's is not ours to read
    assert server.get(f"/api/users/me/purchases/{pid}/license", headers=b.h).json()["signature"] == cert["signature"]
    assert_error(server.get(f"/api/users/me/purchases/{pid}/license", headers=make_buyer(server).h), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/users/me/purchases/{pid}/license", headers=c.h), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/users/me/purchases/{pid}/license"), 401, "UNAUTHORIZED")
    assert_error(server.get("/api/users/me/purchases/999999999/license", headers=b.h), 404, "NOT_FOUND")


def test_a_model_with_orders_is_hidden_not_deleted(server):
    b = make_buyer(server)
    c, m = sale(server)
    assert checkout(server, b, model_ids=[m["id"]],
                    payment_details={"card_token": "tok_chargeDeclined"}).status_code == 402
    r = server.delete(f"/api/models/{m['id']}", headers=c.h)  # unsold, but an order names it
    assert r.status_code == 200, r.text
    assert int(server.scalar(f"SELECT COUNT(*) FROM models WHERE id = {m['id']}")) == 1
    assert_error(server.get(f"/api/models/{m['id']}"), 404, "NOT_FOUND")
