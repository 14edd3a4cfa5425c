"""Direct messages and blocks (issue 12, point 3): conversations between two
users, created once whoever writes first; history paged back by key; read
marks; only the two participants see a conversation (IDOR: 404); banned,
deleted and blocked users cannot message or be messaged.

Every test makes its own users, so nothing depends on global counts."""
import concurrent.futures

import pytest

from conftest import ISO_RE, assert_error
from test_models import make_users

CONV_FIELDS = {"id", "other_user", "last_message", "unread_count", "is_blocked", "updated_at", "created_at"}
MSG_FIELDS = {"id", "conversation_id", "sender_id", "recipient_id", "content", "is_read", "read_at", "created_at"}
OTHER_FIELDS = {"id", "username", "full_name", "avatar_url", "is_verified", "is_active"}


def send(server, who, to=None, content="hello", conv=None, expect=201):
    body = {"content": content}
    if to is not None:
        body["recipient_id"] = to.id if hasattr(to, "id") else to
    if conv is not None:
        body["conversation_id"] = conv
    r = server.post("/api/messages", json=body, headers=who.h)
    if expect is not None:
        assert r.status_code == expect, r.text
    return r


def conversations(server, who, **params):
    r = server.get("/api/messages", params=params, headers=who.h)
    assert r.status_code == 200, r.text
    return r.json()


def history(server, who, conv, **params):
    r = server.get(f"/api/messages/{conv}", params=params, headers=who.h)
    assert r.status_code == 200, r.text
    return r.json()


# ------------------------------------------------------------------ sending

def test_send_creates_one_conversation_for_both_directions(server):
    a, b = make_users(server, 2)
    m1 = send(server, a, b, "hi b").json()
    assert set(m1) == MSG_FIELDS
    assert m1["sender_id"] == a.id and m1["recipient_id"] == b.id and m1["content"] == "hi b"
    assert m1["is_read"] is False and m1["read_at"] is None and ISO_RE.match(m1["created_at"])
    m2 = send(server, b, a, "hi a").json()
    assert m2["conversation_id"] == m1["conversation_id"]
    assert int(server.scalar(
        f"SELECT COUNT(*) FROM dm_conversations WHERE user_low = {min(a.id, b.id)} AND user_high = {max(a.id, b.id)}")) == 1


def test_racing_first_messages_share_one_conversation(server):
    a, b = make_users(server, 2)

    def go(i):
        who, to = (a, b) if i % 2 else (b, a)
        return send(server, who, to, f"race {i}", expect=None)

    with concurrent.futures.ThreadPoolExecutor(10) as ex:
        rs = list(ex.map(go, range(10)))
    assert all(r.status_code == 201 for r in rs), [r.text for r in rs if r.status_code != 201]
    assert len({r.json()["conversation_id"] for r in rs}) == 1
    conv = rs[0].json()["conversation_id"]
    assert history(server, a, conv)["total"] == 10


def test_send_by_conversation_id(server):
    a, b, c = make_users(server, 3)
    conv = send(server, a, b).json()["conversation_id"]
    m = send(server, b, conv=conv, content="reply").json()
    assert m["recipient_id"] == a.id and m["conversation_id"] == conv
    # someone else's conversation looks missing
    assert_error(send(server, c, conv=conv, expect=None), 404, "NOT_FOUND")
    # recipient_id and conversation_id must agree
    assert_error(send(server, a, c, conv=conv, expect=None), 422, "VALIDATION_ERROR", "recipient_id")
    assert_error(send(server, a, b, conv=conv + 10 ** 9, expect=None), 404, "NOT_FOUND")


@pytest.mark.parametrize("body,field", [
    ({"recipient_id": 1}, "content"),
    ({"recipient_id": 1, "content": ""}, "content"),
    ({"recipient_id": 1, "content": "   "}, "content"),
    ({"recipient_id": 1, "content": 5}, "content"),
    ({"recipient_id": 1, "content": "x" * 5001}, "content"),
    ({"content": "hi"}, "recipient_id"),
    ({"recipient_id": "abc", "content": "hi"}, "recipient_id"),
    ({"recipient_id": 0, "content": "hi"}, "recipient_id"),
    ({"recipient_id": -3, "content": "hi"}, "recipient_id"),
    ({"conversation_id": "x", "content": "hi"}, "conversation_id"),
])
def test_send_validation(server, body, field):
    a, = make_users(server, 1)
    r = server.post("/api/messages", json=body, headers=a.h)
    assert_error(r, 422, "VALIDATION_ERROR", field)


def test_send_bounds_and_text(server):
    a, b = make_users(server, 2)
    text = "line one\nline two é 漢字 " + "y" * 4970
    text = text[:5000]
    m = send(server, a, b, text).json()
    assert m["content"] == text
    r = server.post("/api/messages", data="{", headers={**a.h, "Content-Type": "application/json"})
    assert_error(r, 400, "VALIDATION_ERROR")
    r = server.post("/api/messages", json={"recipient_id": b.id, "content": "x" * 70000}, headers=a.h)
    assert r.status_code in (413, 422), r.text


def test_cannot_message_self_or_missing_users(server):
    a, = make_users(server, 1)
    assert_error(send(server, a, a, expect=None), 422, "VALIDATION_ERROR", "recipient_id")
    assert_error(send(server, a, 10 ** 12, expect=None), 404, "NOT_FOUND")


def test_anonymous_is_401(server):
    a, = make_users(server, 1)
    for r in (server.get("/api/messages"), server.get("/api/messages/1"),
              server.post("/api/messages", json={"recipient_id": a.id, "content": "x"}),
              server.put("/api/messages/1/read"), server.post(f"/api/users/{a.id}/block"),
              server.delete(f"/api/users/{a.id}/block"), server.get("/api/users/me/blocks")):
        assert_error(r, 401, "UNAUTHORIZED")


def test_unverified_cannot_send(server):
    a, = make_users(server, 1, verified=False)
    b, = make_users(server, 1)
    r = send(server, a, b, expect=None)
    assert r.status_code == 403 and r.json()["error_code"] in ("EMAIL_NOT_VERIFIED", "FORBIDDEN"), r.text


def test_banned_users_cannot_message_or_be_messaged(server):
    a, b, c = make_users(server, 3)
    conv = send(server, a, b).json()["conversation_id"]
    server.sql(f"UPDATE users SET is_banned = TRUE WHERE id = {b.id}")
    try:
        # to a banned user: missing, as their profile is; in an existing conversation: 403
        assert_error(send(server, c, b, expect=None), 404, "NOT_FOUND")
        assert_error(send(server, a, b, expect=None), 404, "NOT_FOUND")
        assert_error(send(server, a, conv=conv, expect=None), 403, "FORBIDDEN")
        # a banned user cannot send at all
        assert_error(send(server, b, a, expect=None), 403, "FORBIDDEN")
        # the history stays readable for the other participant, marked inactive
        items = conversations(server, a)["items"]
        assert items[0]["other_user"]["is_active"] is False
    finally:
        server.sql(f"UPDATE users SET is_banned = FALSE WHERE id = {b.id}")
    send(server, a, b)


def test_deleted_users_cannot_be_messaged(server):
    a, b = make_users(server, 2)
    server.sql(f"UPDATE users SET deleted_at = 1 WHERE id = {b.id}")
    assert_error(send(server, a, b, expect=None), 404, "NOT_FOUND")


# ------------------------------------------------------------------ blocks

def test_block_stops_messages_both_ways(server):
    a, b, c = make_users(server, 3)
    conv = send(server, a, b).json()["conversation_id"]
    r = server.post(f"/api/users/{b.id}/block", headers=a.h)
    assert r.status_code == 200 and r.json() == {"user_id": b.id, "is_blocked": True}, r.text
    # idempotent
    assert server.post(f"/api/users/{b.id}/block", headers=a.h).status_code == 200
    assert int(server.scalar(f"SELECT COUNT(*) FROM user_blocks WHERE blocker_id = {a.id}")) == 1
    assert_error(send(server, a, b, expect=None), 403, "FORBIDDEN")
    assert_error(send(server, b, a, expect=None), 403, "FORBIDDEN")
    assert_error(send(server, b, conv=conv, expect=None), 403, "FORBIDDEN")
    # others are not affected
    send(server, c, b)
    send(server, c, a)
    flags = {i["other_user"]["id"]: i["is_blocked"] for i in conversations(server, a)["items"]}
    assert flags == {b.id: True, c.id: False}
    assert [i["is_blocked"] for i in conversations(server, b)["items"]] == [False, False]
    blocks = server.get("/api/users/me/blocks", headers=a.h).json()
    assert blocks["total"] == 1 and blocks["items"][0]["id"] == b.id and blocks["items"][0]["username"] == b.username
    assert server.get("/api/users/me/blocks", headers=b.h).json()["total"] == 0
    r = server.delete(f"/api/users/{b.id}/block", headers=a.h)
    assert r.status_code == 200 and r.json() == {"user_id": b.id, "is_blocked": False}, r.text
    assert server.delete(f"/api/users/{b.id}/block", headers=a.h).status_code == 200
    send(server, b, a)
    send(server, a, b)


def test_block_validation(server):
    a, = make_users(server, 1)
    assert_error(server.post(f"/api/users/{a.id}/block", headers=a.h), 422, "VALIDATION_ERROR", "id")
    assert_error(server.post(f"/api/users/{10 ** 12}/block", headers=a.h), 404, "NOT_FOUND")
    assert_error(server.delete(f"/api/users/{10 ** 12}/block", headers=a.h), 404, "NOT_FOUND")
    assert_error(server.post("/api/users/abc/block", headers=a.h), 422, "VALIDATION_ERROR")
    assert_error(server.get("/api/users/me/blocks", params={"page": 0}, headers=a.h), 422, "VALIDATION_ERROR", "page")


# ------------------------------------------------------------------ listing

def test_conversation_list_order_unread_and_last_message(server):
    me, x, y, z = make_users(server, 4)
    send(server, x, me, "from x 1")
    send(server, x, me, "from x 2")
    send(server, y, me, "from y")
    send(server, me, z, "to z")
    body = conversations(server, me)
    assert body["total"] == 3 and body["page"] == 1 and body["pages"] == 1 and body["limit"] == 20
    assert body["unread_count"] == 3
    items = body["items"]
    assert [i["other_user"]["id"] for i in items] == [z.id, y.id, x.id]
    for i in items:
        assert set(i) == CONV_FIELDS and set(i["other_user"]) == OTHER_FIELDS
        assert set(i["last_message"]) == MSG_FIELDS
    assert [i["unread_count"] for i in items] == [0, 1, 2]
    assert items[2]["last_message"]["content"] == "from x 2"
    assert items[0]["other_user"]["username"] == z.username and items[0]["other_user"]["is_active"] is True
    # a new message moves its conversation to the top
    send(server, x, me, "from x 3")
    items = conversations(server, me)["items"]
    assert items[0]["other_user"]["id"] == x.id and items[0]["unread_count"] == 3
    # the other side sees the same conversation with its own counts
    theirs = conversations(server, x)
    assert theirs["total"] == 1 and theirs["unread_count"] == 0
    assert theirs["items"][0]["other_user"]["id"] == me.id and theirs["items"][0]["unread_count"] == 0


def test_conversation_list_paging(server):
    me, *others = make_users(server, 5)
    for o in others:
        send(server, o, me)
    p1 = conversations(server, me, limit=2)
    p3 = conversations(server, me, limit=2, page=3)
    assert p1["total"] == 4 and p1["pages"] == 2 and len(p1["items"]) == 2
    assert p3["items"] == [] and p3["total"] == 4
    p2 = conversations(server, me, limit=2, page=2)
    seen = [i["other_user"]["id"] for i in p1["items"] + p2["items"]]
    assert seen == [o.id for o in reversed(others)]
    assert conversations(server, me, limit=1000)["limit"] == 100
    for bad in ({"page": 0}, {"limit": 0}, {"page": "x"}, {"page": [1, 2]}):
        r = server.get("/api/messages", params=bad, headers=me.h)
        assert_error(r, 422, "VALIDATION_ERROR")


def test_empty_list(server):
    a, = make_users(server, 1)
    body = conversations(server, a)
    assert body == {"items": [], "total": 0, "page": 1, "limit": 20, "pages": 0, "unread_count": 0}


# ------------------------------------------------------------------ history

def test_history_keyset_paging(server):
    a, b = make_users(server, 2)
    ids = [send(server, a if i % 2 else b, b if i % 2 else a, f"m{i}").json()["id"] for i in range(7)]
    conv = send(server, a, b, "m7").json()["conversation_id"]
    ids.append(history(server, a, conv)["items"][-1]["id"])
    h1 = history(server, a, conv, limit=3)
    assert h1["total"] == 8 and h1["limit"] == 3 and h1["has_more"] is True
    assert [m["content"] for m in h1["items"]] == ["m5", "m6", "m7"]
    assert h1["conversation"]["id"] == conv and h1["conversation"]["other_user"]["id"] == b.id
    assert h1["next_before"] == h1["items"][0]["id"]
    h2 = history(server, a, conv, limit=3, before=h1["next_before"])
    assert [m["content"] for m in h2["items"]] == ["m2", "m3", "m4"] and h2["has_more"] is True
    h3 = history(server, a, conv, limit=3, before=h2["next_before"])
    assert [m["content"] for m in h3["items"]] == ["m0", "m1"]
    assert h3["has_more"] is False and h3["next_before"] is None
    # a message sent meanwhile does not shift the older pages
    send(server, b, a, "m8")
    again = history(server, a, conv, limit=3, before=h1["next_before"])
    assert [m["content"] for m in again["items"]] == ["m2", "m3", "m4"]
    # page numbers count back from the newest
    assert [m["content"] for m in history(server, b, conv, limit=3, page=2)["items"]] == ["m3", "m4", "m5"]
    assert history(server, b, conv)["limit"] == 50
    for bad in ({"before": 0}, {"before": "x"}, {"limit": 0}, {"page": 0}):
        assert_error(server.get(f"/api/messages/{conv}", params=bad, headers=a.h), 422, "VALIDATION_ERROR")


def test_only_participants_see_a_conversation(server):
    a, b, c = make_users(server, 3)
    m = send(server, a, b, "private").json()
    conv = m["conversation_id"]
    assert_error(server.get(f"/api/messages/{conv}", headers=c.h), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/messages/{10 ** 12}", headers=a.h), 404, "NOT_FOUND")
    assert_error(server.put(f"/api/messages/{m['id']}/read", headers=c.h), 404, "NOT_FOUND")
    assert conversations(server, c)["total"] == 0
    # an admin is no participant either
    assert_error(server.get(f"/api/messages/{conv}", headers=server.admin_headers()), 404, "NOT_FOUND")
    assert history(server, b, conv)["items"][0]["content"] == "private"
    # the read mark of an outsider changed nothing
    assert conversations(server, b)["unread_count"] == 1


# ------------------------------------------------------------------ read marks

def test_mark_read_up_to_a_message(server):
    a, b = make_users(server, 2)
    ms = [send(server, a, b, f"n{i}").json() for i in range(4)]
    conv = ms[0]["conversation_id"]
    mine = send(server, b, a, "answer").json()
    r = server.put(f"/api/messages/{ms[1]['id']}/read", headers=b.h)
    assert r.status_code == 200, r.text
    assert r.json() == {"conversation_id": conv, "message_id": ms[1]["id"], "marked_count": 2,
                        "unread_count": 2, "total_unread_count": 2}
    items = history(server, b, conv)["items"]
    assert [m["is_read"] for m in items] == [True, True, False, False, False]
    assert ISO_RE.match(items[0]["read_at"])
    # again: nothing more to mark
    assert server.put(f"/api/messages/{ms[1]['id']}/read", headers=b.h).json()["marked_count"] == 0
    # the sender's mark does not read the recipient's messages: only what a received
    r = server.put(f"/api/messages/{ms[3]['id']}/read", headers=a.h).json()
    assert r["marked_count"] == 0 and conversations(server, b)["unread_count"] == 2
    # the newest mark reads the rest, and the caller's own message is untouched
    r = server.put(f"/api/messages/{mine['id']}/read", headers=b.h).json()
    assert r["marked_count"] == 2 and r["unread_count"] == 0 and r["total_unread_count"] == 0
    assert conversations(server, b)["items"][0]["unread_count"] == 0
    assert conversations(server, a)["unread_count"] == 1
    assert_error(server.put(f"/api/messages/{10 ** 12}/read", headers=b.h), 404, "NOT_FOUND")
    assert_error(server.put("/api/messages/abc/read", headers=b.h), 422, "VALIDATION_ERROR")
