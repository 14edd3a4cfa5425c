"""Local stand-ins for Stripe and PayPal, for the checkout tests.

Each fake is a ThreadingHTTPServer on 127.0.0.1 (port 0) in a daemon thread:

    stripe = FakeStripe()            # STRIPE_API_BASE=stripe.url, STRIPE_SECRET_KEY=stripe.secret_key
    paypal = FakePayPal()            # PAYPAL_API_BASE=paypal.url, PAYPAL_CLIENT_ID/_SECRET likewise
    ...
    stripe.stop(); paypal.stop()

They answer the calls src/svc/pay_stripe.c and pay_paypal.c make, with the
bodies, statuses and idempotency rules of the real APIs as far as those
clients look at them; they are not complete models of either API.

What a test can inspect (all under fake.lock if it races with requests):
  FakeStripe: .charges (succeeded PaymentIntents, one per real charge),
              .intents (id -> every PaymentIntent), .refunds, .calls
  FakePayPal: .orders (id -> order), .captures (completed captures),
              .refunds, .calls, .tokens_issued
  .calls is a list of (method, path, idempotency key or None).

Failures, for PAY_UNREACHABLE paths: set .fail_next to one of
  500, 502, 503 ...  answer that status (nothing done, nothing stored)
  "drop"             close the connection without an answer (nothing done)
  "drop_after"       do the work (charge, capture...), then close without
                     an answer: the answer is lost, a retry with the same
                     key must find the first result
  "timeout"          hold the request for .hang_s seconds (default 35, more
                     than the clients' 30 s), then drop it; "drop" is the
                     fast way to the same outcome
  "garbage"          200 with a body that is not JSON (nothing done)
It applies once, to the next request whose path contains .fail_on (default
"": any request but PayPal's token endpoint).

Stripe test tokens: tok_chargeDeclined (card_declined),
tok_chargeDeclinedInsufficientFunds, tok_chargeDeclinedExpiredCard; any
other tok_... or pm_... succeeds.  FakeStripe.next_intent_status (e.g.
"processing", "requires_action") makes the next new PaymentIntent end in
that status instead of succeeding; a test can later edit
fake.intents[id]["status"] (GET /v1/payment_intents/{id} reads it).

PayPal: an order created through the API waits for the buyer (CREATED);
.approve(order_id) plays the buyer approving it on PayPal.
.create_order(cents, ...) makes an order directly (approved by default),
as PayPal's JS SDK would, for tests that check out with a token.
.decline_next_capture makes the next capture fail with INSTRUMENT_DECLINED;
.next_capture_status = "PENDING" makes it pending.

Run as a program (python3 payments.py), it starts both fakes, prints one
JSON line {"stripe": url, "paypal": url, ...credentials}, and serves until
its stdin closes; then POST /_fake/config (a JSON object of the attributes
above), POST /_fake/call ({"name": "approve", "args": [order_id]}; PayPal's
helpers) and GET /_fake/state (counts) also work, for the C unit tests.
"""
import base64
import hashlib
import hmac
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
VALUE_RE = re.compile(r"^\d{1,17}(\.\d{2})?$")


def stripe_signature(payload, secret, t=None):
    """The Stripe-Signature header of a webhook payload (bytes or str)."""
    if isinstance(payload, str):
        payload = payload.encode()
    t = int(time.time()) if t is None else int(t)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class _Drop(Exception):
    """Close the connection without an answer."""


class _FakeServer:
    """The HTTP plumbing both fakes share; subclasses implement route()."""

    name = "fake"
    control_calls = ()  # helper methods POST /_fake/call may run

    def __init__(self, control=False):
        self.lock = threading.RLock()
        self.calls = []
        self.fail_next = None
        self.fail_on = ""
        self.hang_s = 35
        self.control = control
        self._release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._serve(self, "GET")

            def do_POST(self):
                fake._serve(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- one request

    def _serve(self, h, method):
        path = urllib.parse.urlsplit(h.path).path
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n) if n > 0 else b""
        if self.control and path.startswith("/_fake/"):
            return self._control(h, method, path, body)
        failure = self._take_failure(path)
        if failure == "timeout":
            self._release.wait(self.hang_s)
            h.close_connection = True
            return
        if failure == "drop":
            h.close_connection = True
            return
        if isinstance(failure, int):
            return self._send(h, failure, self.failure_body(failure))
        if failure == "garbage":
            return self._send(h, 200, b"<html>Service Unavailable</html>", "text/html")
        try:
            with self.lock:
                status, answer, extra = self.route(method, path, h.headers, body)
        except _Drop:
            h.close_connection = True
            return
        if failure == "drop_after":
            h.close_connection = True
            return
        self._send(h, status, answer, headers=extra)

    def _take_failure(self, path):
        with self.lock:
            f = self.fail_next
            if f is None or self.fail_on not in path or not self.failure_applies(path):
                return None
            self.fail_next = None
            return f

    def failure_applies(self, path):
        return True

    def failure_body(self, status):
        return {"error": {"type": "api_error", "message": f"fake failure {status}"}}

    @staticmethod
    def _send(h, status, body, ctype="application/json", headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _control(self, h, method, path, body):
        if method == "POST" and path == "/_fake/config":
            with self.lock:
                for k, v in json.loads(body or b"{}").items():
                    if k.startswith("_") or not hasattr(self, k):
                        return self._send(h, 400, {"error": f"unknown setting {k}"})
                    setattr(self, k, v)
            return self._send(h, 200, {"ok": True})
        if method == "POST" and path == "/_fake/call":
            req = json.loads(body or b"{}")
            if req.get("name") not in self.control_calls:
                return self._send(h, 400, {"error": "not a control call"})
            return self._send(h, 200, {"result": getattr(self, req["name"])(*req.get("args", []))})
        if method == "GET" and path == "/_fake/state":
            with self.lock:
                return self._send(h, 200, self.state())
        return self._send(h, 404, {"error": "no such control"})

    def state(self):
        return {}

    def route(self, method, path, headers, body):
        raise NotImplementedError


# ---------------------------------------------------------------- Stripe

DECLINES = {
    "tok_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "tok_chargeDeclinedInsufficientFunds": ("card_declined", "insufficient_funds",
                                            "Your card has insufficient funds."),
    "tok_chargeDeclinedExpiredCard": ("expired_card", None, "Your card has expired."),
}


def _stripe_error(status, type_, message, **more):
    return status, {"error": dict(type=type_, message=message, **more)}


class FakeStripe(_FakeServer):
    """POST /v1/payment_intents, GET /v1/payment_intents/{id}, POST /v1/refunds."""

    name = "stripe"

    def __init__(self, secret_key=None, webhook_secret=None, control=False):
        self.secret_key = secret_key or "sk_test_fake_" + secrets.token_hex(8)
        self.webhook_secret = webhook_secret or "whsec_fake_" + secrets.token_hex(8)
        self.charges = []
        self.intents = {}
        self.refunds = []
        self.next_intent_status = None
        self._idem = {}  # key -> (method path, params, status, body)
        super().__init__(control)

    def sign(self, payload, t=None, secret=None):
        """The Stripe-Signature header for payload, signed with this fake's
        webhook secret (or secret)."""
        return stripe_signature(payload, secret or self.webhook_secret, t)

    def state(self):
        return {"charges": len(self.charges), "intents": len(self.intents), "refunds": len(self.refunds)}

    def route(self, method, path, headers, body):
        key = headers.get("Idempotency-Key")
        self.calls.append((method, path, key))
        if headers.get("Authorization") != f"Bearer {self.secret_key}":
            return _stripe_error(401, "invalid_request_error", "Invalid API Key provided.") + ({},)
        params = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
        if method == "POST" and key:
            # Stripe keeps the first result of a key (errors included) and
            # refuses the key with other parameters or on another endpoint.
            seen = self._idem.get(key)
            if seen:
                if seen[0] != path or seen[1] != sorted(params):
                    return _stripe_error(400, "idempotency_error",
                                         "Keys for idempotent requests can only be used with the same "
                                         "parameters they were first used with.") + ({},)
                return seen[2], seen[3], {"Idempotent-Replayed": "true"}
        status, answer = self._dispatch(method, path, dict(params))
        if method == "POST" and key:
            self._idem[key] = (path, sorted(params), status, json.loads(json.dumps(answer)))
        return status, answer, {}

    def _dispatch(self, method, path, form):
        if method == "POST" and path == "/v1/payment_intents":
            return self._create_intent(form)
        m = re.fullmatch(r"/v1/payment_intents/([^/]+)", path)
        if method == "GET" and m:
            pi = self.intents.get(m.group(1))
            if not pi:
                return _stripe_error(404, "invalid_request_error", "No such payment_intent.",
                                     code="resource_missing", param="intent")
            return 200, pi
        if method == "POST" and path == "/v1/refunds":
            return self._refund(form)
        return _stripe_error(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _create_intent(self, form):
        amount, currency = form.get("amount", ""), form.get("currency", "")
        if not amount.isdigit() or not re.fullmatch(r"[a-z]{3}", currency):
            return _stripe_error(400, "invalid_request_error", "Invalid amount or currency.",
                                 code="parameter_invalid_integer", param="amount")
        amount = int(amount)
        if amount < 50:
            return _stripe_error(400, "invalid_request_error", "Amount must be at least $0.50 usd",
                                 code="amount_too_small", param="amount")
        token = form.get("payment_method_data[card][token]") or form.get("payment_method")
        if not token:
            return _stripe_error(400, "invalid_request_error", "Missing required param: payment_method.",
                                 code="parameter_missing", param="payment_method")
        if not (token.startswith("tok_") or token.startswith("pm_")):
            return _stripe_error(400, "invalid_request_error", f"No such PaymentMethod: '{token}'",
                                 code="resource_missing", param="payment_method")
        pi = {"id": "pi_" + secrets.token_hex(12), "object": "payment_intent", "amount": amount,
              "currency": currency, "description": form.get("description"), "status": "succeeded",
              "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
              "latest_charge": "ch_" + secrets.token_hex(12), "last_payment_error": None,
              "payment_method": "pm_" + secrets.token_hex(12)}
        self.intents[pi["id"]] = pi
        decline = DECLINES.get(token.replace("pm_card_", "tok_"))
        if decline:
            code, decline_code, message = decline
            err = {"type": "card_error", "code": code, "message": message, "charge": pi["latest_charge"]}
            if decline_code:
                err["decline_code"] = decline_code
            pi["status"] = "requires_payment_method"
            pi["last_payment_error"] = err
            return 402, {"error": dict(err, payment_intent=pi)}
        if self.next_intent_status:
            pi["status"], self.next_intent_status = self.next_intent_status, None
            return 200, pi
        self.charges.append(pi)
        return 200, pi

    def _refund(self, form):
        pid = form.get("payment_intent")
        pi = self.intents.get(pid) if pid else next(
            (p for p in self.intents.values() if p["latest_charge"] == form.get("charge")), None)
        if not pi:
            return _stripe_error(400, "invalid_request_error", "No such payment_intent.",
                                 code="resource_missing", param="payment_intent")
        if pi["status"] != "succeeded":
            return _stripe_error(400, "invalid_request_error", "This PaymentIntent has no successful charge.",
                                 code="charge_not_refundable")
        left = pi["amount"] - sum(r["amount"] for r in self.refunds if r["payment_intent"] == pi["id"])
        amount = int(form["amount"]) if form.get("amount", "").isdigit() else left
        if left <= 0:
            return _stripe_error(400, "invalid_request_error",
                                 f"Charge {pi['latest_charge']} has already been refunded.",
                                 code="charge_already_refunded")
        if amount <= 0 or amount > left:
            return _stripe_error(400, "invalid_request_error", "Refund amount is greater than unrefunded amount.",
                                 code="amount_too_large", param="amount")
        refund = {"id": "re_" + secrets.token_hex(12), "object": "refund", "amount": amount,
                  "currency": pi["currency"], "payment_intent": pi["id"], "charge": pi["latest_charge"],
                  "status": "succeeded"}
        self.refunds.append(refund)
        return 200, refund


# ---------------------------------------------------------------- PayPal

def _cents_str(cents):
    return f"{cents // 100}.{cents % 100:02d}"


def _to_cents(value):
    whole, _, frac = value.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def _paypal_error(status, name, issue, description=""):
    return status, {"name": name, "message": description or name,
                    "details": [{"issue": issue, "description": description or issue}],
                    "debug_id": secrets.token_hex(6)}


class FakePayPal(_FakeServer):
    """/v1/oauth2/token, /v2/checkout/orders[/{id}[/capture]],
    /v2/payments/captures/{id}[/refund]."""

    name = "paypal"
    control_calls = ("approve", "create_order", "revoke_tokens")

    def __init__(self, client_id=None, client_secret=None, token_ttl=32400, control=False):
        self.client_id = client_id or "fake-paypal-client"
        self.client_secret = client_secret or "fake-paypal-secret-" + secrets.token_hex(8)
        self.token_ttl = token_ttl
        self.tokens = {}  # access token -> expiry (time.time())
        self.tokens_issued = 0
        self.orders = {}
        self.captures = []
        self.refunds = []
        self.decline_next_capture = False
        self.next_capture_status = None
        self._idem = {}  # (operation, PayPal-Request-Id) -> (status, body)
        super().__init__(control)

    def state(self):
        return {"orders": len(self.orders), "captures": len(self.captures), "refunds": len(self.refunds),
                "tokens_issued": self.tokens_issued}

    def failure_applies(self, path):
        return path != "/v1/oauth2/token"

    def failure_body(self, status):
        return {"name": "INTERNAL_SERVER_ERROR", "message": "fake failure",
                "details": [{"issue": "INTERNAL_SERVICE_ERROR"}]}

    # ---- helpers for tests

    def revoke_tokens(self):
        """Every access token issued so far answers 401 from now on."""
        with self.lock:
            self.tokens.clear()

    def approve(self, order_id):
        """The buyer approves the order on PayPal."""
        with self.lock:
            self.orders[order_id]["status"] = "APPROVED"

    def create_order(self, cents, currency="USD", custom_id=None, approved=True):
        """An order made outside the server (as PayPal's JS SDK does); its id."""
        with self.lock:
            return self._new_order(cents, currency, custom_id, "APPROVED" if approved else "CREATED")["id"]

    # ---- requests

    def route(self, method, path, headers, body):
        rid = headers.get("PayPal-Request-Id")
        self.calls.append((method, path, rid))
        if path == "/v1/oauth2/token" and method == "POST":
            return self._token(headers, body) + ({},)
        bearer = headers.get("Authorization", "")
        if not bearer.startswith("Bearer ") or self.tokens.get(bearer[7:], 0) < time.time():
            return 401, {"error": "invalid_token", "error_description": "Token signature verification failed"}, {}
        parts = path.strip("/").split("/")
        if any(not ID_RE.match(p) for p in parts[2:]):
            return _paypal_error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID") + ({},)
        op = (method, path)  # a request id is scoped to its operation on its resource
        if method == "POST" and rid and (op, rid) in self._idem:
            return self._idem[(op, rid)] + ({},)
        try:
            req = json.loads(body) if body.strip() else {}
        except ValueError:
            return _paypal_error(400, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON") + ({},)
        minimal = "return=representation" not in (headers.get("Prefer") or "")
        status, answer = self._dispatch(method, parts, req, minimal)
        # Only what was done is kept: a refused capture (INSTRUMENT_DECLINED)
        # may be retried with the same id once the buyer picked another card.
        if method == "POST" and rid and 200 <= status <= 299:
            self._idem[(op, rid)] = (status, json.loads(json.dumps(answer)))
        return status, answer, {}

    def _token(self, headers, body):
        want = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if headers.get("Authorization") != want:
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        if urllib.parse.parse_qs(body.decode()).get("grant_type") != ["client_credentials"]:
            return 400, {"error": "unsupported_grant_type", "error_description": "unsupported grant_type"}
        token = "A21AA" + secrets.token_urlsafe(32)
        self.tokens[token] = time.time() + self.token_ttl
        self.tokens_issued += 1
        return 200, {"scope": "https://uri.paypal.com/services/payments/payment", "access_token": token,
                     "token_type": "Bearer", "app_id": "APP-FAKE", "expires_in": self.token_ttl,
                     "nonce": secrets.token_hex(8)}

    def _dispatch(self, method, parts, req, minimal):
        # parts: v2 checkout orders [id [capture]] | v2 payments captures id [refund]
        if parts[:3] == ["v2", "checkout", "orders"]:
            if method == "POST" and len(parts) == 3:
                return self._create(req, minimal)
            order = self.orders.get(parts[3]) if len(parts) > 3 else None
            if not order:
                return _paypal_error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
            if method == "GET" and len(parts) == 4:
                return 200, order
            if method == "POST" and len(parts) == 5 and parts[4] == "capture":
                return self._capture(order, minimal)
        if parts[:3] == ["v2", "payments", "captures"] and len(parts) > 3:
            cap = next((c for c in self.captures if c["id"] == parts[3]), None)
            if not cap:
                return _paypal_error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
            if method == "GET" and len(parts) == 4:
                return 200, cap
            if method == "POST" and len(parts) == 5 and parts[4] == "refund":
                return self._refund(cap, req)
        return _paypal_error(404, "NOT_FOUND", "INVALID_RESOURCE_ID")

    def _new_order(self, cents, currency, custom_id, status):
        oid = secrets.token_hex(9).upper()[:17]
        unit = {"reference_id": "default", "amount": {"currency_code": currency, "value": _cents_str(cents)}}
        if custom_id:
            unit["custom_id"] = custom_id
        order = {"id": oid, "intent": "CAPTURE", "status": status, "purchase_units": [unit],
                 "links": [{"href": f"{self.url}/checkoutnow?token={oid}", "rel": "approve", "method": "GET"}]}
        self.orders[oid] = order
        return order

    def _create(self, req, minimal):
        units = req.get("purchase_units")
        if req.get("intent") != "CAPTURE" or not isinstance(units, list) or len(units) != 1:
            return _paypal_error(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE")
        amount = units[0].get("amount") or {}
        value, currency = amount.get("value"), amount.get("currency_code")
        if not isinstance(value, str) or not VALUE_RE.match(value) or not re.fullmatch(r"[A-Z]{3}", currency or ""):
            return _paypal_error(422, "UNPROCESSABLE_ENTITY", "DECIMAL_PRECISION")
        if _to_cents(value) <= 0:
            return _paypal_error(422, "UNPROCESSABLE_ENTITY", "CANNOT_BE_ZERO_OR_NEGATIVE")
        order = self._new_order(_to_cents(value), currency, units[0].get("custom_id"), "CREATED")
        if units[0].get("description"):
            order["purchase_units"][0]["description"] = units[0]["description"]
        return 201, ({k: order[k] for k in ("id", "status", "links")} if minimal else order)

    def _capture(self, order, minimal):
        if order["status"] == "COMPLETED":
            return _paypal_error(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
        if order["status"] != "APPROVED":
            return _paypal_error(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
        if self.decline_next_capture:
            self.decline_next_capture = False
            return _paypal_error(422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED")
        unit = order["purchase_units"][0]
        cap = {"id": secrets.token_hex(9).upper()[:17], "status": self.next_capture_status or "COMPLETED",
               "amount": dict(unit["amount"]), "final_capture": True, "order_id": order["id"]}
        self.next_capture_status = None
        if "custom_id" in unit:
            cap["custom_id"] = unit["custom_id"]
        order["status"] = "COMPLETED"
        unit["payments"] = {"captures": [cap]}
        self.captures.append(cap)
        return 201, ({"id": order["id"], "status": order["status"]} if minimal else order)

    def _refund(self, cap, req):
        total = _to_cents(cap["amount"]["value"])
        left = total - sum(r["cents"] for r in self.refunds if r["capture_id"] == cap["id"])
        if left <= 0:
            return _paypal_error(422, "UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED")
        amount = req.get("amount")
        if amount is not None:
            if not isinstance(amount.get("value"), str) or not VALUE_RE.match(amount["value"]) \
                    or amount.get("currency_code") != cap["amount"]["currency_code"]:
                return _paypal_error(422, "UNPROCESSABLE_ENTITY", "INVALID_CURRENCY_CODE")
            cents = _to_cents(amount["value"])
        else:
            cents = left
        if cents <= 0 or cents > left:
            return _paypal_error(422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED")
        refund = {"id": secrets.token_hex(9).upper()[:17], "status": "COMPLETED", "capture_id": cap["id"],
                  "cents": cents, "amount": {"currency_code": cap["amount"]["currency_code"],
                                             "value": _cents_str(cents)}}
        self.refunds.append(refund)
        cap["status"] = "REFUNDED" if cents == left else "PARTIALLY_REFUNDED"
        return 201, {"id": refund["id"], "status": refund["status"]}


def main():
    stripe, paypal = FakeStripe(control=True), FakePayPal(control=True)
    print(json.dumps({"stripe": stripe.url, "stripe_secret_key": stripe.secret_key,
                      "stripe_webhook_secret": stripe.webhook_secret, "paypal": paypal.url,
                      "paypal_client_id": paypal.client_id, "paypal_client_secret": paypal.client_secret}),
          flush=True)
    sys.stdin.read()
    stripe.stop()
    paypal.stop()


if __name__ == "__main__":
    main()
