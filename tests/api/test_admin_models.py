"""Moderation (issue 5, item 1): admins list models by status, approve,
reject with a reason, feature and delete them; the creator is told the
outcome by a notification and a mail.  Non-admins get 403, no token 401."""
import pytest

from conftest import assert_error, uniq
from test_models import (MODEL_FIELDS, approve_model, create_model, get_model, list_ids, make_buyer, make_category,
                         make_creator, notif_count, reject_model, upload_model, word)


def admin_list(server, **params):
    params.setdefault("limit", 100)
    r = server.get("/api/admin/models", params=params, headers=server.admin_headers())
    assert r.status_code == 200, r.text
    return r.json()


def mails(server, to, containing=""):
    """How many moderation mails went to `to` (with that text in their body)."""
    return int(server.scalar(f"SELECT COUNT(*) FROM mail_outbox WHERE to_addr = '{to}' AND kind = 'model_moderation'"
                             f" AND body_text LIKE '%{containing}%'"))


# ---------------------------------------------------------------- access

@pytest.mark.parametrize("method,path", [
    ("GET", "/api/admin/models"), ("GET", "/api/admin/models/{id}"), ("PUT", "/api/admin/models/{id}/approve"),
    ("PUT", "/api/admin/models/{id}/reject"), ("PUT", "/api/admin/models/{id}/feature"),
    ("DELETE", "/api/admin/models/{id}"),
])
def test_admin_routes_need_an_admin(server, method, path):
    c = make_creator(server)
    m = create_model(server, c)
    url = path.format(id=m["id"])
    body = {"reason": "Because I said so"} if url.endswith("reject") else {"is_featured": True}
    assert_error(server.request(method, url, json=body), 401, "UNAUTHORIZED")
    for h in (server.user_headers(1), c.h, server.user_headers(3)):
        assert_error(server.request(method, url, json=body, headers=h), 403, "FORBIDDEN")
    row = server.sql(f"SELECT status, is_featured FROM models WHERE id = {m['id']}")[0]
    assert row[0] == "pending" and row[1] in ("0", "f", "false")
    assert server.scalar(f"SELECT COUNT(*) FROM models WHERE id = {m['id']}") == "1"


# ---------------------------------------------------------------- list and view

def test_list_by_status_and_search(server):
    c = make_creator(server)
    tag = word()
    pending = create_model(server, c, title=f"Adm {tag} pending")
    approved = create_model(server, c, title=f"Adm {tag} approved", approve=True)
    rejected = create_model(server, c, title=f"Adm {tag} rejected")
    reject_model(server, rejected["id"], "Wrong scale")
    create_model(server, c, title=f"Other {word()}")

    def ids(**params):
        body = admin_list(server, search=tag, **params)
        assert set(body) == {"items", "total", "page", "limit", "pages"}
        assert body["total"] == len(body["items"])
        return [m["id"] for m in body["items"]]

    assert ids() == [rejected["id"], approved["id"], pending["id"]]  # newest first, every status
    assert ids(status="all") == [rejected["id"], approved["id"], pending["id"]]
    assert ids(status="pending") == [pending["id"]]
    assert ids(status="approved") == [approved["id"]]
    assert ids(status="rejected") == [rejected["id"]]
    # search is a case-insensitive substring of the title
    assert [m["id"] for m in admin_list(server, search=f"{tag.upper()} REJ")["items"]] == [rejected["id"]]
    assert admin_list(server, search=f"{tag}%")["items"] == []  # LIKE wildcards are literal
    assert admin_list(server, search=f"{tag}_pending")["items"] == []
    body = admin_list(server, search=tag, status="rejected")
    doc = body["items"][0]
    assert MODEL_FIELDS <= set(doc) and doc["rejection_reason"] == "Wrong scale"
    # every model of the status, by default the pending queue included
    pend = admin_list(server, status="pending", limit=100)
    assert all(m["status"] == "pending" for m in pend["items"])
    assert_error(server.get("/api/admin/models", params={"status": "bogus"}, headers=server.admin_headers()),
                 422, "VALIDATION_ERROR", "status")
    page2 = admin_list(server, search=tag, limit=2, page=2)
    assert page2["total"] == 3 and page2["pages"] == 2 and [m["id"] for m in page2["items"]] == [pending["id"]]


def test_admin_list_hostile_search(server):
    for text in ("'", "'; DROP TABLE models; --", "%", "_", "\\", "😀", "x" * 200):
        r = server.get("/api/admin/models", params={"search": text}, headers=server.admin_headers())
        assert r.status_code == 200, (text, r.text)


def test_admin_get_any_status(server):
    c = make_creator(server)
    m = create_model(server, c)
    r = server.get(f"/api/admin/models/{m['id']}", headers=server.admin_headers())
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["id"] == m["id"] and doc["status"] == "pending" and "rejection_reason" in doc
    assert {k: doc[k] for k in MODEL_FIELDS} == {k: m[k] for k in MODEL_FIELDS}
    assert_error(server.get("/api/admin/models/999999999", headers=server.admin_headers()), 404, "NOT_FOUND")


# ---------------------------------------------------------------- approve and reject

def test_approve_tells_the_creator(server):
    c = make_creator(server)
    cat = make_category(server)
    title = uniq("Approve me")
    m = create_model(server, c, title=title, category_id=cat["id"])
    assert list_ids(server, category=cat["slug"]) == []
    r = server.put(f"/api/admin/models/{m['id']}/approve", headers=server.admin_headers())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["id"] == m["id"]
    assert get_model(server, m["id"]).status_code == 200
    assert list_ids(server, category=cat["slug"]) == [m["id"]]
    assert notif_count(server, c.id, "model_approved") == 1
    row = server.sql(f"SELECT title, message, action_url, is_read FROM notifications"
                     f" WHERE user_id = {c.id} AND type = 'model_approved'")[0]
    assert title in row[1] and str(m["id"]) in row[2] and row[3] in ("0", "f", "false")
    assert mails(server, c.email) == 1 and mails(server, c.email, title) == 1


def test_reject_with_a_reason_then_approve(server):
    c = make_creator(server)
    title = uniq("Reject me")
    m = create_model(server, c, title=title)
    admin = server.admin_headers()
    url = f"/api/admin/models/{m['id']}/reject"
    for body in ({}, {"reason": ""}, {"reason": "ab"}, {"reason": "   "}, {"reason": "x" * 1001}, {"reason": 5}):
        assert_error(server.put(url, json=body, headers=admin), 422, "VALIDATION_ERROR", "reason")
    assert server.scalar(f"SELECT status FROM models WHERE id = {m['id']}") == "pending"
    assert notif_count(server, c.id, "model_rejected") == 0
    reason = "The UVs overlap <and> the file has no textures"
    r = server.put(url, json={"reason": reason}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected" and r.json()["rejection_reason"] == reason
    # the owner sees why; nobody else sees the model
    own = get_model(server, m["id"], c.h).json()
    assert own["status"] == "rejected" and own["rejection_reason"] == reason
    mine = server.get("/api/users/me/models", params={"status": "rejected"}, headers=c.h).json()
    assert [x["rejection_reason"] for x in mine["items"] if x["id"] == m["id"]] == [reason]
    assert_error(get_model(server, m["id"]), 404, "NOT_FOUND")
    assert_error(get_model(server, m["id"], make_buyer(server).h), 404, "NOT_FOUND")
    assert notif_count(server, c.id, "model_rejected") == 1
    msg = server.scalar(f"SELECT message FROM notifications WHERE user_id = {c.id} AND type = 'model_rejected'")
    assert reason in msg and title in msg
    assert mails(server, c.email) == 1 and mails(server, c.email, reason) == 1
    html = server.scalar(f"SELECT body_html FROM mail_outbox WHERE to_addr = '{c.email}' AND kind = 'model_moderation'")
    assert "<and>" not in html and "&lt;and&gt;" in html  # the reason is escaped in the HTML part
    assert r.json()["rejection_reason"] == reason
    assert server.put(url, json={"reason": "x" * 1000}, headers=admin).status_code == 200
    # approved after a fix: the reason goes away
    approved = approve_model(server, m["id"])
    assert approved["status"] == "approved" and approved["rejection_reason"] is None
    assert get_model(server, m["id"], c.h).json()["rejection_reason"] is None
    assert notif_count(server, c.id, "model_approved") == 1
    assert mails(server, c.email) == 3


def test_reject_an_approved_model_takes_it_down(server):
    c = make_creator(server)
    cat = make_category(server)
    m = create_model(server, c, category_id=cat["id"], approve=True)
    assert list_ids(server, category=cat["slug"]) == [m["id"]]
    reject_model(server, m["id"], "Copyright claim")
    assert list_ids(server, category=cat["slug"]) == []
    assert_error(get_model(server, m["id"]), 404, "NOT_FOUND")


def test_moderating_a_missing_model_is_404(server):
    admin = server.admin_headers()
    assert_error(server.put("/api/admin/models/999999999/approve", headers=admin), 404, "NOT_FOUND")
    assert_error(server.put("/api/admin/models/999999999/reject", json={"reason": "nope nope"}, headers=admin),
                 404, "NOT_FOUND")
    assert_error(server.put("/api/admin/models/999999999/feature", json={}, headers=admin), 404, "NOT_FOUND")
    assert_error(server.delete("/api/admin/models/999999999", headers=admin), 404, "NOT_FOUND")


# ---------------------------------------------------------------- feature

def test_feature_only_approved_models(server):
    c = make_creator(server)
    admin = server.admin_headers()
    m = create_model(server, c)
    url = f"/api/admin/models/{m['id']}/feature"
    assert_error(server.put(url, json={"is_featured": True}, headers=admin), 409, "CONFLICT")
    assert_error(server.put(url, json={}, headers=admin), 409, "CONFLICT")
    r = server.put(url, json={"is_featured": False}, headers=admin)  # un-featuring is always fine
    assert r.status_code == 200 and r.json()["is_featured"] is False
    reject_model(server, m["id"])
    assert_error(server.put(url, json={"is_featured": True}, headers=admin), 409, "CONFLICT")
    assert get_model(server, m["id"], c.h).json()["is_featured"] is False


def test_feature_toggles_and_sets(server):
    c = make_creator(server)
    admin = server.admin_headers()
    m = create_model(server, c, approve=True)
    url = f"/api/admin/models/{m['id']}/feature"
    r = server.put(url, headers=admin)  # no body: toggles
    assert r.status_code == 200, r.text
    assert r.json()["is_featured"] is True
    assert server.put(url, json={}, headers=admin).json()["is_featured"] is False
    assert server.put(url, json={"is_featured": True}, headers=admin).json()["is_featured"] is True
    assert server.put(url, json={"is_featured": True}, headers=admin).json()["is_featured"] is True
    assert get_model(server, m["id"]).json()["is_featured"] is True
    assert_error(server.put(url, json={"is_featured": "yes"}, headers=admin), 422, "VALIDATION_ERROR", "is_featured")
    # rejecting a featured model un-features it
    reject_model(server, m["id"], "Policy change")
    assert get_model(server, m["id"], c.h).json()["is_featured"] is False
    featured = server.get("/api/models/featured", params={"limit": 100}).json()["items"]
    assert m["id"] not in [x["id"] for x in featured]


# ---------------------------------------------------------------- delete

def test_admin_delete(server):
    c = make_creator(server)
    up = upload_model(server, c.h)
    m = create_model(server, c, upload=up, approve=True)
    r = server.delete(f"/api/admin/models/{m['id']}", headers=server.admin_headers())
    assert r.status_code == 200, r.text
    assert r.json()["id"] == m["id"] and r.json()["message"]
    assert server.scalar(f"SELECT COUNT(*) FROM models WHERE id = {m['id']}") == "0"
    assert server.scalar(f"SELECT COUNT(*) FROM uploads WHERE id = {up['upload_id']}") == "0"
    for h in ({}, c.h, server.admin_headers()):
        assert_error(get_model(server, m["id"], h), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/admin/models/{m['id']}", headers=server.admin_headers()), 404, "NOT_FOUND")
    assert_error(server.delete(f"/api/admin/models/{m['id']}", headers=server.admin_headers()), 404, "NOT_FOUND")
    mine = server.get("/api/users/me/models", headers=c.h).json()
    assert mine["total"] == 0


def test_admin_delete_of_a_sold_model_keeps_it_for_buyers(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    server.sql(f"UPDATE models SET sales_count = 3 WHERE id = {m['id']}")
    assert server.delete(f"/api/admin/models/{m['id']}", headers=server.admin_headers()).status_code == 200
    assert server.scalar(f"SELECT COUNT(*) FROM models WHERE id = {m['id']} AND deleted_at IS NOT NULL") == "1"
    assert_error(get_model(server, m["id"]), 404, "NOT_FOUND")
    assert m["id"] not in [x["id"] for x in admin_list(server, status="all", search=m["title"])["items"]]
