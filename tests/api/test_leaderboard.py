"""The creators' leaderboard (issue 5, item 4): GET /api/leaderboard with
period week|month|all_time and metric sales|downloads|rating.  The test
creators get figures far above anything else on the shared server (set
straight in the database), so they head the ranking."""
import time

import pytest

from conftest import assert_error
from test_models import approve_model, create_model, make_creator

PUBLIC_USER_FIELDS = {"id", "username", "full_name", "avatar_url", "bio", "user_type", "is_verified", "country",
                      "skills", "followers_count", "following_count", "models_count", "created_at"}


def today():
    return int(time.time() * 1000) // 86400000


def board(server, **params):
    params.setdefault("limit", 100)
    r = server.get("/api/leaderboard", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "total", "page", "limit", "pages"}
    return body


def by_user(body):
    return {it["user"]["id"]: it for it in body["items"]}


def check_shape(body, page=1):
    items = body["items"]
    offset = (page - 1) * body["limit"]
    assert [it["rank"] for it in items] == list(range(offset + 1, offset + 1 + len(items)))
    values = [it["value"] for it in items]
    assert values == sorted(values, reverse=True)
    for it in items:
        assert set(it) == {"rank", "user", "value", "models_count"}
        assert set(it["user"]) == PUBLIC_USER_FIELDS
        assert it["user"]["user_type"] == "creator"
        assert it["value"] > 0 and it["models_count"] >= 1


@pytest.fixture
def two_creators(server):
    """x and y, each with one approved model and daily figures:
    x sells 700k this week, 60k more earlier this month, 5k long ago;
    y sells 600k this week and 750k more earlier this month."""
    x, y = make_creator(server), make_creator(server)
    mx, my = create_model(server, x, approve=True), create_model(server, y, approve=True)
    d = today()
    server.sql("INSERT INTO model_daily (model_id, day, sales, downloads) VALUES"
               f" ({mx['id']}, {d}, 300000, 9000000), ({mx['id']}, {d - 6}, 400000, 0),"
               f" ({mx['id']}, {d - 20}, 60000, 0), ({mx['id']}, {d - 100}, 5000, 0),"
               f" ({my['id']}, {d - 1}, 600000, 8000000), ({my['id']}, {d - 7}, 750000, 0)")
    server.sql(f"UPDATE models SET sales_count = 900000000, downloads_count = 1000000000 WHERE id = {mx['id']}")
    server.sql(f"UPDATE models SET sales_count = 800000000, downloads_count = 2000000000 WHERE id = {my['id']}")
    return x, y, mx, my


def test_defaults_are_all_time_sales(server, two_creators):
    x, y, _, _ = two_creators
    body = board(server)
    assert body["page"] == 1 and body["limit"] == 100
    check_shape(body)
    items = by_user(body)
    assert items[x.id]["value"] == 900000000 and items[y.id]["value"] == 800000000
    assert items[x.id]["rank"] < items[y.id]["rank"]
    assert items[x.id]["models_count"] == 1
    explicit = board(server, period="all_time", metric="sales")
    assert [it["user"]["id"] for it in explicit["items"]] == [it["user"]["id"] for it in body["items"]]


def test_periods_filter_by_day(server, two_creators):
    x, y, _, _ = two_creators
    week = by_user(board(server, period="week"))
    assert week[x.id]["value"] == 700000 and week[y.id]["value"] == 600000
    assert week[x.id]["rank"] < week[y.id]["rank"]
    month = by_user(board(server, period="month"))
    assert month[x.id]["value"] == 760000 and month[y.id]["value"] == 1350000
    assert month[y.id]["rank"] < month[x.id]["rank"]


def test_downloads_metric(server, two_creators):
    x, y, _, _ = two_creators
    all_time = by_user(board(server, metric="downloads"))
    assert all_time[x.id]["value"] == 1000000000 and all_time[y.id]["value"] == 2000000000
    assert all_time[y.id]["rank"] < all_time[x.id]["rank"]
    week = board(server, metric="downloads", period="week")
    check_shape(week)
    week = by_user(week)
    assert week[x.id]["value"] == 9000000 and week[y.id]["value"] == 8000000
    assert week[x.id]["rank"] < week[y.id]["rank"]


def test_rating_metric_lists_only_rated_creators(server):
    x, y, z = make_creator(server), make_creator(server), make_creator(server)
    mx, my = create_model(server, x, approve=True), create_model(server, y, approve=True)
    mx2 = create_model(server, x, approve=True)
    create_model(server, z, approve=True)
    server.sql(f"UPDATE models SET rating_sum = 45, rating_count = 10 WHERE id = {mx['id']}")
    server.sql(f"UPDATE models SET rating_sum = 5, rating_count = 1 WHERE id = {mx2['id']}")
    server.sql(f"UPDATE models SET rating_sum = 30, rating_count = 10 WHERE id = {my['id']}")
    for period in ("all_time", "week", "month"):
        rows, page = [], 1
        while True:
            body = board(server, metric="rating", period=period, page=page)
            check_shape(body, page)
            rows += body["items"]
            if page >= body["pages"]:
                break
            page += 1
        items = {it["user"]["id"]: it for it in rows}
        assert items[x.id]["value"] == pytest.approx(50 / 11, abs=0.01)
        assert items[x.id]["models_count"] == 2
        assert items[y.id]["value"] == pytest.approx(3.0)
        assert z.id not in items


def test_unpublished_and_pending_models_do_not_count(server):
    x = make_creator(server)
    m = create_model(server, x)  # pending
    server.sql(f"UPDATE models SET sales_count = 999999999 WHERE id = {m['id']}")
    assert x.id not in by_user(board(server))
    approve_model(server, m["id"])
    assert by_user(board(server))[x.id]["value"] == 999999999
    server.sql(f"UPDATE models SET is_published = FALSE WHERE id = {m['id']}")
    assert x.id not in by_user(board(server))


def test_pagination(server, two_creators):
    first = board(server, limit=1)
    assert len(first["items"]) == 1 and first["items"][0]["rank"] == 1 and first["limit"] == 1
    second = board(server, limit=1, page=2)
    check_shape(second, 2)
    assert second["items"][0]["rank"] == 2
    assert second["items"][0]["user"]["id"] != first["items"][0]["user"]["id"]
    assert board(server, limit=1000)["limit"] == 100


@pytest.mark.parametrize("params,field", [
    ({"period": "year"}, "period"), ({"period": "WEEK"}, "period"), ({"metric": "likes"}, "metric"),
    ({"metric": "sales;DROP TABLE users"}, "metric"), ({"limit": 0}, "limit"), ({"page": 0}, "page"),
    ({"page": "x"}, "page")])
def test_bad_params_are_422(server, params, field):
    assert_error(server.get("/api/leaderboard", params=params), 422, "VALIDATION_ERROR", field)
