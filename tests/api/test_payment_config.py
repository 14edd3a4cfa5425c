"""GET /api/checkout/payment-methods: what the checkout page may offer,
public and without secrets, for the test processor, Stripe and PayPal."""
import pytest

from conftest import base_env, finish_server, run_binary, start_server


def test_test_processor_by_default(server):
    r = server.get("/api/checkout/payment-methods")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["currency"] == "USD"
    assert body["paypal"] is None
    card = body["card"]
    assert card["provider"] == "test" and card["available"] is True
    tokens = {t["token"]: t["outcome"] for t in card["test_tokens"]}
    assert tokens == {"tok_visa": "succeeds", "tok_chargeDeclined": "declined"}
    assert all(t["label"] for t in card["test_tokens"])
    assert "publishable_key" not in card


def test_public_even_with_a_bad_token(server):
    r = server.get("/api/checkout/payment-methods", headers={"Authorization": "Bearer nonsense"})
    # a public route: a bad token is refused like anywhere else, or ignored
    assert r.status_code in (200, 401), r.text


@pytest.fixture(scope="module")
def configured():
    s = start_server("sqlite", label="paycfg", env={
        "STRIPE_SECRET_KEY": "sk_test_secret_never_shown", "STRIPE_PUBLISHABLE_KEY": "pk_test_abc123",
        "PAYPAL_CLIENT_ID": "paypal-client-id_1", "PAYPAL_CLIENT_SECRET": "paypal_secret_never_shown"})
    yield s
    finish_server(s)


def test_stripe_and_paypal_keys(configured):
    r = configured.get("/api/checkout/payment-methods")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["card"] == {"provider": "stripe", "available": True, "publishable_key": "pk_test_abc123"}
    assert body["paypal"] == {"provider": "paypal", "available": True, "client_id": "paypal-client-id_1"}
    assert "never_shown" not in r.text


@pytest.fixture(scope="module")
def no_publishable():
    s = start_server("sqlite", label="paycfg-nopk", env={"STRIPE_SECRET_KEY": "sk_test_secret_never_shown"})
    yield s
    finish_server(s)


def test_a_malformed_publishable_key_is_a_bad_setting(tmp_path):
    """It would be written into the page (and its CSP): refused at start, exit 2."""
    env = base_env({"DATA_DIR": str(tmp_path), "STRIPE_PUBLISHABLE_KEY": "pk with spaces<script>"})
    p = run_binary(["migrate"], env, str(tmp_path))
    assert p.returncode == 2 and "STRIPE_PUBLISHABLE_KEY" in p.stderr, p.stderr


def test_stripe_without_a_usable_publishable_key(no_publishable):
    r = no_publishable.get("/api/checkout/payment-methods")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["card"]["provider"] == "stripe"
    assert body["card"]["available"] is False
    assert body["card"].get("publishable_key") is None
    assert body["paypal"] is None
    assert "never_shown" not in r.text
