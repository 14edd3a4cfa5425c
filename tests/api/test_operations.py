"""Operations (issue 15): one request id joins a request's log lines with
the work it queued (a job, a mail) on whichever thread runs it; the queue
depths on /metrics; and a mail worker killed mid-delivery, whose mail may
repeat only with the same Message-ID (never lost, never a second id)."""
import asyncio
import email
import email.policy
import glob
import json
import os
import threading
import time

import pytest
import requests

from conftest import finish_server, require_pg, start_server, uniq
from test_mail import MailSink, _Handler, smtp_env
from test_models import approve_model, create_model, default_category, make_creator, upload_model

ENGINES = ["sqlite", "postgres"]


def log_records(s):
    out = []
    for line in s.log().splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def wait_lines(s, pred, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = [r for r in log_records(s) if pred(r)]
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"no log line {what} within {timeout}s:\n{s.log_tail(40)}")


def metric(s, name):
    for line in requests.get(s.url + "/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    raise AssertionError(f"{name} is not on /metrics")


# ---------------------------------------------------------------- request ids

def test_a_request_id_follows_the_job_and_the_mail_it_queued(server):
    c = make_creator(server)
    up = upload_model(server, c.h)  # an OBJ: creating the model queues its GLB conversion
    rid = "ops" + os.urandom(8).hex()
    body = {"title": uniq("Ops"), "price": 3, "upload_id": up["upload_id"],
            "category_id": default_category(server)}
    r = server.post("/api/models", json=body, headers=dict(c.h, **{"X-Request-Id": rid}))
    assert r.status_code == 201, r.text
    assert r.headers["X-Request-Id"] == rid
    mid = r.json()["id"]
    # the conversion runs on a job worker thread, later: its lines carry rid
    lines = wait_lines(server, lambda x: x.get("request_id") == rid and "(model_convert)" in x.get("msg", ""),
                       "of the conversion job with the request's id")
    assert any("started" in x["msg"] for x in lines), lines
    like = '{"model_id":%d,%%' % mid
    assert server.scalar(f"SELECT request_id FROM jobs WHERE kind = 'model_convert' AND payload LIKE '{like}'"
                         " ORDER BY id DESC LIMIT 1") == rid

    # approval mails the creator from the mail worker's thread: the same join
    rid2 = "ops" + os.urandom(8).hex()
    r = server.put(f"/api/admin/models/{mid}/approve", headers=dict(server.admin_headers(), **{"X-Request-Id": rid2}))
    assert r.status_code == 200, r.text
    lines = wait_lines(server, lambda x: x.get("request_id") == rid2 and x.get("msg", "").startswith("mail to "),
                       "of the approval mail with the request's id")
    assert c.email.lower() in lines[0]["msg"].lower(), lines
    # and the access line of that request has it too
    assert any(x.get("type") == "access" and x.get("request_id") == rid2 for x in log_records(server))


# ---------------------------------------------------------------- /metrics

def test_queue_depths_are_on_metrics(server):
    for name in ("hwc3d_jobs_queued", "hwc3d_jobs_failed", "hwc3d_mail_outbox_queued",
                 "hwc3d_mail_outbox_failed", "hwc3d_websockets_open"):
        assert metric(server, name) >= 0
    # two jobs that cannot run for a minute: within a tick the gauge reads
    # what the table holds (other tests' jobs may still be draining, so the
    # gauge is compared with the table, not with a figure read before)
    far = int(time.time() * 1000) + 60000
    for _ in range(2):
        server.sql(f"INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, created_at, updated_at)"
                   f" VALUES ('echo', '{{}}', 'queued', 0, 1, {far}, {far}, {far})")
    server.sql("INSERT INTO mail_outbox (kind, to_addr, subject, body_text, body_html, status, attempts,"
               f" next_attempt_at, created_at) VALUES ('test', 'x@example.com', 's', 't', '', 'failed', 8, {far}, {far})")
    queued = lambda: int(server.scalar("SELECT COUNT(*) FROM jobs WHERE status = 'queued'"))
    deadline, seen = time.time() + 20, []
    while True:
        before, gauge, after = queued(), metric(server, "hwc3d_jobs_queued"), queued()
        seen.append((before, gauge, after))
        if before == gauge == after >= 2:
            break
        assert time.time() < deadline, f"hwc3d_jobs_queued never matched the table (table, gauge, table): {seen[-5:]}"
        time.sleep(0.5)
    assert metric(server, "hwc3d_mail_outbox_failed") >= 1
    server.sql(f"DELETE FROM jobs WHERE run_at = {far}")


# ---------------------------------------------------------------- mail under SIGKILL

class HoldingHandler(_Handler):
    """Keeps the first message it receives, then never answers 250: the
    server is killed while it waits, after the mail was handed over."""

    def __init__(self, sink):
        super().__init__(sink)
        self.held = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if not self.held.is_set():
            self.sink._add(envelope.content, envelope.rcpt_tos, envelope.mail_from)
            self.held.set()
            await asyncio.sleep(30)
            return "451 too late"
        return await super().handle_DATA(server, session, envelope)


def message_id(m):
    return str(m.msg["Message-ID"])


@pytest.mark.parametrize("engine", ENGINES)
def test_sigkill_mid_delivery_repeats_a_mail_only_with_its_message_id(engine):
    if engine == "postgres":
        require_pg()
    sink = MailSink()
    handler = HoldingHandler(sink)
    sink.controller.handler = handler
    sink.start()
    s = start_server(engine, env=smtp_env(sink.port, {"SMTP_TIMEOUT_S": "2"}), seed=False,
                     label=f"mailkill-{engine}")
    try:
        addrs = []
        for i in range(5):
            addr = f"kill{i}-{os.urandom(4).hex()}@example.com"
            r = s.post("/api/auth/register", json={"email": addr, "password": "Str0ng!Passw0rd", "user_type": "buyer",
                                                   "username": f"k{i}{os.urandom(4).hex()}"})
            assert r.status_code == 201, r.text
            addrs.append(addr)
        assert handler.held.wait(15), "the first mail never reached the sink"
        s.kill()  # SIGKILL: the sink has the mail, the outbox row is still 'sending'
        assert s.scalar("SELECT COUNT(*) FROM mail_outbox WHERE status = 'sending'") == "1"
        s.logf.close()
        s.stopped = False
        s.start()
        # the lease (3 x SMTP_TIMEOUT_S) runs out and the row is sent again
        deadline = time.time() + 30
        while time.time() < deadline and s.scalar("SELECT COUNT(*) FROM mail_outbox WHERE status <> 'sent'") != "0":
            time.sleep(0.2)
        assert s.scalar("SELECT COUNT(*) FROM mail_outbox WHERE status <> 'sent'") == "0", \
            s.sql("SELECT id, status, attempts, last_error FROM mail_outbox")
        with sink.cond:
            got = list(sink.messages)
        by_rcpt = {}
        for m in got:
            for a in m.rcpt:
                by_rcpt.setdefault(a, []).append(message_id(m))
        for a in addrs:
            ids = by_rcpt.get(a)
            assert ids, f"the mail to {a} was lost"
            assert len(set(ids)) == 1, f"{a} got the same mail under two Message-IDs: {ids}"
        # exactly one mail repeated (the one the kill interrupted), and all ids differ between mails
        assert len(got) == len(addrs) + 1, [(m.rcpt, message_id(m)) for m in got]
        assert len({message_id(m) for m in got}) == len(addrs)
    finally:
        try:
            finish_server(s)
        finally:
            sink.stop()


def test_a_mail_written_again_replaces_its_eml_file(server):
    """The .eml fallback after a crash between the write and the 'sent'
    mark: the same file name, the same Message-ID, no second copy."""
    c = make_creator(server)
    m = create_model(server, c)
    approve_model(server, m["id"])
    deadline = time.time() + 10
    mid = None
    while time.time() < deadline and not mid:
        mid = server.scalar(f"SELECT MAX(id) FROM mail_outbox WHERE to_addr = '{c.email.lower()}' AND status = 'sent'")
        time.sleep(0.1)
    assert mid, "the approval mail was not sent"
    pattern = os.path.join(server.data_dir, "mail", f"*-{int(mid):06d}.eml")
    files = glob.glob(pattern)
    assert len(files) == 1, files
    first = email.message_from_bytes(open(files[0], "rb").read(), policy=email.policy.default)
    server.sql(f"UPDATE mail_outbox SET status = 'sending', locked_until = 0 WHERE id = {mid}")
    deadline = time.time() + 10
    while time.time() < deadline and server.scalar(f"SELECT status FROM mail_outbox WHERE id = {mid}") != "sent":
        time.sleep(0.1)
    assert server.scalar(f"SELECT attempts FROM mail_outbox WHERE id = {mid}") == "2"
    files = glob.glob(pattern)
    assert len(files) == 1, files
    again = email.message_from_bytes(open(files[0], "rb").read(), policy=email.policy.default)
    assert again["Message-ID"] == first["Message-ID"], (first["Message-ID"], again["Message-ID"])
    assert f".{int(mid)}@" in again["Message-ID"]  # it names the outbox row
