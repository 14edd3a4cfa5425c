"""The learning center (issue 14, point 2; guide sections 11 and 13):
courses and lessons, drafts hidden, enrolling once, lesson progress, the
caller's courses, and the admin's course and lesson CRUD."""
from conftest import assert_error, uniq
from test_models import make_users


def make_course(server, published=True, lessons=3, **body):
    body.setdefault("title", uniq("Course"))
    body.setdefault("description", "Learn to model " + body["title"])
    body.setdefault("is_published", published)
    adm = server.admin_headers()
    r = server.post("/api/admin/courses", json=body, headers=adm)
    assert r.status_code == 201, r.text
    c = r.json()
    c["lesson_ids"] = []
    for i in range(lessons):
        r = server.post(f"/api/admin/courses/{c['id']}/lessons",
                        json={"title": f"Lesson {i + 1}", "content": f"Body of lesson {i + 1}",
                              "duration_minutes": 10, "video_url": "https://video.example.com/v.mp4"}, headers=adm)
        assert r.status_code == 201, r.text
        c["lesson_ids"].append(r.json()["id"])
    return c


def course(server, cid, who=None):
    r = server.get(f"/api/courses/{cid}", headers=who.h if who else {})
    assert r.status_code == 200, r.text
    return r.json()


def enroll(server, who, cid, status=201):
    r = server.post(f"/api/courses/{cid}/enroll", headers=who.h)
    assert r.status_code == status, r.text
    return r.json()


def test_admin_create_and_public_view(server):
    c = make_course(server, difficulty="advanced", category="sculpting", instructor="Ada")
    assert c["difficulty"] == "advanced" and c["category"] == "sculpting" and c["instructor"] == "Ada"
    assert c["is_published"] is True
    got = course(server, c["id"])
    assert got["lessons_count"] == 3 and got["duration_minutes"] == 30 and got["enrolled_count"] == 0
    assert [l["id"] for l in got["lessons"]] == c["lesson_ids"]
    # lesson bodies are for enrolled users: titles only for others
    assert "content" not in got["lessons"][0] and got["lessons"][0]["title"] == "Lesson 1"
    assert "is_enrolled" not in got
    user, = make_users(server, 1)
    mine = course(server, c["id"], user)
    assert mine["is_enrolled"] is False and mine["progress"] is None and "content" not in mine["lessons"][0]
    # admins see the bodies
    r = server.get(f"/api/courses/{c['id']}", headers=server.admin_headers())
    assert r.json()["lessons"][0]["content"] == "Body of lesson 1"
    assert_error(server.get("/api/courses/999999999"), 404, "NOT_FOUND")


def test_drafts_hidden(server):
    user, = make_users(server, 1)
    d = make_course(server, published=False, lessons=1)
    assert_error(server.get(f"/api/courses/{d['id']}"), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/courses/{d['id']}", headers=user.h), 404, "NOT_FOUND")
    assert_error(server.post(f"/api/courses/{d['id']}/enroll", headers=user.h), 404, "NOT_FOUND")
    ids = [x["id"] for x in server.get("/api/courses", params={"search": d["title"]}).json()["items"]]
    assert ids == []
    r = server.get("/api/admin/courses", params={"search": d["title"], "is_published": "false"},
                   headers=server.admin_headers())
    assert [x["id"] for x in r.json()["items"]] == [d["id"]]
    # unpublishing hides a course its students enrolled in, too
    c = make_course(server, lessons=1)
    enroll(server, user, c["id"])
    r = server.put(f"/api/admin/courses/{c['id']}", json={"is_published": False}, headers=server.admin_headers())
    assert r.status_code == 200 and r.json()["is_published"] is False
    assert_error(server.get(f"/api/courses/{c['id']}", headers=user.h), 404, "NOT_FOUND")
    assert c["id"] not in [x["id"] for x in server.get("/api/users/me/courses", headers=user.h).json()["items"]]


def test_list_filters_search_paging(server):
    tag = uniq("zqcourse")
    a = make_course(server, lessons=0, title=f"Sculpt {tag}", difficulty="beginner", category="sculpting")
    b = make_course(server, lessons=0, title=f"Rig {tag}", difficulty="advanced", category="rigging")
    c = make_course(server, lessons=0, title=f"Paint {tag}", difficulty="advanced", category="texturing")

    def ids(**params):
        r = server.get("/api/courses", params={"search": tag, **params})
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["items"]]

    assert sorted(ids()) == sorted([a["id"], b["id"], c["id"]])
    assert sorted(ids(difficulty="advanced")) == sorted([b["id"], c["id"]])
    assert ids(difficulty="advanced", category="rigging") == [b["id"]]
    assert ids(sort="title") == [c["id"], b["id"], a["id"]]
    assert ids(search=f"SCULPT {tag}".upper()) == [a["id"]]
    r = server.get("/api/courses", params={"search": tag, "limit": 2, "page": 2}).json()
    assert r["total"] == 3 and r["pages"] == 2 and len(r["items"]) == 1
    for bad in ({"difficulty": "expert"}, {"category": "x"}, {"sort": "x"}, {"page": "x"}, {"search": "y" * 300}):
        assert_error(server.get("/api/courses", params=bad), 422, "VALIDATION_ERROR")


def test_enroll_once_and_progress(server):
    user, other = make_users(server, 2)
    c = make_course(server, lessons=4)
    assert_error(server.post(f"/api/courses/{c['id']}/enroll"), 401, "UNAUTHORIZED")
    first = enroll(server, user, c["id"], 201)
    assert first["is_enrolled"] is True and first["enrolled_count"] == 1
    assert first["progress"]["completed_lessons"] == 0 and first["progress"]["total_lessons"] == 4
    assert first["lessons"][0]["content"] == "Body of lesson 1" and first["lessons"][0]["is_completed"] is False
    again = enroll(server, user, c["id"], 200)
    assert again["enrolled_count"] == 1
    # progress: enrolled only; idempotent; math
    l1, l2, l3, _ = c["lesson_ids"]
    path = f"/api/courses/{c['id']}/lessons"
    assert_error(server.post(f"{path}/{l1}/complete", headers=other.h), 403, "FORBIDDEN")
    r = server.post(f"{path}/{l1}/complete", headers=user.h)
    assert r.status_code == 200, r.text
    assert r.json()["progress"]["completed_lessons"] == 1 and r.json()["progress"]["percent"] == 25
    server.post(f"{path}/{l1}/complete", headers=user.h)
    r = server.post(f"{path}/{l3}/complete", headers=user.h)
    p = r.json()["progress"]
    assert p["completed_lessons"] == 2 and p["percent"] == 50 and p["last_lesson"] == {"id": l3, "title": "Lesson 3"}
    r = server.post(f"{path}/{l2}/complete", headers=user.h)
    assert r.json()["progress"]["percent"] == 75
    # a lesson of another course is 404, and so is an unknown one
    other_course = make_course(server, lessons=1)
    assert_error(server.post(f"{path}/{other_course['lesson_ids'][0]}/complete", headers=user.h), 404, "NOT_FOUND")
    assert_error(server.post(f"{path}/999999999/complete", headers=user.h), 404, "NOT_FOUND")
    # my courses
    r = server.get("/api/users/me/courses", headers=user.h)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [x["id"] for x in items] == [c["id"]]
    assert items[0]["progress"]["completed_lessons"] == 3 and items[0]["progress"]["percent"] == 75
    assert items[0]["progress"]["last_lesson"]["id"] == l2
    assert server.get("/api/users/me/courses", headers=other.h).json()["total"] == 0
    assert_error(server.get("/api/users/me/courses"), 401, "UNAUTHORIZED")
    # a new lesson lowers the percent; deleting a completed one drops it from the count
    adm = server.admin_headers()
    r = server.post(f"/api/admin/courses/{c['id']}/lessons", json={"title": "Bonus"}, headers=adm)
    assert r.status_code == 201 and r.json()["position"] == 4
    p = course(server, c["id"], user)["progress"]
    assert (p["completed_lessons"], p["total_lessons"], p["percent"]) == (3, 5, 60)
    assert server.delete(f"/api/admin/courses/{c['id']}/lessons/{l1}", headers=adm).status_code == 200
    p = course(server, c["id"], user)["progress"]
    assert (p["completed_lessons"], p["total_lessons"], p["percent"]) == (2, 4, 50)
    # the course list shows the caller's state
    listed = server.get("/api/courses", params={"search": c["title"]}, headers=user.h).json()["items"][0]
    assert listed["is_enrolled"] is True and listed["progress"]["percent"] == 50


def test_admin_crud_and_auth(server):
    user, = make_users(server, 1)
    adm = server.admin_headers()
    c = make_course(server, lessons=1)
    lid = c["lesson_ids"][0]
    routes = [("GET", "/api/admin/courses", None), ("POST", "/api/admin/courses", {"title": "Nope nope"}),
              ("PUT", f"/api/admin/courses/{c['id']}", {"title": "Nope nope"}),
              ("DELETE", f"/api/admin/courses/{c['id']}", None),
              ("POST", f"/api/admin/courses/{c['id']}/lessons", {"title": "x"}),
              ("PUT", f"/api/admin/courses/{c['id']}/lessons/{lid}", {"title": "x"}),
              ("DELETE", f"/api/admin/courses/{c['id']}/lessons/{lid}", None)]
    for method, path, body in routes:
        kw = {"json": body} if body is not None else {}
        assert_error(server.request(method, path, **kw), 401, "UNAUTHORIZED")
        assert_error(server.request(method, path, headers=user.h, **kw), 403, "FORBIDDEN")
    # validation
    for body, field in (({}, "title"), ({"title": "ab"}, "title"), ({"title": "Fine", "difficulty": "x"}, "difficulty"),
                        ({"title": "Fine", "category": "x"}, "category"),
                        ({"title": "Fine", "thumbnail_url": "javascript:alert(1)"}, "thumbnail_url"),
                        ({"title": "Fine", "is_published": "yes"}, "is_published")):
        assert_error(server.post("/api/admin/courses", json=body, headers=adm), 422, "VALIDATION_ERROR", field)
    r = server.put(f"/api/admin/courses/{c['id']}", json={"title": "Renamed course", "difficulty": "intermediate",
                                                         "thumbnail_url": "https://img.example.com/t.png"}, headers=adm)
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Renamed course" and r.json()["difficulty"] == "intermediate"
    assert r.json()["description"] == c["description"]
    assert_error(server.put("/api/admin/courses/999999999", json={"title": "Nothing"}, headers=adm), 404, "NOT_FOUND")
    # lessons: another course's lesson is 404 through this course
    other = make_course(server, lessons=1)
    olid = other["lesson_ids"][0]
    assert_error(server.put(f"/api/admin/courses/{c['id']}/lessons/{olid}", json={"title": "Stolen"}, headers=adm),
                 404, "NOT_FOUND")
    assert_error(server.delete(f"/api/admin/courses/{c['id']}/lessons/{olid}", headers=adm), 404, "NOT_FOUND")
    assert_error(server.post("/api/admin/courses/999999999/lessons", json={"title": "x"}, headers=adm), 404, "NOT_FOUND")
    for body, field in (({}, "title"), ({"title": "ok", "duration_minutes": -1}, "duration_minutes"),
                        ({"title": "ok", "video_url": "ftp://x"}, "video_url")):
        assert_error(server.post(f"/api/admin/courses/{c['id']}/lessons", json=body, headers=adm), 422,
                     "VALIDATION_ERROR", field)
    r = server.put(f"/api/admin/courses/{c['id']}/lessons/{lid}", json={"content": "New body", "position": 7},
                   headers=adm)
    assert r.status_code == 200 and r.json()["content"] == "New body" and r.json()["position"] == 7
    assert r.json()["title"] == "Lesson 1"
    r = server.get("/api/admin/courses", params={"search": "renamed course"}, headers=adm)
    assert c["id"] in [x["id"] for x in r.json()["items"]]
    # delete a course: its lessons and enrollments go with it
    enroll(server, user, c["id"])
    assert server.delete(f"/api/admin/courses/{c['id']}", headers=adm).status_code == 200
    assert_error(server.get(f"/api/courses/{c['id']}"), 404, "NOT_FOUND")
    assert server.get("/api/users/me/courses", headers=user.h).json()["total"] == 0
    assert_error(server.delete(f"/api/admin/courses/{c['id']}", headers=adm), 404, "NOT_FOUND")


def test_hostile_input(server):
    adm = server.admin_headers()
    user, = make_users(server, 1)
    c = make_course(server, lessons=1)
    for h in ["\u0000", "x" * 100000, {"a": 1}, [1], 1e308, -2 ** 63, "' OR 1=1 --"]:
        r = server.post("/api/admin/courses", json={"title": h, "description": h, "difficulty": h,
                                                    "thumbnail_url": h}, headers=adm)
        assert r.status_code in (400, 413, 422), (h, r.status_code, r.text)
        r = server.post(f"/api/admin/courses/{c['id']}/lessons", json={"title": h, "duration_minutes": h,
                                                                        "position": h}, headers=adm)
        assert r.status_code in (400, 413, 422), (h, r.status_code, r.text)
    for q in ("%00", "%ff", "-1", "9" * 40):
        for name in ("difficulty", "category", "page", "limit", "search"):
            assert server.get(f"/api/courses?{name}={q}").status_code in (200, 400, 422)
    assert server.post(f"/api/courses/{c['id']}/lessons/abc/complete", headers=user.h).status_code in (400, 404, 422)


def test_seed_demo_has_courses_and_bounties(tmp_path):
    """seed-demo fills /learn and /bounties: published courses with lessons,
    open bounties by the demo buyers with applications of the demo creators."""
    import sqlite3
    from conftest import base_env, run_binary
    env = base_env({"DATA_DIR": str(tmp_path / "data")})
    p = run_binary(["seed-demo"], env, str(tmp_path))
    assert p.returncode == 0, p.stderr
    db = sqlite3.connect(str(tmp_path / "data" / "hwc3d.db"))
    assert db.execute("SELECT COUNT(*) FROM courses WHERE is_published = 1").fetchone()[0] >= 3
    assert db.execute("SELECT COUNT(DISTINCT difficulty) FROM courses").fetchone()[0] == 3
    assert db.execute("SELECT COUNT(*) FROM courses c WHERE NOT EXISTS"
                      " (SELECT 1 FROM course_lessons l WHERE l.course_id = c.id)").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM bounties WHERE status = 'open'").fetchone()[0] >= 3
    # applications_count is exact, and no one applied to their own bounty
    assert db.execute("SELECT COUNT(*) FROM bounties b WHERE applications_count !="
                      " (SELECT COUNT(*) FROM bounty_applications a WHERE a.bounty_id = b.id)").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM bounty_applications a JOIN bounties b ON b.id = a.bounty_id"
                      " WHERE a.creator_id = b.owner_id").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM bounty_applications").fetchone()[0] >= 3
    # run again: nothing added
    run_binary(["seed-demo"], env, str(tmp_path))
    assert db.execute("SELECT COUNT(*) FROM bounties").fetchone()[0] == 4
