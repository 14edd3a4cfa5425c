"""Support tickets (issue 12, point 5): a user opens tickets and talks with
the staff, with attachments; only the owner and admins reach a ticket
(IDOR: someone else's is 404); admins list by status with search, reply
(notifying the owner), set the status, assign to an admin (422 for anyone
else) and mail the owner through the outbox.  Bounds and validation are
4xx with the guide's body."""
import requests

from conftest import ISO_RE, assert_error, bearer, uniq
from test_models import make_users, png_bytes

TICKET_FIELDS = {"id", "subject", "category", "priority", "status", "user", "assigned_to", "messages_count",
                 "last_message", "last_message_at", "created_at", "updated_at", "resolved_at"}
MESSAGE_FIELDS = {"id", "ticket_id", "sender", "is_staff", "via", "message", "attachments", "created_at"}


def open_ticket(server, who, **body):
    body.setdefault("subject", "Cannot download " + uniq())
    body.setdefault("message", "The download button does nothing.")
    r = server.post("/api/support/tickets", json=body, headers=who.h)
    assert r.status_code == 201, r.text
    return r.json()


def upload_attachment(server, who, name="shot.png", data=None):
    r = requests.post(server.url + "/api/upload/attachment", headers=who.h,
                      files={"file": (name, data or png_bytes(), "application/octet-stream")}, timeout=60)
    assert r.status_code == 201, r.text
    return r.json()


def admin_reply(server, tid, message="We are on it.", **body):
    return server.post(f"/api/admin/support/tickets/{tid}/messages", json={"message": message, **body},
                       headers=server.admin_headers())


def notifications(server, uid, kind):
    return server.sql(f"SELECT title, action_url FROM notifications WHERE user_id = {uid} AND type = '{kind}'")


# ---------------------------------------------------------------- user side

def test_open_list_and_read(server):
    a, = make_users(server, 1)
    t = open_ticket(server, a, subject="Refund question", category="billing", priority="high",
                    message="Line one\nline two")
    assert TICKET_FIELDS <= set(t)
    assert (t["subject"], t["category"], t["priority"], t["status"]) == ("Refund question", "billing", "high", "active")
    assert t["user"] == {"id": a.id, "username": a.username}
    assert t["messages_count"] == 1 and t["assigned_to"] is None and t["resolved_at"] is None
    assert ISO_RE.match(t["created_at"])
    assert len(t["messages"]) == 1 and t["has_more"] is False
    m = t["messages"][0]
    assert MESSAGE_FIELDS <= set(m)
    assert m["message"] == "Line one\nline two" and m["is_staff"] is False and m["via"] == "chat"
    assert m["sender"] == {"id": a.id, "username": a.username} and m["attachments"] == []

    d = open_ticket(server, a)
    assert d["category"] == "general" and d["priority"] == "normal"
    r = server.get("/api/support/tickets", headers=a.h)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2 and body["pages"] == 1
    assert [x["id"] for x in body["items"]] == [d["id"], t["id"]]  # most recently active first
    assert body["items"][1]["last_message"] == {"message": "Line one\nline two", "is_staff": False}
    assert "email" not in body["items"][0]["user"]

    r = server.get(f"/api/support/tickets/{t['id']}", headers=a.h)
    assert r.status_code == 200 and r.json()["messages"][0]["id"] == m["id"]


def test_messages_reopen_and_page(server):
    a, = make_users(server, 1)
    t = open_ticket(server, a)
    tid = t["id"]
    ids = [t["messages"][0]["id"]]
    for i in range(4):
        r = server.post(f"/api/support/tickets/{tid}/messages", json={"message": f"more {i}"}, headers=a.h)
        assert r.status_code == 201, r.text
        assert r.json()["ticket_id"] == tid and r.json()["message"] == f"more {i}"
        ids.append(r.json()["id"])
    got = server.get(f"/api/support/tickets/{tid}", params={"limit": 2}, headers=a.h).json()
    assert [m["id"] for m in got["messages"]] == ids[-2:] and got["has_more"] is True
    assert got["messages_count"] == 5
    older = server.get(f"/api/support/tickets/{tid}", params={"limit": 2, "before_id": ids[-2]}, headers=a.h).json()
    assert [m["id"] for m in older["messages"]] == ids[1:3] and older["has_more"] is True
    newer = server.get(f"/api/support/tickets/{tid}", params={"after_id": ids[1]}, headers=a.h).json()
    assert [m["id"] for m in newer["messages"]] == ids[2:] and newer["has_more"] is False
    assert_error(server.get(f"/api/support/tickets/{tid}", params={"after_id": 1, "before_id": 9}, headers=a.h),
                 422, "VALIDATION_ERROR", "after_id")
    assert_error(server.get(f"/api/support/tickets/{tid}", params={"limit": 0}, headers=a.h),
                 422, "VALIDATION_ERROR", "limit")

    # staff reply: active -> pending; the user writing again: -> active
    assert admin_reply(server, tid).status_code == 201
    assert server.get(f"/api/support/tickets/{tid}", headers=a.h).json()["status"] == "pending"
    r = server.put(f"/api/admin/support/tickets/{tid}/status", json={"status": "resolved"}, headers=server.admin_headers())
    assert r.status_code == 200 and r.json()["status"] == "resolved" and ISO_RE.match(r.json()["resolved_at"])
    assert server.post(f"/api/support/tickets/{tid}/messages", json={"message": "still broken"}, headers=a.h).status_code == 201
    t2 = server.get(f"/api/support/tickets/{tid}", headers=a.h).json()
    assert t2["status"] == "active" and t2["resolved_at"] is None and t2["messages_count"] == 7


def test_status_filter_and_paging(server):
    a, = make_users(server, 1)
    made = [open_ticket(server, a)["id"] for _ in range(3)]
    server.put(f"/api/admin/support/tickets/{made[0]}/status", json={"status": "resolved"}, headers=server.admin_headers())
    r = server.get("/api/support/tickets", params={"status": "active"}, headers=a.h).json()
    assert r["total"] == 2 and {x["id"] for x in r["items"]} == set(made[1:])
    r = server.get("/api/support/tickets", params={"status": "resolved"}, headers=a.h).json()
    assert [x["id"] for x in r["items"]] == [made[0]]
    r = server.get("/api/support/tickets", params={"limit": 2, "page": 2}, headers=a.h).json()
    assert (r["total"], r["pages"], r["page"], len(r["items"])) == (3, 2, 2, 1)
    assert_error(server.get("/api/support/tickets", params={"status": "open"}, headers=a.h), 422, "VALIDATION_ERROR", "status")


def test_idor_other_users_ticket_is_404(server):
    a, b = make_users(server, 2)
    t = open_ticket(server, a)
    tid = t["id"]
    assert_error(server.get(f"/api/support/tickets/{tid}", headers=b.h), 404, "NOT_FOUND")
    assert_error(server.post(f"/api/support/tickets/{tid}/messages", json={"message": "hi"}, headers=b.h), 404, "NOT_FOUND")
    assert server.get("/api/support/tickets", headers=b.h).json()["total"] == 0
    assert_error(server.get("/api/support/tickets/999999999", headers=a.h), 404, "NOT_FOUND")
    # users cannot reach the admin routes
    assert_error(server.get(f"/api/admin/support/tickets/{tid}", headers=a.h), 403, "FORBIDDEN")
    assert_error(admin_reply_as(server, tid, a.h), 403, "FORBIDDEN")
    assert_error(server.put(f"/api/admin/support/tickets/{tid}/status", json={"status": "resolved"}, headers=a.h),
                 403, "FORBIDDEN")
    assert_error(server.get("/api/support/tickets"), 401, "UNAUTHORIZED")
    assert server.get(f"/api/support/tickets/{tid}", headers=a.h).json()["messages_count"] == 1


def admin_reply_as(server, tid, h):
    return server.post(f"/api/admin/support/tickets/{tid}/messages", json={"message": "x"}, headers=h)


def test_validation(server):
    a, = make_users(server, 1)
    post = lambda body: server.post("/api/support/tickets", json=body, headers=a.h)
    assert_error(post({"message": "no subject"}), 422, "VALIDATION_ERROR", "subject")
    assert_error(post({"subject": "ab", "message": "x"}), 422, "VALIDATION_ERROR", "subject")
    assert_error(post({"subject": "x" * 201, "message": "x"}), 422, "VALIDATION_ERROR", "subject")
    assert_error(post({"subject": "Fine subject"}), 422, "VALIDATION_ERROR", "message")
    assert_error(post({"subject": "Fine subject", "message": "x" * 5001}), 422, "VALIDATION_ERROR", "message")
    assert_error(post({"subject": "Fine subject", "message": "x", "category": "nope"}), 422, "VALIDATION_ERROR", "category")
    assert_error(post({"subject": "Fine subject", "message": "x", "priority": "asap"}), 422, "VALIDATION_ERROR", "priority")
    assert_error(post({"subject": "Fine subject", "message": "x", "attachment_ids": "1"}), 422, "VALIDATION_ERROR", "attachment_ids")
    assert_error(post({"subject": "Fine subject", "message": "x", "attachment_ids": list(range(1, 7))}),
                 422, "VALIDATION_ERROR", "attachment_ids")
    assert_error(post({"subject": "Fine subject", "message": "x", "attachment_ids": [999999999]}),
                 422, "VALIDATION_ERROR", "attachment_ids")
    r = server.request("POST", "/api/support/tickets", data="{bad", headers={**a.h, "Content-Type": "application/json"})
    assert_error(r, 400, "VALIDATION_ERROR")
    assert server.get("/api/support/tickets", headers=a.h).json()["total"] == 0
    t = open_ticket(server, a)
    assert_error(server.post(f"/api/support/tickets/{t['id']}/messages", json={"message": "  "}, headers=a.h),
                 422, "VALIDATION_ERROR", "message")


def test_open_tickets_are_bounded(server):
    a, = make_users(server, 1)
    now = 1700000000000
    values = ", ".join(f"({a.id}, 's', 'general', 'normal', 'active', 0, {now}, {now}, {now})" for _ in range(20))
    server.sql("INSERT INTO support_tickets (user_id, subject, category, priority, status, messages_count,"
               f" last_message_at, created_at, updated_at) VALUES {values}")
    assert_error(server.post("/api/support/tickets", json={"subject": "One more", "message": "x"}, headers=a.h),
                 409, "CONFLICT")
    assert int(server.scalar(f"SELECT COUNT(*) FROM support_tickets WHERE user_id = {a.id}")) == 20


def test_messages_per_ticket_are_bounded(server):
    a, = make_users(server, 1)
    t = open_ticket(server, a)
    server.sql(f"UPDATE support_tickets SET messages_count = 1000 WHERE id = {t['id']}")
    assert_error(server.post(f"/api/support/tickets/{t['id']}/messages", json={"message": "x"}, headers=a.h),
                 409, "CONFLICT")


# ---------------------------------------------------------------- attachments

def test_attachments(server):
    a, b = make_users(server, 2)
    up = upload_attachment(server, a)
    assert up["upload_id"] >= 1
    t = open_ticket(server, a, message="", attachment_ids=[up["upload_id"]])
    att = t["messages"][0]["attachments"]
    assert len(att) == 1 and att[0]["id"] == up["upload_id"] and att[0]["filename"] == "shot.png"
    assert att[0]["file_format"] == "PNG" and att[0]["file_size"] > 0
    link = att[0]["url"]
    url = f"/api/support/tickets/{t['id']}/attachments/{up['upload_id']}"
    assert link.startswith(url + "?user=")
    r = server.get(url, headers=a.h)
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    assert server.get(url, headers=server.admin_headers()).status_code == 200
    assert_error(server.get(url, headers=b.h), 404, "NOT_FOUND")
    assert_error(server.get(url), 404, "NOT_FOUND")
    # the signed link works without a header, for its user only while valid
    r = server.get(link)
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    assert_error(server.get(link[:-1] + ("0" if link[-1] != "0" else "1")), 404, "NOT_FOUND")
    assert_error(server.get(link.replace(f"user={a.id}", f"user={b.id}")), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/support/tickets/{t['id']}/attachments/{theirs_id(server, b)}"
                            + link[len(url):]), 404, "NOT_FOUND")
    server.sql(f"UPDATE users SET is_banned = TRUE WHERE id = {a.id}")
    assert_error(server.get(link), 404, "NOT_FOUND")
    server.sql(f"UPDATE users SET is_banned = FALSE WHERE id = {a.id}")
    assert_error(server.get(f"/api/support/tickets/{t['id']}/attachments/999999999", headers=a.h), 404, "NOT_FOUND")

    # used once; someone else's upload is refused
    again = server.post(f"/api/support/tickets/{t['id']}/messages", json={"message": "again",
                        "attachment_ids": [up["upload_id"]]}, headers=a.h)
    assert_error(again, 422, "VALIDATION_ERROR", "attachment_ids")
    theirs = upload_attachment(server, b)
    r = server.post(f"/api/support/tickets/{t['id']}/messages", json={"message": "x",
                    "attachment_ids": [theirs["upload_id"]]}, headers=a.h)
    assert_error(r, 422, "VALIDATION_ERROR", "attachment_ids")
    r = server.post(f"/api/support/tickets/{t['id']}/messages", json={"message": "x",
                    "attachment_ids": [theirs["upload_id"], theirs["upload_id"]]}, headers=b.h)
    assert_error(r, 404, "NOT_FOUND")

    # an admin's attachment in a reply reaches the owner through the ticket
    admin_up = upload_attachment(server, who_admin(server), name="fix.txt", data=b"try this\n")
    r = admin_reply(server, t["id"], "See the file", attachment_ids=[admin_up["upload_id"]])
    assert r.status_code == 201, r.text
    u = r.json()["attachments"][0]["url"].split("?")[0]
    got = server.get(u, headers=a.h)
    assert got.status_code == 200 and got.content == b"try this\n"
    # attachments in use survive the sweep's "unused" test
    kept = server.scalar("SELECT COUNT(*) FROM support_attachments WHERE upload_id IN "
                         f"({up['upload_id']}, {admin_up['upload_id']})")
    assert int(kept) == 2


def theirs_id(server, who):
    return upload_attachment(server, who)["upload_id"]


class _Admin:
    def __init__(self, server):
        self.h = server.admin_headers()


def who_admin(server):
    return _Admin(server)


# ---------------------------------------------------------------- admin side

def test_admin_list_search_and_filters(server):
    a, b = make_users(server, 2)
    w = "zq" + uniq("s").replace("-", "")
    t1 = open_ticket(server, a, subject=f"Payment {w} failed")
    t2 = open_ticket(server, b)
    h = server.admin_headers()
    r = server.get("/api/admin/support/tickets", params={"q": w}, headers=h)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [x["id"] for x in items] == [t1["id"]] and items[0]["user"]["email"] == a.email
    r = server.get("/api/admin/support/tickets", params={"q": w.upper()}, headers=h).json()
    assert r["total"] == 1
    r = server.get("/api/admin/support/tickets", params={"q": b.username}, headers=h).json()
    assert [x["id"] for x in r["items"]] == [t2["id"]]
    r = server.get("/api/admin/support/tickets", params={"q": f"#{t2['id']}"}, headers=h).json()
    assert t2["id"] in [x["id"] for x in r["items"]]
    r = server.get("/api/admin/support/tickets", params={"q": "%"}, headers=h).json()
    assert all("%" in x["subject"] or "%" in x["user"]["username"] for x in r["items"])

    admin_reply(server, t2["id"])
    pend = server.get("/api/admin/support/tickets", params={"status": "pending", "q": b.username}, headers=h).json()
    assert [x["id"] for x in pend["items"]] == [t2["id"]]
    act = server.get("/api/admin/support/tickets", params={"status": "active", "q": b.username}, headers=h).json()
    assert act["total"] == 0
    assert_error(server.get("/api/admin/support/tickets", params={"status": "x"}, headers=h), 422, "VALIDATION_ERROR", "status")
    assert_error(server.get("/api/admin/support/tickets", params={"q": "x" * 101}, headers=h), 422, "VALIDATION_ERROR", "q")
    r = server.get("/api/admin/support/tickets", params={"limit": 1}, headers=h).json()
    assert r["limit"] == 1 and len(r["items"]) == 1 and r["total"] >= 2


def test_admin_view_reply_notifies(server):
    a, = make_users(server, 1)
    t = open_ticket(server, a, subject="Where is my file")
    h = server.admin_headers()
    r = server.get(f"/api/admin/support/tickets/{t['id']}", headers=h)
    assert r.status_code == 200 and r.json()["user"]["email"] == a.email
    assert_error(server.get("/api/admin/support/tickets/999999999", headers=h), 404, "NOT_FOUND")
    assert notifications(server, a.id, "support_reply") == []
    r = admin_reply(server, t["id"], "Fixed now")
    assert r.status_code == 201
    m = r.json()
    assert m["is_staff"] is True and m["via"] == "chat" and m["message"] == "Fixed now"
    assert notifications(server, a.id, "support_reply") == [("Support replied to your ticket", f"/support?ticket={t['id']}")]
    seen = server.get(f"/api/support/tickets/{t['id']}", headers=a.h).json()
    assert seen["messages"][-1]["id"] == m["id"] and seen["last_message"]["is_staff"] is True
    assert_error(admin_reply(server, t["id"], ""), 422, "VALIDATION_ERROR", "message")
    assert_error(admin_reply(server, 999999999), 404, "NOT_FOUND")


def test_admin_status(server):
    a, = make_users(server, 1)
    t = open_ticket(server, a)
    h = server.admin_headers()
    put = lambda body, tid=t["id"]: server.put(f"/api/admin/support/tickets/{tid}/status", json=body, headers=h)
    r = put({"status": "pending"})
    assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["resolved_at"] is None
    r = put({"status": "pending"})  # the same again: harmless
    assert r.status_code == 200 and r.json()["status"] == "pending"
    assert notifications(server, a.id, "support_resolved") == []
    assert put({"status": "resolved"}).json()["status"] == "resolved"
    assert len(notifications(server, a.id, "support_resolved")) == 1
    assert_error(put({"status": "closed"}), 422, "VALIDATION_ERROR", "status")
    assert_error(put({}), 422, "VALIDATION_ERROR", "status")
    assert_error(put({"status": "active"}, 999999999), 404, "NOT_FOUND")


def test_admin_assign(server):
    a, = make_users(server, 1)
    t = open_ticket(server, a)
    h = server.admin_headers()
    other = server.make_user(role="admin")
    put = lambda body: server.put(f"/api/admin/support/tickets/{t['id']}/assign", json=body, headers=h)
    r = put({"admin_id": other})
    assert r.status_code == 200 and r.json()["assigned_to"]["id"] == other
    mine = server.get("/api/admin/support/tickets", params={"assigned_to": other}, headers=h).json()
    assert [x["id"] for x in mine["items"]] == [t["id"]]
    assert server.get(f"/api/support/tickets/{t['id']}", headers=a.h).json()["assigned_to"]["id"] == other
    assert_error(put({"admin_id": a.id}), 422, "VALIDATION_ERROR", "admin_id")       # not an admin
    assert_error(put({"admin_id": 999999999}), 422, "VALIDATION_ERROR", "admin_id")  # nobody
    assert_error(put({"admin_id": "x"}), 422, "VALIDATION_ERROR", "admin_id")
    assert_error(put({}), 422, "VALIDATION_ERROR", "admin_id")
    assert server.get(f"/api/admin/support/tickets/{t['id']}", headers=h).json()["assigned_to"]["id"] == other
    r = put({"admin_id": None})
    assert r.status_code == 200 and r.json()["assigned_to"] is None


def test_admin_email(server):
    a, = make_users(server, 1)
    t = open_ticket(server, a, subject="Invoice needed")
    h = server.admin_headers()
    r = server.post(f"/api/admin/support/tickets/{t['id']}/email", json={"message": "Your invoice <b>is</b> attached."},
                    headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "queued" and body["to"] == a.email
    assert body["subject"] == f"Re: [Ticket #{t['id']}] Invoice needed"
    assert body["message"]["via"] == "email" and body["message"]["is_staff"] is True
    rows = server.sql(f"SELECT subject, body_html FROM mail_outbox WHERE to_addr = '{a.email}' AND kind = 'support_email'")
    assert len(rows) == 1 and rows[0][0] == body["subject"]
    assert "&lt;b&gt;is&lt;/b&gt;" in rows[0][1] and "<b>is</b>" not in rows[0][1]
    assert f"/support?ticket={t['id']}" in rows[0][1]
    seen = server.get(f"/api/support/tickets/{t['id']}", headers=a.h).json()
    assert seen["status"] == "pending" and seen["messages"][-1]["via"] == "email"
    r = server.post(f"/api/admin/support/tickets/{t['id']}/email", json={"message": "x", "subject": "Custom"}, headers=h)
    assert r.status_code == 201 and r.json()["subject"] == "Custom"
    assert_error(server.post(f"/api/admin/support/tickets/{t['id']}/email", json={}, headers=h),
                 422, "VALIDATION_ERROR", "message")
    assert_error(server.post(f"/api/admin/support/tickets/{t['id']}/email", json={"message": "x", "subject": "a"},
                             headers=h), 422, "VALIDATION_ERROR", "subject")
    assert_error(server.post("/api/admin/support/tickets/999999999/email", json={"message": "x"}, headers=h),
                 404, "NOT_FOUND")
    assert_error(server.post(f"/api/admin/support/tickets/{t['id']}/email", json={"message": "x"}, headers=a.h),
                 403, "FORBIDDEN")
