"""The payment fakes themselves (tests/api/fakes/payments.py), without the
server: they import, answer like the providers where the clients look, keep
idempotency, and fail on demand.  The checkout tests drive them through
the server; the C clients are checked against them in
tests/unit/test_payments.c."""
import base64
import hashlib
import hmac

import pytest
import requests

from fakes.payments import FakePayPal, FakeStripe, stripe_signature


@pytest.fixture
def stripe():
    f = FakeStripe()
    yield f
    f.stop()


@pytest.fixture
def paypal():
    f = FakePayPal()
    yield f
    f.stop()


def pi_post(fake, token="tok_visa", key=None, amount=1234, **extra):
    headers = {"Authorization": f"Bearer {fake.secret_key}"}
    if key:
        headers["Idempotency-Key"] = key
    form = {"amount": str(amount), "currency": "usd", "confirm": "true",
            "payment_method_data[type]": "card", "payment_method_data[card][token]": token, **extra}
    return requests.post(fake.url + "/v1/payment_intents", data=form, headers=headers, timeout=10)


def test_stripe_charges_once_per_key(stripe):
    r = pi_post(stripe, key="k-1")
    assert r.status_code == 200, r.text
    pi = r.json()
    assert pi["id"].startswith("pi_") and pi["status"] == "succeeded"
    assert (pi["amount"], pi["currency"]) == (1234, "usd")
    again = pi_post(stripe, key="k-1")
    assert again.json()["id"] == pi["id"] and again.headers.get("Idempotent-Replayed") == "true"
    assert len(stripe.charges) == 1
    # the same key with other parameters is refused, as Stripe does
    r = pi_post(stripe, key="k-1", amount=999)
    assert r.status_code == 400 and r.json()["error"]["type"] == "idempotency_error"
    assert len(stripe.charges) == 1
    assert [c[2] for c in stripe.calls] == ["k-1", "k-1", "k-1"]


def test_stripe_declines_and_auth(stripe):
    r = pi_post(stripe, token="tok_chargeDeclined", key="k-2")
    assert r.status_code == 402
    err = r.json()["error"]
    assert (err["type"], err["code"], err["message"]) == ("card_error", "card_declined", "Your card was declined.")
    assert err["payment_intent"]["status"] == "requires_payment_method"
    assert stripe.charges == []
    r = requests.post(stripe.url + "/v1/payment_intents", data={"amount": "100"},
                      headers={"Authorization": "Bearer sk_test_wrong"}, timeout=10)
    assert r.status_code == 401


def test_stripe_refunds(stripe):
    pi = pi_post(stripe, key="k-3").json()
    auth = {"Authorization": f"Bearer {stripe.secret_key}"}
    r = requests.post(stripe.url + "/v1/refunds", data={"payment_intent": pi["id"], "amount": "1234"},
                      headers=dict(auth, **{"Idempotency-Key": "r-3"}), timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "succeeded"
    r = requests.post(stripe.url + "/v1/refunds", data={"payment_intent": pi["id"], "amount": "1"},
                      headers=dict(auth, **{"Idempotency-Key": "r-4"}), timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] == "charge_already_refunded"
    assert len(stripe.refunds) == 1


def test_stripe_failures_on_demand(stripe):
    stripe.fail_next = 500
    assert pi_post(stripe, key="k-5").status_code == 500
    assert pi_post(stripe, key="k-5").status_code == 200  # nothing was stored
    stripe.fail_next = "drop_after"
    with pytest.raises(requests.ConnectionError):
        pi_post(stripe, key="k-6")
    assert len(stripe.charges) == 2  # charged, answer lost
    assert pi_post(stripe, key="k-6").json()["id"] == stripe.charges[1]["id"]
    stripe.fail_next = "garbage"
    assert pi_post(stripe, key="k-7").headers["Content-Type"] == "text/html"


def test_stripe_webhook_signature():
    body = b'{"id":"evt_1"}'
    header = stripe_signature(body, "whsec_x", t=1700000000)
    t, v1 = header.split(",")
    assert t == "t=1700000000"
    assert v1 == "v1=" + hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    f = FakeStripe(webhook_secret="whsec_x")
    try:
        assert f.sign(body, t=1700000000) == header
    finally:
        f.stop()


def paypal_token(fake):
    basic = base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()
    r = requests.post(fake.url + "/v1/oauth2/token", data={"grant_type": "client_credentials"},
                      headers={"Authorization": f"Basic {basic}"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["expires_in"] > 0
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def test_paypal_order_approve_capture_refund(paypal):
    auth = paypal_token(paypal)
    order = {"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "12.34"},
                                                       "custom_id": "hwc3d-order-1"}]}
    r = requests.post(paypal.url + "/v2/checkout/orders", json=order,
                      headers=dict(auth, **{"PayPal-Request-Id": "hwc3d-order-1"}), timeout=10)
    assert r.status_code == 201 and r.json()["status"] == "CREATED"
    oid = r.json()["id"]
    again = requests.post(paypal.url + "/v2/checkout/orders", json=order,
                          headers=dict(auth, **{"PayPal-Request-Id": "hwc3d-order-1"}), timeout=10)
    assert again.json()["id"] == oid and len(paypal.orders) == 1

    cap_url = f"{paypal.url}/v2/checkout/orders/{oid}/capture"
    capture_headers = dict(auth, **{"PayPal-Request-Id": "c-1", "Prefer": "return=representation"})
    r = requests.post(cap_url, headers=capture_headers, timeout=10)
    assert r.status_code == 422 and r.json()["details"][0]["issue"] == "ORDER_NOT_APPROVED"
    paypal.approve(oid)
    r = requests.post(cap_url, headers=capture_headers, timeout=10)
    assert r.status_code == 201, r.text
    cap = r.json()["purchase_units"][0]["payments"]["captures"][0]
    assert cap["status"] == "COMPLETED" and cap["amount"]["value"] == "12.34"
    assert requests.post(cap_url, headers=capture_headers, timeout=10).json() == r.json()  # replayed
    r = requests.post(cap_url, headers=dict(capture_headers, **{"PayPal-Request-Id": "c-2"}), timeout=10)
    assert r.json()["details"][0]["issue"] == "ORDER_ALREADY_CAPTURED"
    assert len(paypal.captures) == 1

    ref_url = f"{paypal.url}/v2/payments/captures/{cap['id']}/refund"
    body = {"amount": {"currency_code": "USD", "value": "12.34"}}
    r = requests.post(ref_url, json=body, headers=dict(auth, **{"PayPal-Request-Id": "r-1"}), timeout=10)
    assert r.status_code == 201 and r.json()["status"] == "COMPLETED"
    r = requests.post(ref_url, json=body, headers=dict(auth, **{"PayPal-Request-Id": "r-2"}), timeout=10)
    assert r.json()["details"][0]["issue"] == "CAPTURE_FULLY_REFUNDED"


def test_paypal_auth_and_failures(paypal):
    r = requests.post(paypal.url + "/v1/oauth2/token", data={"grant_type": "client_credentials"},
                      auth=(paypal.client_id, "wrong"), timeout=10)
    assert r.status_code == 401
    auth = paypal_token(paypal)
    oid = paypal.create_order(500)
    assert requests.get(f"{paypal.url}/v2/checkout/orders/{oid}", headers=auth, timeout=10).json()["status"] == "APPROVED"
    assert requests.get(f"{paypal.url}/v2/checkout/orders/..%2Fx", headers=auth, timeout=10).status_code == 404
    paypal.revoke_tokens()
    assert requests.get(f"{paypal.url}/v2/checkout/orders/{oid}", headers=auth, timeout=10).status_code == 401
    auth = paypal_token(paypal)
    paypal.fail_next, paypal.fail_on = 503, "/capture"
    assert requests.get(f"{paypal.url}/v2/checkout/orders/{oid}", headers=auth, timeout=10).status_code == 200
    r = requests.post(f"{paypal.url}/v2/checkout/orders/{oid}/capture", headers=auth, timeout=10)
    assert r.status_code == 503 and paypal.captures == []
