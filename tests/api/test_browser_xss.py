"""Stored XSS in a real browser (issue 15, item 4): Debian's Chromium driving
tests/e2e/xss-sweep.mjs against a server of this file's own, on SQLite and
on PostgreSQL.

Python stores a payload in every user- or admin-controlled text field the
platform keeps, through the API, each payload carrying a number that names
its field (`<img src=x onerror=window.__xss(7)>`, `<svg onload=...>`,
`"><script>...</script>`, `{{constructor.constructor('...')()}}`, an
attribute break-out, and `javascript:` in URL fields).  The script then
visits every page that shows those fields, as the user who sees them, opens
the tabs, dropdowns and dialogs they sit in, and fails when a payload ran
(window.__xss was called, a dialog opened), when the page holds markup a
payload made (an on* attribute, an inline script, a javascript: href or
src, an img with src=x), or when the payload's text is NOT visibly on the
page (so the sweep cannot pass by not rendering the field).  The browser
context ignores the pages' Content-Security-Policy, which would otherwise
stop an injected handler from running and hide the bug the client made.

Fields the server refuses outright (username's charset, a script URL in
any URL field, unknown {{variables}} in a mail template, a licence outside
its list) are asserted to be refused, with a 4xx, here.  The platform keeps
no location, website or social links for a user.

- test_xss_sweep: 60 payloads, about 55 page visits (public pages, the
  dashboards, community, messages, support, bounties, learning, the
  notification dropdown, the admin console and its mail preview, whose
  sandboxed iframe must show the body as text); screenshots of the home,
  model, community and mail-preview pages at 1280 and 390 px in
  build/screenshots/<engine>/xss-*.png.
- test_maintenance_message: the maintenance message, which every page
  shows while maintenance is on.
"""
import email
import email.policy
import glob
import os
import time

import pytest
import requests

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, finish_server, free_port, require_pg, start_server, uniq
from test_models import png_bytes
from test_browser import (  # noqa: F401  (browser_ready is a fixture)
    Account, assert_ok, base_cfg, browser_ready, cube_glb, run_script, word,
)

SWEEP_ADMIN = ("xss-admin@example.com", "Xss-admin-passphrase-9")
TIMEOUT_MS = 30000


class Payloads:
    """Payload texts, each numbered: the number names the field in a failure."""

    KINDS = {
        "img": "<img src=x onerror=window.__xss({n})>",
        "svg": "<svg onload=window.__xss({n})>",
        "script": "\"><script>window.__xss({n})</script>",
        "tpl": "{{{{constructor.constructor('window.__xss({n})')()}}}}",
        # breaks out of a double- or single-quoted attribute
        "attr": "\"' onfocus=window.__xss({n})",
        "js": "javascript:window.__xss({n})",
    }

    def __init__(self):
        self.fields = {}

    def make(self, field, kind="all", prefix=""):
        n = len(self.fields) + 1
        self.fields[n] = field
        if kind == "all":
            text = (f"#{n} <img src=x onerror=window.__xss({n})> <svg onload=window.__xss({n})>"
                    f" \"><script>window.__xss({n})</script> {{{{constructor.constructor('window.__xss({n})')()}}}}")
        else:
            text = prefix + self.KINDS[kind].format(n=n)
        return n, text


# What a URL field must refuse: script URLs in any spelling a browser
# accepts (scheme case, leading blanks, a tab inside), HTML data: URLs.
SCRIPT_URLS = ("javascript:window.__xss(0)", "JaVaScRiPt:window.__xss(0)", " javascript:window.__xss(0)",
               "java\tscript:window.__xss(0)", "\x01javascript:window.__xss(0)",
               "data:text/html,<script>window.__xss(0)</script>", "vbscript:msgbox(0)")


def ok(r, status=(200, 201)):
    """The JSON of a 2xx answer with one of these statuses."""
    assert r.status_code in ((status,) if isinstance(status, int) else status), f"{r.request.method} {r.url}: {r.status_code} {r.text}"
    return r.json() if r.content else None


def refused(r, field):
    """A 400/422 naming `field`: the payload was refused for what it is."""
    assert r.status_code in (400, 422), f"{r.request.method} {r.url} accepted a payload: {r.status_code} {r.text}"
    assert field in r.json().get("field_errors", {}), r.text


@pytest.fixture(scope="module", params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def server(request):
    if request.param == "postgres":
        require_pg()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    s = start_server(request.param, env={"PORT": port, "PUBLIC_URL": url, "FRONTEND_URL": url},
                     label=f"xss-browser-{request.param}", admins=((ADMIN_EMAIL, ADMIN_PASSWORD), SWEEP_ADMIN))
    yield s
    finish_server(s)


@pytest.fixture(scope="module")
def stored(server, browser_ready):
    """Every text field holding a payload; returns the script's input: the
    visits (page, who, what to open, which payloads must show) and the
    payload texts."""
    P = Payloads()
    adm = server.admin_headers()
    creator, buyer = Account(server, "creator"), Account(server, "buyer")
    texts = {}

    unshown = set()

    def put(field, kind="all", prefix="", shown=True):
        n, t = P.make(field, kind, prefix)
        texts[n] = t
        if not shown:
            unshown.add(str(n))
        return n, t

    # ---- users: full_name, bio, country, skills (a JSON array); username is refused
    who = {}
    for acc, label in ((creator, "creator"), (buyer, "buyer")):
        fn, full_name = put(f"{label} full_name", "img")
        bn, bio = put(f"{label} bio")
        cn, country = put(f"{label} country", "svg")
        sn, skill = put(f"{label} skills[0] (JSON array)", "attr")
        ok(server.put("/api/users/me", json={"full_name": full_name, "bio": bio, "country": country,
                                              "skills": [skill, "modeling"]}, headers=acc.h))
        who[label] = {"full_name": fn, "bio": bn, "country": cn, "skills": sn}
    refused(server.put("/api/users/me", json={"username": "<svg onload=window.__xss(0)>"}, headers=creator.h),
            "username")

    # ---- categories (admin): name and description
    cat_n, cat_name = put("category name", "img")
    catd_n, cat_desc = put("category description")
    category = ok(server.post("/api/admin/categories", json={"name": cat_name, "description": cat_desc}, headers=adm))

    # ---- a model: title, description, tags (a JSON array); licence is an enum
    r = requests.post(server.url + "/api/upload/model", headers=creator.h,
                      files={"file": ("cube.glb", cube_glb(), "model/gltf-binary")}, timeout=60)
    upload = ok(r)
    term = word()
    title_n, title = put("model title", "img", prefix=f"{term} ")
    desc_n, desc = put("model description")
    tag_n, tag = put("model tag", "svg")
    tag2_n, tag2 = put("model tag (attribute)", "attr")
    model = ok(server.post("/api/models", headers=creator.h, json={
        "title": title, "description": desc, "price": 3.5, "category_id": category["id"],
        "upload_id": upload["upload_id"], "tags": [tag, tag2], "license": "standard"}))
    refused(server.put(f"/api/models/{model['id']}", headers=creator.h,
                       json={"license": "<svg onload=window.__xss(0)>"}), "license")
    ok(server.put(f"/api/admin/models/{model['id']}/approve", headers=adm))
    # a second model, rejected with a reason the creator reads
    r = requests.post(server.url + "/api/upload/model", headers=creator.h,
                      files={"file": ("cube.glb", cube_glb(), "model/gltf-binary")}, timeout=60)
    upload2 = ok(r)
    rej_title_n, rej_title = put("rejected model title", "script")
    rejected = ok(server.post("/api/models", headers=creator.h, json={
        "title": rej_title, "description": "waiting", "price": 2, "category_id": category["id"],
        "upload_id": upload2["upload_id"], "tags": ["cube"], "license": "standard"}))
    reason_n, reason = put("model rejection_reason (admin)")
    ok(server.put(f"/api/admin/models/{rejected['id']}/reject", json={"reason": reason}, headers=adm))

    # ---- a comment on the model (notifies the creator with the model's title)
    com_n, comment = put("model comment")
    ok(server.post(f"/api/models/{model['id']}/comments", json={"body": comment}, headers=buyer.h))

    # ---- the buyer buys it (the creator's sales, the buyer's purchases)
    ok(server.post("/api/cart", json={"model_id": model["id"]}, headers=buyer.h))
    ok(server.post("/api/checkout", headers=buyer.h, json={"payment_method": "card",
                                                           "payment_details": {"card_token": "tok_visa"}}))

    # ---- the buyer follows the creator (a notification naming the buyer)
    ok(server.post(f"/api/users/{creator.id}/follow", headers=buyer.h))

    # ---- a community: name, description, rules; a post, a comment, a chat line, a report's details
    cname_n, cname = put("community name", "svg")
    cdesc_n, cdesc = put("community description")
    crules_n, crules = put("community rules")
    community = ok(server.post("/api/communities", json={"name": cname, "description": cdesc, "rules": crules},
                               headers=creator.h))
    if community.get("status") == "pending":
        ok(server.put(f"/api/admin/communities/{community['id']}/approve", headers=adm))
    for acc in (creator, buyer):
        server.post(f"/api/communities/{community['id']}/join", headers=acc.h)
    post_n, post_text = put("community post")
    link_n, post_link = put("link in a community post", "js")
    post = ok(server.post(f"/api/communities/{community['id']}/posts",
                          json={"content": f"{post_text} see {post_link}"}, headers=creator.h))
    pc_n, pcomment = put("community post comment")
    ok(server.post(f"/api/posts/{post['id']}/comments", json={"content": pcomment}, headers=buyer.h))
    chat_n, chat = put("community chat line")
    ok(server.post("/api/communities/messages", json={"community_id": community["id"], "content": chat}, headers=buyer.h))
    rep_n, rep = put("post report details")
    ok(server.post(f"/api/posts/{post['id']}/report", json={"reason": "spam", "details": rep}, headers=buyer.h))

    # ---- a direct message, both ways
    dm_n, dm = put("direct message")
    conv = ok(server.post("/api/messages", json={"recipient_id": creator.id, "content": dm}, headers=buyer.h))
    dm2_n, dm2 = put("direct message reply", "tpl")
    ok(server.post("/api/messages", json={"recipient_id": buyer.id, "content": dm2}, headers=creator.h))

    # ---- support: subject, message, an attachment's file name, a staff answer
    att_n, att_name = put("support attachment file name", "img")
    r = requests.post(server.url + "/api/upload/attachment", headers=buyer.h,
                      files={"file": (att_name + ".png", png_bytes(), "application/octet-stream")}, timeout=60)
    att = ok(r)
    subj_n, subj = put("support ticket subject", "script")
    msg_n, msg = put("support ticket message")
    ticket = ok(server.post("/api/support/tickets", json={"subject": subj, "message": msg,
                                                          "attachment_ids": [att["upload_id"]]}, headers=buyer.h))
    staff_n, staff = put("support staff answer (admin)")
    ok(server.post(f"/api/admin/support/tickets/{ticket['id']}/messages", json={"message": staff}, headers=adm))
    se_n, semail = put("support mail to the user (admin)", shown=False)
    ok(server.post(f"/api/admin/support/tickets/{ticket['id']}/email", json={"message": semail}, headers=adm),
       (200, 201, 202))

    # ---- a bounty: title, description, an application's message
    deadline = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 30 * 86400))
    bt_n, btitle = put("bounty title", "img")
    bd_n, bdesc = put("bounty description")
    bounty = ok(server.post("/api/bounties", headers=buyer.h, json={
        "title": btitle, "description": bdesc, "budget": 100, "deadline": deadline, "category": "architecture"}))
    ba_n, bapp = put("bounty application message")
    app = ok(server.post(f"/api/bounties/{bounty['id']}/apply", headers=creator.h, json={
        "message": bapp, "proposed_price": 90, "proposed_days": 5}))
    ok(server.post(f"/api/bounties/{bounty['id']}/applications/{app['id']}/accept", headers=buyer.h))
    bdl_n, bdeliver = put("bounty delivery message")
    ok(server.post(f"/api/bounties/{bounty['id']}/deliver", headers=creator.h,
                   json={"message": bdeliver, "model_id": model["id"]}))
    bch_n, bchanges = put("bounty changes-requested answer")
    ok(server.post(f"/api/bounties/{bounty['id']}/request-changes", headers=buyer.h, json={"message": bchanges}))

    # ---- a course (admin): title, description, instructor; a lesson's title and content
    ct_n, ctitle = put("course title", "svg")
    cd_n, cdesc2 = put("course description")
    ci_n, cinst = put("course instructor", "script")
    course = ok(server.post("/api/admin/courses", headers=adm, json={
        "title": ctitle, "description": cdesc2, "difficulty": "beginner", "category": "modeling",
        "instructor": cinst, "is_published": True}))
    lt_n, ltitle = put("lesson title", "img")
    lc_n, lcontent = put("lesson content")
    ok(server.post(f"/api/admin/courses/{course['id']}/lessons", headers=adm,
                   json={"title": ltitle, "content": lcontent, "duration_minutes": 5}))
    for bad in SCRIPT_URLS:
        refused(server.post(f"/api/admin/courses/{course['id']}/lessons", headers=adm,
                            json={"title": "Video", "video_url": bad}), "video_url")
        refused(server.put(f"/api/admin/courses/{course['id']}", headers=adm, json={"thumbnail_url": bad}), "thumbnail_url")
    ok(server.post(f"/api/courses/{course['id']}/enroll", headers=buyer.h))

    # ---- a testimonial and a slide (admin); javascript: links are refused
    ta_n, tauthor = put("testimonial author_name", "img")
    tt_n, ttitle = put("testimonial author_title", "svg")
    tc_n, tcontent = put("testimonial content")
    ok(server.post("/api/admin/testimonials", headers=adm, json={
        "author_name": tauthor, "author_title": ttitle, "content": tcontent, "rating": 5, "is_approved": True}))
    r = requests.post(server.url + "/api/upload/image", headers=adm,
                      files={"file": ("slide.png", png_bytes(64, 36), "image/png")}, timeout=30)
    image_url = ok(r)["image_url"]
    st_n, stitle = put("slide title", "img")
    ss_n, ssub = put("slide subtitle")
    sb_n, sbutton = put("slide button_text", "svg")
    ok(server.post("/api/admin/slider", headers=adm, json={
        "title": stitle, "subtitle": ssub, "image_url": image_url, "link_url": "/marketplace", "button_text": sbutton,
        "sort_order": -100000}))
    for bad in SCRIPT_URLS:
        refused(server.post("/api/admin/slider", headers=adm, json={"title": "js", "image_url": image_url, "link_url": bad}),
                "link_url")
        refused(server.post("/api/admin/slider", headers=adm, json={"title": "js", "image_url": bad}), "image_url")
        refused(server.post("/api/admin/testimonials", headers=adm, json={
            "author_name": "x", "content": "0123456789 abc", "avatar_url": bad}), "avatar_url")

    # ---- a mail template (admin): name, subject, body; unknown {{variables}} are refused
    en_n, ename = put("email template name", "img")
    es_n, esubj = put("email template subject", "svg")
    eb_n, ebody = put("email template body", "script")
    key = "xss_" + uniq("t").replace("-", "_")[-10:].lower()
    ok(server.post("/api/admin/emails/templates", headers=adm,
                         json={"key": key, "name": ename, "subject": esubj, "body": ebody}))
    refused(server.post("/api/admin/emails/templates", headers=adm, json={
        "key": key + "b", "name": "n", "subject": "s", "body": "{{constructor.constructor('window.__xss(0)')()}}"}), "body")
    prev = ok(server.post("/api/admin/emails/templates/preview", headers=adm, json={"subject": esubj, "body": ebody}))
    assert "<script>" not in prev["html"] and "&lt;script&gt;" in prev["html"], prev["html"]

    # ---- a mailing (admin) to the admin alone: its subject is in the history
    ms_n, msubject = put("mailing subject (admin)", "svg")
    ok(server.post("/api/admin/emails/send", headers=adm, json={"segment": "me", "subject": msubject,
                                                                 "body": "Body " + texts[eb_n]}), 202)

    # ---- the maintenance message (admin), shown to everyone while maintenance is on
    mm_n, mmessage = put("maintenance message (admin)")
    ok(server.put("/api/admin/settings", headers=adm, json={"maintenance_message": mmessage}))

    # ---- a ban reason (admin) on a third user, shown in the admin's user view
    banned = Account(server, "buyer")
    ban_n, ban = put("ban reason (admin)")
    ok(server.post(f"/api/admin/users/{banned.id}/ban", json={"reason": ban}, headers=adm))

    # ---- words the pages reflect: searches, and the sign-in's next
    sw_n, search_words = put("marketplace search words", "img")
    reflected = [(put(f"{where} search words", kind)[0], where, path, who) for where, path, who, kind in (
        ("bounties", "/bounties?", "anon", "svg"), ("learn", "/learn?", "anon", "script"),
        ("community", "/community?", "anon", "img"), ("admin users", "/admin/users?", "admin", "svg"),
        ("admin models", "/admin/models?status=all&", "admin", "img"))]
    next_n, next_js = put("the sign-in's ?next= (reflected)", "js", shown=False)

    # ---- the visits: the page, who looks, what to open, which payloads must show
    def V(name, path, who, expect, actions=(), shot=False, in_frame=()):
        return {"name": name, "path": path, "who": who, "expect": [str(n) for n in expect], "actions": list(actions),
                "shot": shot, "in_frame": [str(n) for n in in_frame]}

    def click(name, role="button", row_of=None):
        return {"role": role, "name": name, "row_of": str(row_of) if row_of else None}

    C, B = who["creator"], who["buyer"]
    visits = [
        V("home", "/", "anon", [st_n, ss_n, sb_n, ta_n, tt_n, tc_n], shot=True),
        V("marketplace", "/marketplace?sort=newest", "anon", [title_n]),
        V("marketplace-search", f"/marketplace?search={requests.utils.quote(search_words)}", "anon", [sw_n]),
        *[V(f"{where.replace(' ', '-')}-search", f"{path}search={requests.utils.quote(texts[n])}", who, [n])
          for n, where, path, who in reflected],
        V("auth-next", f"/auth?next={requests.utils.quote(next_js)}", "anon", []),
        V("auth-next-signed-in", f"/auth?next={requests.utils.quote(next_js)}", "buyer", []),
        V("marketplace-term", f"/marketplace?search={term}", "anon", [title_n]),
        V("model", f"/model/{model['id']}", "buyer",
          [title_n, desc_n, tag_n, tag2_n, cat_n, com_n, C["full_name"], C["bio"]], shot=True),
        V("viewer", f"/view/{model['id']}", "anon", [title_n]),
        V("leaderboard", "/leaderboard", "anon", [C["full_name"]]),
        V("profile", f"/u/{creator.username}", "anon", [C["full_name"], C["bio"], C["skills"], title_n]),
        V("dashboard", "/dashboard", "creator", [title_n]),
        V("dashboard-buyer", "/dashboard", "buyer", [title_n]),
        V("financials", "/dashboard/financials", "creator", [title_n]),
        V("inventory", "/dashboard/inventory", "creator", [title_n, rej_title_n, reason_n]),
        V("settings", "/dashboard/settings", "creator", [C["full_name"], C["bio"], C["country"], C["skills"]]),
        V("settings-buyer", "/dashboard/settings", "buyer", [B["full_name"], B["bio"], B["country"], B["skills"]]),
        V("profile-buyer", f"/u/{buyer.username}", "anon", [B["full_name"], B["bio"], B["skills"]]),
        V("notifications-bell", "/dashboard", "creator", [title_n], [click("^Notifications")]),
        V("notifications-page", "/dashboard/social?tab=notifications", "creator", [title_n]),
        V("followers", "/dashboard/social?tab=followers", "creator", [B["full_name"]]),
        V("communities", "/community", "anon", [cname_n, cdesc_n]),
        V("community", f"/community/{community['id']}", "buyer",
          [cname_n, cdesc_n, crules_n, post_n, link_n, chat_n, pc_n, C["full_name"], B["full_name"]],
          [click("^Comments"), click("Community rules", role="text")], shot=True),
        V("messages", f"/dashboard/messages?c={conv['conversation_id']}", "creator", [dm_n, dm2_n, B["full_name"]]),
        V("support", f"/support?ticket={ticket['id']}", "buyer", [subj_n, msg_n, att_n, staff_n]),
        V("support-list", "/support", "buyer", [subj_n]),
        V("bounties", "/bounties", "anon", [bt_n]),
        V("bounty", f"/bounties/{bounty['id']}", "buyer", [bt_n, bd_n, ba_n, bdl_n, bch_n, title_n, C["full_name"]]),
        V("bounty-creator", f"/bounties/{bounty['id']}", "creator", [bt_n, bd_n, bdl_n, bch_n, B["full_name"]]),
        V("learn", "/learn", "anon", [ct_n, ci_n]),
        V("course", f"/learn/{course['id']}", "buyer", [ct_n, cd_n, ci_n, lt_n, lc_n], [click("^Open lesson")]),
        # the admin console
        V("admin-user", f"/admin/users?view={banned.id}", "admin", [ban_n]),
        V("admin-user-creator", f"/admin/users?view={creator.id}", "admin", [title_n, rej_title_n]),
        V("admin-user-buyer", f"/admin/users?view={buyer.id}", "admin", [subj_n]),
        V("admin-user-edit", f"/admin/users?view={creator.id}", "admin", [C["full_name"], C["bio"], C["country"]],
          [click("^Edit$")]),
        V("admin-models", "/admin/models?status=all", "admin", [title_n, rej_title_n]),
        V("admin-model", f"/admin/models/{rejected['id']}", "admin", [rej_title_n, reason_n]),
        V("admin-model-approved", f"/admin/models/{model['id']}", "admin", [title_n, desc_n, tag_n]),
        V("admin-communities", "/admin/communities", "admin", [cname_n]),
        V("admin-reports", "/admin/communities?tab=reports", "admin", [rep_n, post_n]),
        V("admin-support", "/admin/support", "admin", [subj_n]),
        V("admin-ticket", f"/admin/support/{ticket['id']}", "admin", [subj_n, msg_n, att_n, staff_n]),
        V("admin-categories", "/admin/categories", "admin", [cat_n, catd_n]),
        V("admin-testimonials", "/admin/testimonials", "admin", [ta_n, tc_n]),
        V("admin-slider", "/admin/slider", "admin", [st_n]),
        V("admin-bounties", "/admin/bounties", "admin", [bt_n]),
        V("admin-learning", "/admin/learning", "admin", [ct_n]),
        V("admin-emails", "/admin/emails", "admin", [en_n, es_n]),
        V("admin-email-preview", "/admin/emails", "admin", [en_n, es_n, eb_n], [click("^Edit$", row_of=en_n)], shot=True,
          in_frame=[eb_n]),
        V("admin-email-history", "/admin/emails?tab=history", "admin", [ms_n]),
        V("admin-settings", "/admin/settings", "admin", [mm_n]),
        V("admin-overview", "/admin", "admin", []),
    ]
    return {"payloads": {str(n): t for n, t in texts.items()}, "fields": {str(n): f for n, f in P.fields.items()},
            "visits": visits, "maintenance": str(mm_n), "unshown": sorted(unshown), "creator": creator.creds(), "buyer": buyer.creds(),
            "admin": {"email": SWEEP_ADMIN[0], "password": SWEEP_ADMIN[1]}}


def test_xss_sweep(server, stored):
    cfg = base_cfg(server, data_dir=server.data_dir, timeout_ms=TIMEOUT_MS, **stored)
    result = run_script("xss-sweep", cfg, timeout=420)
    assert_ok(result)
    shown = set(result["shown"])
    # every stored payload was seen as text on at least one page
    want = set(stored["payloads"]) - set(stored["unshown"])
    assert shown >= want, [f"#{n} {stored['fields'][n]}" for n in sorted(want - shown, key=int)]
    slow = sorted(result["steps"], key=lambda s: -s["ms"])[:5]
    print(f"\n{len(stored['payloads'])} payloads in {len(stored['visits'])} page visits, {result['seconds']:.0f}s;"
          " slowest: " + ", ".join(f"{s['step']} {s['ms']} ms" for s in slow))


def test_maintenance_message(server, stored):
    """The maintenance message is what every page shows while maintenance
    is on (the API's 503 detail): shown as text, never run."""
    adm = server.admin_headers()
    n = stored["maintenance"]
    visit = {"name": "maintenance", "path": "/marketplace", "who": "anon", "expect": [n], "actions": [],
             "shot": True, "in_frame": []}
    cfg = base_cfg(server, data_dir=server.data_dir, timeout_ms=TIMEOUT_MS,
                   **{**stored, "visits": [visit, {**visit, "name": "maintenance-model", "path": "/model/1", "shot": False}]})
    ok(server.put("/api/admin/settings", headers=adm, json={"maintenance_mode": True}))
    try:
        assert server.get("/api/models").status_code == 503
        result = run_script("xss-sweep", cfg, timeout=120)
    finally:
        ok(server.put("/api/admin/settings", headers=adm, json={"maintenance_mode": False}))
    assert_ok(result)
    assert result["shown"] == [n], result["shown"]


def test_mails_show_payloads_as_text(server, stored):
    """The mails the payloads went into (the rejection with its reason, a
    support mail with the ticket's subject, the admin's mailing) carry them
    as they are in the text part and escaped in the HTML part."""
    deadline = time.time() + 60
    while time.time() < deadline and int(server.scalar(
            "SELECT COUNT(*) FROM mail_outbox WHERE status IN ('queued', 'sending')")):
        time.sleep(0.5)
    seen = set()
    for path in glob.glob(os.path.join(server.data_dir, "mail", "*.eml")):
        with open(path, "rb") as f:
            msg = email.message_from_bytes(f.read(), policy=email.policy.default)
        html_part, text_part = msg.get_body(("html",)), msg.get_body(("plain",))
        html_text = html_part.get_content() if html_part is not None else ""
        plain = text_part.get_content() if text_part is not None else ""
        for n, payload in stored["payloads"].items():
            if payload in plain or payload in str(msg["Subject"] or ""):
                seen.add(n)
                assert payload not in html_text or "<" not in payload, f"{path}: #{n} unescaped in the HTML part"
        for raw in ("<img src=x onerror=", "<svg onload=", "<script>window.__xss"):
            assert raw not in html_text, f"{path}: {raw!r} unescaped in the HTML part:\n{html_text[:2000]}"
    fields = {stored["fields"][n] for n in seen}
    assert {"model rejection_reason (admin)", "support mail to the user (admin)", "support ticket subject",
            "mailing subject (admin)", "email template body"} <= fields, fields
