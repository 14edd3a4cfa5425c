"""Notifications (issue 12, point 2; guide section 18): GET /api/notifications
and /api/users/me/notifications with the guide's body plus paging, PUT
/api/notifications/{id}/read and /api/notifications/read-all; only the
owner reads or marks them (another user's id is 404); the rows that likes,
comments and follows write."""
import time

import pytest

from conftest import ISO_RE, assert_error
from test_models import create_model, make_creator, make_users

LIST_PATHS = ("/api/notifications", "/api/users/me/notifications")


def add_notifications(server, uid, n, kind="model_liked", read=False, start=None):
    """n notifications of uid, one ms apart (the last is the newest); their ids, oldest first."""
    start = start or int(time.time() * 1000) - 10000
    flag = "TRUE" if read else "FALSE"
    values = ", ".join(
        f"({uid}, '{kind}', 'Title {i}', 'Message {i}', '/model/{i + 1}', {flag}, {start + i})" for i in range(n))
    rows = server.sql("INSERT INTO notifications (user_id, type, title, message, action_url, is_read, created_at)"
                      f" VALUES {values} RETURNING id")
    return sorted(int(r[0]) for r in rows)


def unread(server, uid):
    return int(server.scalar(f"SELECT COUNT(*) FROM notifications WHERE user_id = {uid} AND is_read = FALSE"))


@pytest.mark.parametrize("path", LIST_PATHS)
def test_list_has_the_guides_body_newest_first(server, path):
    me = make_users(server, 1)[0]
    ids = add_notifications(server, me.id, 3)
    add_notifications(server, me.id, 1, kind="new_follower", read=True, start=int(time.time() * 1000) - 20000)
    r = server.get(path, headers=me.h)
    assert r.status_code == 200, r.text
    b = r.json()
    assert set(b) == {"notifications", "unread_count", "total", "page", "limit", "pages"}
    assert b["unread_count"] == 3 and b["total"] == 4 and b["page"] == 1 and b["limit"] == 20 and b["pages"] == 1
    assert [n["id"] for n in b["notifications"][:3]] == list(reversed(ids))
    n = b["notifications"][0]
    assert set(n) == {"id", "type", "title", "message", "is_read", "created_at", "action_url"}
    assert n["type"] == "model_liked" and n["title"] == "Title 2" and n["message"] == "Message 2"
    assert n["is_read"] is False and n["action_url"] == "/model/3" and ISO_RE.match(n["created_at"])
    assert b["notifications"][3]["type"] == "new_follower" and b["notifications"][3]["is_read"] is True


def test_list_is_the_callers_own(server):
    me, other = make_users(server, 2)
    add_notifications(server, other.id, 4)
    mine = add_notifications(server, me.id, 1)
    b = server.get("/api/notifications", headers=me.h).json()
    assert [n["id"] for n in b["notifications"]] == mine and b["total"] == 1 and b["unread_count"] == 1
    empty = make_users(server, 1)[0]
    b = server.get("/api/notifications", headers=empty.h).json()
    assert b["notifications"] == [] and b["total"] == 0 and b["unread_count"] == 0 and b["pages"] == 0
    for path in LIST_PATHS:
        assert_error(server.get(path), 401, "UNAUTHORIZED")


def test_list_pages_and_the_unread_filter(server):
    me = make_users(server, 1)[0]
    read_ids = add_notifications(server, me.id, 3, read=True, start=int(time.time() * 1000) - 60000)
    unread_ids = add_notifications(server, me.id, 4)
    seen = []
    for page in (1, 2, 3):
        b = server.get("/api/notifications", params={"page": page, "limit": 3}, headers=me.h).json()
        assert b["total"] == 7 and b["pages"] == 3 and b["unread_count"] == 4 and b["limit"] == 3
        seen += [n["id"] for n in b["notifications"]]
    assert seen == list(reversed(unread_ids)) + list(reversed(read_ids))
    b = server.get("/api/notifications", params={"unread": "true"}, headers=me.h).json()
    assert [n["id"] for n in b["notifications"]] == list(reversed(unread_ids))
    assert b["total"] == 4 and b["unread_count"] == 4
    b = server.get("/api/notifications", params={"unread": "false", "limit": 2}, headers=me.h).json()
    assert b["total"] == 7 and len(b["notifications"]) == 2 and b["pages"] == 4
    b = server.get("/api/notifications", params={"page": 50}, headers=me.h).json()
    assert b["notifications"] == [] and b["total"] == 7
    assert server.get("/api/notifications", params={"limit": 500}, headers=me.h).json()["limit"] == 100


@pytest.mark.parametrize("params,field", [
    ({"page": 0}, "page"), ({"limit": 0}, "limit"), ({"page": "two"}, "page"),
    ({"unread": "maybe"}, "unread"), ({"page": [1, 2]}, "page"), ({"unread": "x" * 5000}, "unread"),
])
def test_list_validation(server, params, field):
    me = make_users(server, 1)[0]
    assert_error(server.get("/api/notifications", params=params, headers=me.h), 422, "VALIDATION_ERROR", field)


def test_mark_one_read_is_owner_only_and_idempotent(server):
    me, other = make_users(server, 2)
    mine = add_notifications(server, me.id, 2)
    theirs = add_notifications(server, other.id, 1)
    r = server.put(f"/api/notifications/{mine[0]}/read", headers=me.h)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["unread_count"] == 1
    assert b["notification"]["id"] == mine[0] and b["notification"]["is_read"] is True
    assert set(b["notification"]) == {"id", "type", "title", "message", "is_read", "created_at", "action_url"}
    # again: the same answer
    r = server.put(f"/api/notifications/{mine[0]}/read", headers=me.h)
    assert r.status_code == 200 and r.json()["unread_count"] == 1
    # IDOR: another user's notification looks missing, and stays unread
    assert_error(server.put(f"/api/notifications/{theirs[0]}/read", headers=me.h), 404, "NOT_FOUND")
    assert unread(server, other.id) == 1
    assert_error(server.put("/api/notifications/999999999/read", headers=me.h), 404, "NOT_FOUND")
    assert_error(server.put("/api/notifications/abc/read", headers=me.h), 422, "VALIDATION_ERROR", "id")
    assert_error(server.put(f"/api/notifications/{mine[1]}/read"), 401, "UNAUTHORIZED")
    assert unread(server, me.id) == 1
    listed = server.get("/api/notifications", headers=me.h).json()
    assert {n["id"]: n["is_read"] for n in listed["notifications"]} == {mine[0]: True, mine[1]: False}
    assert listed["unread_count"] == 1


def test_mark_all_read_touches_only_the_callers(server):
    me, other = make_users(server, 2)
    add_notifications(server, me.id, 5)
    add_notifications(server, other.id, 3)
    r = server.put("/api/notifications/read-all", headers=me.h)
    assert r.status_code == 200, r.text
    assert r.json() == {"updated": 5, "unread_count": 0}
    assert unread(server, me.id) == 0 and unread(server, other.id) == 3
    r = server.put("/api/notifications/read-all", headers=me.h)
    assert r.json() == {"updated": 0, "unread_count": 0}
    assert server.get("/api/notifications", headers=me.h).json()["unread_count"] == 0
    assert_error(server.put("/api/notifications/read-all"), 401, "UNAUTHORIZED")


def test_mark_all_read_up_to_what_the_client_has_shown(server):
    me = make_users(server, 1)[0]
    shown = add_notifications(server, me.id, 3)
    later = add_notifications(server, me.id, 2, start=int(time.time() * 1000))
    r = server.put("/api/notifications/read-all", params={"up_to_id": shown[-1]}, headers=me.h)
    assert r.status_code == 200, r.text
    assert r.json() == {"updated": 3, "unread_count": 2}
    listed = server.get("/api/notifications", params={"unread": "true"}, headers=me.h).json()
    assert sorted(n["id"] for n in listed["notifications"]) == later
    for bad in ("0", "x", "-1"):
        assert_error(server.put("/api/notifications/read-all", params={"up_to_id": bad}, headers=me.h),
                     422, "VALIDATION_ERROR", "up_to_id")


def test_likes_comments_and_follows_notify_the_creator(server):
    creator = make_creator(server)
    fan = make_users(server, 1)[0]
    m = create_model(server, creator, approve=True)
    assert server.post(f"/api/models/{m['id']}/like", headers=fan.h).status_code == 200
    r = server.post(f"/api/models/{m['id']}/comments", json={"body": "Lovely topology"}, headers=fan.h)
    assert r.status_code == 201, r.text
    assert server.post(f"/api/users/{creator.id}/follow", headers=fan.h).status_code == 200
    b = server.get("/api/notifications", headers=creator.h).json()
    kinds = [n["type"] for n in b["notifications"]]
    assert sorted(kinds) == ["comment_received", "model_approved", "model_liked", "new_follower"]
    assert b["unread_count"] == 4
    by = {n["type"]: n for n in b["notifications"]}
    assert by["model_liked"]["action_url"] == f"/model/{m['id']}" and fan.username in by["model_liked"]["message"]
    assert by["comment_received"]["action_url"] == f"/model/{m['id']}"
    assert by["new_follower"]["action_url"] == f"/u/{fan.username}"
    # the fan got none of them
    assert server.get("/api/notifications", headers=fan.h).json()["total"] == 0
    # and the creator's own like does not notify them
    server.post(f"/api/models/{m['id']}/like", headers=creator.h)
    assert server.get("/api/notifications", headers=creator.h).json()["total"] == 4
