"""Creator money (issue 10, point 6): sales, the earnings ledger, revenue
totals, payout methods and requests, and the admin's revenue pages and
refunds, on SQLite and PostgreSQL.  Sales come from real checkouts through
the built-in test processor (and, at the end, through the fake Stripe)."""
import json

import pytest
import requests

from conftest import assert_error, finish_server, require_pg, start_server
from fakes.payments import FakeStripe
from test_commerce import checkout, sale
from test_models import create_model, make_buyer, make_creator, notif_count, parallel

BULLETS = "\u2022\u2022\u2022\u2022"
# Valid test numbers: the IBAN is the ECBS example, the ABA number is a
# real routing number (its check digit holds).
IBAN = "GB82WEST12345698765432"
ACCOUNT = "000123456789"
ROUTING = "021000021"


def cents(x):
    """A JSON amount in dollars back to integer cents (exactly, or fail)."""
    c = round(x * 100)
    assert abs(c - x * 100) < 1e-6, x
    return c


def fee(price_cents):
    """PLATFORM_FEE_PERCENT 12, rounded half up to the cent."""
    return (price_cents * 1200 + 5000) // 10000


def earn(server, creator, *prices):
    """A fresh buyer buys one new model of the creator at each price, in
    one checkout; returns (buyer, models, checkout answer)."""
    models = [create_model(server, creator, approve=True, price=p) for p in prices]
    b = make_buyer(server)
    r = checkout(server, b, model_ids=[m["id"] for m in models])
    assert r.status_code == 200, r.text
    return b, models, r.json()


def revenue(server, who, **params):
    r = server.get("/api/users/me/revenue", params=params, headers=who.h)
    assert r.status_code == 200, r.text
    return r.json()


def listing(server, path, h, **params):
    r = server.get(path, params=params, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "total", "page", "limit", "pages"}, body
    return body


def set_method(server, who, **body):
    return server.post("/api/users/me/payout-methods", json=body, headers=who.h)


def paypal(server, who, email=None):
    r = set_method(server, who, type="paypal", email=email or f"{who.username}@example.com")
    assert r.status_code in (200, 201), r.text
    return r.json()


def ask(server, who, **body):
    return server.post("/api/users/me/payout-request", json=body, headers=who.h)


def approve(server, pid):
    return server.post(f"/api/admin/revenue/payouts/{pid}/approve", headers=server.admin_headers())


def reject(server, pid, reason="Bank details do not match the account holder"):
    return server.post(f"/api/admin/revenue/payouts/{pid}/reject", json={"reason": reason},
                       headers=server.admin_headers())


def refund(server, order_id):
    return server.post(f"/api/admin/revenue/transactions/{order_id}/refund", headers=server.admin_headers())


def ledger(server, uid):
    """(kind, amount_cents, payout_id) of a creator's earnings, oldest first."""
    return [(k, int(a), p) for k, a, p in server.sql(
        f"SELECT kind, amount_cents, payout_id FROM earnings WHERE creator_id = {uid} ORDER BY id")]


def can_download(server, who, mid):
    return server.get(f"/api/models/{mid}/download", headers=who.h).status_code


# ------------------------------------------------------------- sales, ledger

def test_sales_ledger_and_revenue_add_up_from_real_checkouts(server):
    c = make_creator(server)
    b1, (m1, m2), first = earn(server, c, 19.99, 40)
    b2 = make_buyer(server)
    r = checkout(server, b2, model_ids=[m1["id"]])
    assert r.status_code == 200, r.text
    second = r.json()

    sales = listing(server, "/api/users/me/sales", c.h)
    assert sales["total"] == 3
    items = sales["items"]
    # newest first: b2's purchase, then b1's two (same instant: by id, descending)
    assert items[0]["buyer"] == {"id": b2.id, "username": b2.username}
    assert items[0]["transaction_id"] == second["transaction_id"]
    assert {i["transaction_id"] for i in items[1:]} == {first["transaction_id"]}
    by_model = {}
    for i in items:
        by_model.setdefault(i["model"]["id"], []).append(i)
        p = cents(i["price"])
        assert cents(i["platform_fee"]) == fee(p)
        assert cents(i["net_amount"]) == p - fee(p)
        assert i["status"] == "completed" and i["currency"] == "USD" and i["refunded_at"] is None
    assert [cents(i["price"]) for i in by_model[m1["id"]]] == [1999, 1999]
    assert [cents(i["platform_fee"]) for i in by_model[m1["id"]]] == [240, 240]  # 239.88 rounds up
    assert cents(by_model[m2["id"]][0]["net_amount"]) == 4000 - 480
    assert by_model[m2["id"]][0]["model"]["title"] == m2["title"]

    gross = 1999 * 2 + 4000
    fees = 240 * 2 + 480
    rev = revenue(server, c)
    assert cents(rev["gross_sales"]) == gross and cents(rev["platform_fees"]) == fees
    assert cents(rev["net_earnings"]) == gross - fees
    assert cents(rev["balance"]) == gross - fees and cents(rev["available_balance"]) == gross - fees
    assert rev["refunds"] == 0 and rev["paid_out"] == 0 and rev["pending_payout"] == 0
    assert rev["sales_count"] == 3 and rev["refunds_count"] == 0
    assert cents(rev["payout_minimum"]) == 2000
    assert rev["has_payout_method"] is False and rev["can_request_payout"] is False
    assert rev["days"] == 30 and len(rev["daily"]) == 30
    today = rev["daily"][-1]
    assert today["date"] == rev["to"] and today["sales_count"] == 3 and cents(today["gross_sales"]) == gross
    assert all(d["sales_count"] == 0 for d in rev["daily"][:-1])
    assert rev["period"]["sales_count"] == 3 and cents(rev["period"]["net_earnings"]) == gross - fees
    week = revenue(server, c, days=7)
    assert week["days"] == 7 and len(week["daily"]) == 7 and week["to"] == rev["to"]
    assert [d["date"] for d in week["daily"]] == [d["date"] for d in rev["daily"][-7:]]

    tx = listing(server, "/api/users/me/transactions", c.h)
    assert tx["total"] == 3
    assert all(t["kind"] == "sale" and t["payout_id"] is None for t in tx["items"])
    assert sorted(cents(t["amount"]) for t in tx["items"]) == sorted([1999 - 240, 1999 - 240, 4000 - 480])
    assert tx["items"][0]["reference"] == second["transaction_id"] == tx["items"][0]["transaction_id"]
    assert tx["items"][0]["model"] == {"id": m1["id"], "title": m1["title"]}
    # the ledger's sum is the balance
    assert sum(cents(t["amount"]) for t in tx["items"]) == cents(rev["balance"])
    # paging
    page = listing(server, "/api/users/me/transactions", c.h, limit=2, page=2)
    assert page["total"] == 3 and page["pages"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["id"] == tx["items"][2]["id"]


def test_sales_and_ledger_filters_and_validation(server):
    c = make_creator(server)
    earn(server, c, 5)
    assert listing(server, "/api/users/me/sales", c.h, status="completed")["total"] == 1
    assert listing(server, "/api/users/me/sales", c.h, status="refunded")["total"] == 0
    assert listing(server, "/api/users/me/transactions", c.h, kind="sale")["total"] == 1
    assert listing(server, "/api/users/me/transactions", c.h, kind="payout")["total"] == 0
    assert_error(server.get("/api/users/me/sales?status=won", headers=c.h), 422, "VALIDATION_ERROR", "status")
    assert_error(server.get("/api/users/me/transactions?kind=gift", headers=c.h), 422, "VALIDATION_ERROR", "kind")
    for days in ("0", "366", "x", "-1"):
        assert_error(server.get(f"/api/users/me/revenue?days={days}", headers=c.h), 422, "VALIDATION_ERROR", "days")
    assert_error(server.get("/api/users/me/sales?page=0", headers=c.h), 422, "VALIDATION_ERROR", "page")


def test_one_creator_cannot_see_anothers_money(server):
    a, b = make_creator(server), make_creator(server)
    buyer, _, order = earn(server, a, 12)
    set_method(server, a, type="bank", account_holder="A Person", iban=IBAN)
    assert listing(server, "/api/users/me/sales", b.h)["total"] == 0
    assert listing(server, "/api/users/me/transactions", b.h)["total"] == 0
    assert listing(server, "/api/users/me/payout-methods", b.h)["total"] == 0
    rb = revenue(server, b)
    assert rb["balance"] == 0 and rb["sales_count"] == 0 and rb["gross_sales"] == 0
    # the buyer is not the seller: their sales are empty too
    assert listing(server, "/api/users/me/sales", buyer.h)["total"] == 0
    # and the seller sees it
    assert listing(server, "/api/users/me/sales", a.h)["items"][0]["transaction_id"] == order["transaction_id"]
    assert listing(server, "/api/users/me/payout-methods", a.h)["total"] == 1
    for path in ("/api/users/me/sales", "/api/users/me/transactions", "/api/users/me/revenue",
                 "/api/users/me/payout-methods"):
        assert_error(server.get(path), 401, "UNAUTHORIZED")
    assert_error(server.post("/api/users/me/payout-request", json={}), 401, "UNAUTHORIZED")
    assert_error(server.post("/api/users/me/payout-methods", json={"type": "paypal"}), 401, "UNAUTHORIZED")


def test_admin_revenue_routes_are_for_admins_only(server):
    c = make_creator(server)
    _, _, order = earn(server, c, 25)
    paypal(server, c)
    pr = ask(server, c, amount=20)
    assert pr.status_code == 201, pr.text
    pid = pr.json()["id"]
    calls = [("GET", "/api/admin/revenue/stats", None), ("GET", "/api/admin/revenue/transactions", None),
             ("GET", "/api/admin/revenue/payouts", None),
             ("POST", f"/api/admin/revenue/payouts/{pid}/approve", None),
             ("POST", f"/api/admin/revenue/payouts/{pid}/reject", {"reason": "no way"}),
             ("POST", f"/api/admin/revenue/transactions/{order['order_id']}/refund", None)]
    for method, path, body in calls:
        for who in (c, make_buyer(server)):
            assert_error(server.request(method, path, json=body, headers=who.h), 403, "FORBIDDEN")
        assert_error(server.request(method, path, json=body), 401, "UNAUTHORIZED")
    # nothing moved
    assert server.scalar(f"SELECT status FROM payout_requests WHERE id = {pid}") == "requested"
    assert server.scalar(f"SELECT status FROM orders WHERE id = {order['order_id']}") == "fulfilled"


# ------------------------------------------------------------ payout methods

def test_paypal_method_is_masked_and_replaced(server):
    c = make_creator(server)
    email = f"{c.username}@paypal-test.example.com"
    r = set_method(server, c, type="paypal", email=email.upper())
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["type"] == "paypal" and m["email"] == email[0] + "\u2022\u2022\u2022@paypal-test.example.com"
    assert email not in r.text and c.username not in r.text
    assert m["label"].startswith("PayPal ")
    # the operator's copy is whole (lower-cased)
    assert server.scalar(f"SELECT paypal_email FROM payout_methods WHERE user_id = {c.id}") == email
    r = set_method(server, c, type="paypal", email="other@example.org")
    assert r.status_code == 200 and r.json()["id"] == m["id"], r.text
    assert r.json()["email"] == "o\u2022\u2022\u2022@example.org"
    methods = listing(server, "/api/users/me/payout-methods", c.h)
    assert methods["total"] == 1 and methods["items"][0]["email"] == "o\u2022\u2022\u2022@example.org"


def test_bank_details_are_validated_and_never_answered_in_full(server):
    c = make_creator(server)
    r = set_method(server, c, type="bank", account_holder="Ada Lovelace", iban="gb82 west 1234 5698 7654 32")
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["account_number"] == BULLETS + "5432" and m["account_type"] == "iban"
    assert m["country"] == "GB" and m["account_holder"] == "Ada Lovelace" and m["routing_number"] is None
    assert m["label"] == "Bank account " + BULLETS + "5432 (GB)"
    assert IBAN not in r.text and "12345698765432" not in r.text and "WEST1234" not in r.text
    assert server.scalar(f"SELECT iban FROM payout_methods WHERE user_id = {c.id}") == IBAN
    # replaced by a US account with its routing number
    r = set_method(server, c, type="bank", account_holder="Ada Lovelace", account_number="0001-2345-6789",
                   routing_number=ROUTING, country="us", bic="CHASUS33")
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["account_number"] == BULLETS + "6789" and m["account_type"] == "account_number"
    assert m["routing_number"] == ROUTING and m["country"] == "US" and m["bic"] == "CHASUS33"
    assert ACCOUNT not in r.text and "123456789" not in r.text and IBAN not in r.text
    paypal(server, c)
    lst = server.get("/api/users/me/payout-methods", headers=c.h)
    assert lst.status_code == 200 and lst.json()["total"] == 2
    assert [i["type"] for i in lst.json()["items"]] == ["paypal", "bank"]  # the latest first
    assert ACCOUNT not in lst.text and "123456789" not in lst.text

    bad = [({"type": "bank", "account_holder": "A B", "iban": IBAN[:-1] + "3"}, "iban"),  # check digits
           ({"type": "bank", "account_holder": "A B", "iban": "GB82"}, "iban"),
           ({"type": "bank", "account_holder": "A B", "iban": IBAN, "country": "DE"}, "country"),
           ({"type": "bank", "account_holder": "A B", "iban": IBAN, "account_number": ACCOUNT}, "iban"),
           ({"type": "bank", "account_holder": "A B"}, "iban"),
           ({"type": "bank", "iban": IBAN}, "account_holder"),
           ({"type": "bank", "account_holder": "A B", "account_number": ACCOUNT, "country": "US",
             "routing_number": "021000022"}, "routing_number"),  # ABA check digit
           ({"type": "bank", "account_holder": "A B", "account_number": ACCOUNT, "country": "US"}, "routing_number"),
           ({"type": "bank", "account_holder": "A B", "account_number": ACCOUNT, "routing_number": ROUTING}, "country"),
           ({"type": "bank", "account_holder": "A B", "account_number": "12ab", "country": "GB",
             "routing_number": "123456"}, "account_number"),
           ({"type": "bank", "account_holder": "A B", "account_number": "12345678", "country": "GB",
             "routing_number": "1234"}, "routing_number"),
           ({"type": "bank", "account_holder": "A B", "iban": IBAN, "bic": "12"}, "bic"),
           ({"type": "bank", "account_holder": "A B", "iban": IBAN, "country": "GBR"}, "country"),
           ({"type": "paypal"}, "email"),
           ({"type": "paypal", "email": "not-an-email"}, "email"),
           ({"type": "cheque"}, "type"),
           ({}, "type")]
    for body, field in bad:
        assert_error(set_method(server, c, **body), 422, "VALIDATION_ERROR", field)
    # still the US account
    assert server.scalar(f"SELECT account_number FROM payout_methods WHERE user_id = {c.id} AND kind = 'bank'") == ACCOUNT


def test_payout_writes_need_a_verified_email_and_deleting_the_account_drops_the_details(server):
    u = make_creator(server, verified=False)
    assert_error(set_method(server, u, type="paypal", email="x@example.com"), 403, "EMAIL_NOT_VERIFIED")
    assert_error(ask(server, u), 403, "EMAIL_NOT_VERIFIED")
    assert listing(server, "/api/users/me/payout-methods", u.h)["total"] == 0  # reading is fine
    c = make_creator(server)
    assert set_method(server, c, type="bank", account_holder="E F", iban=IBAN).status_code == 201
    r = server.delete("/api/users/me/account", json={"password": ""}, headers=c.h)
    assert r.status_code == 200, r.text
    assert int(server.scalar(f"SELECT COUNT(*) FROM payout_methods WHERE user_id = {c.id}")) == 0


# ----------------------------------------------------------- payout requests

def test_payout_request_rules(server):
    c = make_creator(server)
    assert_error(ask(server, c), 422, "VALIDATION_ERROR", "method")  # no method yet
    paypal(server, c)
    assert_error(ask(server, c, method="bank"), 422, "VALIDATION_ERROR", "method")  # not that one
    r = ask(server, c)
    assert_error(r, 422, "VALIDATION_ERROR", "amount")  # nothing earned yet
    assert "minimum" in r.json()["field_errors"]["amount"][0]
    earn(server, c, 30)  # net 26.40
    assert_error(ask(server, c, amount=26.41), 422, "VALIDATION_ERROR", "amount")  # over the balance
    assert_error(ask(server, c, amount=19.99), 422, "VALIDATION_ERROR", "amount")  # under the minimum
    for bad in ("x", -5, 1.234, [], True):
        assert_error(ask(server, c, amount=bad), 422, "VALIDATION_ERROR", "amount")
    assert_error(ask(server, c, amount=20, method="cash"), 422, "VALIDATION_ERROR", "method")
    assert_error(ask(server, c, amount=20, note="n" * 501), 422, "VALIDATION_ERROR", "note")
    assert int(server.scalar(f"SELECT COUNT(*) FROM payout_requests WHERE creator_id = {c.id}")) == 0

    r = ask(server, c, amount=25, note="for the new GPU")
    assert r.status_code == 201, r.text
    p = r.json()
    assert cents(p["amount"]) == 2500 and p["status"] == "requested" and p["note"] == "for the new GPU"
    assert p["method"]["type"] == "paypal" and "\u2022" in p["method"]["label"]
    assert cents(p["available_balance"]) == 140 and p["decided_at"] is None
    assert c.username not in r.text  # the PayPal address is masked in the snapshot too
    rev = revenue(server, c)
    assert cents(rev["pending_payout"]) == 2500 and cents(rev["available_balance"]) == 140
    assert cents(rev["balance"]) == 2640 and rev["has_open_payout_request"] is True
    assert rev["can_request_payout"] is False
    assert_error(ask(server, c, amount=1), 409, "CONFLICT")  # one open request at a time
    assert_error(ask(server, c), 409, "CONFLICT")
    # the snapshot keeps the whole address for the operator
    details = json.loads(server.scalar(f"SELECT method_details FROM payout_requests WHERE id = {p['id']}"))
    assert details == {"type": "paypal", "email": f"{c.username}@example.com"}
    # the admin's queue shows it, masked, with the creator's balance
    q = listing(server, "/api/admin/revenue/payouts", server.admin_headers(), status="requested", creator_id=c.id)
    assert q["total"] == 1
    row = q["items"][0]
    assert row["id"] == p["id"] and row["creator"] == {"id": c.id, "username": c.username}
    assert cents(row["creator_balance"]) == 2640 and cents(row["amount"]) == 2500
    assert details["email"] not in json.dumps(q)
    assert listing(server, "/api/admin/revenue/payouts", server.admin_headers(), status="paid",
                   creator_id=c.id)["total"] == 0
    assert_error(server.get("/api/admin/revenue/payouts?status=lost", headers=server.admin_headers()),
                 422, "VALIDATION_ERROR", "status")


def test_payout_request_defaults_to_the_available_balance_on_the_latest_method(server):
    c = make_creator(server)
    earn(server, c, 25, 10)  # 22.00 + 8.80
    set_method(server, c, type="bank", account_holder="C D", iban=IBAN)
    paypal(server, c)  # set last: the default
    r = ask(server, c)
    assert r.status_code == 201, r.text
    assert cents(r.json()["amount"]) == 2200 + 880 and r.json()["available_balance"] == 0
    assert r.json()["method"]["type"] == "paypal"
    assert IBAN not in r.text


def test_two_payout_requests_at_once_only_one_passes(server):
    c = make_creator(server)
    earn(server, c, 30, 30)  # 52.80
    paypal(server, c)
    statuses = parallel(lambda _: ask(server, c, amount=20).status_code, range(8), workers=8)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409}, statuses
    assert int(server.scalar(f"SELECT COUNT(*) FROM payout_requests WHERE creator_id = {c.id}")) == 1
    assert cents(revenue(server, c)["available_balance"]) == 5280 - 2000


def test_approving_twice_at_once_pays_once(server):
    c = make_creator(server)
    earn(server, c, 30, 30)  # 52.80: enough that a second payout would not be refused for want of balance
    paypal(server, c)
    pid = ask(server, c, amount=25).json()["id"]
    results = parallel(lambda _: approve(server, pid), range(6), workers=6)
    statuses = [r.status_code for r in results]
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 409}, statuses
    ok = next(r for r in results if r.status_code == 200).json()
    assert ok["status"] == "paid" and ok["decided_at"] and ok["decided_by"] == server.user_id("admin@example.com")
    assert cents(ok["creator_balance"]) == 5280 - 2500
    assert ledger(server, c.id)[-1] == ("payout", -2500, str(pid))
    assert [k for k, _, _ in ledger(server, c.id)].count("payout") == 1
    assert notif_count(server, c.id, "payout_approved") == 1
    assert_error(approve(server, pid), 409, "CONFLICT")
    assert_error(reject(server, pid), 409, "CONFLICT")
    assert [k for k, _, _ in ledger(server, c.id)].count("payout") == 1
    rev = revenue(server, c)
    assert cents(rev["paid_out"]) == 2500 and cents(rev["balance"]) == 2780
    assert rev["pending_payout"] == 0 and cents(rev["available_balance"]) == 2780
    assert cents(rev["daily"][-1]["paid_out"]) == 2500
    tx = listing(server, "/api/users/me/transactions", c.h, kind="payout")
    assert tx["total"] == 1
    t = tx["items"][0]
    assert cents(t["amount"]) == -2500 and t["payout_id"] == pid and t["reference"] == f"PAYOUT-{pid:06d}"
    assert t["transaction_id"] is None and t["model"] is None
    assert listing(server, "/api/admin/revenue/payouts", server.admin_headers(), status="paid",
                   creator_id=c.id)["items"][0]["id"] == pid
    # the request is closed: the rest may be asked for
    r = ask(server, c)
    assert r.status_code == 201 and cents(r.json()["amount"]) == 2780, r.text


def test_reject_moves_no_money_and_frees_the_creator_to_ask_again(server):
    c = make_creator(server)
    earn(server, c, 30)
    paypal(server, c)
    pid = ask(server, c, amount=20).json()["id"]
    admin = server.admin_headers()
    for body in ({}, {"reason": ""}, {"reason": "no"}, {"reason": "x" * 1001}):
        assert_error(server.post(f"/api/admin/revenue/payouts/{pid}/reject", json=body, headers=admin),
                     422, "VALIDATION_ERROR", "reason")
    r = reject(server, pid, "PayPal account is not verified")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected" and r.json()["reason"] == "PayPal account is not verified"
    assert [k for k, _, _ in ledger(server, c.id)] == ["sale"]
    assert notif_count(server, c.id, "payout_rejected") == 1
    assert "PayPal account is not verified" in server.scalar(
        f"SELECT message FROM notifications WHERE user_id = {c.id} AND type = 'payout_rejected'")
    assert_error(reject(server, pid), 409, "CONFLICT")
    assert_error(approve(server, pid), 409, "CONFLICT")
    assert_error(approve(server, 10 ** 12), 404, "NOT_FOUND")
    assert_error(reject(server, 10 ** 12), 404, "NOT_FOUND")
    rev = revenue(server, c)
    assert cents(rev["available_balance"]) == 2640 and rev["pending_payout"] == 0 and rev["paid_out"] == 0
    assert ask(server, c, amount=26.40).status_code == 201


def test_creators_list_their_own_payout_requests_and_remove_their_own_methods(server):
    c, other = make_creator(server), make_creator(server)
    earn(server, c, 30)  # net 26.40; the minimum is 20
    pm = paypal(server, c)
    theirs = paypal(server, other)
    first = ask(server, c, amount=20).json()["id"]
    assert reject(server, first, "PayPal account is not verified").status_code == 200
    second = ask(server, c, amount=21, note="thanks").json()["id"]
    body = listing(server, "/api/users/me/payout-requests", c.h)
    assert [r["id"] for r in body["items"]] == [second, first] and body["total"] == 2
    newest, oldest = body["items"]
    assert newest["status"] == "requested" and newest["amount"] == 21 and newest["note"] == "thanks"
    assert oldest["status"] == "rejected" and oldest["reason"] == "PayPal account is not verified"
    assert newest["method"]["type"] == "paypal" and "creator" not in newest and "creator_balance" not in newest
    assert listing(server, "/api/users/me/payout-requests", other.h)["items"] == []
    # a method: only its owner removes it; the open request keeps its copy
    assert_error(server.delete(f"/api/users/me/payout-methods/{theirs['id']}", headers=c.h), 404, "NOT_FOUND")
    assert server.delete(f"/api/users/me/payout-methods/{pm['id']}", headers=c.h).status_code == 204
    assert_error(server.delete(f"/api/users/me/payout-methods/{pm['id']}", headers=c.h), 404, "NOT_FOUND")
    assert listing(server, "/api/users/me/payout-methods", c.h)["items"] == []
    assert [m["id"] for m in listing(server, "/api/users/me/payout-methods", other.h)["items"]] == [theirs["id"]]
    assert listing(server, "/api/users/me/payout-requests", c.h)["items"][0]["method"]["label"]
    assert server.delete("/api/users/me/payout-methods/1").status_code == 401


# ------------------------------------------------------------------ refunds

def test_admin_refund_revokes_the_purchase_and_reverses_the_earning(server):
    c = make_creator(server)
    b, (m,), order = earn(server, c, 30)
    assert can_download(server, b, m["id"]) == 200
    oid = order["order_id"]
    r = refund(server, oid)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == oid and body["status"] == "refunded" and body["transaction_id"] == order["transaction_id"]
    assert cents(body["total_amount"]) == 3000
    # the buyer lost the download
    assert_error(server.get(f"/api/models/{m['id']}/download", headers=b.h), 403, "FORBIDDEN")
    purchases = server.get("/api/users/me/purchases", headers=b.h).json()["items"]
    assert purchases[0]["status"] == "refunded" and "download_url" not in purchases[0]
    # the money went back at the processor, once
    assert int(server.scalar(f"SELECT refunded_cents FROM test_payments WHERE idempotency_key = 'hwc3d-order-{oid}'")) == 3000
    # the creator's books
    assert ledger(server, c.id) == [("sale", 2640, ""), ("refund", -2640, "")]
    tx = listing(server, "/api/users/me/transactions", c.h)
    assert tx["items"][0]["kind"] == "refund" and cents(tx["items"][0]["amount"]) == -2640
    assert tx["items"][0]["reference"] == order["transaction_id"]
    sales = listing(server, "/api/users/me/sales", c.h)
    assert sales["items"][0]["status"] == "refunded" and sales["items"][0]["refunded_at"]
    assert listing(server, "/api/users/me/sales", c.h, status="refunded")["total"] == 1
    rev = revenue(server, c)
    assert cents(rev["refunds"]) == 2640 and rev["balance"] == 0 and rev["refunds_count"] == 1
    assert cents(rev["gross_sales"]) == 3000  # the sale still happened
    assert server.get(f"/api/models/{m['id']}").json()["sales_count"] == 0
    # twice: 409, nothing more moves
    assert_error(refund(server, oid), 409, "CONFLICT")
    assert len(ledger(server, c.id)) == 2
    assert int(server.scalar(f"SELECT refunded_cents FROM test_payments WHERE idempotency_key = 'hwc3d-order-{oid}'")) == 3000
    listed = listing(server, "/api/admin/revenue/transactions", server.admin_headers(), status="refunded", limit=100)
    assert oid in [o["id"] for o in listed["items"]]


def test_refunding_at_once_refunds_once(server):
    c = make_creator(server)
    _, _, order = earn(server, c, 12)
    oid = order["order_id"]
    statuses = parallel(lambda _: refund(server, oid).status_code, range(6), workers=6)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 409}, statuses
    assert [k for k, _, _ in ledger(server, c.id)] == ["sale", "refund"]
    assert int(server.scalar(f"SELECT refunded_cents FROM test_payments WHERE idempotency_key = 'hwc3d-order-{oid}'")) == 1200
    assert int(server.scalar(f"SELECT COUNT(*) FROM test_refunds WHERE idempotency_key = 'hwc3d-refund-{oid}-refund'")) == 1


def test_a_refund_the_provider_refuses_changes_nothing(server):
    c = make_creator(server)
    b, (m,), order = earn(server, c, 15)
    oid = order["order_id"]
    # the processor has refunded this charge already, behind our back
    server.sql(f"UPDATE test_payments SET refunded_cents = amount_cents WHERE idempotency_key = 'hwc3d-order-{oid}'")
    r = refund(server, oid)
    assert_error(r, 402, "PAYMENT_FAILED")
    assert "cannot be refunded" in r.json()["detail"]
    assert server.scalar(f"SELECT status FROM orders WHERE id = {oid}") == "fulfilled"
    assert [k for k, _, _ in ledger(server, c.id)] == ["sale"]
    assert can_download(server, b, m["id"]) == 200


def test_only_completed_orders_can_be_refunded(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True, price=9)
    b = make_buyer(server)
    r = checkout(server, b, model_ids=[m["id"]], payment_details={"card_token": "tok_chargeDeclined"})
    assert r.status_code == 402
    failed = int(server.scalar(f"SELECT id FROM orders WHERE buyer_id = {b.id}"))
    assert_error(refund(server, failed), 409, "CONFLICT")
    assert_error(refund(server, 10 ** 12), 404, "NOT_FOUND")
    assert int(server.scalar(f"SELECT COUNT(*) FROM test_refunds WHERE idempotency_key = 'hwc3d-refund-{failed}-refund'")) == 0


def test_a_refund_after_a_payout_takes_the_balance_below_zero(server):
    c = make_creator(server)
    _, _, order = earn(server, c, 30)
    paypal(server, c)
    pid = ask(server, c, amount=26.40).json()["id"]
    assert approve(server, pid).status_code == 200
    assert refund(server, order["order_id"]).status_code == 200
    rev = revenue(server, c)
    assert cents(rev["balance"]) == -2640 and cents(rev["available_balance"]) == -2640
    assert cents(rev["paid_out"]) == 2640 and cents(rev["refunds"]) == 2640
    assert [(k, a) for k, a, _ in ledger(server, c.id)] == [("sale", 2640), ("payout", -2640), ("refund", -2640)]
    assert_error(ask(server, c), 422, "VALIDATION_ERROR", "amount")
    # a new sale pays the debt first
    earn(server, c, 40)  # 35.20
    assert cents(revenue(server, c)["available_balance"]) == 3520 - 2640
    assert_error(ask(server, c, amount=20), 422, "VALIDATION_ERROR", "amount")


def test_approval_is_refused_when_refunds_ate_the_requested_money(server):
    c = make_creator(server)
    _, _, o1 = earn(server, c, 30)
    earn(server, c, 30)
    paypal(server, c)
    pid = ask(server, c, amount=50).json()["id"]
    assert refund(server, o1["order_id"]).status_code == 200  # balance 26.40 < 50
    r = approve(server, pid)
    assert_error(r, 409, "CONFLICT")
    assert "no longer covers" in r.json()["detail"]
    assert server.scalar(f"SELECT status FROM payout_requests WHERE id = {pid}") == "requested"
    assert [k for k, _, _ in ledger(server, c.id)].count("payout") == 0
    assert notif_count(server, c.id, "payout_approved") == 0
    assert reject(server, pid).status_code == 200
    assert ask(server, c, amount=26.40).status_code == 201


# -------------------------------------------------------------- admin pages

def test_admin_stats_move_by_what_happens(server):
    admin = server.admin_headers()

    def stats():
        r = server.get("/api/admin/revenue/stats", params={"days": 7}, headers=admin)
        assert r.status_code == 200, r.text
        return r.json()

    before = stats()
    c, c2 = make_creator(server), make_creator(server)
    _, _, o1 = earn(server, c, 30, 10)  # gross 40.00, fees 3.60 + 1.20
    _, _, o2 = earn(server, c, 20)      # gross 20.00, fee 2.40
    earn(server, c2, 25)                # gross 25.00, fee 3.00
    assert refund(server, o2["order_id"]).status_code == 200
    paypal(server, c)
    paypal(server, c2)
    p1 = ask(server, c, amount=20).json()["id"]
    assert approve(server, p1).status_code == 200
    assert ask(server, c2, amount=20).status_code == 201  # left open
    after = stats()
    assert after["days"] == 7 and after["currency"] == "USD"

    def d(key):
        return cents(after[key]) - cents(before[key])
    assert d("gross_sales") == 8500 and d("platform_fees") == 360 + 120 + 240 + 300
    assert d("net_to_creators") == 8500 - 1020
    assert after["sales_count"] - before["sales_count"] == 4
    assert d("refunds") == 2000 and d("refunded_fees") == 240
    assert after["refunds_count"] - before["refunds_count"] == 1
    assert d("platform_revenue") == 1020 - 240
    assert d("paid_out") == 2000 and after["payouts_count"] - before["payouts_count"] == 1
    assert after["open_payout_requests"]["count"] - before["open_payout_requests"]["count"] == 1
    assert cents(after["open_payout_requests"]["amount"]) - cents(before["open_payout_requests"]["amount"]) == 2000
    # creators are owed: +74.80 sold, -17.60 refunded, -20 paid (the open request is still owed)
    assert d("creator_balances") == 7480 - 1760 - 2000
    assert after["orders"]["completed"] - before["orders"]["completed"] == 2
    assert after["orders"]["refunded"] - before["orders"]["refunded"] == 1
    for days in ("0", "400"):
        assert_error(server.get(f"/api/admin/revenue/stats?days={days}", headers=admin), 422, "VALIDATION_ERROR", "days")


def test_admin_transactions_list_orders_by_status(server):
    admin = server.admin_headers()
    c = make_creator(server)
    b, _, order = earn(server, c, 11, 12)
    all_ = listing(server, "/api/admin/revenue/transactions", admin, limit=100)
    row = next(o for o in all_["items"] if o["id"] == order["order_id"])
    assert row["transaction_id"] == order["transaction_id"] and row["status"] == "completed"
    assert row["buyer"] == {"id": b.id, "username": b.username} and row["items_count"] == 2
    assert cents(row["total_amount"]) == 2300 and cents(row["platform_fee"]) == fee(1100) + fee(1200)
    assert row["provider"] == "test" and row["payment_method"] == "card" and row["provider_ref"].startswith("tch_")
    assert "payment_token" not in row and "tok_visa" not in json.dumps(all_)
    completed = listing(server, "/api/admin/revenue/transactions", admin, status="completed", limit=100)
    assert all(o["status"] == "completed" for o in completed["items"])
    assert order["order_id"] in [o["id"] for o in completed["items"]]
    failed = listing(server, "/api/admin/revenue/transactions", admin, status="failed", limit=100)
    assert order["order_id"] not in [o["id"] for o in failed["items"]]
    assert all(o["status"] == "failed" for o in failed["items"])
    assert_error(server.get("/api/admin/revenue/transactions?status=fulfilled", headers=admin),
                 422, "VALIDATION_ERROR", "status")


# ------------------------------------------------------ through real Stripe code

@pytest.fixture(scope="module", params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def stripe_server(request):
    """A server whose card payments go through the Stripe client to the
    fake Stripe."""
    if request.param == "postgres":
        require_pg()
    stripe = FakeStripe()
    s = start_server(request.param, label=f"revenue-stripe-{request.param}", env={
        "STRIPE_SECRET_KEY": stripe.secret_key, "STRIPE_API_BASE": stripe.url})
    s.stripe = stripe
    yield s
    finish_server(s)
    stripe.stop()


def test_admin_refund_through_stripe_refunds_the_whole_charge_once(stripe_server):
    s = stripe_server
    c = make_creator(s)
    b, (m,), order = earn(s, c, 12.5)
    oid = order["order_id"]
    pi = s.scalar(f"SELECT provider_ref FROM orders WHERE id = {oid}")
    assert pi.startswith("pi_")
    r = refund(s, oid)
    assert r.status_code == 200, r.text
    assert [(x["payment_intent"], x["amount"]) for x in s.stripe.refunds] == [(pi, 1250)]
    keys = [k for (_, path, k) in s.stripe.calls if path == "/v1/refunds"]
    assert keys == [f"hwc3d-refund-{oid}-refund"]
    assert [k for k, _, _ in ledger(s, c.id)] == ["sale", "refund"]
    assert_error(s.get(f"/api/models/{m['id']}/download", headers=b.h), 403, "FORBIDDEN")
    assert_error(refund(s, oid), 409, "CONFLICT")
    assert len(s.stripe.refunds) == 1


def test_a_refund_stripe_refuses_is_402_with_its_message(stripe_server):
    s = stripe_server
    c = make_creator(s)
    b, (m,), order = earn(s, c, 9)
    pi = s.scalar(f"SELECT provider_ref FROM orders WHERE id = {order['order_id']}")
    # refunded on Stripe's dashboard already
    r = requests.post(s.stripe.url + "/v1/refunds", data={"payment_intent": pi},
                      headers={"Authorization": f"Bearer {s.stripe.secret_key}"}, timeout=10)
    assert r.status_code == 200, r.text
    r = refund(s, order["order_id"])
    assert_error(r, 402, "PAYMENT_FAILED")
    assert "already refunded" in r.json()["detail"]
    assert s.scalar(f"SELECT status FROM orders WHERE id = {order['order_id']}") == "fulfilled"
    assert [k for k, _, _ in ledger(s, c.id)] == ["sale"]
    assert can_download(s, b, m["id"]) == 200
