"""The admin console's API (issue 14, points 3-7): the audit log, the
overview (stats, recent activity, alerts), user management (ban ends the
sessions and hides the content), analytics, mail templates and mailings,
and the platform settings that take effect without a restart."""
import glob
import os
import re
import time
import uuid

import pytest
import requests

from conftest import ADMIN_EMAIL, assert_error, bearer, uniq
from test_commerce import checkout
from test_models import create_model, make_buyer, make_creator, make_users

PASSWORD = "Plenty-long-passphrase-42"

# Every route this file adds, with a body that would pass validation.
ROUTES = [
    ("GET", "/api/admin/users", None), ("GET", "/api/admin/users/{uid}", None),
    ("PUT", "/api/admin/users/{uid}", {"full_name": "X"}), ("DELETE", "/api/admin/users/{uid}", None),
    ("POST", "/api/admin/users/{uid}/ban", {"reason": "spam spam"}), ("POST", "/api/admin/users/{uid}/unban", None),
    ("POST", "/api/admin/users/{uid}/verify", None),
    ("GET", "/api/admin/stats", None), ("GET", "/api/admin/recent-activity", None), ("GET", "/api/admin/alerts", None),
    ("GET", "/api/admin/analytics/overview", None), ("GET", "/api/admin/analytics/users", None),
    ("GET", "/api/admin/analytics/models", None), ("GET", "/api/admin/analytics/revenue", None),
    ("GET", "/api/admin/emails/templates", None),
    ("POST", "/api/admin/emails/templates", {"key": "k_x", "name": "n", "subject": "s", "body": "b"}),
    ("POST", "/api/admin/emails/templates/preview", {"subject": "s", "body": "b"}),
    ("PUT", "/api/admin/emails/templates/1", {"name": "n"}), ("DELETE", "/api/admin/emails/templates/1", None),
    ("POST", "/api/admin/emails/send", {"segment": "all", "subject": "s", "body": "b"}),
    ("GET", "/api/admin/emails/history", None),
    ("GET", "/api/admin/settings", None), ("PUT", "/api/admin/settings", {"maintenance_mode": True}),
]


def adm(server):
    return server.admin_headers()


def truthy(v):
    return v in ("1", "t", "true", "True")


def new_admin(server):
    uid = server.make_user(role="admin")
    return uid, bearer(server.token(uid, "admin"))


def settings(server, **changes):
    r = server.put("/api/admin/settings", json=changes, headers=adm(server))
    assert r.status_code == 200, r.text
    return r.json()


def mail_code(server, to, kind="verify_email", timeout=10):
    """The six-digit code of the newest mail of kind to `to`, from the .eml
    file the worker wrote (the outbox drops the body once sent)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        mid = server.scalar(f"SELECT MAX(id) FROM mail_outbox WHERE to_addr = '{to}' AND kind = '{kind}'"
                            " AND status = 'sent'")
        if mid:
            files = glob.glob(os.path.join(server.data_dir, "mail", f"*-{int(mid):06d}.eml"))
            if files:
                m = re.search(rb"^(\d{6})\r?$", open(files[0], "rb").read(), re.M)
                assert m, files[0]
                return m.group(1).decode()
        time.sleep(0.1)
    raise AssertionError(f"no {kind} mail to {to}")


def register(server, user_type="buyer"):
    """A user registered and verified through the API: (id, access, refresh)."""
    name = "adm_" + uuid.uuid4().hex[:10]
    email = f"{name}@example.com"
    r = server.post("/api/auth/register", json={"email": email, "password": PASSWORD, "username": name,
                                                  "user_type": user_type})
    assert r.status_code == 201, r.text
    r = requests.post(server.url + "/api/auth/verify-email", json={"email": email, "code": mail_code(server, email)},
                      timeout=15)
    assert r.status_code == 200, r.text
    refresh = r.cookies.get("refresh_token")
    assert refresh
    return r.json()["user"]["id"], r.json()["access_token"], refresh, email


def refresh_with(server, cookie):
    return requests.post(server.url + "/api/auth/refresh", headers={"Cookie": f"refresh_token={cookie}"}, timeout=15)


def audit_rows(server, action, target_id):
    return int(server.scalar(f"SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND target_id = {target_id}"))


# ---------------------------------------------------------------- access

@pytest.mark.parametrize("method,path,body", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_route_needs_an_admin(server, method, path, body):
    victim = make_buyer(server)
    url = path.format(uid=victim.id)
    kw = {"json": body} if body is not None else {}
    assert_error(server.request(method, url, **kw), 401, "UNAUTHORIZED")
    for h in (server.user_headers(1), victim.h, make_creator(server).h):
        assert_error(server.request(method, url, headers=h, **kw), 403, "FORBIDDEN")
    # nothing happened to the victim
    row = server.sql(f"SELECT is_banned, deleted_at, full_name FROM users WHERE id = {victim.id}")[0]
    assert not truthy(row[0]) and row[1] == "" and row[2] != "X"
    assert server.get("/api/admin/settings", headers=adm(server)).json()["maintenance_mode"] is False


# ---------------------------------------------------------------- users

def test_users_list_search_filters_and_paging(server):
    tag = uuid.uuid4().hex[:8]
    rows = server.sql(
        "INSERT INTO users (email, email_normalized, username, username_lower, full_name, user_type, role,"
        " is_email_verified, is_banned, created_at, updated_at) VALUES "
        f"('a{tag}@example.com', 'a{tag}@example.com', 'a{tag}', 'a{tag}', 'Alpha One', 'creator', 'user', TRUE, FALSE, 1000, 1000),"
        f"('b{tag}@example.com', 'b{tag}@example.com', 'b{tag}', 'b{tag}', 'Beta', 'buyer', 'user', TRUE, TRUE, 2000, 2000),"
        f"('c{tag}@example.com', 'c{tag}@example.com', 'c{tag}', 'c{tag}', NULL, 'buyer', 'user', FALSE, FALSE, 3000, 3000)"
        " RETURNING id")
    a, b, c = (int(r[0]) for r in rows)

    def ids(**params):
        r = server.get("/api/admin/users", params=params, headers=adm(server))
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "total", "page", "limit", "pages"}
        return [u["id"] for u in body["items"]]

    assert ids(search=tag) == [c, b, a]  # newest first
    assert ids(search=tag, sort="oldest") == [a, b, c]
    assert ids(search=tag.upper()) == [c, b, a]  # case-insensitive, over the email too
    assert ids(search=f"{tag}%") == []  # wildcards are literal
    assert ids(search="alpha one") == [a] or a in ids(search="alpha one")  # full name
    assert ids(search=tag, user_type="creator") == [a]
    assert ids(search=tag, status="banned") == [b]
    assert ids(search=tag, status="unverified") == [c]
    assert ids(search=tag, status="active") == [a]
    page = server.get("/api/admin/users", params={"search": tag, "limit": 2, "page": 2}, headers=adm(server)).json()
    assert page["total"] == 3 and page["pages"] == 2 and [u["id"] for u in page["items"]] == [a]
    doc = server.get("/api/admin/users", params={"search": f"b{tag}"}, headers=adm(server)).json()["items"][0]
    assert doc["status"] == "banned" and doc["email"] == f"b{tag}@example.com" and "password_hash" not in doc
    for bad in ({"status": "gone"}, {"user_type": "robot"}, {"sort": "random"}, {"page": "0"}):
        assert_error(server.get("/api/admin/users", params=bad, headers=adm(server)), 422, "VALIDATION_ERROR",
                     next(iter(bad)))


def test_user_detail_has_models_purchases_and_tickets(server):
    creator = make_creator(server)
    m = create_model(server, creator, approve=True, price=5)
    buyer = make_buyer(server)
    assert checkout(server, buyer, model_ids=[m["id"]]).status_code in (200, 201)
    t = server.post("/api/support/tickets", json={"subject": "Help me please", "message": "It broke down",
                                                   "category": "general"}, headers=buyer.h)
    assert t.status_code == 201, t.text
    d = server.get(f"/api/admin/users/{buyer.id}", headers=adm(server)).json()
    assert [p["model_id"] for p in d["purchases"]] == [m["id"]]
    assert [x["id"] for x in d["tickets"]] == [t.json()["id"]]
    assert d["counts"]["purchases"] == 1 and d["counts"]["total_spent"] == 5 and d["counts"]["tickets"] == 1
    d = server.get(f"/api/admin/users/{creator.id}", headers=adm(server)).json()
    assert [x["id"] for x in d["models"]] == [m["id"]] and d["counts"]["sales"] == 1
    assert d["counts"]["total_earned"] < 5  # the fee went to the platform
    assert_error(server.get("/api/admin/users/999999999", headers=adm(server)), 404, "NOT_FOUND")


def test_update_sets_listed_fields_only(server):
    u = make_buyer(server)
    r = server.put(f"/api/admin/users/{u.id}", json={"user_type": "creator", "is_verified": True,
                                                      "full_name": "New Name", "bio": "Line one\nline two"},
                   headers=adm(server))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_type"] == "creator" and body["is_verified"] is True and body["full_name"] == "New Name"
    assert audit_rows(server, "user.update", u.id) == 1
    before = server.sql(f"SELECT password_hash, role, updated_at FROM users WHERE id = {u.id}")[0]
    for bad in ({"password_hash": "x"}, {"email": "evil@example.com"}, {"is_banned": False}, {"balance_cents": 5},
                {"full_name": "ok", "tokens_valid_after": 0}):
        body = assert_error(server.put(f"/api/admin/users/{u.id}", json=bad, headers=adm(server)), 400,
                            "VALIDATION_ERROR")
        assert set(body["field_errors"]) & set(bad)
    assert server.sql(f"SELECT password_hash, role, updated_at FROM users WHERE id = {u.id}")[0] == before
    assert_error(server.put(f"/api/admin/users/{u.id}", json={"role": "root"}, headers=adm(server)), 422,
                 "VALIDATION_ERROR", "role")
    assert_error(server.put(f"/api/admin/users/{u.id}", json={"role": "admin", "is_admin": False}, headers=adm(server)),
                 422, "VALIDATION_ERROR", "is_admin")
    assert_error(server.put("/api/admin/users/999999999", json={"bio": "x"}, headers=adm(server)), 404, "NOT_FOUND")


def test_role_changes_end_sessions_and_admins_cannot_touch_themselves(server):
    a1, h1 = new_admin(server)
    a2, h2 = new_admin(server)
    for method, path, body in (("POST", f"/api/admin/users/{a1}/ban", {"reason": "testing self"}),
                               ("DELETE", f"/api/admin/users/{a1}", None),
                               ("PUT", f"/api/admin/users/{a1}", {"role": "user"}),
                               ("PUT", f"/api/admin/users/{a1}", {"is_admin": False})):
        kw = {"json": body} if body else {}
        b = assert_error(server.request(method, path, headers=h1, **kw), 409, "CONFLICT")
        assert "own account" in b["detail"]
    assert server.get("/api/admin/stats", headers=h1).status_code == 200
    # another admin may demote a2: a2's admin token stops working at once
    r = server.put(f"/api/admin/users/{a2}", json={"is_admin": False}, headers=h1)
    assert r.status_code == 200 and r.json()["role"] == "user", r.text
    assert server.get("/api/admin/stats", headers=h2).status_code in (401, 403)
    # and promote a plain user
    u = make_buyer(server)
    assert server.put(f"/api/admin/users/{u.id}", json={"role": "admin"}, headers=h1).json()["is_admin"] is True
    assert server.scalar(f"SELECT role FROM users WHERE id = {u.id}") == "admin"
    server.put(f"/api/admin/users/{u.id}", json={"role": "user"}, headers=h1)


def test_ban_ends_sessions_hides_content_and_unban_restores(server):
    uid, access, refresh, email = register(server, "creator")
    me = {"Authorization": f"Bearer {access}"}
    assert server.get("/api/users/me", headers=me).status_code == 200
    # content: an approved model and a comment on another model, by minted token
    who = type("W", (), {"id": uid, "h": bearer(server.token(uid))})
    m = create_model(server, who, approve=True)
    other = create_model(server, make_creator(server), approve=True)
    r = server.post(f"/api/models/{other['id']}/comments", json={"body": "Nice mesh"}, headers=who.h)
    assert r.status_code == 201, r.text

    def comments():
        return [c["body"] for c in server.get(f"/api/models/{other['id']}/comments").json()["items"]]

    assert server.get(f"/api/models/{m['id']}").status_code == 200
    assert "Nice mesh" in comments()
    assert server.get(f"/api/users/{uid}").status_code == 200

    assert_error(server.post(f"/api/admin/users/{uid}/ban", json={}, headers=adm(server)), 422, "VALIDATION_ERROR",
                 "reason")
    r = server.post(f"/api/admin/users/{uid}/ban", json={"reason": "Selling stolen models"}, headers=adm(server))
    assert r.status_code == 200, r.text
    assert r.json()["is_banned"] is True and r.json()["ban_reason"] == "Selling stolen models"
    # sessions end at once: the access token and the refresh cookie
    # (401: the tokens issued before the ban are revoked; 403 for any later one)
    assert server.get("/api/users/me", headers=me).status_code == 401
    assert_error(server.get("/api/users/me", headers=bearer(server.token(uid))), 403, "FORBIDDEN")
    assert refresh_with(server, refresh).status_code in (401, 403)
    login = server.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code in (401, 403) and "banned" in login.text.lower()
    # content hidden
    assert server.get(f"/api/models/{m['id']}").status_code == 404
    assert "Nice mesh" not in comments()
    assert server.get(f"/api/users/{uid}").status_code == 404
    assert m["id"] not in [x["id"] for x in server.get("/api/models", params={"limit": 100, "sort": "newest"}).json()["items"]]
    assert_error(server.post(f"/api/admin/users/{uid}/ban", json={"reason": "again and again"}, headers=adm(server)),
                 409, "CONFLICT")
    assert audit_rows(server, "user.ban", uid) == 1

    r = server.post(f"/api/admin/users/{uid}/unban", headers=adm(server))
    assert r.status_code == 200 and r.json()["is_banned"] is False, r.text
    assert server.get(f"/api/models/{m['id']}").status_code == 200
    assert "Nice mesh" in comments()
    assert server.get(f"/api/users/{uid}").status_code == 200
    assert refresh_with(server, refresh).status_code in (401, 403)  # the old session stays ended
    assert server.post("/api/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    assert_error(server.post(f"/api/admin/users/{uid}/unban", headers=adm(server)), 409, "CONFLICT")
    assert audit_rows(server, "user.unban", uid) == 1


def test_verify_and_delete(server):
    c = make_creator(server)
    r = server.post(f"/api/admin/users/{c.id}/verify", headers=adm(server))
    assert r.status_code == 200 and r.json()["is_verified"] is True, r.text
    assert int(server.scalar(f"SELECT COUNT(*) FROM notifications WHERE user_id = {c.id}"
                             " AND type = 'account_verified'")) == 1
    assert_error(server.post(f"/api/admin/users/{make_buyer(server).id}/verify", headers=adm(server)), 409, "CONFLICT")
    m = create_model(server, c, approve=True)
    r = server.delete(f"/api/admin/users/{c.id}", headers=adm(server))
    assert r.status_code == 204, r.text
    assert_error(server.get(f"/api/admin/users/{c.id}", headers=adm(server)), 404, "NOT_FOUND")
    assert_error(server.get("/api/users/me", headers=c.h), 401, "UNAUTHORIZED")
    assert server.get(f"/api/models/{m['id']}").status_code == 404
    assert server.scalar(f"SELECT username FROM users WHERE id = {c.id}") == f"deleted-{c.id}"
    assert audit_rows(server, "user.delete", c.id) == 1
    assert_error(server.delete(f"/api/admin/users/{c.id}", headers=adm(server)), 404, "NOT_FOUND")


# ---------------------------------------------------------------- overview

def test_stats_count_what_changes(server):
    before = server.get("/api/admin/stats", headers=adm(server)).json()
    for k in ("users", "models", "sales", "support", "payouts", "communities"):
        assert k in before
    c = make_creator(server)
    create_model(server, c)
    after = server.get("/api/admin/stats", headers=adm(server)).json()
    assert after["models"]["pending"] == before["models"]["pending"] + 1
    assert after["users"]["creators"] == before["users"]["creators"] + 1
    assert after["users"]["new_this_month"] >= before["users"]["new_this_month"] + 1


def test_admin_actions_write_the_audit_log(server):
    c = make_creator(server)
    m = create_model(server, c)
    assert audit_rows(server, "model.create", m["id"]) == 1
    assert server.put(f"/api/admin/models/{m['id']}/approve", headers=adm(server)).status_code == 200
    assert audit_rows(server, "model.approve", m["id"]) == 1
    r = server.post("/api/admin/categories", json={"name": uniq("AuditCat")}, headers=adm(server))
    assert r.status_code == 201
    assert audit_rows(server, "category.create", r.json()["id"]) == 1
    assert server.delete(f"/api/admin/categories/{r.json()['id']}", headers=adm(server)).status_code == 200
    assert audit_rows(server, "category.delete", r.json()["id"]) == 1

    r = server.get("/api/admin/recent-activity", params={"action": "model.approve", "limit": 5}, headers=adm(server))
    assert r.status_code == 200, r.text
    item = r.json()["items"][0]
    assert item["target_id"] == m["id"] and item["target_type"] == "model" and item["actor"]["username"]
    assert item["detail"]["title"] == m["title"]
    admin_id = server.user_id(ADMIN_EMAIL)
    prefixed = server.get("/api/admin/recent-activity", params={"action": "category.", "actor_id": admin_id},
                          headers=adm(server)).json()["items"]
    assert prefixed and all(x["action"].startswith("category.") and x["actor"]["id"] == admin_id for x in prefixed)
    assert_error(server.get("/api/admin/recent-activity", params={"actor_id": "x"}, headers=adm(server)), 422,
                 "VALIDATION_ERROR", "actor_id")


def test_alerts_list_pending_work_with_links(server):
    c = make_creator(server)
    m = create_model(server, c)
    now = int(time.time() * 1000)
    server.sql("INSERT INTO mail_outbox (kind, to_addr, subject, body_text, body_html, status, attempts,"
               f" next_attempt_at, last_error, created_at) VALUES ('test', 'gone@example.com', 's', 't', 'h',"
               f" 'failed', 8, {now}, 'mailbox unavailable', {now})")
    body = server.get("/api/admin/alerts", headers=adm(server)).json()
    by_type = {a["type"]: a for a in body["alerts"]}
    pm = by_type["pending_models"]
    assert pm["count"] >= 1 and pm["link"].startswith("/admin/models") and len(pm["items"]) <= 5
    fm = by_type["failed_mail"]
    assert fm["count"] >= 1 and any("mailbox unavailable" in i["title"] for i in fm["items"])
    assert all(i["link"].startswith("/admin") for a in body["alerts"] for i in a["items"])
    server.put(f"/api/admin/models/{m['id']}/approve", headers=adm(server))


# ---------------------------------------------------------------- analytics

def test_analytics_buckets_and_zero_fill(server):
    day = 86400000
    base = 18322 * day  # 2020-03-01, a Sunday
    tag = uuid.uuid4().hex[:6]
    values = ", ".join(
        f"('an{tag}{i}@example.com', 'an{tag}{i}@example.com', 'an{tag}{i}', 'an{tag}{i}', 'buyer', {base + d * day + 3600000}, 0)"
        for i, d in enumerate([1, 1, 1, 3]))
    server.sql("INSERT INTO users (email, email_normalized, username, username_lower, user_type, created_at, updated_at)"
               f" VALUES {values}")

    def get(kind="users", **params):
        r = server.get(f"/api/admin/analytics/{kind}", params=params, headers=adm(server))
        assert r.status_code == 200, r.text
        return r.json()

    d = get(**{"from": "2020-03-01", "to": "2020-03-07"})
    assert d["buckets"] == [f"2020-03-0{i}" for i in range(1, 8)]
    assert d["series"]["signups"] == [0, 3, 0, 1, 0, 0, 0] and d["totals"]["signups"] == 4
    assert d["points"][1] == {"date": "2020-03-02", "signups": 3, "creator_signups": 0, "active_users": 0}
    w = get(**{"from": "2020-03-01", "to": "2020-03-07", "period": "week"})
    assert w["buckets"] == ["2020-02-24", "2020-03-02"] and w["series"]["signups"] == [0, 4]
    assert w["from"] == "2020-02-24" and w["to"] == "2020-03-08"
    mo = get(**{"from": "2020-01-15", "to": "2020-04-02", "period": "month"})
    assert mo["buckets"] == ["2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01"]
    assert mo["series"]["signups"] == [0, 0, 4, 0]
    rev = get("revenue", **{"from": "2020-03-01", "to": "2020-03-03"})
    assert rev["series"] == {"sales": [0, 0, 0], "revenue": [0, 0, 0], "fee": [0, 0, 0], "refunds": [0, 0, 0],
                             "refunded_amount": [0, 0, 0]}
    assert set(get("overview")["series"]) == {"signups", "active_users", "uploads", "approvals", "sales", "revenue", "fee"}
    assert len(get("models")["buckets"]) == 30  # default: the last 30 days
    for bad, field in (({"from": "2020-03-05", "to": "2020-03-01"}, "from"), ({"from": "2020-02-30"}, "from"),
                       ({"to": "yesterday"}, "to"), ({"from": "2015-01-01", "to": "2020-01-01"}, "from"),
                       ({"period": "hour"}, "period")):
        assert_error(server.get("/api/admin/analytics/users", params=bad, headers=adm(server)), 422,
                     "VALIDATION_ERROR", field)
    # a year by week is fine
    assert len(get(**{"from": "2019-01-01", "to": "2020-12-31", "period": "week"})["buckets"]) > 100


# ---------------------------------------------------------------- mail

def templates(server):
    r = server.get("/api/admin/emails/templates", params={"limit": 100}, headers=adm(server))
    assert r.status_code == 200, r.text
    return {t["key"]: t for t in r.json()["items"]}


def test_system_templates_render_the_real_mails(server):
    t = templates(server)
    assert {"verify_email", "admin_otp", "password_reset", "welcome", "model_approved", "model_rejected"} <= set(t)
    v = t["verify_email"]
    assert v["is_system"] and "code" in v["variables"]
    body = assert_error(server.put(f"/api/admin/emails/templates/{v['id']}", json={"body": "Hi {{nmae}} {{code}}"},
                                   headers=adm(server)), 400, "VALIDATION_ERROR", "body")
    assert "nmae" in body["detail"]
    assert_error(server.put(f"/api/admin/emails/templates/{v['id']}", json={"subject": "Code {{code"},
                            headers=adm(server)), 400, "VALIDATION_ERROR", "subject")
    assert_error(server.put(f"/api/admin/emails/templates/{v['id']}", json={"key": "other"}, headers=adm(server)),
                 400, "VALIDATION_ERROR", "key")
    assert_error(server.delete(f"/api/admin/emails/templates/{v['id']}", headers=adm(server)), 409, "CONFLICT")
    try:
        r = server.put(f"/api/admin/emails/templates/{v['id']}",
                       json={"subject": "Welcome aboard, {{name}}", "body": "Dear {{ name }},\n\nyour code:\n\n{{code}}\n\nCheers"},
                       headers=adm(server))
        assert r.status_code == 200, r.text
        name = "tpl_" + uuid.uuid4().hex[:8]
        r = server.post("/api/auth/register", json={"email": f"{name}@example.com", "password": PASSWORD,
                                                      "username": name, "user_type": "buyer",
                                                      "full_name": "<b>Eve</b>"})
        assert r.status_code == 201, r.text
        code = mail_code(server, f"{name}@example.com")
        assert re.fullmatch(r"\d{6}", code)
        mid = server.scalar(f"SELECT MAX(id) FROM mail_outbox WHERE to_addr = '{name}@example.com'")
        raw = open(glob.glob(os.path.join(server.data_dir, "mail", f"*-{int(mid):06d}.eml"))[0], "rb").read().decode()
        assert "Subject: Welcome aboard, <b>Eve</b>" in raw
        assert "Dear <b>Eve</b>," in raw  # the text part, as given
        assert "Dear &lt;b&gt;Eve&lt;/b&gt;," in raw and "<b>Eve</b>,<br>" not in raw  # the HTML part, escaped
        assert audit_rows(server, "email_template.update", v["id"]) >= 1
    finally:
        server.put(f"/api/admin/emails/templates/{v['id']}", json={"subject": v["subject"], "body": v["body"]},
                   headers=adm(server))


def test_purchase_receipt_comes_from_its_template(server):
    t = templates(server)["purchase_receipt"]
    assert {"items", "total", "transaction"} <= set(t["variables"])
    c = make_creator(server)
    m = create_model(server, c, approve=True, price=7)
    b = make_buyer(server)
    try:
        r = server.put(f"/api/admin/emails/templates/{t['id']}",
                       json={"body": "Thanks {{name}}!\n\n{{items}}\n\nPaid {{total}} ({{transaction}})"}, headers=adm(server))
        assert r.status_code == 200, r.text
        assert checkout(server, b, model_ids=[m["id"]]).status_code in (200, 201)
        deadline = time.time() + 10
        files = []
        while time.time() < deadline and not files:
            mid = server.scalar(f"SELECT MAX(id) FROM mail_outbox WHERE to_addr = '{b.email}' AND kind = 'purchase_receipt'"
                                " AND status = 'sent'")
            files = glob.glob(os.path.join(server.data_dir, "mail", f"*-{int(mid):06d}.eml")) if mid else []
            time.sleep(0.1)
        raw = open(files[0], "rb").read().decode()
        assert f"Thanks Test {b.username}!" in raw and "Paid USD 7.00 (TXN-" in raw
        assert re.search(r'<a href="[^"]+/api/downloads/[^"]+">', raw), raw
    finally:
        server.put(f"/api/admin/emails/templates/{t['id']}", json={"body": t["body"]}, headers=adm(server))


def test_custom_templates_crud_and_preview(server):
    key = "promo_" + uuid.uuid4().hex[:6]
    body = assert_error(server.post("/api/admin/emails/templates", json={"key": key, "name": "Promo", "subject": "Hi",
                                                                           "body": "Your {{code}}"}, headers=adm(server)),
                        400, "VALIDATION_ERROR", "body")
    assert "{{name}}" in body["field_errors"]["body"][0]
    assert_error(server.post("/api/admin/emails/templates", json={"key": "verify_email", "name": "x", "subject": "x",
                                                                    "body": "x"}, headers=adm(server)),
                 422, "VALIDATION_ERROR", "key")
    assert_error(server.post("/api/admin/emails/templates", json={"key": "Bad Key", "name": "x", "subject": "x",
                                                                    "body": "x"}, headers=adm(server)),
                 422, "VALIDATION_ERROR", "key")
    r = server.post("/api/admin/emails/templates", json={"key": key, "name": "Promo", "subject": "News for {{name}}",
                                                          "body": "Hello {{name}} ({{email}}), see {{site_url}}"},
                    headers=adm(server))
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert r.json()["is_system"] is False
    assert_error(server.post("/api/admin/emails/templates", json={"key": key, "name": "P", "subject": "s", "body": "b"},
                             headers=adm(server)), 409, "CONFLICT", "key")
    r = server.put(f"/api/admin/emails/templates/{tid}", json={"name": "Promo 2"}, headers=adm(server))
    assert r.status_code == 200 and r.json()["name"] == "Promo 2"
    p = server.post("/api/admin/emails/templates/preview", json={"subject": "For {{name}}", "body": "Hi {{name}}\n\nBye",
                                                                 "variables": {"name": "<script>x</script>"}},
                    headers=adm(server))
    assert p.status_code == 200, p.text
    assert p.json()["subject"] == "For <script>x</script>"
    assert "&lt;script&gt;" in p.json()["html"] and "<script>" not in p.json()["html"]
    assert "</p><p>Bye" in p.json()["html"] and p.json()["text"].startswith("Hi <script>")
    assert server.delete(f"/api/admin/emails/templates/{tid}", headers=adm(server)).status_code == 204
    assert_error(server.put(f"/api/admin/emails/templates/{tid}", json={"name": "x"}, headers=adm(server)), 404,
                 "NOT_FOUND")


def wait_outbox(server, campaign, n, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = int(server.scalar(f"SELECT COUNT(*) FROM mail_outbox WHERE campaign_id = {campaign}"))
        if got >= n:
            return got
        time.sleep(0.2)
    raise AssertionError(f"campaign {campaign}: {got} of {n} mails; jobs: "
                         f"{server.sql('SELECT kind, status, error FROM jobs ORDER BY id DESC LIMIT 3')}")


def test_send_to_a_user_and_to_a_segment_through_the_outbox(server):
    u = make_buyer(server)
    r = server.post("/api/admin/emails/send", json={"segment": "user", "user_id": u.id, "subject": "Hello {{name}}",
                                                     "body": "Dear {{username}}"}, headers=adm(server))
    assert r.status_code == 202, r.text
    cid = r.json()["campaign_id"]
    wait_outbox(server, cid, 1)
    row = server.sql(f"SELECT to_addr, subject, body_text FROM mail_outbox WHERE campaign_id = {cid}")
    assert [(a, b, c.rstrip()) for a, b, c in row] == [(u.email, f"Hello Test {u.username}", f"Dear {u.username}")]
    hist = server.get("/api/admin/emails/history", params={"campaign_id": cid}, headers=adm(server)).json()
    assert hist["total"] == 1 and hist["items"][0]["to"] == u.email
    assert hist["items"][0]["status"] in ("queued", "sending", "sent") and "body" not in hist["items"][0]

    creators = make_users(server, 3, creator=True)
    r = server.post("/api/admin/emails/send", json={"segment": "creators", "subject": "Creators news",
                                                     "body": "Hi {{name}}"}, headers=adm(server))
    assert r.status_code == 202, r.text
    cid = r.json()["campaign_id"]
    total = int(server.scalar("SELECT COUNT(*) FROM users WHERE user_type = 'creator' AND deleted_at IS NULL"
                              " AND is_banned = FALSE AND is_email_verified = TRUE"))
    assert wait_outbox(server, cid, total) == total
    sent_to = {x[0] for x in server.sql(f"SELECT to_addr FROM mail_outbox WHERE campaign_id = {cid}")}
    assert {c.email for c in creators} <= sent_to
    assert server.scalar(f"SELECT COUNT(*) FROM mail_outbox WHERE campaign_id = {cid} AND to_addr = '{u.email}'") == "0"
    assert audit_rows(server, "email.send", cid) == 1

    for bad, code, field in (({"segment": "user", "subject": "s", "body": "b"}, 422, "user_id"),
                             ({"segment": "everyone", "subject": "s", "body": "b"}, 422, "segment"),
                             ({"segment": "all"}, 422, "subject"),
                             ({"segment": "all", "subject": "s", "body": "{{password}}"}, 400, "body"),
                             ({"segment": "all", "subject": "s", "body": "b", "from": "x"}, 400, "from")):
        assert_error(server.post("/api/admin/emails/send", json=bad, headers=adm(server)), code, "VALIDATION_ERROR", field)
    assert_error(server.get("/api/admin/emails/history", params={"status": "lost"}, headers=adm(server)), 422,
                 "VALIDATION_ERROR", "status")


# ---------------------------------------------------------------- settings

def test_settings_validated(server):
    s = server.get("/api/admin/settings", headers=adm(server)).json()
    assert s["limits"]["max_model_upload_mb"] == 100 and s["max_image_upload_mb"] <= 10
    for bad, code, field in (({"platform_fee_percent": 100.5}, 422, "platform_fee_percent"),
                             ({"platform_fee_percent": 1.234}, 422, "platform_fee_percent"),
                             ({"payout_minimum": 0}, 422, "payout_minimum"),
                             ({"max_model_upload_mb": 101}, 422, "max_model_upload_mb"),
                             ({"max_avatar_upload_mb": 3}, 422, "max_avatar_upload_mb"),
                             ({"maintenance_mode": "yes"}, 422, "maintenance_mode"),
                             ({"smtp_host": "evil"}, 400, "smtp_host")):
        assert_error(server.put("/api/admin/settings", json=bad, headers=adm(server)), code, "VALIDATION_ERROR", field)
    assert server.get("/api/admin/settings", headers=adm(server)).json() == s


def test_fee_and_payout_minimum_apply_to_the_next_order(server):
    creator = make_creator(server)
    m1 = create_model(server, creator, approve=True, price=10)
    m2 = create_model(server, creator, approve=True, price=10)
    before = server.get("/api/admin/settings", headers=adm(server)).json()
    try:
        assert settings(server, platform_fee_percent=30, payout_minimum=55.5)["platform_fee_percent"] == 30
        r = checkout(server, make_buyer(server), model_ids=[m1["id"]])
        assert r.status_code in (200, 201), r.text
        assert server.scalar(f"SELECT fee_cents FROM purchases WHERE model_id = {m1['id']}") == "300"
        rev = server.get("/api/users/me/revenue", headers=creator.h).json()
        assert rev["payout_minimum"] == 55.5
        settings(server, platform_fee_percent=12.5)
        assert checkout(server, make_buyer(server), model_ids=[m2["id"]]).status_code in (200, 201)
        assert server.scalar(f"SELECT fee_cents FROM purchases WHERE model_id = {m2['id']}") == "125"
        assert int(server.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'settings.update'")) >= 2
    finally:
        settings(server, platform_fee_percent=before["platform_fee_percent"], payout_minimum=before["payout_minimum"])


def test_registration_closed_refuses_sign_up(server):
    try:
        settings(server, registration_open=False)
        name = "closed_" + uuid.uuid4().hex[:8]
        r = server.post("/api/auth/register", json={"email": f"{name}@example.com", "password": PASSWORD,
                                                      "username": name, "user_type": "buyer"})
        assert_error(r, 403, "FORBIDDEN")
        assert server.scalar(f"SELECT COUNT(*) FROM users WHERE username_lower = '{name}'") == "0"
    finally:
        settings(server, registration_open=True)
    name = "open_" + uuid.uuid4().hex[:8]
    assert server.post("/api/auth/register", json={"email": f"{name}@example.com", "password": PASSWORD,
                                                     "username": name, "user_type": "buyer"}).status_code == 201
    assert int(server.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'user.register'"
                             f" AND detail LIKE '%{name}%'")) == 1


def test_maintenance_mode_503s_the_api_but_not_admins_or_auth(server):
    try:
        settings(server, maintenance_mode=True, maintenance_message="Back at noon")
        r = server.get("/api/categories")
        b = r.json()
        assert r.status_code == 503 and b["error_code"] == "SERVICE_UNAVAILABLE", r.text
        assert b["detail"] == "Back at noon" and int(r.headers["Retry-After"]) > 0
        assert server.get("/api/users/me", headers=server.user_headers(1)).status_code == 503
        assert server.get("/api/categories", headers=adm(server)).status_code == 200  # an admin browses on
        assert server.get("/api/admin/stats", headers=adm(server)).status_code == 200
        login = server.post("/api/auth/login", json={"email": "nobody@example.com", "password": "wrong-password-1"})
        assert login.status_code == 401
        assert server.get("/healthz").status_code == 200
        assert server.get("/").status_code == 200  # the web client itself
    finally:
        settings(server, maintenance_mode=False, maintenance_message="")
    assert server.get("/api/categories").status_code == 200


def test_model_approval_setting_and_upload_limit(server):
    c = make_creator(server)
    try:
        settings(server, model_approval_required=False, max_image_upload_mb=1)
        m = create_model(server, c)
        assert server.scalar(f"SELECT status FROM models WHERE id = {m['id']}") == "approved"
        assert server.get(f"/api/models/{m['id']}").status_code == 200
        big = os.urandom(1536 * 1024)
        r = requests.post(server.url + "/api/upload/image", headers=c.h,
                          files={"file": ("big.png", big, "application/octet-stream")}, timeout=60)
        assert_error(r, 413, "FILE_TOO_LARGE")
    finally:
        settings(server, model_approval_required=True, max_image_upload_mb=10)
    m = create_model(server, c)
    assert server.scalar(f"SELECT status FROM models WHERE id = {m['id']}") == "pending"


def test_concurrent_deletes_of_one_user_are_one_204_and_404s(server):
    """Found by test_hostile: the second of two deletes racing on one user
    answered 500 (its UPDATE matched no row)."""
    from test_models import parallel
    for _ in range(3):
        victim = make_buyer(server)
        codes = parallel(lambda _: server.delete(f"/api/admin/users/{victim.id}", headers=adm(server)).status_code,
                         range(6), workers=6)
        assert sorted(codes) == [204] + [404] * 5, codes
