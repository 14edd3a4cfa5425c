"""Checkout through Stripe's and PayPal's real client code (libcurl) against
local stand-ins (tests/api/fakes/payments.py), and Stripe's signed
webhooks, on SQLite and PostgreSQL."""
import json
import time

import pytest
import requests

from conftest import STRIPE_WEBHOOK_SECRET, assert_error, finish_server, require_pg, start_server, uniq
from fakes.payments import FakePayPal, FakeStripe, stripe_signature
from test_models import create_model, make_buyer, make_creator


@pytest.fixture(scope="module", params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def pay(request):
    """A server whose card payments go to a fake Stripe and PayPal to a
    fake PayPal; it reconciles pending orders within a second."""
    if request.param == "postgres":
        require_pg()
    stripe, paypal = FakeStripe(), FakePayPal()
    s = start_server(request.param, label=f"pay-{request.param}", env={
        "STRIPE_SECRET_KEY": stripe.secret_key, "STRIPE_API_BASE": stripe.url,
        "STRIPE_WEBHOOK_SECRET": stripe.webhook_secret,
        "PAYPAL_CLIENT_ID": paypal.client_id, "PAYPAL_CLIENT_SECRET": paypal.client_secret,
        "PAYPAL_API_BASE": paypal.url, "ORDER_RECONCILE_AFTER_S": "0"})
    s.stripe, s.paypal = stripe, paypal
    yield s
    finish_server(s)
    stripe.stop()
    paypal.stop()


def bought(s, price=12.5):
    c = make_creator(s)
    return create_model(s, c, approve=True, price=price)


def checkout(s, who, key=None, **body):
    h = dict(who.h)
    if key:
        h["Idempotency-Key"] = key
    return s.post("/api/checkout", json=body, headers=h)


def wait_status(s, order_id, want, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = s.scalar(f"SELECT status FROM orders WHERE id = {order_id}")
        if got == want:
            return
        time.sleep(0.2)
    raise AssertionError(f"order {order_id} is {got}, not {want}")


def test_stripe_card_checkout_charges_once_in_cents(pay):
    b = make_buyer(pay)
    m = bought(pay, 12.5)
    before = len(pay.stripe.charges)
    r = checkout(pay, b, model_ids=[m["id"]], payment_method="card", payment_details={"card_token": "tok_visa"})
    assert r.status_code == 200, r.text
    assert len(pay.stripe.charges) == before + 1
    pi = pay.stripe.charges[-1]
    assert pi["amount"] == 1250 and pi["currency"] == "usd"
    order = int(pay.scalar(f"SELECT id FROM orders WHERE buyer_id = {b.id}"))
    keys = [k for (_, path, k) in pay.stripe.calls if path == "/v1/payment_intents"]
    assert f"hwc3d-order-{order}" in keys
    assert pay.scalar(f"SELECT provider_ref FROM orders WHERE id = {order}") == pi["id"]
    assert pay.scalar(f"SELECT provider FROM orders WHERE id = {order}") == "stripe"


def test_stripe_decline_is_402_with_stripes_reason(pay):
    b = make_buyer(pay)
    m = bought(pay)
    r = checkout(pay, b, model_ids=[m["id"]], payment_details={"card_token": "tok_chargeDeclined"})
    assert_error(r, 402, "PAYMENT_FAILED")
    assert "declined" in r.json()["detail"].lower()
    assert int(pay.scalar(f"SELECT COUNT(*) FROM purchases WHERE buyer_id = {b.id}")) == 0


def test_a_lost_stripe_answer_is_settled_once_by_the_reconciler(pay):
    b = make_buyer(pay)
    m = bought(pay, 30)
    before = len(pay.stripe.charges)
    pay.stripe.fail_on = "/v1/payment_intents"
    pay.stripe.fail_next = "drop_after"  # charged, but the answer never arrives
    key = uniq("lost")
    r = checkout(pay, b, key=key, model_ids=[m["id"]], payment_details={"card_token": "tok_visa"})
    assert r.status_code == 503, r.text
    assert "Retry-After" in r.headers
    order = int(pay.scalar(f"SELECT id FROM orders WHERE buyer_id = {b.id}"))
    wait_status(pay, order, "fulfilled")
    assert len(pay.stripe.charges) == before + 1  # the replayed key did not charge again
    again = checkout(pay, b, key=key, model_ids=[m["id"]], payment_details={"card_token": "tok_visa"})
    assert again.status_code == 200 and again.json()["order_id"] == order
    assert int(pay.scalar(f"SELECT COUNT(*) FROM purchases WHERE buyer_id = {b.id}")) == 1


def test_unreachable_stripe_then_reachable_settles(pay):
    b = make_buyer(pay)
    m = bought(pay, 3)
    pay.stripe.fail_on = "/v1/payment_intents"
    pay.stripe.fail_next = 503
    r = checkout(pay, b, model_ids=[m["id"]], payment_details={"card_token": "tok_visa"})
    assert r.status_code == 503, r.text
    order = int(pay.scalar(f"SELECT id FROM orders WHERE buyer_id = {b.id}"))
    wait_status(pay, order, "fulfilled")


def webhook(pay, event, secret=None, t=None):
    payload = json.dumps(event).encode()
    return requests.post(pay.url + "/api/webhooks/stripe", data=payload, timeout=10, headers={
        "Content-Type": "application/json", "Stripe-Signature": pay.stripe.sign(payload, t=t, secret=secret)})


def test_stripe_refund_webhook_reverses_the_order_once(pay):
    b = make_buyer(pay)
    m = bought(pay, 20)
    r = checkout(pay, b, model_ids=[m["id"]], payment_details={"card_token": "tok_visa"})
    assert r.status_code == 200, r.text
    link = r.json()["purchases"][0]["download_url"]
    path = link[link.index("/api/downloads/"):]
    assert requests.get(pay.url + path, timeout=10).status_code == 200
    pi = pay.stripe.charges[-1]["id"]
    event = {"id": "evt_" + uniq("e"), "type": "charge.refunded",
             "data": {"object": {"id": "ch_x", "object": "charge", "payment_intent": pi, "refunded": True,
                                 "amount": 2000, "amount_refunded": 2000}}}
    # forged, stale and unsigned deliveries change nothing
    assert_error(webhook(pay, event, secret="whsec_wrong"), 400, "VALIDATION_ERROR")
    assert_error(webhook(pay, event, t=int(time.time()) - 3600), 400, "VALIDATION_ERROR")
    r = requests.post(pay.url + "/api/webhooks/stripe", json=event, timeout=10)
    assert_error(r, 400, "VALIDATION_ERROR")
    assert pay.scalar(f"SELECT status FROM orders WHERE provider_ref = '{pi}'") == "fulfilled"
    for _ in range(2):  # delivered twice: reversed once
        r = webhook(pay, event)
        assert r.status_code == 200 and r.json() == {"received": True}
    assert pay.scalar(f"SELECT status FROM orders WHERE provider_ref = '{pi}'") == "refunded"
    creator = int(pay.scalar(f"SELECT creator_id FROM models WHERE id = {m['id']}"))
    assert int(pay.scalar(f"SELECT SUM(amount_cents) FROM earnings WHERE creator_id = {creator}")) == 0
    assert int(pay.scalar(f"SELECT COUNT(*) FROM earnings WHERE creator_id = {creator} AND kind = 'refund'")) == 1
    assert pay.get(f"/api/models/{m['id']}", headers=b.h).json()["sales_count"] == 0
    assert_error(requests.get(pay.url + path, timeout=10), 403, "FORBIDDEN")  # the link is revoked
    assert_error(pay.get(f"/api/models/{m['id']}/download", headers=b.h), 403, "FORBIDDEN")
    # and the model may be bought again
    assert checkout(pay, b, model_ids=[m["id"]], payment_details={"card_token": "tok_visa"}).status_code == 200


def test_other_and_unknown_webhook_events_are_acknowledged(pay):
    for event in ({"id": "evt_1", "type": "customer.created", "data": {"object": {"id": "cus_1"}}},
                  {"id": "evt_2", "type": "charge.refunded",
                   "data": {"object": {"payment_intent": "pi_unknown", "refunded": True}}},
                  {"id": "evt_3", "type": "charge.refunded",
                   "data": {"object": {"payment_intent": "pi_unknown", "refunded": False}}}):
        r = webhook(pay, event)
        assert r.status_code == 200, r.text


def test_webhook_on_the_main_server(server):
    """Every test server has STRIPE_WEBHOOK_SECRET (conftest): a signed event
    about nobody's payment is acknowledged; a forged one is not."""
    event = json.dumps({"id": "evt_main", "type": "charge.refunded",
                        "data": {"object": {"payment_intent": "pi_nobody", "refunded": True}}}).encode()
    h = {"Content-Type": "application/json"}
    r = requests.post(server.url + "/api/webhooks/stripe", data=event, timeout=10,
                      headers=dict(h, **{"Stripe-Signature": stripe_signature(event, STRIPE_WEBHOOK_SECRET)}))
    assert r.status_code == 200 and r.json() == {"received": True}, r.text
    r = requests.post(server.url + "/api/webhooks/stripe", data=event, timeout=10,
                      headers=dict(h, **{"Stripe-Signature": stripe_signature(event, "whsec_other")}))
    assert_error(r, 400, "VALIDATION_ERROR")


def test_webhook_without_a_secret_is_503():
    s = start_server("sqlite", label="no-webhook-secret", env={"STRIPE_WEBHOOK_SECRET": None})
    try:
        r = requests.post(s.url + "/api/webhooks/stripe", json={"type": "x"}, timeout=10,
                          headers={"Stripe-Signature": "t=1,v1=00"})
        assert_error(r, 503, "SERVICE_UNAVAILABLE")
        assert "Retry-After" in r.headers
    finally:
        finish_server(s)


def test_paypal_checkout_captures_an_approved_order(pay):
    b = make_buyer(pay)
    m = bought(pay, 15)
    order_id = pay.paypal.create_order(1500)
    r = checkout(pay, b, model_ids=[m["id"]], payment_method="paypal",
                 payment_details={"paypal_order_id": order_id})
    assert r.status_code == 200, r.text
    assert r.json()["payment_method"] == "paypal"
    assert len([c for c in pay.paypal.captures if order_id in json.dumps(c)]) == 1
    assert pay.scalar(f"SELECT provider FROM orders WHERE buyer_id = {b.id}") == "paypal"


def test_paypal_order_for_another_amount_buys_nothing(pay):
    b = make_buyer(pay)
    m = bought(pay, 15)
    cheap = pay.paypal.create_order(1)  # approved for $0.01 by the buyer
    r = checkout(pay, b, model_ids=[m["id"]], payment_method="paypal", payment_details={"paypal_order_id": cheap})
    assert_error(r, 402, "PAYMENT_FAILED")
    assert int(pay.scalar(f"SELECT COUNT(*) FROM purchases WHERE buyer_id = {b.id}")) == 0


def test_paypal_without_an_approved_order_asks_for_approval(pay):
    b = make_buyer(pay)
    m = bought(pay, 15)
    r = checkout(pay, b, model_ids=[m["id"]], payment_method="paypal", payment_details={})
    assert_error(r, 402, "PAYMENT_FAILED")
    assert "approve" in r.json()["detail"].lower()
