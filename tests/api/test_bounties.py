"""Bounties (issue 14, point 1; guide sections 10 and 13): post, list with
filters, view, apply, and the commission flow accept -> deliver ->
(changes) -> complete; cancel; the admin's list, edit and delete."""
import datetime

from conftest import assert_error, uniq
from test_communities import image_upload_id
from test_models import create_model, make_users, parallel
from test_ws import open_ws, ping


def future(days=30):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_bounty(server, owner, **body):
    body.setdefault("title", uniq("Bounty"))
    body.setdefault("description", "Please model a low-poly castle for my game")
    body.setdefault("budget", 150)
    body.setdefault("deadline", future())
    r = server.post("/api/bounties", json=body, headers=owner.h)
    assert r.status_code == 201, r.text
    return r.json()


def apply(server, who, bid, **body):
    body.setdefault("message", "I have built many castles before, hire me")
    r = server.post(f"/api/bounties/{bid}/apply", json=body, headers=who.h)
    assert r.status_code == 201, r.text
    return r.json()


def get(server, bid, who=None):
    r = server.get(f"/api/bounties/{bid}", headers=who.h if who else {})
    assert r.status_code == 200, r.text
    return r.json()


def notes(server, uid, kind):
    return int(server.scalar(f"SELECT COUNT(*) FROM notifications WHERE user_id = {uid} AND type = '{kind}'"))


# ---------------------------------------------------------------- create and view

def test_create_and_view(server):
    owner, = make_users(server, 1)
    img = image_upload_id(server, owner)
    b = make_bounty(server, owner, budget="250.50", category="vehicles", reference_image_ids=[img])
    assert b["status"] == "open" and b["budget"] == 250.5 and b["currency"] == "USD"
    assert b["category"] == "vehicles" and b["applications_count"] == 0
    assert b["owner"]["id"] == owner.id and b["is_owner"] is True and b["has_applied"] is False
    assert [i["upload_id"] for i in b["images"]] == [img] and b["images"][0]["url"].startswith("http")
    assert b["thumbnail_url"] == b["images"][0]["url"]
    assert b["applications"] == [] and b["agreed_price"] is None and b["deadline"].endswith("Z")
    # anonymous: no applications, no caller's state
    pub = get(server, b["id"])
    assert "applications" not in pub and "is_owner" not in pub and pub["title"] == b["title"]
    assert_error(server.get("/api/bounties/999999999"), 404, "NOT_FOUND")


def test_create_validation(server):
    owner, other = make_users(server, 2)
    foreign = image_upload_id(server, other)
    base = {"title": "A castle", "description": "A long enough description", "budget": 10, "deadline": future()}
    cases = [
        ({"deadline": "2001-01-01T00:00:00Z"}, "deadline"),
        ({"deadline": "tomorrow"}, "deadline"),
        ({"deadline": "2030-02-31"}, "deadline"),
        ({"deadline": future(365 * 5)}, "deadline"),
        ({"budget": -5}, "budget"),
        ({"budget": 0.5}, "budget"),
        ({"budget": "1.234"}, "budget"),
        ({"budget": 10 ** 12}, "budget"),
        ({"title": ""}, "title"),
        ({"category": "nope"}, "category"),
        ({"reference_image_ids": [foreign]}, "reference_image_ids"),
        ({"reference_image_ids": "x"}, "reference_image_ids"),
        ({"reference_image_ids": [1] * 20}, "reference_image_ids"),
    ]
    for patch, field in cases:
        body = dict(base, **patch)
        assert_error(server.post("/api/bounties", json=body, headers=owner.h), 422, "VALIDATION_ERROR", field)
    r = server.post("/api/bounties", json={}, headers=owner.h)
    assert_error(r, 422, "VALIDATION_ERROR")
    assert set(r.json()["field_errors"]) >= {"title", "description", "budget", "deadline"}
    assert_error(server.post("/api/bounties", json=base), 401, "UNAUTHORIZED")
    r = server.request("POST", "/api/bounties", data="{nope", headers=dict(owner.h, **{"Content-Type": "application/json"}))
    assert_error(r, 400, "VALIDATION_ERROR")
    # a date alone is the end of that day
    day = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    b = make_bounty(server, owner, deadline=day)
    assert b["deadline"] == day + "T23:59:59Z"


# ---------------------------------------------------------------- list

def test_list_filters_search_paging(server):
    owner, creator = make_users(server, 2)
    tag = uniq("zqbounty")
    a = make_bounty(server, owner, title=f"Dragon {tag}", budget=50, category="fantasy")
    b = make_bounty(server, owner, title=f"Car {tag}", budget=500, category="vehicles")
    c = make_bounty(server, owner, title=f"Chair {tag}", description=f"furniture piece {tag} please", budget=5)

    def ids(**params):
        r = server.get("/api/bounties", params={"search": tag, **params})
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) >= {"items", "total", "page", "limit", "pages"}
        return [x["id"] for x in body["items"]]

    assert sorted(ids()) == sorted([a["id"], b["id"], c["id"]])
    assert ids(category="vehicles") == [b["id"]]
    assert sorted(ids(budget_min=40)) == sorted([a["id"], b["id"]])
    assert ids(budget_min=40, budget_max=100) == [a["id"]]
    assert ids(sort="budget_high") == [b["id"], a["id"], c["id"]]
    assert ids(sort="budget_low") == [c["id"], a["id"], b["id"]]
    assert ids(status="in_progress") == []
    assert ids(search=f"Dragon {tag}".upper()) == [a["id"]]
    r = server.get("/api/bounties", params={"search": tag, "limit": 2, "page": 2})
    assert r.json()["total"] == 3 and r.json()["pages"] == 2 and len(r.json()["items"]) == 1
    # %/_ are not wildcards
    assert server.get("/api/bounties", params={"search": "%"}).status_code == 200
    for bad in ({"status": "cancelled"}, {"status": "x"}, {"category": "x"}, {"budget_min": "-1"},
                {"budget_min": "abc"}, {"budget_min": 10, "budget_max": 5}, {"sort": "x"}, {"mine": "x"},
                {"page": "0"}, {"search": "x" * 500}):
        assert_error(server.get("/api/bounties", params=bad), 422, "VALIDATION_ERROR")
    assert_error(server.get("/api/bounties", params={"mine": "posted"}), 401, "UNAUTHORIZED")
    r = server.get("/api/bounties", params={"mine": "posted", "limit": 100}, headers=owner.h)
    assert {a["id"], b["id"], c["id"]} <= {x["id"] for x in r.json()["items"]}
    assert server.get("/api/bounties", params={"mine": "posted"}, headers=creator.h).json()["total"] == 0


# ---------------------------------------------------------------- apply

def test_apply_rules_and_notification(server):
    owner, buyer = make_users(server, 2)
    creator, creator2 = make_users(server, 2, creator=True)
    ocreator, = make_users(server, 1, creator=True)
    m = create_model(server, creator)
    foreign = m  # not creator2's
    b = make_bounty(server, owner)
    before = notes(server, owner.id, "bounty_application")
    app = apply(server, creator, b["id"], proposed_price=120, proposed_days=7, portfolio_model_ids=[m["id"]])
    assert app["status"] == "pending" and app["proposed_price"] == 120 and app["proposed_days"] == 7
    assert [p["id"] for p in app["portfolio"]] == [m["id"]] and app["creator"]["id"] == creator.id
    assert notes(server, owner.id, "bounty_application") == before + 1
    # twice -> 409
    assert_error(server.post(f"/api/bounties/{b['id']}/apply", json={"message": "again and again"},
                             headers=creator.h), 409, "CONFLICT")
    # own bounty -> 403, a buyer -> 403
    own = make_bounty(server, ocreator)
    assert_error(server.post(f"/api/bounties/{own['id']}/apply", json={"message": "my own bounty!"},
                             headers=ocreator.h), 403, "FORBIDDEN")
    assert_error(server.post(f"/api/bounties/{b['id']}/apply", json={"message": "I am only a buyer"},
                             headers=buyer.h), 403, "FORBIDDEN")
    # bad bodies
    for body, field in (({"message": "short"}, "message"), ({}, "message"),
                        ({"message": "long enough text", "proposed_price": -1}, "proposed_price"),
                        ({"message": "long enough text", "proposed_price": 0}, "proposed_price"),
                        ({"message": "long enough text", "proposed_days": 0}, "proposed_days"),
                        ({"message": "long enough text", "proposed_days": "x"}, "proposed_days"),
                        ({"message": "long enough text", "portfolio_model_ids": [foreign["id"]]}, "portfolio_model_ids"),
                        ({"message": "long enough text", "portfolio_model_ids": [{"a": 1}]}, "portfolio_model_ids")):
        assert_error(server.post(f"/api/bounties/{b['id']}/apply", json=body, headers=creator2.h), 422,
                     "VALIDATION_ERROR", field)
    assert_error(server.post("/api/bounties/999999999/apply", json={"message": "long enough text"},
                             headers=creator2.h), 404, "NOT_FOUND")
    # what each one sees
    seen = get(server, b["id"], owner)
    assert seen["applications_count"] == 1 and [a["id"] for a in seen["applications"]] == [app["id"]]
    mine = get(server, b["id"], creator)
    assert "applications" not in mine and mine["my_application"]["id"] == app["id"] and mine["has_applied"] is True
    other = get(server, b["id"], creator2)
    assert "applications" not in other and other["my_application"] is None and other["applications_count"] == 1
    r = server.get("/api/bounties", params={"mine": "applied"}, headers=creator.h)
    assert b["id"] in [x["id"] for x in r.json()["items"]]


def test_application_is_pushed_live_to_the_owner(server):
    owner, = make_users(server, 1)
    creator, creator2 = make_users(server, 2, creator=True)
    b = make_bounty(server, owner)
    ws = open_ws(server, owner)
    ping(ws)
    try:
        apply(server, creator, b["id"])
        ev = ws.recv_type("bounty_application", timeout=3)
        d = ev["data"]
        assert d["type"] == "bounty_application" and d["action_url"] == f"/bounties/{b['id']}"
        assert creator.username in d["message"]
        # accepting pushes to the creator
        theirs = open_ws(server, creator)
        ping(theirs)
        app2 = apply(server, creator2, b["id"])
        ws.recv_type("bounty_application", timeout=3)
        mine = next(a for a in get(server, b["id"], owner)["applications"] if a["creator"]["id"] == creator.id)
        assert server.post(f"/api/bounties/{b['id']}/applications/{mine['id']}/accept", headers=owner.h).status_code == 200
        assert theirs.recv_type("bounty_accepted", timeout=3)["data"]["action_url"] == f"/bounties/{b['id']}"
        assert app2["status"] == "pending"
        theirs.close()
    finally:
        ws.close()


def test_concurrent_applications_and_accepts(server):
    owner, = make_users(server, 1)
    creators = make_users(server, 10, creator=True)
    b = make_bounty(server, owner)
    # the same creator twice at once: one 201, one 409, never a 500
    codes = parallel(lambda _: server.post(f"/api/bounties/{b['id']}/apply", json={"message": "me, me, me, pick me"},
                                           headers=creators[0].h).status_code, range(4))
    assert sorted(codes) == [201, 409, 409, 409], codes
    codes = parallel(lambda w: server.post(f"/api/bounties/{b['id']}/apply", json={"message": "pick me, please!"},
                                           headers=w.h).status_code, creators[1:])
    assert codes == [201] * 9, codes
    seen = get(server, b["id"], owner)
    assert seen["applications_count"] == 10 == len(seen["applications"])
    # two accepts at once: one wins, the other is a 409
    apps = seen["applications"][:4]
    codes = parallel(lambda a: server.post(f"/api/bounties/{b['id']}/applications/{a['id']}/accept",
                                           headers=owner.h).status_code, apps)
    assert sorted(codes) == [200, 409, 409, 409], codes
    after = get(server, b["id"], owner)
    assert [a["status"] for a in after["applications"]].count("accepted") == 1


def test_apply_after_deadline_or_closed(server):
    owner, = make_users(server, 1)
    creator, = make_users(server, 1, creator=True)
    full = make_bounty(server, owner)
    server.sql(f"UPDATE bounties SET applications_count = 200 WHERE id = {full['id']}")
    assert_error(server.post(f"/api/bounties/{full['id']}/apply", json={"message": "is there still room?"},
                             headers=creator.h), 409, "CONFLICT")
    b = make_bounty(server, owner)
    server.sql(f"UPDATE bounties SET deadline = 1000 WHERE id = {b['id']}")
    assert_error(server.post(f"/api/bounties/{b['id']}/apply", json={"message": "too late for this"},
                             headers=creator.h), 409, "CONFLICT")
    c = make_bounty(server, owner)
    r = server.post(f"/api/bounties/{c['id']}/cancel", headers=owner.h)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    # cancelled: hidden from others and from the list, refused to applicants
    assert_error(server.post(f"/api/bounties/{c['id']}/apply", json={"message": "closed bounty here"},
                             headers=creator.h), 404, "NOT_FOUND")
    assert c["id"] not in [x["id"] for x in server.get("/api/bounties", params={"search": c["title"]}).json()["items"]]
    assert get(server, c["id"], owner)["status"] == "cancelled"


# ---------------------------------------------------------------- the commission flow

def test_accept_deliver_changes_complete(server):
    owner, stranger = make_users(server, 2)
    creator, loser = make_users(server, 2, creator=True)
    b = make_bounty(server, owner, budget=300)
    won = apply(server, creator, b["id"], proposed_price=250)
    lost = apply(server, loser, b["id"])
    path = f"/api/bounties/{b['id']}"
    # only the owner accepts; an application of another bounty is 404
    assert_error(server.post(f"{path}/applications/{won['id']}/accept", headers=creator.h), 403, "FORBIDDEN")
    assert_error(server.post(f"{path}/applications/{won['id']}/accept", headers=stranger.h), 403, "FORBIDDEN")
    other = make_bounty(server, owner)
    oapp = apply(server, creator, other["id"])
    assert_error(server.post(f"{path}/applications/{oapp['id']}/accept", headers=owner.h), 404, "NOT_FOUND")
    # the creator cannot deliver before being accepted
    assert_error(server.post(f"{path}/deliver", json={"message": "done"}, headers=creator.h), 403, "FORBIDDEN")
    r = server.post(f"{path}/applications/{won['id']}/accept", headers=owner.h)
    assert r.status_code == 200, r.text
    acc = r.json()
    assert acc["status"] == "in_progress" and acc["agreed_price"] == 250 and acc["accepted_at"]
    assert acc["accepted_creator"]["id"] == creator.id
    statuses = {a["id"]: a["status"] for a in acc["applications"]}
    assert statuses == {won["id"]: "accepted", lost["id"]: "declined"}
    assert notes(server, creator.id, "bounty_accepted") == 1 and notes(server, loser.id, "bounty_declined") == 1
    # no second accept, no applying any more, no cancel
    assert_error(server.post(f"{path}/applications/{lost['id']}/accept", headers=owner.h), 409, "CONFLICT")
    late, = make_users(server, 1, creator=True)
    assert_error(server.post(f"{path}/apply", json={"message": "can I still join?"}, headers=late.h), 409, "CONFLICT")
    assert_error(server.post(f"{path}/cancel", headers=owner.h), 409, "CONFLICT")
    # nothing to complete yet
    assert_error(server.post(f"{path}/complete", headers=owner.h), 409, "CONFLICT")
    # only the accepted creator delivers
    m = create_model(server, creator)
    lm = create_model(server, loser)
    assert_error(server.post(f"{path}/deliver", json={"message": "mine!", "model_id": lm["id"]}, headers=loser.h),
                 403, "FORBIDDEN")
    assert_error(server.post(f"{path}/deliver", json={"message": "here", "model_id": lm["id"]}, headers=creator.h),
                 422, "VALIDATION_ERROR", "model_id")
    assert_error(server.post(f"{path}/deliver", json={"message": "here"}, headers=creator.h), 422, "VALIDATION_ERROR")
    r = server.post(f"{path}/deliver", json={"message": "First version", "model_id": m["id"]}, headers=creator.h)
    assert r.status_code == 201, r.text
    d = r.json()["deliveries"]
    assert len(d) == 1 and d[0]["status"] == "submitted" and d[0]["model"]["id"] == m["id"]
    assert notes(server, owner.id, "bounty_delivered") == 1
    assert_error(server.post(f"{path}/deliver", json={"message": "again", "model_id": m["id"]}, headers=creator.h),
                 409, "CONFLICT")
    # deliveries: the owner and the creator see them, others do not
    assert "deliveries" in get(server, b["id"], creator) and "deliveries" not in get(server, b["id"], stranger)
    # changes: owner only, with a message
    assert_error(server.post(f"{path}/request-changes", json={"message": "x"}, headers=creator.h), 403, "FORBIDDEN")
    assert_error(server.post(f"{path}/request-changes", json={}, headers=owner.h), 422, "VALIDATION_ERROR", "message")
    r = server.post(f"{path}/request-changes", json={"message": "More towers please"}, headers=owner.h)
    assert r.status_code == 200 and r.json()["deliveries"][0]["status"] == "changes_requested"
    assert r.json()["deliveries"][0]["response"] == "More towers please"
    assert notes(server, creator.id, "bounty_changes_requested") == 1
    img = image_upload_id(server, creator)
    r = server.post(f"{path}/deliver", json={"message": "Second version", "upload_id": img}, headers=creator.h)
    assert r.status_code == 201 and r.json()["deliveries"][1]["image"]["upload_id"] == img
    assert_error(server.post(f"{path}/complete", headers=stranger.h), 403, "FORBIDDEN")
    r = server.post(f"{path}/complete", json={"message": "Perfect"}, headers=owner.h)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "completed" and done["completed_at"] and done["deliveries"][1]["status"] == "accepted"
    assert notes(server, creator.id, "bounty_completed") == 1
    assert_error(server.post(f"{path}/complete", headers=owner.h), 409, "CONFLICT")
    ids = [x["id"] for x in server.get("/api/bounties", params={"status": "completed", "search": b["title"]}).json()["items"]]
    assert ids == [b["id"]]


def test_cancel_rules(server):
    owner, other = make_users(server, 2)
    creator, = make_users(server, 1, creator=True)
    b = make_bounty(server, owner)
    apply(server, creator, b["id"])
    assert_error(server.post(f"/api/bounties/{b['id']}/cancel", headers=other.h), 403, "FORBIDDEN")
    r = server.post(f"/api/bounties/{b['id']}/cancel", headers=owner.h)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert notes(server, creator.id, "bounty_cancelled") == 1
    # the applicant still sees it, a stranger does not
    assert get(server, b["id"], creator)["my_application"]["status"] == "declined"
    assert_error(server.get(f"/api/bounties/{b['id']}", headers=other.h), 404, "NOT_FOUND")
    assert_error(server.post(f"/api/bounties/{b['id']}/cancel", headers=owner.h), 409, "CONFLICT")


# ---------------------------------------------------------------- admin

def test_admin_routes(server):
    owner, user = make_users(server, 2)
    b = make_bounty(server, owner, category="props")
    adm = server.admin_headers()
    for method, path in (("GET", "/api/admin/bounties"), ("PUT", f"/api/admin/bounties/{b['id']}"),
                         ("DELETE", f"/api/admin/bounties/{b['id']}")):
        kw = {"json": {}} if method == "PUT" else {}
        assert_error(server.request(method, path, **kw), 401, "UNAUTHORIZED")
        assert_error(server.request(method, path, headers=user.h, **kw), 403, "FORBIDDEN")
    r = server.get("/api/admin/bounties", params={"owner_id": owner.id}, headers=adm)
    assert r.status_code == 200 and [x["id"] for x in r.json()["items"]] == [b["id"]]
    assert_error(server.get("/api/admin/bounties", params={"owner_id": "x"}, headers=adm), 422, "VALIDATION_ERROR")
    r = server.put(f"/api/admin/bounties/{b['id']}", json={"is_featured": True, "title": "Edited by admin",
                                                          "status": "cancelled", "deadline": "2020-01-01"}, headers=adm)
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["is_featured"] is True and e["title"] == "Edited by admin" and e["status"] == "cancelled"
    assert e["deadline"].startswith("2020-01-01")
    r = server.get("/api/admin/bounties", params={"status": "cancelled", "is_featured": "true",
                                                  "search": "edited by admin"}, headers=adm)
    assert b["id"] in [x["id"] for x in r.json()["items"]]
    for bad in ({"status": "x"}, {"budget": -1}, {"title": ""}, {"deadline": "soon"}, {"is_featured": "yes"}):
        assert_error(server.put(f"/api/admin/bounties/{b['id']}", json=bad, headers=adm), 422, "VALIDATION_ERROR")
    assert_error(server.put("/api/admin/bounties/999999999", json={"title": "nothing here"}, headers=adm),
                 404, "NOT_FOUND")
    r = server.delete(f"/api/admin/bounties/{b['id']}", headers=adm)
    assert r.status_code == 200
    assert_error(server.get(f"/api/bounties/{b['id']}", headers=owner.h), 404, "NOT_FOUND")
    assert_error(server.delete(f"/api/admin/bounties/{b['id']}", headers=adm), 404, "NOT_FOUND")


def test_admin_bounty_actions_are_audited(server):
    owner = make_users(server, 1)[0]
    b = make_bounty(server, owner)
    adm = server.admin_headers()
    assert server.put(f"/api/admin/bounties/{b['id']}", json={"is_featured": True}, headers=adm).status_code == 200
    assert server.delete(f"/api/admin/bounties/{b['id']}", headers=adm).status_code == 200
    rows = server.sql(f"SELECT action FROM audit_log WHERE target_type = 'bounty' AND target_id = {b['id']} ORDER BY id")
    assert [r[0] for r in rows] == ["bounty.update", "bounty.delete"], rows


def test_banned_owners_bounties_are_hidden_until_unban(server):
    owner, other = make_users(server, 2)
    b = make_bounty(server, owner, title=uniq("Banned owner bounty"))
    adm = server.admin_headers()
    listed = lambda who=None: b["id"] in [x["id"] for x in server.get(  # noqa: E731
        "/api/bounties", params={"limit": 100}, headers=who.h if who else {}).json()["items"]]
    assert listed() and listed(other)
    r = server.post(f"/api/admin/users/{owner.id}/ban", json={"reason": "Scam bounties"}, headers=adm)
    assert r.status_code == 200, r.text
    assert not listed() and not listed(other)
    assert_error(server.get(f"/api/bounties/{b['id']}"), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/bounties/{b['id']}", headers=other.h), 404, "NOT_FOUND")
    assert server.get(f"/api/bounties/{b['id']}", headers=adm).status_code == 200
    assert b["id"] in [x["id"] for x in server.get("/api/admin/bounties", params={"owner_id": owner.id},
                                                     headers=adm).json()["items"]]
    assert server.post(f"/api/admin/users/{owner.id}/unban", headers=adm).status_code == 200
    assert listed(other) and get(server, b["id"], other)["id"] == b["id"]


def test_hostile_input(server):
    owner, = make_users(server, 1)
    creator, = make_users(server, 1, creator=True)
    b = make_bounty(server, owner)
    hostile = ["\u0000", "x" * 100000, {"a": [1]}, [None], 1e308, -2 ** 63, "\ud800", "' OR 1=1 --"]
    for h in hostile:
        for body in ({"title": h, "description": h, "budget": h, "deadline": h, "category": h,
                      "reference_image_ids": h},
                     {"title": "Fine title", "description": "Fine description here", "budget": 10,
                      "deadline": h}):
            r = server.post("/api/bounties", json=body, headers=owner.h)
            assert r.status_code in (400, 413, 422), (h, r.status_code, r.text)
        r = server.post(f"/api/bounties/{b['id']}/apply", json={"message": h, "proposed_price": h,
                                                                "proposed_days": h, "portfolio_model_ids": h},
                        headers=creator.h)
        assert r.status_code in (400, 413, 422), (h, r.status_code, r.text)
    for q in ("%00", "%ff", "-1", "9" * 40, "1e9", "NaN"):
        for name in ("budget_min", "budget_max", "page", "limit"):
            r = server.get(f"/api/bounties?{name}={q}")
            assert r.status_code in (200, 400, 422), (name, q, r.status_code)
    assert server.get("/api/bounties/abc").status_code in (400, 404, 422)
    assert server.get("/api/bounties/99999999999999999999999").status_code in (400, 404, 422)
