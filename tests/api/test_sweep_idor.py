"""Issue 15 item 4, the hostile sweep: IDOR, walked from the route table.

Every route of `hwc3d routes` whose pattern has a parameter and which is not
admin-only is in MAPPING (a fixture object of user A for each parameter, and
what user B may get) or in PUBLIC_BY_DESIGN (with its reason); a new route
with a parameter that is in neither fails test_every_route_with_an_id_is_mapped.

For each mapped route and each of its methods, B calls it with A's ids:
  deny    403 or 404;
  public  403, 404, or a 200 that carries none of A's private values
          (email, payout details, payment token, the draft's secret title);
  own     the id names something in B's own scope (B's cart): any answer
          below 500.
After every call A's state (one SQL fingerprint of everything A owns) must
be what it was.  Then a non-admin gets 403 on every /api/admin route.
"""
import json
import subprocess
import urllib.parse

import pytest
import requests

from conftest import run_binary, uniq
from test_bounties import future
from test_commerce import checkout
from test_hostile import route_table
from test_models import create_model, make_users, png_bytes, upload_model


ROUTES = route_table()


def params_of(path):
    return [seg[1:-1].partition(":")[0] for seg in path.split("/") if seg.startswith("{") and seg.endswith("}")]


# Routes whose parameter names something public by design: never called
# with A's ids here (their own tests cover them).
PUBLIC_BY_DESIGN = {
    "/api/auth/oauth/{provider}/authorize-url": "the provider is a fixed public name, not an object",
    "/api/auth/oauth/{provider}": "the provider is a fixed public name, not an object",
    "/api/users/{id:int}/follow": "a public user id; following changes only the caller's own follows",
    "/api/users/{id:int}/block": "a public user id; blocking changes only the caller's own block list",
    "/api/bounties/{id:int}/apply": "applying to an open bounty is what bounties are for (the caller's own application)",
    "/api/courses/{id:int}/enroll": "enrolling in a published course creates the caller's own enrollment",
}

# path -> list of (target, kind[, body]): target names an object of the world
# (its params), kind is "deny" | "public" | "own", or a dict method -> kind;
# body replaces the route's BODIES entry for that case.
PUB = {"GET": "public", "PUT": "deny", "DELETE": "deny", "POST": "deny"}
MAPPING = {
    "/files/{area}/{name}": [("model_file", "deny"), ("attachment_file", "deny")],
    "/api/users/{id:int}": [("user_a", "public")],
    "/api/users/by-username/{username}": [("user_a", "public")],
    "/api/users/{id:int}/followers": [("user_a", "public")],
    "/api/users/{id:int}/following": [("user_a", "public")],
    "/api/models/{id:int}": [("draft", "deny"), ("pub", PUB)],
    "/api/models/{id:int}/toggle-publish": [("draft", "deny"), ("pub", "deny")],
    "/api/models/{id:int}/public": [("draft", "deny"), ("pub", "public")],
    "/api/models/{id:int}/viewer-file": [("draft", "deny")],
    "/api/models/{id:int}/creator": [("draft", "deny"), ("pub", "public")],
    "/api/models/{id:int}/view": [("draft", "deny")],
    "/api/models/{id:int}/like": [("draft", "deny")],
    "/api/models/{id:int}/comments": [("draft", "deny"), ("pub", {"GET": "public"})],
    "/api/models/{id:int}/comments/{comment_id:int}": [("pub_comment", "deny")],
    "/api/models/{id:int}/share": [("draft", "deny")],
    "/api/models/{id:int}/analytics": [("draft", "deny"), ("pub", "deny")],
    "/api/models/{id:int}/download-specs": [("draft", "deny")],
    # anyone who may see a model may render it; only the owner stores a render
    "/api/models/{id:int}/screenshot": [("draft", "deny"), ("pub", "public", {"width": 64, "height": 64}),
                                         ("pub", "deny", {"store": True})],
    "/api/models/{id:int}/record-video": [("draft", "deny"), ("pub", "deny")],
    "/api/models/{id:int}/related": [("draft", "deny"), ("pub", "public")],
    "/api/models/{id:int}/download": [("draft", "deny"), ("pub", "deny")],
    "/api/downloads/{model_id:int}": [("draft", "deny"), ("pub", "deny")],
    "/api/jobs/{id:int}": [("job", "deny")],
    "/api/cart/{model_id:int}": [("cart_item", "own")],
    "/api/users/me/purchases/{id:int}/license": [("purchase", "deny")],
    "/api/users/me/payout-methods/{id:int}": [("payout_method", "deny")],
    "/api/notifications/{id:int}/read": [("notification", "deny")],
    "/api/messages/{id:int}": [("conversation", "deny")],
    "/api/messages/{id:int}/read": [("conversation", "deny")],
    "/api/support/tickets/{id:int}": [("ticket", "deny")],
    "/api/support/tickets/{id:int}/messages": [("ticket", "deny")],
    "/api/support/tickets/{id:int}/attachments/{upload_id:int}": [("ticket_attachment", "deny")],
    "/api/communities/{id:int}": [("pending_community", "deny")],
    "/api/communities/{id:int}/members": [("pending_community", "deny")],
    "/api/communities/{id:int}/join": [("pending_community", "deny")],
    "/api/communities/{id:int}/leave": [("pending_community", "deny")],
    "/api/communities/{id:int}/posts": [("pending_community", "deny")],
    "/api/posts/{id:int}/react": [("pending_post", "deny")],
    "/api/posts/{id:int}/comments": [("pending_post", "deny")],
    "/api/posts/{id:int}/share": [("pending_post", "deny")],
    "/api/posts/{id:int}/report": [("pending_post", "deny")],
    "/api/bounties/{id:int}": [("open_bounty", "public")],
    "/api/bounties/{id:int}/applications/{app_id:int}/accept": [("open_bounty_app", "deny")],
    "/api/bounties/{id:int}/deliver": [("busy_bounty", "deny")],
    "/api/bounties/{id:int}/request-changes": [("busy_bounty", "deny")],
    "/api/bounties/{id:int}/complete": [("busy_bounty", "deny")],
    "/api/bounties/{id:int}/cancel": [("open_bounty", "deny"), ("busy_bounty", "deny")],
    "/api/courses/{id:int}": [("course", "public")],
    "/api/courses/{id:int}/lessons/{lesson_id:int}/complete": [("lesson", "deny")],
}

# A plausible body for each write, so that a refusal is about ownership and
# not about a missing field.
BODIES = {
    "/api/models/{id:int}": {"title": "pwned by B", "price": 1},
    "/api/models/{id:int}/comments": {"body": "a comment by B"},
    "/api/models/{id:int}/share": {"platform": "twitter"},
    "/api/models/{id:int}/screenshot": {},
    "/api/models/{id:int}/record-video": {},
    "/api/support/tickets/{id:int}/messages": {"message": "B writes into A's ticket"},
    "/api/communities/{id:int}/posts": {"content": "B posts here"},
    "/api/posts/{id:int}/react": {"type": "like"},
    "/api/posts/{id:int}/comments": {"content": "B comments", "body": "B comments"},
    "/api/posts/{id:int}/report": {"reason": "spam"},
    "/api/bounties/{id:int}/deliver": {"message": "delivered by B"},
    "/api/bounties/{id:int}/request-changes": {"message": "please change everything"},
}


def is_admin_route(r):
    return r["access"] == "admin" or r["path"].startswith("/api/admin")


def id_routes():
    return [r for r in ROUTES if params_of(r["path"]) and not is_admin_route(r)]


def test_every_route_with_an_id_is_mapped():
    paths = {r["path"] for r in id_routes()}
    missing = sorted(p for p in paths if p not in MAPPING and p not in PUBLIC_BY_DESIGN)
    assert not missing, f"routes with an id that the IDOR walk does not cover (add them to MAPPING): {missing}"
    stale = sorted(p for p in list(MAPPING) + list(PUBLIC_BY_DESIGN) if p not in paths)
    assert not stale, f"MAPPING/PUBLIC_BY_DESIGN name routes that no longer exist: {stale}"
    assert not set(MAPPING) & set(PUBLIC_BY_DESIGN)
    for p, why in PUBLIC_BY_DESIGN.items():
        assert why and "\n" not in why


# ---------------------------------------------------------------- A's world

class World:
    def __init__(self, s):
        self.s = s
        adm = s.admin_headers()
        a, b, c = make_users(s, 3, creator=True)
        self.a, self.b, self.c = a, b, c

        def ok(r, *codes):
            assert r.status_code in (codes or (200, 201)), r.text
            return r.json()

        # models: A's draft (never approved) and A's approved one with A's comment
        up = upload_model(s, a.h)
        self.secret_title = uniq("SecretDraft")
        self.draft = create_model(s, a, upload=up, title=self.secret_title, description="private draft")["id"]
        self.model_file = urllib.parse.urlsplit(up["file_url"]).path.split("/")  # ['', 'files', area, name]
        self.pub = create_model(s, a, approve=True, price=7)["id"]
        self.pub_comment = ok(s.post(f"/api/models/{self.pub}/comments", json={"body": "A's own comment"},
                                     headers=a.h))["id"]
        # A buys C's model (an order and a purchase) and keeps another in the cart
        cm1 = create_model(s, c, approve=True, price=3)["id"]
        cm2 = create_model(s, c, approve=True, price=4)["id"]
        ok(checkout(s, a, model_ids=[cm1]))
        self.purchase = s.get("/api/users/me/purchases", headers=a.h).json()["items"][0]["id"]
        ok(s.post("/api/cart", json={"model_id": cm2}, headers=a.h))
        self.cart_model = cm2
        # payout method, notification, job
        self.paypal = f"pay-{a.username}@example.com"
        ok(s.post("/api/users/me/payout-methods", json={"type": "paypal", "email": self.paypal}, headers=a.h))
        self.payout_method = int(s.scalar(f"SELECT id FROM payout_methods WHERE user_id = {a.id}"))
        self.notification = int(s.scalar(
            "INSERT INTO notifications (user_id, type, title, message, action_url, is_read, created_at)"
            f" VALUES ({a.id}, 'model_liked', 'For A only', 'private note', '/x', FALSE, 1) RETURNING id"))
        p = run_binary(["job-enqueue", "echo", json.dumps({"who": "A"}), "--owner", str(a.id)], s.env, s.tmp)
        assert p.returncode == 0, p.stdout + p.stderr
        self.job = json.loads(p.stdout)["id"]
        # a conversation A <-> C
        self.conversation = ok(s.post("/api/messages", json={"recipient_id": a.id, "content": "private hello"},
                                      headers=c.h))["conversation_id"]
        # A's support ticket with an attachment
        att = ok(requests.post(s.url + "/api/upload/attachment", headers=a.h,
                               files={"file": ("shot.png", png_bytes(), "application/octet-stream")}, timeout=60))
        self.attachment = att["upload_id"]
        self.attachment_file = urllib.parse.urlsplit(att.get("file_url") or att.get("url")).path.split("/")
        self.ticket = ok(s.post("/api/support/tickets", json={
            "subject": "Private " + uniq(), "message": "my private problem", "attachment_ids": [self.attachment]},
            headers=a.h))["id"]
        # A's pending community with A's post
        self.pending_community = ok(s.post("/api/communities", json={
            "name": uniq("Comm"), "description": "A's private community"}, headers=a.h))["id"]
        self.pending_post = ok(s.post(f"/api/communities/{self.pending_community}/posts",
                                      json={"content": "A's post"}, headers=a.h))["id"]
        # bounties: one open with C's application, one in progress with C
        def bounty():
            return ok(s.post("/api/bounties", json={
                "title": uniq("Bounty"), "description": "Please model a low-poly castle for my game",
                "budget": 150, "deadline": future()}, headers=a.h))["id"]
        self.open_bounty = bounty()
        self.open_bounty_app = ok(s.post(f"/api/bounties/{self.open_bounty}/apply",
                                         json={"message": "I have built many castles before, hire me"},
                                         headers=c.h))["id"]
        self.busy_bounty = bounty()
        app = ok(s.post(f"/api/bounties/{self.busy_bounty}/apply",
                        json={"message": "I have built many castles before, hire me"}, headers=c.h))["id"]
        ok(s.post(f"/api/bounties/{self.busy_bounty}/applications/{app}/accept", headers=a.h))
        # a course A is enrolled in
        co = ok(s.post("/api/admin/courses", json={"title": uniq("Course"), "description": "Learn",
                                                   "is_published": True}, headers=adm))["id"]
        self.lesson = ok(s.post(f"/api/admin/courses/{co}/lessons", json={"title": "L1", "content": "body",
                                                                          "duration_minutes": 5},
                                headers=adm))["id"]
        self.course = co
        ok(s.post(f"/api/courses/{co}/enroll", headers=a.h))
        # for ids in bodies: an unused model upload and an image upload of A's
        self.spare_upload = upload_model(s, a.h)["upload_id"]
        img = ok(requests.post(s.url + "/api/upload/image", headers=a.h,
                               files={"file": ("a.png", png_bytes(), "application/octet-stream")}, timeout=60))
        self.image_upload, self.image_url = img["upload_id"], img["image_url"]
        self.spare_attachment = ok(requests.post(
            s.url + "/api/upload/attachment", headers=a.h,
            files={"file": ("b.png", png_bytes(), "application/octet-stream")}, timeout=60))["upload_id"]
        self.private_values = [a.email, self.paypal, self.secret_title, "private draft", "private hello",
                               "my private problem"]

    def params(self, target):
        a = self.a
        return {
            "model_file": {"area": self.model_file[2], "name": self.model_file[3]},
            "attachment_file": {"area": self.attachment_file[2], "name": self.attachment_file[3]},
            "user_a": {"id": a.id, "username": a.username},
            "draft": {"id": self.draft, "model_id": self.draft},
            "pub": {"id": self.pub, "model_id": self.pub},
            "pub_comment": {"id": self.pub, "comment_id": self.pub_comment},
            "job": {"id": self.job},
            "cart_item": {"model_id": self.cart_model},
            "purchase": {"id": self.purchase},
            "payout_method": {"id": self.payout_method},
            "notification": {"id": self.notification},
            "conversation": {"id": self.conversation},
            "ticket": {"id": self.ticket},
            "ticket_attachment": {"id": self.ticket, "upload_id": self.attachment},
            "pending_community": {"id": self.pending_community},
            "pending_post": {"id": self.pending_post},
            "open_bounty": {"id": self.open_bounty},
            "open_bounty_app": {"id": self.open_bounty, "app_id": self.open_bounty_app},
            "busy_bounty": {"id": self.busy_bounty},
            "course": {"id": self.course},
            "lesson": {"id": self.course, "lesson_id": self.lesson},
        }[target]

    def state(self):
        """One fingerprint of everything A owns, in one round trip."""
        a, s = self.a, self.s
        m = "title, description, price_cents, status, is_published, deleted_at, likes_count, views_count," \
            " comments_count, shares_count, video_url, thumbnail_url"
        parts = [
            f"(SELECT COUNT(*) FROM models WHERE creator_id = {a.id} AND deleted_at IS NULL)",
            f"(SELECT COUNT(*) FROM model_likes WHERE model_id IN ({self.draft}, {self.pub}))",
            f"(SELECT COUNT(*) FROM model_views WHERE model_id IN ({self.draft}, {self.pub}))",
            f"(SELECT COUNT(*) FROM model_comments WHERE model_id IN ({self.draft}, {self.pub}))",
            f"(SELECT COUNT(*) FROM cart_items WHERE user_id = {a.id})",
            f"(SELECT COUNT(*) FROM payout_methods WHERE user_id = {a.id})",
            f"(SELECT is_read FROM notifications WHERE id = {self.notification})",
            f"(SELECT COUNT(*) FROM jobs WHERE owner_id = {a.id})",
            f"(SELECT COUNT(*) FROM dm_messages WHERE conversation_id = {self.conversation})",
            f"(SELECT COUNT(*) FROM dm_messages WHERE conversation_id = {self.conversation} AND read_at IS NULL)",
            f"(SELECT status FROM support_tickets WHERE id = {self.ticket})",
            f"(SELECT COUNT(*) FROM support_messages WHERE ticket_id = {self.ticket})",
            f"(SELECT status FROM communities WHERE id = {self.pending_community})",
            f"(SELECT COUNT(*) FROM community_members WHERE community_id = {self.pending_community})",
            f"(SELECT COUNT(*) FROM community_posts WHERE community_id = {self.pending_community})",
            f"(SELECT reactions_count FROM community_posts WHERE id = {self.pending_post})",
            f"(SELECT comments_count FROM community_posts WHERE id = {self.pending_post})",
            f"(SELECT shares_count FROM community_posts WHERE id = {self.pending_post})",
            f"(SELECT COUNT(*) FROM community_reports)",
            f"(SELECT COUNT(*) FROM bounties WHERE owner_id = {a.id} AND status IN ('open', 'in_progress'))",
            f"(SELECT COUNT(*) FROM bounty_applications WHERE bounty_id IN ({self.open_bounty}, {self.busy_bounty})"
            " AND status = 'pending')",
            f"(SELECT COUNT(*) FROM bounty_deliveries WHERE bounty_id = {self.busy_bounty})",
            f"(SELECT COUNT(*) FROM lesson_completions WHERE course_id = {self.course})",
            f"(SELECT COUNT(*) FROM course_enrollments WHERE course_id = {self.course})",
            f"(SELECT COUNT(*) FROM uploads WHERE user_id = {a.id})",
        ]
        rows = self.sql(f"SELECT {m} FROM models WHERE id IN ({self.draft}, {self.pub}) ORDER BY id")
        return rows + self.sql("SELECT " + ", ".join(parts))

    def sql(self, query):
        """s.sql, but through one psql kept open (a psql per query costs
        more than the walk itself on a loaded machine)."""
        if self.s.engine != "postgres":
            return self.s.sql(query)
        if not getattr(self, "psql", None):
            self.psql = subprocess.Popen(["psql", self.s.pg.url, "-X", "-q", "-A", "-t", "-F", "\x1f"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.psql.stdin.write(query + ";\n\\echo __end__\n")
        self.psql.stdin.flush()
        rows = []
        for line in self.psql.stdout:
            line = line.rstrip("\n")
            if line == "__end__":
                return rows
            if line:
                rows.append(tuple(line.split("\x1f")))
        raise AssertionError("psql ended")

    def close(self):
        if getattr(self, "psql", None):
            self.psql.stdin.close()
            self.psql.wait(timeout=10)


@pytest.fixture(scope="module")
def world(server):
    w = World(server)
    yield w
    w.close()


def fill(path, values):
    out = []
    for seg in path.split("/"):
        if seg.startswith("{") and seg.endswith("}"):
            name = seg[1:-1].partition(":")[0]
            assert name in values, f"{path}: the target has no {name}"
            seg = urllib.parse.quote(str(values[name]), safe="")
        out.append(seg)
    return "/".join(out)


def cases():
    out = []
    for r in id_routes():
        for target, kind, *body in MAPPING.get(r["path"], []):
            k = kind.get(r["method"]) if isinstance(kind, dict) else kind
            if k:
                out.append((r["method"], r["path"], target, k, body[0] if body else BODIES.get(r["path"])))
    return out


@pytest.mark.parametrize("caller", ["B", "anonymous"])
def test_user_b_cannot_reach_user_a_objects(world, caller):
    s = world.s
    before = world.state()
    problems = []
    refused = (403, 404) if caller == "B" else (401, 403, 404)
    for method, path, target, kind, body in cases():
        url = fill(path, world.params(target))
        kw = {"headers": world.b.h if caller == "B" else {}}
        if method in ("POST", "PUT"):
            kw["json"] = body if body is not None else {}
        r = s.request(method, url, **kw)
        where = f"{method} {path} ({target}, {body}) as {caller} -> {r.status_code}"
        if r.status_code >= 500:
            problems.append(f"{where}: {r.text[:200]!r}")
        elif kind == "deny" and r.status_code not in refused:
            problems.append(f"{where}, expected 403/404: {r.text[:200]!r}")
        elif kind == "public":
            if r.status_code not in (200,) + refused:
                problems.append(f"{where}, expected 200/403/404: {r.text[:200]!r}")
            leaked = [v for v in world.private_values if v in r.text]
            if leaked:
                problems.append(f"{where}: leaks A's private values {leaked}")
        after = world.state()
        if after != before:
            problems.append(f"{where}: A's state changed:\n  {before}\n  {after}")
            before = after
    assert not problems, "\n".join(problems)


def test_user_b_cannot_use_user_a_ids_in_bodies(world):
    """Ids inside request bodies: B names A's uploads, draft model and
    conversation in B's own requests; each is refused (403/404/422) and A's
    state does not change."""
    s, a, b, c = world.s, world.a, world.b, world.c
    adm = s.admin_headers()

    def ok(r):
        assert r.status_code in (200, 201), r.text
        return r.json()

    # B's own things to act from: a model, an active community B is in,
    # a bounty of C's that B was accepted on, an open bounty of C's
    b_model = create_model(s, b)["id"]
    comm = ok(s.post("/api/communities", json={"name": uniq("Comm"), "description": "B's"}, headers=b.h))["id"]
    ok(s.put(f"/api/admin/communities/{comm}/approve", headers=adm))
    bounty = {"description": "Please model a low-poly castle for my game", "budget": 150, "deadline": future()}
    busy = ok(s.post("/api/bounties", json=dict(bounty, title=uniq("Bounty")), headers=c.h))["id"]
    app = ok(s.post(f"/api/bounties/{busy}/apply", json={"message": "I have built many castles before, hire me"},
                    headers=b.h))["id"]
    ok(s.post(f"/api/bounties/{busy}/applications/{app}/accept", headers=c.h))
    open_b = ok(s.post("/api/bounties", json=dict(bounty, title=uniq("Bounty")), headers=c.h))["id"]
    draft, up, img, att = world.draft, world.spare_upload, world.image_upload, world.spare_attachment
    calls = [
        ("POST", "/api/models", {"title": uniq("Stolen"), "price": 1, "category_id": None, "upload_id": up}),
        ("POST", "/api/models/analyze", {"upload_id": up}),
        ("POST", "/api/models/safety-scan", {"upload_id": up}),
        ("POST", "/api/ai/generate-tags", {"upload_id": up}),
        ("POST", "/api/ai/generate-tags", {"model_id": draft}),
        ("POST", f"/api/models/{b_model}/screenshot", {"upload_id": img}),
        ("PUT", f"/api/models/{b_model}", {"preview_images": [world.image_url]}),
        ("PUT", f"/api/models/{b_model}", {"thumbnail_url": world.image_url}),
        ("POST", "/api/messages", {"conversation_id": world.conversation, "content": "B joins in"}),
        ("POST", "/api/support/tickets", {"subject": "Theirs " + uniq(), "message": "m", "attachment_ids": [att]}),
        ("POST", "/api/support/tickets", {"subject": "Theirs " + uniq(), "message": "m",
                                          "attachment_ids": [world.attachment]}),
        ("POST", "/api/cart", {"model_id": draft}),
        ("POST", "/api/checkout", {"model_ids": [draft], "payment_method": "card",
                                   "payment_details": {"card_token": "tok_visa"}}),
        ("POST", "/api/communities/messages", {"content": "hi", "community_id": world.pending_community}),
        ("POST", f"/api/communities/{comm}/posts", {"content": "look", "model_id": draft}),
        ("POST", f"/api/communities/{comm}/posts", {"content": "look", "image_upload_ids": [img]}),
        ("POST", "/api/bounties", dict(bounty, title=uniq("Bounty"), reference_image_ids=[img])),
        ("POST", f"/api/bounties/{open_b}/apply", {"message": "I have built many castles before, hire me",
                                                   "portfolio_model_ids": [draft]}),
        ("POST", f"/api/bounties/{busy}/deliver", {"message": "done", "model_id": draft}),
        ("POST", f"/api/bounties/{busy}/deliver", {"message": "done", "upload_id": img}),
    ]
    from test_models import default_category
    calls[0][2]["category_id"] = default_category(s)
    before = world.state()
    problems = []
    for method, path, body in calls:
        r = s.request(method, path, json=body, headers=b.h)
        where = f"{method} {path} {body} as B -> {r.status_code}"
        if r.status_code not in (403, 404, 422):
            problems.append(f"{where}: {r.text[:200]!r}")
        leaked = [v for v in world.private_values if v in r.text]
        if leaked:
            problems.append(f"{where}: leaks {leaked}")
        after = world.state()
        if after != before:
            problems.append(f"{where}: A's state changed")
            before = after
    # and nothing of A's landed in B's things
    assert s.scalar(f"SELECT COUNT(*) FROM cart_items WHERE user_id = {b.id} AND model_id = {draft}") == "0"
    assert s.scalar(f"SELECT COUNT(*) FROM bounty_deliveries WHERE bounty_id = {busy}") == "0"
    assert s.scalar(f"SELECT COUNT(*) FROM community_posts WHERE community_id = {comm}") == "0"
    assert not problems, "\n".join(problems)


def test_lists_never_show_user_a_private_things_to_b(world):
    """Every GET route without a path parameter (lists, search, feeds),
    as B, with every filter that could reach A's private things: A's
    draft title, email, payout details and private texts never appear."""
    s, a, b = world.s, world.a, world.b
    secret = world.secret_title
    queries = [{"search": secret, "q": secret, "status": "all"},
               {"creator_id": a.id, "user_id": a.id, "owner_id": a.id, "status": "draft", "include_drafts": "true"},
               {"search": "private", "q": "private hello", "creator": a.username, "status": "pending"}]
    problems = []
    for r in ROUTES:
        if r["method"] != "GET" or params_of(r["path"]) or is_admin_route(r) or r["path"] in ("/metrics",):
            continue
        for q in queries:
            got = s.get(r["path"], params=q, headers=b.h)
            if got.status_code >= 500:
                problems.append(f"GET {r['path']} {q} -> {got.status_code}")
            leaked = [v for v in world.private_values if v in got.text]
            if leaked:
                problems.append(f"GET {r['path']} {q} as B leaks {leaked}")
    assert not problems, "\n".join(problems)


def test_owner_and_privileged_fields_in_bodies_are_not_taken(world):
    """B creates and edits B's own things with owner fields naming A and
    fields only staff may set: what is stored is B's, with the defaults."""
    s, a, b = world.s, world.a, world.b
    from test_models import default_category
    sneaky = {"creator_id": a.id, "owner_id": a.id, "user_id": a.id, "author_id": a.id, "buyer_id": a.id,
              "status": "approved", "is_featured": True, "is_published": True, "likes_count": 999,
              "views_count": 999, "sales_count": 999, "role": "admin", "is_admin": True, "is_banned": False,
              "is_email_verified": True, "is_verified": True, "assigned_to": a.id, "members_count": 999,
              "applications_count": 999, "accepted_application_id": 1, "id": world.pub}

    def send(method, path, body):
        body = dict(sneaky, **body)
        r = s.request(method, path, json=body, headers=b.h)
        assert r.status_code in (200, 201, 422), f"{method} {path}: {r.status_code} {r.text[:200]}"
        if r.status_code == 422:  # unknown fields refused: send the plain body, then check what is stored
            r = s.request(method, path, json={k: v for k, v in body.items() if k not in sneaky}, headers=b.h)
            assert r.status_code in (200, 201), f"{method} {path}: {r.status_code} {r.text[:200]}"
        return r.json()

    m = send("POST", "/api/models", {"title": uniq("Mine"), "price": 3, "category_id": default_category(s),
                                     "upload_id": upload_model(s, b.h)["upload_id"]})
    send("PUT", f"/api/models/{m['id']}", {"title": uniq("Mine2")})
    row = s.sql(f"SELECT creator_id, status, is_featured, likes_count, views_count, sales_count FROM models"
                f" WHERE id = {m['id']}")[0]
    assert row[0] == str(b.id) and row[1] == "pending" and row[2] in ("0", "f", "false") and row[3:] == ("0",) * 3, row
    send("PUT", "/api/users/me", {"full_name": "B Name"})
    row = s.sql(f"SELECT role, is_email_verified, is_banned FROM users WHERE id = {b.id}")[0]
    assert row[0] == "user", row
    t = send("POST", "/api/support/tickets", {"subject": "Sneaky " + uniq(), "message": "m"})
    row = s.sql(f"SELECT user_id, status, assigned_to FROM support_tickets WHERE id = {t['id']}")[0]
    assert row[0] == str(b.id) and row[1] == "active" and row[2] == "", row
    c = send("POST", "/api/communities", {"name": uniq("Comm"), "description": "mine"})
    row = s.sql(f"SELECT owner_id, status, members_count FROM communities WHERE id = {c['id']}")[0]
    assert row[0] == str(b.id) and row[1] == "pending" and row[2] == "1", row
    bo = send("POST", "/api/bounties", {"title": uniq("Bounty"), "description": "Please model a low-poly castle",
                                        "budget": 150, "deadline": future()})
    row = s.sql(f"SELECT owner_id, status, applications_count, accepted_application_id FROM bounties"
                f" WHERE id = {bo['id']}")[0]
    assert row == (str(b.id), "open", "0", ""), row
    p = send("POST", f"/api/communities/{c['id']}/posts", {"content": "hello"})
    assert s.scalar(f"SELECT author_id FROM community_posts WHERE id = {p['id']}") == str(b.id)
    # A's approved model was not touched by the "id" field
    assert s.scalar(f"SELECT title FROM models WHERE id = {world.pub}") != "Mine2"


def test_b_own_parent_with_a_child_id(world):
    """Two-id routes: B's own parent with A's child (a comment, an
    attachment, an application, a lesson of another course) is 404, never
    an action on A's child."""
    s, a, b, c = world.s, world.a, world.b, world.c

    def ok(r):
        assert r.status_code in (200, 201), r.text
        return r.json()

    b_model = create_model(s, b, approve=True, price=0, is_free=True)["id"]
    b_ticket = ok(s.post("/api/support/tickets", json={"subject": "Mine " + uniq(), "message": "m"}, headers=b.h))["id"]
    b_bounty = ok(s.post("/api/bounties", json={"title": uniq("Bounty"), "description": "Please model a castle",
                                                "budget": 150, "deadline": future()}, headers=b.h))["id"]
    adm = s.admin_headers()
    other = ok(s.post("/api/admin/courses", json={"title": uniq("Course"), "description": "Other",
                                                  "is_published": True}, headers=adm))["id"]
    ok(s.post(f"/api/courses/{other}/enroll", headers=b.h))
    before = world.state()
    for method, path in (("DELETE", f"/api/models/{b_model}/comments/{world.pub_comment}"),
                         ("GET", f"/api/support/tickets/{b_ticket}/attachments/{world.attachment}"),
                         ("POST", f"/api/bounties/{b_bounty}/applications/{world.open_bounty_app}/accept"),
                         ("POST", f"/api/courses/{other}/lessons/{world.lesson}/complete")):
        r = s.request(method, path, headers=b.h)
        assert r.status_code == 404, f"{method} {path}: {r.status_code} {r.text[:200]}"
        assert world.state() == before, f"{method} {path} changed A's state"
    assert s.scalar(f"SELECT COUNT(*) FROM lesson_completions WHERE user_id = {b.id}") == "0"


def test_b_cannot_subscribe_to_a_channels(world):
    """The WebSocket channels with an id: A's support ticket and A's
    pending community are closed to B (4403); A gets into the ticket's (a
    community's channel opens when it is active, for its members)."""
    from test_ws import open_ws, ping
    s, a, b = world.s, world.a, world.b
    for path in (f"/ws/support/{world.ticket}", f"/ws/community/{world.pending_community}"):
        assert open_ws(s, b, path).expect_close() == 4403, path
    ws = open_ws(s, a, f"/ws/support/{world.ticket}")
    ping(ws)
    ws.close()


def test_user_a_still_reaches_own_objects(world):
    """The walk is not vacuous: A gets its own things (a 403/404 above is
    about B, not about a broken fixture)."""
    s, a = world.s, world.a
    for path in (f"/api/models/{world.draft}", f"/api/jobs/{world.job}", f"/api/messages/{world.conversation}",
                 f"/api/support/tickets/{world.ticket}", f"/api/communities/{world.pending_community}",
                 f"/api/users/me/purchases/{world.purchase}/license", f"/api/models/{world.pub}/analytics",
                 "/".join(world.attachment_file), "/".join(world.model_file),
                 f"/api/support/tickets/{world.ticket}/attachments/{world.attachment}"):
        r = s.get(path, headers=a.h)
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:200]}"


def admin_path(path):
    return fill(path, {n: 1 for n in params_of(path)})


def test_non_admin_gets_403_on_every_admin_route(server):
    u, = make_users(server, 1)
    problems = []
    admin_routes = [r for r in ROUTES if is_admin_route(r)]
    assert len(admin_routes) > 40
    for r in admin_routes:
        assert r["access"] == "admin", f"{r['method']} {r['path']} is under /api/admin but not admin-only"
        kw = {"headers": u.h}
        if r["method"] in ("POST", "PUT"):
            kw["json"] = {}
        got = server.request(r["method"], admin_path(r["path"]), **kw)
        if got.status_code != 403:
            problems.append(f"{r['method']} {r['path']} as a user -> {got.status_code}")
        got = server.request(r["method"], admin_path(r["path"]), **({"json": {}} if "json" in kw else {}))
        if got.status_code != 401:
            problems.append(f"{r['method']} {r['path']} anonymous -> {got.status_code}")
    assert not problems, "\n".join(problems)
