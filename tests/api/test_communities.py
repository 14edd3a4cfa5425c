"""Communities (issue 12, guide sections 8 and 13): the hub and its chat,
members, posts, reactions, comments, shares, reports and their moderation."""
import requests

from conftest import assert_error, uniq
from test_models import create_model, make_users, parallel, upload_image


# ---------------------------------------------------------------- helpers

def make_community(server, owner, approve=True, **body):
    body.setdefault("name", uniq("Comm"))
    body.setdefault("description", "A place for " + body["name"])
    r = server.post("/api/communities", json=body, headers=owner.h)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["status"] == "pending"
    if approve:
        r = server.put(f"/api/admin/communities/{c['id']}/approve", headers=server.admin_headers())
        assert r.status_code == 200, r.text
        c = r.json()
        assert c["status"] == "active"
    return c


def join(server, who, cid):
    r = server.post(f"/api/communities/{cid}/join", headers=who.h)
    assert r.status_code == 200, r.text
    return r.json()


def post(server, who, cid, **body):
    body.setdefault("content", "Hello " + uniq("p"))
    r = server.post(f"/api/communities/{cid}/posts", json=body, headers=who.h)
    assert r.status_code == 201, r.text
    return r.json()


def image_upload_id(server, who):
    r = requests.post(server.url + "/api/upload/image", headers=who.h,
                      files={"file": ("pic.png", __import__("test_models").png_bytes(), "application/octet-stream")},
                      timeout=60)
    assert r.status_code == 201, r.text
    return r.json()["upload_id"]


def community(server, cid, h=None):
    r = server.get(f"/api/communities/{cid}", headers=h or {})
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------- communities

def test_create_is_pending_until_approved(server):
    owner, other = make_users(server, 2)
    c = make_community(server, owner, approve=False, category="animation", rules="Be kind")
    assert c["owner"]["id"] == owner.id and c["members_count"] == 1 and c["posts_count"] == 0
    assert c["is_member"] is True and c["member_role"] == "owner"
    assert c["category"] == "animation" and c["rules"] == "Be kind" and c["approved_at"] is None
    # invisible to others and to the public list while pending
    assert_error(server.get(f"/api/communities/{c['id']}", headers=other.h), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/communities/{c['id']}"), 404, "NOT_FOUND")
    ids = [x["id"] for x in server.get("/api/communities", params={"search": c["name"]}).json()["items"]]
    assert c["id"] not in ids
    assert_error(server.post(f"/api/communities/{c['id']}/join", headers=other.h), 404, "NOT_FOUND")
    # the owner sees it, also under joined=true
    assert community(server, c["id"], owner.h)["status"] == "pending"
    mine = server.get("/api/communities", params={"joined": "true"}, headers=owner.h).json()["items"]
    assert [x["id"] for x in mine] == [c["id"]]
    # approved: listed and public
    r = server.put(f"/api/admin/communities/{c['id']}/approve", headers=server.admin_headers())
    assert r.status_code == 200 and r.json()["status"] == "active" and r.json()["approved_at"]
    assert community(server, c["id"])["status"] == "active"
    ids = [x["id"] for x in server.get("/api/communities", params={"search": c["name"]}).json()["items"]]
    assert ids == [c["id"]]
    n = int(server.scalar(f"SELECT COUNT(*) FROM notifications WHERE user_id = {owner.id} AND type = 'community_approved'"))
    assert n == 1


def test_admin_creates_active(server):
    r = server.post("/api/communities", json={"name": uniq("AdminComm")}, headers=server.admin_headers())
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "active"
    r = server.post("/api/admin/communities", json={"name": uniq("AdminComm2"), "category": "help"},
                    headers=server.admin_headers())
    assert r.status_code == 201 and r.json()["status"] == "active" and r.json()["category"] == "help"


def test_create_validation_and_limits(server):
    owner, = make_users(server, 1)
    r = server.post("/api/communities", json={}, headers=owner.h)
    assert_error(r, 422, "VALIDATION_ERROR", "name")
    r = server.post("/api/communities", json={"name": "ab", "category": "nope", "description": "x" * 1001},
                    headers=owner.h)
    body = assert_error(r, 422, "VALIDATION_ERROR")
    assert {"name", "category", "description"} <= set(body["field_errors"])
    assert_error(server.post("/api/communities", json={"name": "x" * 61}, headers=owner.h), 422, "VALIDATION_ERROR", "name")
    assert_error(server.post("/api/communities", json={"name": uniq("C")}), 401, "UNAUTHORIZED")
    # names are unique whatever their case
    name = uniq("Dup")
    make_community(server, owner, approve=False, name=name)
    assert_error(server.post("/api/communities", json={"name": name.upper()}, headers=owner.h), 409, "CONFLICT", "name")
    # at most five pending at once
    for _ in range(4):
        make_community(server, owner, approve=False)
    assert_error(server.post("/api/communities", json={"name": uniq("C")}, headers=owner.h), 409, "CONFLICT")
    # mass assignment: status and counts are not the caller's to set
    other, = make_users(server, 1)
    r = server.post("/api/communities", json={"name": uniq("C"), "status": "active", "members_count": 99,
                                              "owner_id": owner.id}, headers=other.h)
    assert r.status_code == 201 and r.json()["status"] == "pending"
    assert r.json()["members_count"] == 1 and r.json()["owner"]["id"] == other.id


def test_list_search_category_sort_and_paging(server):
    owner, a, b = make_users(server, 3)
    tag = uniq("zz").lower()
    c1 = make_community(server, owner, name=f"{tag} one", category="rigging")
    c2 = make_community(server, owner, name=f"{tag} two", category="vehicles")
    c3 = make_community(server, owner, name=f"{tag} three", category="rigging", description="other words")
    join(server, a, c3["id"])
    join(server, b, c3["id"])
    join(server, a, c2["id"])
    r = server.get("/api/communities", params={"search": tag.upper()})
    assert r.status_code == 200
    page = r.json()
    assert set(page) >= {"items", "total", "page", "limit", "pages"}
    assert page["total"] == 3 and [x["id"] for x in page["items"]] == [c3["id"], c2["id"], c1["id"]]
    assert "is_member" not in page["items"][0]
    r = server.get("/api/communities", params={"search": tag, "category": "rigging", "sort": "newest"}, headers=a.h)
    items = r.json()["items"]
    assert [x["id"] for x in items] == [c3["id"], c1["id"]]
    assert items[0]["is_member"] is True and items[1]["is_member"] is False
    r = server.get("/api/communities", params={"search": tag, "limit": 2, "page": 2, "sort": "name"})
    assert r.json()["total"] == 3 and r.json()["pages"] == 2 and [x["id"] for x in r.json()["items"]] == [c2["id"]]
    joined = server.get("/api/communities", params={"joined": "true", "search": tag}, headers=a.h).json()
    assert {x["id"] for x in joined["items"]} == {c2["id"], c3["id"]}
    assert_error(server.get("/api/communities", params={"joined": "true"}), 401, "UNAUTHORIZED")
    assert_error(server.get("/api/communities", params={"category": "bogus"}), 422, "VALIDATION_ERROR", "category")
    assert_error(server.get("/api/communities", params={"sort": "x"}), 422, "VALIDATION_ERROR", "sort")
    assert_error(server.get("/api/communities", params={"search": "x" * 101}), 422, "VALIDATION_ERROR", "search")
    assert server.get("/api/communities", params={"search": "100%_\\"}).status_code == 200
    assert server.get("/api/communities", params={"limit": 1000}).json()["limit"] == 100


def test_join_leave_idempotent_and_counts_exact(server):
    owner, = make_users(server, 1)
    users = make_users(server, 8)
    c = make_community(server, owner)
    cid = c["id"]
    r = join(server, users[0], cid)
    assert r == {"community_id": cid, "is_member": True, "members_count": 2}
    assert join(server, users[0], cid)["members_count"] == 2  # twice: no change
    # concurrently, each user twice
    parallel(lambda u: server.post(f"/api/communities/{cid}/join", headers=u.h).status_code, users * 2)
    assert community(server, cid)["members_count"] == 9
    m = server.get(f"/api/communities/{cid}/members", params={"limit": 100}).json()
    assert m["total"] == 9 and m["items"][0]["user"]["id"] == owner.id and m["items"][0]["role"] == "owner"
    assert {x["user"]["id"] for x in m["items"]} == {owner.id} | {u.id for u in users}
    assert set(m["items"][1]["user"]) == {"id", "username", "full_name", "avatar_url", "is_verified"}
    # leave, by both paths, twice
    r = server.delete(f"/api/communities/{cid}/leave", headers=users[0].h)
    assert r.status_code == 200 and r.json() == {"community_id": cid, "is_member": False, "members_count": 8}
    assert server.delete(f"/api/communities/{cid}/leave", headers=users[0].h).json()["members_count"] == 8
    assert server.delete(f"/api/communities/{cid}/join", headers=users[1].h).json()["members_count"] == 7
    parallel(lambda u: server.delete(f"/api/communities/{cid}/leave", headers=u.h).status_code, users[2:] * 2)
    assert community(server, cid)["members_count"] == 1
    assert community(server, cid, users[2].h)["is_member"] is False
    # the owner stays
    assert_error(server.delete(f"/api/communities/{cid}/leave", headers=owner.h), 409, "CONFLICT")
    assert_error(server.post(f"/api/communities/{cid}/join"), 401, "UNAUTHORIZED")
    assert_error(server.post("/api/communities/999999999/join", headers=owner.h), 404, "NOT_FOUND")
    assert_error(server.get("/api/communities/0"), 422, "VALIDATION_ERROR")
    # paging of members
    p = server.get(f"/api/communities/{cid}/members", params={"limit": 1, "page": 2}).json()
    assert p["total"] == 1 and p["items"] == []


# ---------------------------------------------------------------- posts

def test_posts_members_only_and_kinds(server):
    owner, member, outsider = make_users(server, 3, creator=True)
    c = make_community(server, owner)
    cid = c["id"]
    join(server, member, cid)
    assert_error(server.post(f"/api/communities/{cid}/posts", json={"content": "hi"}, headers=outsider.h),
                 403, "FORBIDDEN")
    assert_error(server.post(f"/api/communities/{cid}/posts", json={"content": "hi"}), 401, "UNAUTHORIZED")
    # text
    t = post(server, member, cid, content="Just text")
    assert t["type"] == "text" and t["content"] == "Just text" and t["images"] == [] and t["model"] is None
    assert t["author"]["id"] == member.id and t["reactions_count"] == 0 and t["my_reactions"] == []
    assert t["share_url"].endswith(f"/community/{cid}?post={t['id']}")
    # images: own uploads only
    up1, up2 = image_upload_id(server, member), image_upload_id(server, member)
    i = post(server, member, cid, content="", image_upload_ids=[up1, up2])
    assert i["type"] == "image" and [x["upload_id"] for x in i["images"]] == [up1, up2]
    assert i["images"][0]["url"].startswith("http") and "/files/images/" in i["images"][0]["url"]
    foreign = image_upload_id(server, outsider)
    r = server.post(f"/api/communities/{cid}/posts", json={"image_upload_ids": [foreign]}, headers=member.h)
    assert_error(r, 422, "VALIDATION_ERROR", "image_upload_ids")
    r = server.post(f"/api/communities/{cid}/posts", json={"image_upload_ids": [up1, up1]}, headers=member.h)
    assert_error(r, 422, "VALIDATION_ERROR", "image_upload_ids")
    r = server.post(f"/api/communities/{cid}/posts", json={"image_upload_ids": [up1] * 5}, headers=member.h)
    assert_error(r, 422, "VALIDATION_ERROR", "image_upload_ids")
    # models: public ones or one's own
    public = create_model(server, outsider, approve=True)
    hidden = create_model(server, outsider)
    mine = create_model(server, member)
    m = post(server, member, cid, content="Look", model_id=public["id"])
    assert m["type"] == "model" and m["model"]["id"] == public["id"] and m["model"]["title"] == public["title"]
    r = server.post(f"/api/communities/{cid}/posts", json={"model_id": hidden["id"]}, headers=member.h)
    assert_error(r, 422, "VALIDATION_ERROR", "model_id")
    own = post(server, member, cid, model_id=mine["id"])
    post(server, member, cid, content="after the models")  # the model posts are not first in the list
    # someone else does not see a model that is not public
    posts = server.get(f"/api/communities/{cid}/posts", headers=outsider.h).json()["items"]
    by_id = {p["id"]: p for p in posts}
    assert by_id[own["id"]]["model"] is None and by_id[own["id"]]["model_id"] == mine["id"]
    assert by_id[m["id"]]["model"]["id"] == public["id"]
    # validation
    assert_error(server.post(f"/api/communities/{cid}/posts", json={"content": ""}, headers=member.h),
                 422, "VALIDATION_ERROR", "content")
    assert_error(server.post(f"/api/communities/{cid}/posts", json={"content": "x" * 5001}, headers=member.h),
                 422, "VALIDATION_ERROR", "content")
    assert community(server, cid)["posts_count"] == 5


def test_post_filters_and_paging(server):
    owner, a, b = make_users(server, 3)
    cid = make_community(server, owner)["id"]
    join(server, a, cid)
    join(server, b, cid)
    p1 = post(server, a, cid)
    p2 = post(server, a, cid, image_upload_ids=[image_upload_id(server, a)])
    p3 = post(server, a, cid)
    for who in (a, b):
        assert server.post(f"/api/posts/{p1['id']}/react", json={"type": "fire"}, headers=who.h).status_code == 200
    recent = server.get(f"/api/communities/{cid}/posts").json()
    assert recent["total"] == 3 and [p["id"] for p in recent["items"]] == [p3["id"], p2["id"], p1["id"]]
    popular = server.get(f"/api/communities/{cid}/posts", params={"filter": "popular"}).json()
    assert popular["items"][0]["id"] == p1["id"] and popular["items"][0]["reactions"] == {"fire": 2}
    media = server.get(f"/api/communities/{cid}/posts", params={"filter": "media"}).json()
    assert media["total"] == 1 and [p["id"] for p in media["items"]] == [p2["id"]]
    page = server.get(f"/api/communities/{cid}/posts", params={"limit": 2, "page": 2}).json()
    assert page["pages"] == 2 and [p["id"] for p in page["items"]] == [p1["id"]]
    assert "my_reactions" not in page["items"][0]
    mine = server.get(f"/api/communities/{cid}/posts", params={"filter": "popular"}, headers=b.h).json()
    assert mine["items"][0]["my_reactions"] == ["fire"]
    assert_error(server.get(f"/api/communities/{cid}/posts", params={"filter": "old"}), 422, "VALIDATION_ERROR", "filter")
    assert_error(server.get("/api/communities/999999999/posts"), 404, "NOT_FOUND")


def test_pending_community_posts_are_hidden(server):
    owner, other = make_users(server, 2)
    cid = make_community(server, owner, approve=False)["id"]
    p = post(server, owner, cid)
    assert_error(server.get(f"/api/communities/{cid}/posts", headers=other.h), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/communities/{cid}/members"), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/posts/{p['id']}/comments", headers=other.h), 404, "NOT_FOUND")
    assert_error(server.post(f"/api/posts/{p['id']}/share", headers=other.h), 404, "NOT_FOUND")
    assert_error(server.post(f"/api/posts/{p['id']}/report", json={"reason": "spam"}, headers=other.h), 404, "NOT_FOUND")
    assert server.get(f"/api/communities/{cid}/posts", headers=server.admin_headers()).json()["total"] == 1


def test_reactions_one_per_kind_idempotent(server):
    owner, a, b, outsider = make_users(server, 4)
    cid = make_community(server, owner)["id"]
    join(server, a, cid)
    join(server, b, cid)
    pid = post(server, owner, cid)["id"]
    r = server.post(f"/api/posts/{pid}/react", json={"type": "like"}, headers=a.h)
    assert r.status_code == 200
    assert r.json()["reactions"] == {"like": 1} and r.json()["reactions_count"] == 1 and r.json()["reacted"] is True
    assert server.post(f"/api/posts/{pid}/react", json={"type": "like"}, headers=a.h).json()["reactions_count"] == 1
    r = server.post(f"/api/posts/{pid}/react", json={"type": "love"}, headers=a.h)
    assert r.json()["reactions"] == {"like": 1, "love": 1} and sorted(r.json()["my_reactions"]) == ["like", "love"]
    parallel(lambda w: server.post(f"/api/posts/{pid}/react", headers=w.h).status_code, [b] * 6)  # default like
    r = server.delete(f"/api/posts/{pid}/react", params={"type": "love"}, headers=a.h)
    assert r.status_code == 200 and r.json()["reactions"] == {"like": 2} and r.json()["reactions_count"] == 2
    assert r.json()["my_reactions"] == ["like"] and r.json()["reacted"] is False
    assert server.delete(f"/api/posts/{pid}/react", params={"type": "love"}, headers=a.h).json()["reactions_count"] == 2
    assert server.delete(f"/api/posts/{pid}/react", headers=b.h).json()["reactions_count"] == 1
    assert_error(server.post(f"/api/posts/{pid}/react", json={"type": "meh"}, headers=a.h), 422, "VALIDATION_ERROR", "type")
    assert_error(server.post(f"/api/posts/{pid}/react", json={}, headers=outsider.h), 403, "FORBIDDEN")
    assert_error(server.post("/api/posts/999999999/react", json={}, headers=a.h), 404, "NOT_FOUND")
    assert int(server.scalar(f"SELECT reactions_count FROM community_posts WHERE id = {pid}")) == 1


def test_comments_members_only_counted_and_paged(server):
    owner, a, outsider = make_users(server, 3)
    cid = make_community(server, owner)["id"]
    join(server, a, cid)
    pid = post(server, owner, cid)["id"]
    r = server.post(f"/api/posts/{pid}/comments", json={"content": "First!"}, headers=a.h)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["content"] == "First!" and c["author"]["id"] == a.id and c["comments_count"] == 1
    parallel(lambda i: server.post(f"/api/posts/{pid}/comments", json={"content": f"c{i}"}, headers=a.h).status_code,
             range(5))
    assert_error(server.post(f"/api/posts/{pid}/comments", json={"content": "x"}, headers=outsider.h), 403, "FORBIDDEN")
    assert_error(server.post(f"/api/posts/{pid}/comments", json={"content": ""}, headers=a.h),
                 422, "VALIDATION_ERROR", "content")
    assert_error(server.post(f"/api/posts/{pid}/comments", json={"content": "x" * 2001}, headers=a.h),
                 422, "VALIDATION_ERROR", "content")
    page = server.get(f"/api/posts/{pid}/comments", params={"limit": 4}).json()
    assert page["total"] == 6 and page["pages"] == 2 and page["items"][0]["id"] == c["id"]
    posts = server.get(f"/api/communities/{cid}/posts").json()["items"]
    assert posts[0]["comments_count"] == 6


def test_share_counts_once_per_user(server):
    owner, a = make_users(server, 2)
    cid = make_community(server, owner)["id"]
    pid = post(server, owner, cid)["id"]
    r = server.post(f"/api/posts/{pid}/share", headers=a.h)
    assert r.status_code == 200 and r.json()["shares_count"] == 1
    assert r.json()["share_url"].endswith(f"/community/{cid}?post={pid}")
    assert server.post(f"/api/posts/{pid}/share", headers=a.h).json()["shares_count"] == 1
    assert server.post(f"/api/posts/{pid}/share", headers=owner.h).json()["shares_count"] == 2
    assert_error(server.post(f"/api/posts/{pid}/share"), 401, "UNAUTHORIZED")


# ---------------------------------------------------------------- chat

def test_hub_chat(server):
    a, = make_users(server, 1)
    text = uniq("hello hub")
    r = server.post("/api/communities/messages", json={"content": text}, headers=a.h)
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["content"] == text and m["community_id"] is None and m["user"]["id"] == a.id
    page = server.get("/api/communities/messages").json()
    assert page["items"][0]["id"] == m["id"]
    after = server.get("/api/communities/messages", params={"after_id": m["id"]}).json()
    assert after["total"] == 0 and after["items"] == []
    assert_error(server.post("/api/communities/messages", json={"content": "hi"}), 401, "UNAUTHORIZED")
    assert_error(server.post("/api/communities/messages", json={"content": ""}, headers=a.h),
                 422, "VALIDATION_ERROR", "content")
    assert_error(server.post("/api/communities/messages", json={"content": "x" * 1001}, headers=a.h),
                 422, "VALIDATION_ERROR", "content")


def test_community_chat_members_only(server):
    owner, a, outsider = make_users(server, 3)
    cid = make_community(server, owner)["id"]
    join(server, a, cid)
    r = server.post("/api/communities/messages", json={"content": "in here", "community_id": cid}, headers=a.h)
    assert r.status_code == 201 and r.json()["community_id"] == cid
    mid = r.json()["id"]
    r = server.get("/api/communities/messages", params={"community_id": cid}, headers=owner.h)
    assert r.status_code == 200 and [m["id"] for m in r.json()["items"]] == [mid]
    assert mid not in [m["id"] for m in server.get("/api/communities/messages", params={"limit": 100}).json()["items"]]
    assert_error(server.get("/api/communities/messages", params={"community_id": cid}, headers=outsider.h),
                 403, "FORBIDDEN")
    assert_error(server.get("/api/communities/messages", params={"community_id": cid}), 401, "UNAUTHORIZED")
    assert_error(server.post("/api/communities/messages", json={"content": "x", "community_id": cid},
                             headers=outsider.h), 403, "FORBIDDEN")
    assert server.get("/api/communities/messages", params={"community_id": cid},
                      headers=server.admin_headers()).status_code == 200
    assert_error(server.get("/api/communities/messages", params={"community_id": 999999999}, headers=a.h),
                 404, "NOT_FOUND")


# ---------------------------------------------------------------- reports and moderation

def test_report_and_resolve(server):
    owner, author, reporter, reporter2 = make_users(server, 4)
    cid = make_community(server, owner)["id"]
    join(server, author, cid)
    pid = post(server, author, cid, content="bad stuff")["id"]
    assert_error(server.post(f"/api/posts/{pid}/report", json={}, headers=reporter.h), 422, "VALIDATION_ERROR", "reason")
    assert_error(server.post(f"/api/posts/{pid}/report", json={"reason": "spam"}, headers=author.h),
                 422, "VALIDATION_ERROR")
    r = server.post(f"/api/posts/{pid}/report", json={"reason": "spam", "details": "ads"}, headers=reporter.h)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = server.post(f"/api/posts/{pid}/report", json={"reason": "other"}, headers=reporter.h)
    assert r.status_code == 200 and r.json()["id"] == rid
    rid2 = server.post(f"/api/posts/{pid}/report", json={"reason": "harassment"}, headers=reporter2.h).json()["id"]
    adm = server.admin_headers()
    items = server.get("/api/admin/reports", params={"limit": 100}, headers=adm).json()["items"]
    rep = next(x for x in items if x["id"] == rid)
    assert rep["reason"] == "spam" and rep["details"] == "ads" and rep["status"] == "open"
    assert rep["post"]["id"] == pid and rep["post"]["author"]["id"] == author.id and rep["reporter"]["id"] == reporter.id
    assert_error(server.get("/api/admin/reports", headers=reporter.h), 403, "FORBIDDEN")
    assert_error(server.put(f"/api/admin/reports/{rid}/resolve", json={"action": "remove"}, headers=reporter.h),
                 403, "FORBIDDEN")
    assert_error(server.put(f"/api/admin/reports/{rid}/resolve", json={"action": "nuke"}, headers=adm),
                 422, "VALIDATION_ERROR", "action")
    # remove: the post goes, both reports close
    r = server.put(f"/api/admin/reports/{rid}/resolve", json={"action": "remove", "note": "spam"}, headers=adm)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved" and r.json()["action"] == "remove" and r.json()["post"]["is_removed"]
    assert_error(server.put(f"/api/admin/reports/{rid2}/resolve", json={"action": "dismiss"}, headers=adm),
                 409, "CONFLICT")
    assert_error(server.get(f"/api/posts/{pid}/comments"), 404, "NOT_FOUND")
    assert server.get(f"/api/communities/{cid}/posts").json()["total"] == 0
    assert community(server, cid)["posts_count"] == 0
    assert_error(server.put("/api/admin/reports/999999999/resolve", json={"action": "dismiss"}, headers=adm),
                 404, "NOT_FOUND")
    resolved = server.get("/api/admin/reports", params={"status": "resolved", "limit": 100}, headers=adm).json()
    assert {rid, rid2} <= {x["id"] for x in resolved["items"]}


def test_resolve_dismiss_and_ban(server):
    owner, author, reporter = make_users(server, 3)
    cid = make_community(server, owner)["id"]
    join(server, author, cid)
    p1 = post(server, author, cid)["id"]
    p2 = post(server, author, cid)["id"]
    adm = server.admin_headers()
    r1 = server.post(f"/api/posts/{p1}/report", json={"reason": "spam"}, headers=reporter.h).json()["id"]
    r2 = server.post(f"/api/posts/{p2}/report", json={"reason": "harassment"}, headers=reporter.h).json()["id"]
    r = server.put(f"/api/admin/reports/{r1}/resolve", json={"action": "dismiss"}, headers=adm)
    assert r.status_code == 200 and r.json()["action"] == "dismiss" and not r.json()["post"]["is_removed"]
    assert server.get(f"/api/communities/{cid}/posts").json()["total"] == 2
    # parallel resolutions act once
    codes = parallel(lambda _: server.put(f"/api/admin/reports/{r2}/resolve", json={"action": "ban"},
                                          headers=adm).status_code, range(4))
    assert sorted(codes) == [200, 409, 409, 409]
    assert server.scalar(f"SELECT is_banned FROM users WHERE id = {author.id}") in ("1", "t", "True", "true")
    # the sessions are revoked (401), and any new token is refused (403)
    assert server.get("/api/users/me", headers=author.h).status_code in (401, 403)
    fresh = {"Authorization": "Bearer " + server.token(author.id)}
    assert_error(server.get("/api/users/me", headers=fresh), 403, "FORBIDDEN")
    # a banned author's posts are hidden while the ban lasts (the removed
    # one is gone for good; the other is still counted)
    assert server.get(f"/api/communities/{cid}/posts").json()["total"] == 0
    assert community(server, cid)["posts_count"] == 1
    assert server.post(f"/api/admin/users/{author.id}/unban", headers=adm).status_code == 200
    assert server.get(f"/api/communities/{cid}/posts").json()["total"] == 1


def test_admin_community_crud(server):
    adm = server.admin_headers()
    owner, = make_users(server, 1)
    c = make_community(server, owner, approve=False)
    lst = server.get("/api/admin/communities", params={"status": "pending", "search": c["name"]}, headers=adm).json()
    assert [x["id"] for x in lst["items"]] == [c["id"]]
    assert_error(server.get("/api/admin/communities", headers=owner.h), 403, "FORBIDDEN")
    assert_error(server.get("/api/admin/communities", params={"status": "x"}, headers=adm), 422, "VALIDATION_ERROR")
    assert server.get(f"/api/admin/communities/{c['id']}", headers=adm).json()["status"] == "pending"
    r = server.put(f"/api/admin/communities/{c['id']}", json={"description": "New words", "category": "help"},
                   headers=adm)
    assert r.status_code == 200 and r.json()["description"] == "New words" and r.json()["category"] == "help"
    assert r.json()["name"] == c["name"] and r.json()["status"] == "pending"
    r = server.put(f"/api/admin/communities/{c['id']}", json={"status": "active"}, headers=adm)
    assert r.json()["status"] == "active" and r.json()["approved_at"]
    other = make_community(server, owner, approve=False)
    assert_error(server.put(f"/api/admin/communities/{c['id']}", json={"name": other["name"]}, headers=adm),
                 409, "CONFLICT", "name")
    assert_error(server.put(f"/api/admin/communities/{c['id']}", json={"category": "x"}, headers=adm),
                 422, "VALIDATION_ERROR", "category")
    assert_error(server.put("/api/admin/communities/999999999", json={}, headers=adm), 404, "NOT_FOUND")
    # delete takes everything with it
    pid = post(server, owner, c["id"])["id"]
    r = server.delete(f"/api/admin/communities/{c['id']}", headers=adm)
    assert r.status_code == 200 and r.json()["id"] == c["id"]
    assert_error(server.get(f"/api/communities/{c['id']}", headers=adm), 404, "NOT_FOUND")
    assert int(server.scalar(f"SELECT COUNT(*) FROM community_posts WHERE id = {pid}")) == 0
    assert_error(server.delete(f"/api/admin/communities/{c['id']}", headers=adm), 404, "NOT_FOUND")
    assert_error(server.put("/api/admin/communities/999999999/approve", headers=adm), 404, "NOT_FOUND")


def test_post_images_survive_the_upload_sweep(server):
    """An image in a post is in use: the foreign key keeps it from the
    expired-upload sweep, which removes an unused one."""
    from conftest import finish_server, start_server
    from test_hygiene import run_sweep
    s = start_server(server.engine, label=f"comm-sweep-{server.engine}", env={"UPLOAD_TTL_HOURS": "0"})
    try:
        owner, = make_users(s, 1)
        r = s.post("/api/communities", json={"name": uniq("Sweep")}, headers=owner.h)
        cid = r.json()["id"]
        used, unused = image_upload_id(s, owner), image_upload_id(s, owner)
        post(s, owner, cid, image_upload_ids=[used])
        import time
        time.sleep(1.0)
        run_sweep(s, UPLOAD_TTL_HOURS="0.0002")  # 0.72 s
        left = {int(row[0]) for row in s.sql(f"SELECT id FROM uploads WHERE id IN ({used}, {unused})")}
        assert left == {used}
        p = s.get(f"/api/communities/{cid}/posts", headers=owner.h).json()["items"][0]
        assert [i["upload_id"] for i in p["images"]] == [used]
    finally:
        finish_server(s)
