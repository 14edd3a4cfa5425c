"""The admin console in a real browser (issue 14, point 8): Debian's
Chromium driving tests/e2e/admin-pages.mjs and admin-flow.mjs against a
server of these tests' own, on SQLite and on PostgreSQL.

- test_admin_page_sweep: the admin sign-in pages signed out; a console page
  sending a signed-out visitor to /admin/login?next=; "Admins only" for a
  signed-in non-admin; then, signed in through /admin/login with the mailed
  code, every console page at 1280 and 768 px: screenshots in
  build/screenshots/<engine>/admin-*.png, axe-core (no serious or critical
  violation), no console error, an h1, no sideways scrolling; a form dialog
  and a confirmation dialog under axe too.
- test_admin_flow: sign in with password and mailed code, approve a pending
  model, reject another with a reason, resolve a report by removing the post,
  create a category in its dialog, delete a slide after its confirmation,
  create a slide with an image uploaded from the dialog,
  answer a support ticket (its owner's open page receives the answer live);
  the server's state is then checked through the API.

The file sorts after test_browser.py, whose page sweep empties
build/screenshots/<engine>/ first, so the admin screenshots stay beside the
others.  Each admin signs in once per server: a second admin login within a minute
mails no new code (src/api/auth.c), so the two scripts use two admins.
"""
import os

import requests

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, finish_server, free_port, require_pg, start_server, uniq
from test_models import png_bytes
from test_browser import (  # noqa: F401  (browser_ready is a fixture)
    Account, assert_ok, base_cfg, browser_ready, cube_glb, run_script,
)

import pytest

SWEEP_ADMIN = ("sweep-admin@example.com", "Sweep-admin-passphrase-3")
FLOW_ADMIN = ("flow-admin@example.com", "Flow-admin-passphrase-5")


@pytest.fixture(scope="module", params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def server(request):
    """A server on each engine whose PUBLIC_URL and FRONTEND_URL are its
    real address, with one admin per browser script besides the suite's own."""
    if request.param == "postgres":
        require_pg()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    s = start_server(request.param, env={"PORT": port, "PUBLIC_URL": url, "FRONTEND_URL": url},
                     label=f"admin-browser-{request.param}",
                     admins=((ADMIN_EMAIL, ADMIN_PASSWORD), SWEEP_ADMIN, FLOW_ADMIN))
    yield s
    finish_server(s)


def pending_model(server, creator, title, category_id):
    r = requests.post(server.url + "/api/upload/model", headers=creator.h,
                      files={"file": ("cube.glb", cube_glb(), "model/gltf-binary")}, timeout=60)
    assert r.status_code == 201, r.text
    r = server.post("/api/models", headers=creator.h, json={
        "title": title, "description": "A cube waiting for review.", "price": 2.5,
        "upload_id": r.json()["upload_id"], "category_id": category_id, "tags": ["cube"], "license": "standard"})
    assert r.status_code == 201, r.text
    model = r.json()
    assert model["status"] == "pending", model
    return model


@pytest.fixture(scope="module")
def desk(server, browser_ready):
    """What an admin finds on a Monday: pending models, a reported post in a
    community, a support ticket; a buyer who owns the ticket."""
    creator = Account(server, "creator")
    buyer = Account(server, "buyer")
    reporter = Account(server, "buyer")
    r = server.post("/api/admin/categories", json={"name": uniq("Queue")}, headers=server.admin_headers())
    assert r.status_code == 201, r.text
    models = [pending_model(server, creator, f"Queue cube {uniq('q')}", r.json()["id"]) for _ in range(3)]
    r = server.post("/api/admin/communities", json={"name": uniq("Makers")}, headers=server.admin_headers())
    assert r.status_code == 201, r.text
    community = r.json()
    for who in (buyer, reporter):
        assert server.post(f"/api/communities/{community['id']}/join", headers=who.h).status_code == 200
    r = server.post(f"/api/communities/{community['id']}/posts", json={"content": "Cheap followers at spam.example"},
                    headers=buyer.h)
    assert r.status_code == 201, r.text
    post = r.json()
    r = server.post(f"/api/posts/{post['id']}/report", json={"reason": "spam", "details": "an advert"},
                    headers=reporter.h)
    assert r.status_code == 201, r.text
    report = r.json()
    r = server.post("/api/support/tickets", json={"subject": "My download stops", "message": "It stops at 50%"},
                    headers=buyer.h)
    assert r.status_code == 201, r.text
    ticket = r.json()
    r = requests.post(server.url + "/api/upload/image", headers=server.admin_headers(),
                      files={"file": ("slide.png", png_bytes(64, 36), "image/png")}, timeout=30)
    assert r.status_code == 201, r.text
    r = server.post("/api/admin/slider", json={"title": uniq("Spring sale"), "image_url": r.json()["image_url"],
                                               "link_url": "/marketplace", "button_text": "Browse"},
                    headers=server.admin_headers())
    assert r.status_code == 201, r.text
    slide = r.json()
    return {"creator": creator, "buyer": buyer, "slide": slide, "models": models, "community": community, "post": post,
            "report": report, "ticket": ticket}


# Chromium's default 10 s per action is short on a loaded 2-core machine
# while SwiftShader renders the review page's 3D viewer.
TIMEOUT_MS = 30000


def admin_creds(pair):
    return {"email": pair[0], "password": pair[1]}


def test_admin_page_sweep(server, desk):
    cfg = base_cfg(server, data_dir=server.data_dir, admin=admin_creds(SWEEP_ADMIN), user=desk["buyer"].creds(),
                   model_id=desk["models"][2]["id"], ticket_id=desk["ticket"]["id"], timeout_ms=TIMEOUT_MS)
    result = run_script("admin-pages", cfg, timeout=600)
    assert_ok(result)
    steps = {s["step"] for s in result["steps"]}
    # every console page at both widths went through axe
    assert sum(1 for s in steps if s.startswith("axe admin-")) >= 2 * (result["pages"] - 3), sorted(steps)
    assert "axe admin-model at 1280px" in steps and "axe admin-model at 768px" in steps
    assert "a non-admin sees \"Admins only\"" in steps


def test_admin_flow(server, desk):
    approve, reject = desk["models"][0], desk["models"][1]
    reason = "The cube needs its textures packed into the file."
    reply = "Hello from support: " + uniq("reply")
    cfg = base_cfg(server, data_dir=server.data_dir, admin=admin_creds(FLOW_ADMIN), user=desk["buyer"].creds(),
                   approve={"id": approve["id"], "title": approve["title"]},
                   reject={"id": reject["id"], "title": reject["title"]}, reason=reason,
                   report_id=desk["report"]["id"], ticket_id=desk["ticket"]["id"], reply=reply,
                   category=uniq("Browser made"), slide=desk["slide"]["title"], timeout_ms=TIMEOUT_MS,
                   new_slide=uniq("Summer"), png=os.path.join(server.tmp, "slide.png"))
    with open(cfg["png"], "wb") as f:
        f.write(png_bytes(160, 90))
    result = run_script("admin-flow", cfg, timeout=600)
    assert_ok(result)
    print(f"\nthe support answer reached the user's open page in {result.get('live_ms')} ms")
    admin = server.admin_headers()
    # the approved model is public; the rejected one carries the reason
    assert server.get(f"/api/models/{approve['id']}/public").status_code == 200
    m = server.get(f"/api/admin/models/{approve['id']}", headers=admin).json()
    assert m["status"] == "approved", m
    m = server.get(f"/api/admin/models/{reject['id']}", headers=admin).json()
    assert m["status"] == "rejected" and m["rejection_reason"] == reason, m
    assert server.get(f"/api/models/{reject['id']}/public").status_code == 404
    # the third model was only looked at
    m = server.get(f"/api/admin/models/{desk['models'][2]['id']}", headers=admin).json()
    assert m["status"] == "pending", m
    # the report is resolved by removing the post
    r = server.get("/api/admin/reports", params={"status": "all", "limit": 100}, headers=admin)
    assert r.status_code == 200, r.text
    rep = next(x for x in r.json()["items"] if x["id"] == desk["report"]["id"])
    assert rep["status"] == "resolved" and rep["action"] == "remove", rep
    assert rep["post"]["is_removed"] is True, rep
    # the category made in its dialog exists; the slide is gone
    r = server.get("/api/admin/categories", params={"search": cfg["category"], "limit": 100}, headers=admin)
    assert [c["name"] for c in r.json()["items"]] == [cfg["category"]], r.text
    slides = server.get("/api/admin/slider", params={"limit": 100}, headers=admin).json()["items"]
    assert not [s for s in slides if s["id"] == desk["slide"]["id"]]
    made = [s for s in slides if s["title"] == cfg["new_slide"]]
    assert len(made) == 1 and made[0]["link_url"] == "/marketplace", slides
    assert requests.get(made[0]["image_url"], timeout=10).status_code == 200, made[0]
    # the ticket holds the staff answer, from the flow's admin
    r = server.get(f"/api/support/tickets/{desk['ticket']['id']}", headers=desk["buyer"].h)
    assert r.status_code == 200, r.text
    staff = [x for x in r.json()["messages"] if x["is_staff"]]
    assert [x["message"] for x in staff] == [reply], r.json()["messages"]
    assert staff[0]["sender"]["id"] == server.user_id(FLOW_ADMIN[0]), staff[0]
