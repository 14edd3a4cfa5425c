"""The creator dashboard (issue 10, point 8), on SQLite and PostgreSQL:
GET /api/users/me/dashboard (totals against the previous period),
GET /api/users/me/analytics (zero-filled daily series, overall and per
model) and the figures of GET /api/users/me/models (the inventory).

Today's figures come from real events (views, likes, checkouts, downloads,
a Stripe refund); figures of past days are written straight into the
rollups the way the event handlers write them (put_days), since the server
has no clock to turn back.  The last test builds a creator with 1,000
models and 1,000,000 views over a year and times the answers."""
import datetime
import json
import os
import statistics
import time
import uuid

import pytest
import requests

import conftest
from conftest import REPO, assert_error, finish_server, require_pg, start_server, uniq
from fakes.payments import FakePayPal, FakeStripe
from test_models import create_model, make_buyer, make_creator

RANGES = {"7d": 7, "30d": 30, "90d": 90, "1y": 365}
WINDOWS = {7: "7d", 30: "30d", 90: "90d", 365: "1y"}
COUNTS = ("views", "likes", "downloads", "sales", "refunds")
MONEY = ("revenue", "gross")
FIGURES = COUNTS + MONEY
METRICS = set(FIGURES) | {"followers", "models"}


# ---------------------------------------------------------------- helpers

def get(server, path, who, **params):
    r = server.get(path, params=params, headers=who.h)
    assert r.status_code == 200, r.text
    return r.json()


def dashboard(server, who, **params):
    body = get(server, "/api/users/me/dashboard", who, **params)
    assert set(body) == {"range", "days", "currency", "period", "previous_period", "metrics"}
    assert set(body["metrics"]) == METRICS
    for name, f in body["metrics"].items():
        assert set(f) >= {"total", "value", "previous", "change_pct"}, (name, f)
    return body


def analytics(server, who, **params):
    body = get(server, "/api/users/me/analytics", who, **params)
    assert set(body) == {"range", "days", "currency", "from", "to", "sort", "model_id", "totals", "series",
                         "models"}
    check_series(body, body)
    for m in body["models"]:
        assert set(m) == {"id", "title", "thumbnail_url", "status", "is_published", "is_deleted", "totals",
                          "series"}
        check_series(body, m)
    return body


def day_of(text):
    return datetime.date.fromisoformat(text).toordinal() - datetime.date(1970, 1, 1).toordinal()


def date_of(day):
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=day)).isoformat()


def check_series(body, part):
    """One point per day from `from` to `to`, in order, and totals that
    are their sums."""
    series = part["series"]
    first, last = day_of(body["from"]), day_of(body["to"])
    assert len(series) == body["days"] == last - first + 1
    assert [p["date"] for p in series] == [date_of(d) for d in range(first, last + 1)]
    for p in series:
        assert set(p) == {"date"} | set(FIGURES)
    for k in FIGURES:
        assert part["totals"][k] == pytest.approx(sum(p[k] for p in series), abs=0.001), k


def today(server, who):
    """The server's day (days since the epoch), as the dashboard says."""
    return day_of(dashboard(server, who, range="7d")["period"]["to"])


def put_days(server, creator_id, model_id, t, days):
    """Figures of past days, written as the event handlers write them:
    model_daily, creator_daily and model_window (exact as of day t).
    days maps a day offset (0 = t, 10 = ten days ago) to a dict of
    model_daily columns."""
    window = {n: {"views": 0, "revenue_cents": 0} for n in WINDOWS}
    for ago, cols in days.items():
        day = t - ago
        names = ", ".join(cols)
        values = ", ".join(str(v) for v in cols.values())
        for table, key, kid in (("model_daily", "model_id", model_id), ("creator_daily", "creator_id", creator_id)):
            sets = ", ".join(f"{c} = {table}.{c} + {v}" for c, v in cols.items())
            server.sql(f"INSERT INTO {table} ({key}, day, {names}) VALUES ({kid}, {day}, {values})"
                       f" ON CONFLICT ({key}, day) DO UPDATE SET {sets}")
        for n in WINDOWS:
            if ago < n:
                for c in ("views", "revenue_cents"):
                    window[n][c] += cols.get(c, 0)
    cols = {f"views_{WINDOWS[n]}": window[n]["views"] for n in WINDOWS}
    cols.update({f"revenue_{WINDOWS[n]}": window[n]["revenue_cents"] for n in WINDOWS})
    sets = ", ".join(f"{c} = model_window.{c} + {v}" for c, v in cols.items())
    server.sql(f"INSERT INTO model_window (model_id, creator_id, as_of_day, {', '.join(cols)})"
               f" VALUES ({model_id}, {creator_id}, {t}, {', '.join(str(v) for v in cols.values())})"
               f" ON CONFLICT (model_id) DO UPDATE SET {sets}")


def view(server, mid, who=None):
    r = server.post(f"/api/models/{mid}/view", headers=who.h if who else {})
    assert r.status_code == 200, r.text
    return r.json()["counted"]


def like(server, mid, who, on=True):
    r = (server.post if on else server.delete)(f"/api/models/{mid}/like", headers=who.h)
    assert r.status_code == 200, r.text


def buy(server, who, *mids):
    r = server.post("/api/checkout", headers=who.h, json={
        "payment_method": "card", "payment_details": {"card_token": "tok_visa"}, "model_ids": list(mids)})
    assert r.status_code == 200, r.text
    return r.json()


def download(server, who, mid):
    r = server.get(f"/api/models/{mid}/download", headers=who.h)
    assert r.status_code == 200, r.text
    link = r.json()["download_url"]
    r = requests.get(server.url + link[link.index("/api/downloads/"):], timeout=15)
    assert r.status_code == 200


def rollups_agree(server, creator_id):
    """creator_daily is model_daily summed over the creator's models."""
    cols = ("views", "likes", "downloads", "sales", "refunds", "gross_cents", "revenue_cents")
    a = server.sql(f"SELECT day, {', '.join(cols)} FROM creator_daily WHERE creator_id = {creator_id} ORDER BY day")
    b = server.sql(f"SELECT d.day, {', '.join(f'SUM(d.{c})' for c in cols)} FROM model_daily d"
                   f" JOIN models m ON m.id = d.model_id WHERE m.creator_id = {creator_id} GROUP BY d.day ORDER BY d.day")
    norm = lambda rows: [tuple(int(float(x)) for x in r) for r in rows]  # noqa: E731
    assert norm(a) == norm(b)


def fee(cents):
    """The platform's 12%, rounded half up."""
    return (cents * 12 + 50) // 100


# ---------------------------------------------------------------- real events

def test_figures_follow_real_events(server):
    c = make_creator(server)
    b1, b2, b3 = make_buyer(server), make_buyer(server), make_buyer(server)
    m1 = create_model(server, c, approve=True, price=9.99)
    m2 = create_model(server, c, approve=True, price=20)
    create_model(server, c)  # pending: counted in models.total, not public
    # views: once per viewer and hour
    for who in (b1, b2, b3):
        assert view(server, m1["id"], who)
    assert not view(server, m1["id"], b1)
    assert view(server, m2["id"], b1)
    # likes received: an unlike does not take one back
    like(server, m1["id"], b1)
    like(server, m1["id"], b2)
    like(server, m2["id"], b3)
    like(server, m1["id"], b1, on=False)
    # three sales in two checkouts, one download
    buy(server, b1, m1["id"])
    buy(server, b2, m1["id"], m2["id"])
    download(server, b1, m1["id"])

    net1, net2 = 999 - fee(999), 2000 - fee(2000)
    d = dashboard(server, c)
    assert d["range"] == "30d" and d["days"] == 30 and d["currency"] == "USD"
    t = day_of(d["period"]["to"])
    assert d["period"]["from"] == date_of(t - 29)
    assert d["previous_period"] == {"from": date_of(t - 59), "to": date_of(t - 30)}
    m = d["metrics"]
    want = {"views": 4, "likes": 3, "downloads": 1, "sales": 3, "refunds": 0}
    for k, v in want.items():
        assert m[k] == {"total": v, "value": v, "previous": 0, "change_pct": None}, (k, m[k])
    assert m["revenue"] == {"total": (2 * net1 + net2) / 100, "value": (2 * net1 + net2) / 100, "previous": 0,
                            "change_pct": None}
    assert m["gross"]["total"] == m["gross"]["value"] == 39.98
    assert m["models"] == {"total": 3, "public": 2, "value": 3, "previous": 0, "change_pct": None}
    assert m["followers"] == {"total": 0, "value": 0, "previous": 0, "change_pct": None}
    # the revenue is what the earnings ledger booked
    assert int(server.scalar(f"SELECT SUM(amount_cents) FROM earnings WHERE creator_id = {c.id}")) == 2 * net1 + net2
    rollups_agree(server, c.id)

    # analytics: the day's figures, and the models ranked
    a = analytics(server, c)
    assert a["range"] == "30d" and a["sort"] == "revenue" and a["model_id"] is None
    assert a["to"] == date_of(t)
    assert a["totals"] == {"views": 4, "likes": 3, "downloads": 1, "sales": 3, "refunds": 0,
                           "revenue": (2 * net1 + net2) / 100, "gross": 39.98}
    assert a["series"][-1]["views"] == 4 and all(p["views"] == 0 for p in a["series"][:-1])
    # by revenue m2 (17.60) leads m1 (2 x 8.79); by views m1 (3) leads m2 (1)
    assert [x["id"] for x in a["models"]] == [m2["id"], m1["id"]]
    first = a["models"][0]
    assert first["title"] == m2["title"] and first["status"] == "approved" and first["is_published"]
    assert not first["is_deleted"]
    assert first["totals"] == {"views": 1, "likes": 1, "downloads": 0, "sales": 1, "refunds": 0,
                               "revenue": net2 / 100, "gross": 20}
    assert a["models"][1]["totals"] == {"views": 3, "likes": 2, "downloads": 1, "sales": 2, "refunds": 0,
                                        "revenue": 2 * net1 / 100, "gross": 19.98}
    a = analytics(server, c, sort="views", range="7d")
    assert [x["id"] for x in a["models"]] == [m1["id"], m2["id"]] and len(a["series"]) == 7
    assert [x["id"] for x in analytics(server, c, top=1)["models"]] == [m2["id"]]
    assert analytics(server, c, top=0)["models"] == []
    # one model
    a = analytics(server, c, model_id=m1["id"], range="90d")
    assert a["model_id"] == m1["id"] and len(a["series"]) == 90
    assert a["totals"]["views"] == 3 and a["totals"]["sales"] == 2
    assert [x["id"] for x in a["models"]] == [m1["id"]] and a["models"][0]["totals"] == a["totals"]

    # the inventory: each model with its figures (all time by default)
    inv = get(server, "/api/users/me/models", c)
    by_id = {x["id"]: x for x in inv["items"]}
    assert inv["total"] == 3 and set(by_id) > {m1["id"], m2["id"]}
    assert by_id[m1["id"]]["stats"] == {"range": "all", "views": 3, "likes": 2, "downloads": 1, "sales": 2,
                                        "refunds": 0, "revenue": 2 * net1 / 100, "gross": 19.98}
    assert by_id[m1["id"]]["likes_count"] == 1  # the model's live count, after the unlike
    inv = get(server, "/api/users/me/models", c, range="7d", status="approved")
    assert {x["id"] for x in inv["items"]} == {m1["id"], m2["id"]}
    assert {x["stats"]["range"] for x in inv["items"]} == {"7d"}
    assert by_id[m2["id"]]["stats"]["views"] == 1


def test_removed_model_keeps_its_figures(server):
    c, b = make_creator(server), make_buyer(server)
    m = create_model(server, c, approve=True, price=5)
    assert view(server, m["id"], b)
    buy(server, b, m["id"])
    r = server.delete(f"/api/models/{m['id']}", headers=c.h)  # sold: hidden, kept for its buyer
    assert r.status_code == 200, r.text
    d = dashboard(server, c)["metrics"]
    assert d["sales"]["total"] == 1 and d["views"]["total"] == 1
    assert d["models"]["total"] == 0 and d["models"]["public"] == 0
    a = analytics(server, c)
    assert [x["id"] for x in a["models"]] == [m["id"]] and a["models"][0]["is_deleted"]
    assert analytics(server, c, model_id=m["id"])["totals"]["sales"] == 1
    assert get(server, "/api/users/me/models", c)["items"] == []


# ---------------------------------------------------------------- periods

def test_change_against_the_previous_period(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    t = today(server, c)
    put_days(server, c.id, m["id"], t, {
        3: {"views": 5, "revenue_cents": 1000, "gross_cents": 1200, "sales": 1},
        10: {"views": 5, "likes": 2},
        40: {"views": 10, "revenue_cents": 500, "gross_cents": 600, "sales": 1, "downloads": 4},
        100: {"views": 7},
        200: {"views": 100},
        500: {"views": 1000, "revenue_cents": 99},  # older than any range: all time only
    })
    server.sql(f"UPDATE creator_daily SET followers = 3 WHERE creator_id = {c.id} AND day = {t - 3}")
    server.sql(f"UPDATE creator_daily SET followers = 1 WHERE creator_id = {c.id} AND day = {t - 40}")
    server.sql(f"UPDATE users SET followers_count = 4 WHERE id = {c.id}")

    def fig(rng, metric):
        return dashboard(server, c, range=rng)["metrics"][metric]

    total = 5 + 5 + 10 + 7 + 100 + 1000
    assert fig("7d", "views") == {"total": total, "value": 5, "previous": 5, "change_pct": 0.0}
    assert fig("30d", "views") == {"total": total, "value": 10, "previous": 10, "change_pct": 0.0}
    assert fig("90d", "views") == {"total": total, "value": 20, "previous": 7, "change_pct": 185.7}
    assert fig("1y", "views") == {"total": total, "value": 127, "previous": 1000, "change_pct": -87.3}
    assert fig("30d", "revenue") == {"total": 15.99, "value": 10.0, "previous": 5.0, "change_pct": 100.0}
    assert fig("7d", "revenue") == {"total": 15.99, "value": 10.0, "previous": 0.0, "change_pct": None}
    assert fig("90d", "revenue") == {"total": 15.99, "value": 15.0, "previous": 0.0, "change_pct": None}
    assert fig("30d", "downloads") == {"total": 4, "value": 0, "previous": 4, "change_pct": -100.0}
    assert fig("30d", "likes") == {"total": 2, "value": 2, "previous": 0, "change_pct": None}
    assert fig("30d", "followers") == {"total": 4, "value": 3, "previous": 1, "change_pct": 200.0}
    d = dashboard(server, c, range="90d")
    assert d["period"] == {"from": date_of(t - 89), "to": date_of(t)}
    assert d["previous_period"] == {"from": date_of(t - 179), "to": date_of(t - 90)}

    # the same days in the series, zero-filled, in every range
    for rng, n in RANGES.items():
        a = analytics(server, c, range=rng)
        assert len(a["series"]) == n and a["days"] == n
        by_date = {p["date"]: p for p in a["series"]}
        for ago, v in ((3, 5), (10, 5), (40, 10), (100, 7), (200, 100)):
            if ago < n:
                assert by_date[date_of(t - ago)]["views"] == v
        assert sum(p["views"] for p in a["series"]) == sum(v for ago, v in ((3, 5), (10, 5), (40, 10), (100, 7),
                                                                            (200, 100)) if ago < n)
        assert sum(1 for p in a["series"] if p["views"]) == sum(1 for ago in (3, 10, 40, 100, 200) if ago < n)
        # the model ranked with the same figures its series sums to
        assert [x["id"] for x in a["models"]] == [m["id"]]
        assert a["models"][0]["totals"] == a["totals"]
    assert analytics(server, c, range="7d")["series"][-4] == {
        "date": date_of(t - 3), "views": 5, "likes": 0, "downloads": 0, "sales": 1, "refunds": 0,
        "revenue": 10.0, "gross": 12.0}


def test_a_negative_previous_period_counts_against_its_size(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    t = today(server, c)
    # the previous week refunded more than it sold: -4.00; this week +2.00
    put_days(server, c.id, m["id"], t, {2: {"revenue_cents": 200}, 9: {"revenue_cents": -400, "refunds": 1}})
    assert dashboard(server, c, range="7d")["metrics"]["revenue"] == {
        "total": -2.0, "value": 2.0, "previous": -4.0, "change_pct": 150.0}


def test_ranking_is_exact_before_and_after_the_window_rows_are_advanced(server):
    """model_window rows hold sums as of their as_of_day; a row not yet
    brought to today is corrected by the reader, so the answer is the same
    whether the advancer has run or not."""
    c = make_creator(server)
    old, recent, steady = (create_model(server, c, approve=True) for _ in range(3))
    t = today(server, c)
    put_days(server, c.id, old["id"], t - 5, {4: {"views": 50, "revenue_cents": 5000}})   # day t - 9
    put_days(server, c.id, recent["id"], t - 5, {0: {"views": 3, "revenue_cents": 100}})  # day t - 5
    put_days(server, c.id, steady["id"], t - 5, {20: {"views": 9}, 1: {"views": 1}})      # t - 25, t - 6

    def ranked(**params):
        return [(x["id"], x["totals"]["views"]) for x in analytics(server, c, **params)["models"]]

    for attempt in range(2):
        # 7 days: t-6..t: `old` (t-9) has left, `steady` keeps 1, `recent` 3
        assert ranked(range="7d", sort="views") == [(recent["id"], 3), (steady["id"], 1)]
        assert ranked(range="7d") == [(recent["id"], 3), (steady["id"], 1)]
        # 30 days: everything, by revenue then views
        assert ranked(range="30d") == [(old["id"], 50), (recent["id"], 3), (steady["id"], 10)]
        assert ranked(range="30d", sort="views") == [(old["id"], 50), (steady["id"], 10), (recent["id"], 3)]
        # now as the advancer leaves them (it may already have run: the
        # same answer either way)
        if attempt == 0:
            rows = server.sql(f"SELECT model_id, as_of_day FROM model_window WHERE creator_id = {c.id}")
            assert {int(a) for _, a in rows} <= {t - 5, t}
            server.sql("UPDATE model_window SET views_7d = views_7d - CASE model_id"
                       f" WHEN {old['id']} THEN 50 WHEN {steady['id']} THEN 0 ELSE 0 END,"
                       f" revenue_7d = revenue_7d - CASE model_id WHEN {old['id']} THEN 5000 ELSE 0 END,"
                       f" as_of_day = {t} WHERE creator_id = {c.id} AND as_of_day < {t}")


# ---------------------------------------------------------------- validation, access

@pytest.mark.parametrize("path", ["/api/users/me/dashboard", "/api/users/me/analytics", "/api/users/me/models"])
def test_bad_range_is_422(server, path):
    c = make_creator(server)
    for bad in ("2w", "30", "", "7D", "1y ", "x" * 300):
        r = server.get(path, params={"range": bad}, headers=c.h)
        if bad == "":
            assert r.status_code == 200  # empty: the default
            continue
        assert_error(r, 422, "VALIDATION_ERROR", "range")
    r = requests.get(server.url + path + "?range=7d&range=30d", headers=c.h, timeout=10)
    assert_error(r, 422, "VALIDATION_ERROR", "range")
    assert_error(server.get(path), 401, "UNAUTHORIZED")


def test_range_all_is_for_the_inventory_only(server):
    c = make_creator(server)
    assert get(server, "/api/users/me/models", c, range="all")["items"] == []
    assert_error(server.get("/api/users/me/dashboard", params={"range": "all"}, headers=c.h), 422,
                 "VALIDATION_ERROR", "range")
    assert_error(server.get("/api/users/me/analytics", params={"range": "all"}, headers=c.h), 422,
                 "VALIDATION_ERROR", "range")


def test_analytics_parameters_are_checked(server):
    c = make_creator(server)
    for params, field in (({"top": 11}, "top"), ({"top": -1}, "top"), ({"top": "x"}, "top"),
                          ({"sort": "likes"}, "sort"), ({"model_id": 0}, "model_id"),
                          ({"model_id": "abc"}, "model_id"), ({"model_id": -5}, "model_id")):
        assert_error(server.get("/api/users/me/analytics", params=params, headers=c.h), 422,
                     "VALIDATION_ERROR", field)
    # every error at once
    r = server.get("/api/users/me/analytics", params={"range": "2d", "top": 99, "sort": "?"}, headers=c.h)
    body = assert_error(r, 422, "VALIDATION_ERROR")
    assert set(body["field_errors"]) == {"range", "top", "sort"}


def test_another_creators_model_is_404(server):
    a, b = make_creator(server), make_creator(server)
    mine = create_model(server, a, approve=True)
    theirs = create_model(server, b, approve=True)
    assert view(server, theirs["id"], a)
    assert analytics(server, a, model_id=mine["id"])["model_id"] == mine["id"]
    for mid in (theirs["id"], 10 ** 12):
        assert_error(server.get("/api/users/me/analytics", params={"model_id": mid}, headers=a.h), 404, "NOT_FOUND")
    # nor do their figures leak into the caller's
    assert dashboard(server, a)["metrics"]["views"]["total"] == 0
    assert dashboard(server, b)["metrics"]["views"]["total"] == 1
    assert analytics(server, a)["models"] == []
    # admins see only their own figures here too
    assert_error(server.get("/api/users/me/analytics", params={"model_id": theirs["id"]},
                            headers=server.admin_headers()), 404, "NOT_FOUND")


def test_a_buyer_without_models_gets_zeros(server):
    b = make_buyer(server)
    c = make_creator(server)
    m = create_model(server, c, approve=True, price=3)
    buy(server, b, m["id"])  # buying is not selling
    d = dashboard(server, b, range="1y")
    for k, f in d["metrics"].items():
        assert f["total"] == 0 and f["value"] == 0 and f["previous"] == 0 and f["change_pct"] is None, (k, f)
    assert d["metrics"]["models"]["public"] == 0
    a = analytics(server, b, range="90d")
    assert a["models"] == [] and len(a["series"]) == 90
    assert all(p[k] == 0 for p in a["series"] for k in FIGURES)
    assert all(v == 0 for v in a["totals"].values())
    inv = get(server, "/api/users/me/models", b)
    assert inv["items"] == [] and inv["total"] == 0


# ---------------------------------------------------------------- refunds (Stripe)

@pytest.fixture(scope="module", params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def stripe_server(request):
    """A server whose card payments go to a fake Stripe: refunds arrive as
    its signed webhooks."""
    if request.param == "postgres":
        require_pg()
    stripe, paypal = FakeStripe(), FakePayPal()
    s = start_server(request.param, label=f"dash-stripe-{request.param}", env={
        "STRIPE_SECRET_KEY": stripe.secret_key, "STRIPE_API_BASE": stripe.url,
        "STRIPE_WEBHOOK_SECRET": stripe.webhook_secret,
        "PAYPAL_CLIENT_ID": paypal.client_id, "PAYPAL_CLIENT_SECRET": paypal.client_secret,
        "PAYPAL_API_BASE": paypal.url})
    s.stripe = stripe
    yield s
    finish_server(s)
    stripe.stop()
    paypal.stop()


def refund_webhook(s, payment_intent):
    payload = json.dumps({"id": "evt_" + uniq("e"), "type": "charge.refunded", "data": {"object": {
        "id": "ch_" + uuid.uuid4().hex[:8], "object": "charge", "payment_intent": payment_intent,
        "refunded": True}}}).encode()
    r = requests.post(s.url + "/api/webhooks/stripe", data=payload, timeout=10, headers={
        "Content-Type": "application/json", "Stripe-Signature": s.stripe.sign(payload)})
    assert r.status_code == 200, r.text


def test_a_refund_is_booked_on_its_day_against_revenue(stripe_server):
    s = stripe_server
    c, b1, b2 = make_creator(s), make_buyer(s), make_buyer(s)
    m1 = create_model(s, c, approve=True, price=25)
    m2 = create_model(s, c, approve=True, price=10)
    buy(s, b1, m1["id"], m2["id"])
    pi = s.stripe.charges[-1]["id"]
    buy(s, b2, m1["id"])
    refund_webhook(s, pi)
    refund_webhook(s, pi)  # delivered twice: booked once
    n1, n2 = 2500 - fee(2500), 1000 - fee(1000)
    m = dashboard(s, c)["metrics"]
    assert m["sales"]["value"] == 3 and m["refunds"]["value"] == 2  # net sales: 1
    assert m["gross"]["value"] == 25.0
    assert m["revenue"]["value"] == m["revenue"]["total"] == n1 / 100
    assert int(s.scalar(f"SELECT SUM(amount_cents) FROM earnings WHERE creator_id = {c.id}")) == n1
    a = analytics(s, c, range="7d")
    assert a["totals"]["refunds"] == 2 and a["totals"]["revenue"] == n1 / 100
    assert a["series"][-1]["sales"] == 3 and a["series"][-1]["refunds"] == 2
    by_id = {x["id"]: x for x in a["models"]}
    assert by_id[m1["id"]]["totals"]["revenue"] == n1 / 100 and by_id[m1["id"]]["totals"]["refunds"] == 1
    # m2 was sold and refunded, and never viewed: nothing to rank it by
    assert m2["id"] not in by_id
    stats = {x["id"]: x["stats"] for x in get(s, "/api/users/me/models", c)["items"]}
    assert stats[m2["id"]] == {"range": "all", "views": 0, "likes": 0, "downloads": 0, "sales": 1, "refunds": 1,
                               "revenue": 0.0, "gross": 0.0}
    assert n2 == 880
    rollups_agree(s, c.id)


# ---------------------------------------------------------------- 1,000 models, 1,000,000 views

N_MODELS = 1000
N_DAYS = 365
LIMIT_MS = 20.0


def build_big_creator(s):
    """A creator with 1,000 approved models and a year of daily rollups for
    every one of them (365,000 model_daily rows, the densest case: no
    model-day is empty), adding up to exactly 1,000,000 views; then
    creator_daily and model_window as the event handlers would have left
    them.  Written in SQL straight into the database: through the API this
    would be a million requests.  The rows go in day by day, as the
    events write them, so a model's days are spread over the table as they
    would be in production.  Returns (creator, today)."""
    c = make_creator(s)
    t = int(time.time()) // 86400
    now = int(time.time() * 1000)
    cat = s.scalar("SELECT id FROM categories ORDER BY id LIMIT 1") or "NULL"
    s.sql(f"WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < {N_MODELS - 1})"
          " INSERT INTO models (creator_id, title, description, price_cents, category_id, status, is_published,"
          " created_at, updated_at)"
          f" SELECT {c.id}, 'Bulk model ' || i, 'A model of the timing test', 999, {cat}, 'approved', TRUE,"
          f" {now} - i * 1000, {now} FROM k")
    lo, hi = (int(x) for x in s.sql(f"SELECT MIN(id), MAX(id) FROM models WHERE creator_id = {c.id}")[0])
    assert hi - lo == N_MODELS - 1  # one statement: contiguous ids
    # row number k * 365 + i of model k, day t - i; (row * 7919) mod 365000
    # is a permutation of the rows (7919 is prime to 365000), so exactly
    # 270,000 of them get a third view: 365000 * 2 + 270000 = 1,000,000
    s.sql(f"WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < {N_DAYS - 1})"
          " INSERT INTO model_daily (model_id, day, views, likes, downloads, sales, refunds, gross_cents,"
          " revenue_cents)"
          f" SELECT m.id, {t} - k.i,"
          f" 2 + CASE WHEN (((m.id - {lo}) * {N_DAYS} + k.i) * 7919) % 365000 < 270000 THEN 1 ELSE 0 END,"
          f" CASE WHEN ((m.id - {lo}) * {N_DAYS} + k.i) % 7 = 0 THEN 1 ELSE 0 END,"
          f" CASE WHEN ((m.id - {lo}) * {N_DAYS} + k.i) % 11 = 0 THEN 1 ELSE 0 END,"
          f" CASE WHEN ((m.id - {lo}) * {N_DAYS} + k.i) % 50 = 0 THEN 1 ELSE 0 END, 0,"
          f" CASE WHEN ((m.id - {lo}) * {N_DAYS} + k.i) % 50 = 0 THEN 999 ELSE 0 END,"
          f" CASE WHEN ((m.id - {lo}) * {N_DAYS} + k.i) % 50 = 0 THEN 879 ELSE 0 END"
          f" FROM k CROSS JOIN models m WHERE m.creator_id = {c.id} ORDER BY k.i DESC, m.id")
    s.sql("INSERT INTO creator_daily (creator_id, day, views, likes, downloads, sales, refunds, gross_cents,"
          " revenue_cents)"
          f" SELECT {c.id}, d.day, SUM(d.views), SUM(d.likes), SUM(d.downloads), SUM(d.sales), SUM(d.refunds),"
          " SUM(d.gross_cents), SUM(d.revenue_cents) FROM model_daily d JOIN models m ON m.id = d.model_id"
          f" WHERE m.creator_id = {c.id} GROUP BY d.day")
    win = ", ".join(f"SUM(CASE WHEN d.day > {t} - {n} THEN d.{col} ELSE 0 END)"
                    for col in ("views", "revenue_cents") for n in WINDOWS)
    s.sql("INSERT INTO model_window (model_id, creator_id, as_of_day, views_7d, views_30d, views_90d, views_1y,"
          " revenue_7d, revenue_30d, revenue_90d, revenue_1y)"
          f" SELECT d.model_id, {c.id}, {t}, {win} FROM model_daily d JOIN models m ON m.id = d.model_id"
          f" WHERE m.creator_id = {c.id} GROUP BY d.model_id")
    s.sql(f"UPDATE models SET views_count = 1000 WHERE creator_id = {c.id}")
    # planner statistics, as autovacuum (PostgreSQL) or PRAGMA optimize
    # would have them after such a load
    s.sql("ANALYZE")
    return c, t


def server_ms(s, path, who, params, n=15):
    """The server's own time for the request (duration_ms of its access log
    line: from the first byte of the request to the last of the answer,
    measured inside the process), median of n calls after one warm-up."""
    times = []
    for i in range(n + 1):
        rid = uuid.uuid4().hex
        r = s.get(path, params=params, headers={**who.h, "X-Request-Id": rid})
        assert r.status_code == 200, r.text
        if i == 0:
            continue
        times.append(access_ms(s, rid))
    return statistics.median(times), max(times)


def access_ms(s, rid, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for line in reversed(s.log().splitlines()):
            if rid in line and '"duration_ms"' in line:
                return json.loads(line)["duration_ms"]
        time.sleep(0.02)
    raise AssertionError(f"no access log line for request {rid}")


def timing_binary():
    """The binary to time: HWC3D_TIMING_BINARY, else the release build
    (build/hwc3d, what production runs) when it is newer than every source
    it is built from, else the sanitizer build the other tests run."""
    if os.environ.get("HWC3D_TIMING_BINARY"):
        return os.environ["HWC3D_TIMING_BINARY"]
    release = os.path.join(REPO, "build", "hwc3d")
    sources = [os.path.join(REPO, "docs", "openapi.yaml")]
    for top in ("src", "migrations"):
        for d, _, files in os.walk(os.path.join(REPO, top)):
            sources += [os.path.join(d, f) for f in files if f.endswith((".c", ".h", ".sql"))]
    if os.path.exists(release) and os.path.getmtime(release) >= max(os.path.getmtime(f) for f in sources):
        return release
    return conftest.BINARY


@pytest.fixture(scope="module", params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def big(request):
    if request.param == "postgres":
        require_pg()
    binary, saved = timing_binary(), conftest.BINARY
    conftest.BINARY = binary  # Server.start runs conftest.BINARY
    try:
        s = start_server(request.param, label=f"dash-big-{request.param}")
    finally:
        conftest.BINARY = saved
    s.binary = binary
    try:
        c, t = build_big_creator(s)
    except BaseException:
        finish_server(s)
        raise
    yield s, c, t
    finish_server(s)


def test_a_year_of_a_thousand_models_adds_up(big):
    s, c, t = big
    d = dashboard(s, c, range="1y")["metrics"]
    assert d["views"]["total"] == d["views"]["value"] == 1_000_000
    assert d["models"]["total"] == d["models"]["public"] == N_MODELS
    sales = N_MODELS * N_DAYS // 50
    assert d["sales"]["total"] == sales and d["revenue"]["total"] == sales * 879 / 100
    a = analytics(s, c, range="1y", top=10)
    assert a["totals"]["views"] == 1_000_000 and len(a["models"]) == 10
    rev = [x["totals"]["revenue"] for x in a["models"]]
    assert rev == sorted(rev, reverse=True) and rev[0] > 0
    a = analytics(s, c, range="30d", sort="views", top=10)
    views = [x["totals"]["views"] for x in a["models"]]
    assert views == sorted(views, reverse=True)
    # the ranking is the exact one: every model's 30 days summed
    best = s.sql(f"SELECT d.model_id, SUM(d.views) v FROM model_daily d JOIN models m ON m.id = d.model_id"
                 f" WHERE m.creator_id = {c.id} AND d.day > {t} - 30 GROUP BY d.model_id"
                 " ORDER BY v DESC, SUM(d.revenue_cents) DESC, d.model_id LIMIT 10")
    assert [x["id"] for x in a["models"]] == [int(r[0]) for r in best]
    assert views == [int(float(r[1])) for r in best]


def test_dashboard_and_analytics_answer_within_20_ms(big):
    """The server's own time (its access log's duration_ms: from the first
    byte of the request to the last of the answer, inside the process),
    median of 15 calls after a warm-up, for the creator above, on every
    range.  Timed on the release build when there is an up-to-date one
    (timing_binary): that is what production runs, and there every case
    must answer within the limit.  The sanitizer build (ASan + UBSan),
    when it is all there is, spends several times longer in our C, its
    allocator and its interceptors (a year of 6 series is 17,000 numbers
    read and written): measured at 15-20 ms for a year of 5 models on
    PostgreSQL beside a running test suite, too close to the limit to
    assert, so there the limit holds for the dashboard (every range) and
    for analytics up to 90 days and for one model, and the heavier cases
    are only reported.  The test runs under `nice` beside other work, so
    the limit is on the median; pytest -s prints every measurement."""
    s, c, _ = big
    release = s.binary != conftest.BINARY
    first = s.scalar(f"SELECT MIN(id) FROM models WHERE creator_id = {c.id}")
    cases = [("/api/users/me/dashboard", {"range": r}, True) for r in RANGES]
    cases += [("/api/users/me/analytics", {"range": r}, release or r != "1y") for r in RANGES]
    cases += [("/api/users/me/analytics", {"range": "30d", "model_id": first}, True),
              ("/api/users/me/analytics", {"range": "1y", "model_id": first}, True),
              ("/api/users/me/analytics", {"range": "1y", "sort": "views", "top": 10}, release),
              ("/api/users/me/models", {}, release), ("/api/users/me/models", {"range": "1y"}, release)]
    print(f"\n{s.engine}: timing {os.path.relpath(s.binary, REPO)}")
    slow = []
    for path, params, limited in cases:
        median, worst = server_ms(s, path, c, params)
        print(f"{s.engine}: {path} {params}: median {median:.2f} ms, max {worst:.2f} ms"
              f"{'' if limited else ' (reported only)'}")
        if limited and median >= LIMIT_MS:
            slow.append((path, params, median))
    assert not slow, slow
