"""Pagination, the same on every list endpoint."""
import math

import pytest

from conftest import assert_error, uniq

LISTS = ["/api/categories", "/api/admin/categories"]


def get(server, path, **params):
    return server.get(path, params=params, headers=server.admin_headers())


@pytest.mark.parametrize("path", LISTS)
def test_defaults(server, path):
    r = get(server, path)
    assert r.status_code == 200
    b = r.json()
    assert set(b) == {"items", "total", "page", "limit", "pages"}
    assert b["page"] == 1 and b["limit"] == 20
    assert b["pages"] == math.ceil(b["total"] / 20)
    assert len(b["items"]) == min(20, b["total"])


@pytest.mark.parametrize("path", LISTS)
def test_pages_walk_the_whole_list(server, path):
    full = get(server, path, limit=100).json()
    assert full["total"] <= 100 or len(full["items"]) == 100
    limit = 5
    first = get(server, path, limit=limit).json()
    total = first["total"]
    assert first["pages"] == math.ceil(total / limit)
    seen = []
    for page in range(1, first["pages"] + 1):
        b = get(server, path, limit=limit, page=page).json()
        assert b["page"] == page and b["limit"] == limit and b["total"] == total
        assert len(b["items"]) == (limit if page < first["pages"] else total - limit * (first["pages"] - 1))
        seen += [c["id"] for c in b["items"]]
    assert len(seen) == len(set(seen)) == total
    if total <= 100:
        assert seen == [c["id"] for c in full["items"]]


@pytest.mark.parametrize("path", LISTS)
def test_page_past_the_end_is_empty(server, path):
    b = get(server, path, page=100000, limit=10).json()
    assert b["items"] == [] and b["page"] == 100000 and b["total"] > 0
    assert b["pages"] == math.ceil(b["total"] / 10)


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("limit", [101, 1000, 2 ** 40])
def test_limit_over_100_is_clamped(server, path, limit):
    b = get(server, path, limit=limit).json()
    assert b["limit"] == 100
    assert len(b["items"]) == min(100, b["total"])
    assert b["pages"] == math.ceil(b["total"] / 100)


@pytest.mark.parametrize("path", LISTS)
def test_limit_1_and_100(server, path):
    b = get(server, path, limit=1).json()
    assert b["limit"] == 1 and len(b["items"]) == 1 and b["pages"] == b["total"]
    b = get(server, path, limit=100).json()
    assert b["limit"] == 100


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("param,value", [
    ("page", "0"), ("page", "-1"), ("page", "abc"), ("page", "1.5"), ("page", "1e2"), ("page", "99999999999999999999"),
    ("page", " 1"), ("page", "0x10"),
    ("limit", "0"), ("limit", "-5"), ("limit", "abc"), ("limit", "2.0"), ("limit", "99999999999999999999"),
])
def test_bad_page_or_limit_is_422(server, path, param, value):
    r = get(server, path, **{param: value})
    err = assert_error(r, 422, "VALIDATION_ERROR", param)
    assert set(err["field_errors"]) == {param}


@pytest.mark.parametrize("path", LISTS)
def test_both_bad_reports_both(server, path):
    r = get(server, path, page="x", limit="y")
    err = assert_error(r, 422, "VALIDATION_ERROR")
    assert set(err["field_errors"]) == {"page", "limit"}


@pytest.mark.parametrize("path", LISTS)
def test_empty_values_mean_defaults(server, path):
    b = get(server, path, page="", limit="").json()
    assert b["page"] == 1 and b["limit"] == 20


@pytest.mark.parametrize("path", LISTS)
def test_huge_page_is_handled(server, path):
    r = get(server, path, page=10 ** 9, limit=100)
    assert r.status_code in (200, 422)
    if r.status_code == 200:
        assert r.json()["items"] == []
    r = get(server, path, page=10 ** 9 + 1)
    assert r.status_code == 422


def test_empty_result_envelope(server):
    r = get(server, "/api/categories", search=uniq("none"))
    assert r.json() == {"items": [], "total": 0, "page": 1, "limit": 20, "pages": 0}


def test_total_and_pages_follow_writes(server):
    tag = uniq("Pg")
    for i in range(7):
        r = server.post("/api/admin/categories", json={"name": f"{tag} {i}"}, headers=server.admin_headers())
        assert r.status_code == 201
    b = server.get("/api/categories", params={"search": tag, "limit": 3}).json()
    assert b["total"] == 7 and b["pages"] == 3
    last = server.get("/api/categories", params={"search": tag, "limit": 3, "page": 3}).json()
    assert len(last["items"]) == 1
