"""Follows (issue 12, point 1): POST/DELETE /api/users/{id}/follow,
idempotent, no self-follow, 404 for missing, banned and deleted users;
exact counters under concurrency; the creator dashboard's followers of the
day; the new_follower notification; the follower lists (the caller's and
any user's), paged; is_following on public profiles and on a model's
creator."""
import concurrent.futures
import datetime
import time

import pytest
import requests

from conftest import ISO_RE, assert_error
from test_models import PUBLIC_USER_FIELDS, create_model, make_creator, make_users, notif_count


def follow(server, who, target_id):
    return server.post(f"/api/users/{target_id}/follow", headers=who.h)


def unfollow(server, who, target_id):
    return server.delete(f"/api/users/{target_id}/follow", headers=who.h)


def counts(server, uid):
    row = server.sql(f"SELECT followers_count, following_count FROM users WHERE id = {uid}")[0]
    return int(row[0]), int(row[1])


def today_followers(server, uid):
    day = int(time.time() // 86400)
    v = server.scalar(f"SELECT followers FROM creator_daily WHERE creator_id = {uid} AND day = {day}")
    return int(v) if v not in (None, "") else 0


def ban(server, uid):
    server.sql(f"UPDATE users SET is_banned = TRUE WHERE id = {uid}")


# ---------------------------------------------------------------- follow / unfollow

def test_follow_and_unfollow_are_idempotent_with_exact_counts(server):
    a, b = make_users(server, 2)
    r = follow(server, a, b.id)
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": b.id, "is_following": True, "followers_count": 1, "following_count": 1}
    assert counts(server, b.id) == (1, 0) and counts(server, a.id) == (0, 1)
    # again: nothing moves
    r = follow(server, a, b.id)
    assert r.status_code == 200, r.text
    assert r.json()["is_following"] is True and r.json()["followers_count"] == 1
    assert counts(server, b.id) == (1, 0) and counts(server, a.id) == (0, 1)
    r = unfollow(server, a, b.id)
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": b.id, "is_following": False, "followers_count": 0, "following_count": 0}
    r = unfollow(server, a, b.id)
    assert r.status_code == 200, r.text
    assert r.json()["is_following"] is False and r.json()["followers_count"] == 0
    assert counts(server, b.id) == (0, 0) and counts(server, a.id) == (0, 0)


def test_follow_counts_both_sides_of_several_users(server):
    a, b, c = make_users(server, 3)
    for who, target in ((a, b), (a, c), (b, c), (c, a)):
        assert follow(server, who, target.id).status_code == 200
    assert counts(server, a.id) == (1, 2)
    assert counts(server, b.id) == (1, 1)
    assert counts(server, c.id) == (2, 1)
    assert unfollow(server, a, c.id).json()["followers_count"] == 1
    assert counts(server, a.id) == (1, 1) and counts(server, c.id) == (1, 1)


def test_no_self_follow(server):
    a = make_users(server, 1)[0]
    assert_error(follow(server, a, a.id), 422, "VALIDATION_ERROR", "id")
    assert_error(unfollow(server, a, a.id), 422, "VALIDATION_ERROR", "id")
    assert counts(server, a.id) == (0, 0)
    assert int(server.scalar(f"SELECT COUNT(*) FROM follows WHERE follower_id = {a.id}")) == 0


def test_missing_banned_and_deleted_users_are_404(server):
    a, banned, gone = make_users(server, 3)
    ban(server, banned.id)
    server.sql(f"UPDATE users SET deleted_at = 1 WHERE id = {gone.id}")
    for target in (banned.id, gone.id, 999999999):
        assert_error(follow(server, a, target), 404, "NOT_FOUND")
        assert_error(unfollow(server, a, target), 404, "NOT_FOUND")
    assert counts(server, a.id) == (0, 0)
    assert_error(server.post("/api/users/abc/follow", headers=a.h), 422, "VALIDATION_ERROR", "id")


def test_follow_needs_a_signed_in_verified_user(server):
    target = make_users(server, 1)[0]
    assert_error(server.post(f"/api/users/{target.id}/follow"), 401, "UNAUTHORIZED")
    assert_error(server.delete(f"/api/users/{target.id}/follow"), 401, "UNAUTHORIZED")
    unverified = make_users(server, 1, verified=False)[0]
    assert_error(follow(server, unverified, target.id), 403, "EMAIL_NOT_VERIFIED")
    assert counts(server, target.id) == (0, 0)
    # a banned caller is refused everywhere
    banned = make_users(server, 1)[0]
    ban(server, banned.id)
    assert_error(follow(server, banned, target.id), 403, "FORBIDDEN")


def test_follows_are_exact_under_concurrency(server):
    target = make_users(server, 1)[0]
    fans = make_users(server, 12)

    def go(who):
        return requests.post(f"{server.url}/api/users/{target.id}/follow", headers=who.h, timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as ex:
        # each fan three times at once: one row each
        codes = list(ex.map(go, fans * 3))
    assert codes == [200] * 36
    assert counts(server, target.id) == (12, 0)
    assert int(server.scalar(f"SELECT COUNT(*) FROM follows WHERE followee_id = {target.id}")) == 12
    for f in fans:
        assert counts(server, f.id) == (0, 1)

    def undo(who):
        return requests.delete(f"{server.url}/api/users/{target.id}/follow", headers=who.h, timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as ex:
        codes = list(ex.map(undo, fans * 2))
    assert codes == [200] * 24
    assert counts(server, target.id) == (0, 0)


def test_mutual_follows_at_once_do_not_deadlock(server):
    users = make_users(server, 8)
    pairs = [(users[i], users[j]) for i in range(8) for j in range(8) if i != j]

    def go(p):
        who, target = p
        return requests.post(f"{server.url}/api/users/{target.id}/follow", headers=who.h, timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as ex:
        codes = list(ex.map(go, pairs))
    assert codes == [200] * len(pairs)
    for u in users:
        assert counts(server, u.id) == (7, 7)


def test_follow_feeds_the_creator_dashboard(server):
    creator = make_creator(server)
    fans = make_users(server, 3)
    for f in fans:
        assert follow(server, f, creator.id).status_code == 200
    follow(server, fans[0], creator.id)  # a repeat counts nothing
    assert today_followers(server, creator.id) == 3
    assert unfollow(server, fans[1], creator.id).status_code == 200
    unfollow(server, fans[1], creator.id)
    assert today_followers(server, creator.id) == 2
    d = server.get("/api/users/me/dashboard", params={"range": "7d"}, headers=creator.h)
    assert d.status_code == 200, d.text
    assert d.json()["metrics"]["followers"]["value"] == 2
    assert d.json()["metrics"]["followers"]["total"] == 2


def test_a_new_follower_notifies_once_a_day(server):
    a, b = make_users(server, 2)
    assert follow(server, a, b.id).status_code == 200
    assert notif_count(server, b.id, "new_follower") == 1
    assert notif_count(server, a.id, "new_follower") == 0
    n = server.get("/api/notifications", headers=b.h).json()["notifications"][0]
    assert n["type"] == "new_follower" and a.username in n["message"]
    assert n["action_url"] == f"/u/{a.username}" and n["is_read"] is False
    # repeat, unfollow and follow again: no second notification today
    follow(server, a, b.id)
    unfollow(server, a, b.id)
    follow(server, a, b.id)
    assert notif_count(server, b.id, "new_follower") == 1
    # another follower notifies
    c = make_users(server, 1)[0]
    follow(server, c, b.id)
    assert notif_count(server, b.id, "new_follower") == 2


# ---------------------------------------------------------------- lists

def test_my_followers_and_following_lists(server):
    me = make_users(server, 1)[0]
    fans = make_users(server, 5)
    idols = make_users(server, 3)
    for f in fans:
        assert follow(server, f, me.id).status_code == 200
        time.sleep(0.002)  # distinct follow times: newest first is checkable
    for i in idols:
        assert follow(server, me, i.id).status_code == 200
        time.sleep(0.002)
    follow(server, me, fans[4].id)  # I follow one of my fans back

    r = server.get("/api/users/me/followers", headers=me.h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "total", "page", "limit", "pages"}
    assert body["total"] == 5 and body["page"] == 1 and body["limit"] == 20 and body["pages"] == 1
    assert [u["id"] for u in body["items"]] == [f.id for f in reversed(fans)]
    first = body["items"][0]
    assert PUBLIC_USER_FIELDS <= set(first)
    assert ISO_RE.match(first["followed_at"])
    assert "email" not in first and "settings" not in first and "role" not in first
    # follow-back state: I follow fans[4] only
    assert {u["id"]: u["is_following"] for u in body["items"]} == {f.id: f is fans[4] for f in fans}

    r = server.get("/api/users/me/following", headers=me.h)
    assert r.status_code == 200, r.text
    assert [u["id"] for u in r.json()["items"]] == [fans[4].id] + [i.id for i in reversed(idols)]
    assert r.json()["total"] == 4 and all(u["is_following"] for u in r.json()["items"])
    assert_error(server.get("/api/users/me/followers"), 401, "UNAUTHORIZED")
    assert_error(server.get("/api/users/me/following"), 401, "UNAUTHORIZED")


def test_lists_page_through_every_follower_once(server):
    me = make_users(server, 1)[0]
    fans = make_users(server, 7)
    for f in fans:
        follow(server, f, me.id)
    seen = []
    for page in (1, 2, 3):
        r = server.get("/api/users/me/followers", params={"page": page, "limit": 3}, headers=me.h)
        assert r.status_code == 200, r.text
        b = r.json()
        assert b["total"] == 7 and b["pages"] == 3 and b["limit"] == 3 and b["page"] == page
        assert len(b["items"]) == (3 if page < 3 else 1)
        seen += [u["id"] for u in b["items"]]
    assert sorted(seen) == sorted(f.id for f in fans)
    r = server.get("/api/users/me/followers", params={"page": 9, "limit": 3}, headers=me.h)
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] == 7
    r = server.get("/api/users/me/followers", params={"limit": 1000}, headers=me.h)
    assert r.json()["limit"] == 100
    for bad in ({"page": 0}, {"limit": 0}, {"page": "x"}, {"page": [1, 2]}):
        assert_error(server.get("/api/users/me/followers", params=bad, headers=me.h), 422, "VALIDATION_ERROR")


def test_public_lists_of_any_user(server):
    star, viewer = make_users(server, 2)
    fans = make_users(server, 3)
    for f in fans:
        follow(server, f, star.id)
    follow(server, star, fans[0].id)
    follow(server, viewer, fans[1].id)
    r = server.get(f"/api/users/{star.id}/followers")
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 3
    assert sorted(u["id"] for u in r.json()["items"]) == sorted(f.id for f in fans)
    assert all("is_following" not in u for u in r.json()["items"])  # anonymous: no caller state
    # a signed-in viewer sees their own follow state of each listed user
    r = server.get(f"/api/users/{star.id}/followers", headers=viewer.h)
    assert {u["id"]: u["is_following"] for u in r.json()["items"]} == {
        fans[0].id: False, fans[1].id: True, fans[2].id: False}
    r = server.get(f"/api/users/{star.id}/following")
    assert r.status_code == 200 and [u["id"] for u in r.json()["items"]] == [fans[0].id]
    assert r.json()["total"] == 1
    assert_error(server.get("/api/users/999999999/followers"), 404, "NOT_FOUND")
    assert_error(server.get("/api/users/999999999/following"), 404, "NOT_FOUND")
    ban(server, star.id)
    assert_error(server.get(f"/api/users/{star.id}/followers"), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/users/{star.id}/following"), 404, "NOT_FOUND")
    bad = server.get(f"/api/users/{viewer.id}/followers", headers={"Authorization": "Bearer nope"})
    assert_error(bad, 401, "UNAUTHORIZED")


def test_banned_and_deleted_followers_leave_the_lists_and_their_totals(server):
    me = make_users(server, 1)[0]
    fans = make_users(server, 4)
    for f in fans:
        follow(server, f, me.id)
    ban(server, fans[0].id)
    server.sql(f"UPDATE users SET deleted_at = 1 WHERE id = {fans[1].id}")
    r = server.get("/api/users/me/followers", headers=me.h)
    assert r.json()["total"] == 2
    assert sorted(u["id"] for u in r.json()["items"]) == sorted([fans[2].id, fans[3].id])


# ---------------------------------------------------------------- is_following on profiles

def test_profiles_tell_a_signed_in_caller_whether_they_follow(server):
    a, b = make_users(server, 2)
    for path in (f"/api/users/{b.id}", f"/api/users/by-username/{b.username}"):
        r = server.get(path)
        assert r.status_code == 200 and "is_following" not in r.json()
        assert server.get(path, headers=a.h).json()["is_following"] is False
    follow(server, a, b.id)
    for path in (f"/api/users/{b.id}", f"/api/users/by-username/{b.username.upper()}"):
        r = server.get(path, headers=a.h)
        assert r.status_code == 200, r.text
        assert r.json()["is_following"] is True and r.json()["followers_count"] == 1
        assert server.get(path, headers=b.h).json()["is_following"] is False
    assert_error(server.get(f"/api/users/{b.id}", headers={"Authorization": "Bearer x"}), 401, "UNAUTHORIZED")


def test_model_creator_carries_is_following(server):
    c = make_creator(server)
    fan = make_users(server, 1)[0]
    m = create_model(server, c, approve=True)
    r = server.get(f"/api/models/{m['id']}/creator")
    assert r.status_code == 200 and "is_following" not in r.json()
    assert server.get(f"/api/models/{m['id']}/creator", headers=fan.h).json()["is_following"] is False
    follow(server, fan, c.id)
    r = server.get(f"/api/models/{m['id']}/creator", headers=fan.h)
    assert r.json()["is_following"] is True and r.json()["followers_count"] == 1
