"""Backup and restore (issue 15, "Operations"): `hwc3d backup FILE` copies
the SQLite database with the online backup API while a server keeps
writing, `hwc3d restore FILE` puts exactly that state back (server
stopped), bad files are refused with the live database untouched, and the
PostgreSQL procedure of docs/deployment.md (pg_dump -Fc, pg_restore into a
fresh database) is run as written."""
import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid

import pytest
import requests

from conftest import Server, finish_server, pg_url_with_db, psql, require_pg, run_binary, \
    start_server
from test_admin_console import PASSWORD, register
from test_models import approve_model, create_model, make_buyer, make_creator, make_users


def migration_latest():
    return max(int(os.path.basename(p).split("_")[0])
               for p in glob.glob(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
                   os.path.abspath(__file__)))), "migrations", "*.sql")))


def cli(s, *args, timeout=60):
    return run_binary(list(args), s.env, s.tmp, timeout=timeout)


def login(s, email):
    return requests.post(s.url + "/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=15)


def live_files(data_dir):
    """Digest of the live database and its -wal/-journal: what "untouched"
    means for a refused restore."""
    h = {}
    for suffix in ("", "-wal", "-journal"):
        p = os.path.join(data_dir, "hwc3d.db" + suffix)
        if os.path.exists(p):
            h[suffix] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return h


def one_json_line(p):
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stdout
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def served():
    s = start_server("sqlite", label="backup")
    yield s
    if not s.stopped:
        finish_server(s)
    else:
        s.cleanup()


@pytest.fixture
def fresh():
    """A migrated SQLite DATA_DIR with one admin, never served."""
    s = Server("sqlite", admins=(("boss@example.com", PASSWORD),), seed=False, label="backup-fresh")
    s.prepare()
    yield s
    s.cleanup()


def test_backup_refuses_an_existing_file_without_force(served, tmp_path):
    dest = str(tmp_path / "b.db")
    with open(dest, "wb") as f:
        f.write(b"keep me")
    p = cli(served, "backup", dest)
    assert p.returncode == 1 and "exists" in p.stderr and "--force" in p.stderr, p.stderr
    assert open(dest, "rb").read() == b"keep me"
    assert not os.path.exists(dest + ".tmp")
    p = cli(served, "backup", dest, "--force")
    assert p.returncode == 0, p.stderr
    out = one_json_line(p)
    assert out["bytes"] == os.path.getsize(dest) == out["pages"] * out["page_size"]
    assert out["schema_version"] == migration_latest()
    assert sqlite3.connect(dest).execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not os.path.exists(dest + ".tmp") and not os.path.exists(dest + "-wal")
    # bad usage
    for args in (["backup"], ["backup", dest, "--bogus"], ["backup", dest, dest], ["restore"],
                 ["restore", dest, dest]):
        assert cli(served, *args).returncode == 2, args


def test_restore_is_refused_while_a_server_runs(served, tmp_path):
    dest = str(tmp_path / "b.db")
    assert cli(served, "backup", dest).returncode == 0
    before = served.scalar("SELECT COUNT(*) FROM users")
    p = cli(served, "restore", dest)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "stop every server" in p.stderr and str(served.proc.pid) in p.stderr, p.stderr
    assert served.get("/healthz").status_code == 200
    assert served.scalar("SELECT COUNT(*) FROM users") == before


def test_backup_under_writes_then_restore_gives_exactly_that_state(served, tmp_path):
    s = served
    uid_a, _, _, email_a = register(s)
    creator = make_creator(s)
    model = create_model(s, creator, approve=True, title="Before the backup")
    likers = make_users(s, 12)
    # writes through the API for the whole backup: likes and unlikes
    stop, done, errors = threading.Event(), [0], []

    def writer():
        http = requests.Session()
        i = 0
        while not stop.is_set():
            who = likers[i % len(likers)]
            method = http.post if (i // len(likers)) % 2 == 0 else http.delete
            r = method(f"{s.url}/api/models/{model['id']}/like", headers=who.h, timeout=15)
            if r.status_code != 200:
                errors.append(r.status_code)
            done[0] += 1
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        while done[0] < 20:
            time.sleep(0.01)
        before = done[0]
        dest = str(tmp_path / "hwc3d-backup.db")
        p = cli(s, "backup", dest)
        during = done[0] - before
        while done[0] < before + during + 20:
            time.sleep(0.01)
    finally:
        stop.set()
        t.join()
    assert p.returncode == 0, p.stderr
    assert not errors, errors
    assert during > 0, "no write landed while the backup ran"
    out = one_json_line(p)
    assert out["file"] == dest and out["pages"] > 0 and out["schema_version"] == migration_latest()
    # one snapshot: every counter matches its rows
    con = sqlite3.connect(f"file:{dest}?mode=ro", uri=True)
    likes_count, = con.execute("SELECT likes_count FROM models WHERE id = ?", (model["id"],)).fetchone()
    rows, = con.execute("SELECT COUNT(*) FROM model_likes WHERE model_id = ?", (model["id"],)).fetchone()
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    assert likes_count == rows

    # changes after the backup
    _, _, _, email_b = register(s)
    r = s.put(f"/api/models/{model['id']}", json={"title": "After the backup"}, headers=creator.h)
    assert r.status_code == 200, r.text
    assert login(s, email_b).status_code == 200
    s.stop()

    p = cli(s, "restore", dest)
    assert p.returncode == 0, p.stderr
    out = one_json_line(p)
    assert out["backup_schema_version"] == out["schema_version"] == migration_latest()
    assert os.path.exists(dest), "restore must not consume the backup"
    assert not glob.glob(dest + "-*"), "restore left files beside the backup"

    r2 = Server("sqlite", env={"DATA_DIR": s.data_dir}, admins=(), seed=False, label="backup-restored")
    r2.start()
    try:
        r = login(r2, email_a)
        assert r.status_code == 200, r.text
        assert r.json()["user"]["id"] == uid_a
        r = login(r2, email_b)
        assert r.status_code == 401, r.text
        m = r2.get(f"/api/models/{model['id']}").json()
        assert m["title"] == "Before the backup"
        assert m["likes_count"] == likes_count
        # the restored server writes as usual
        buyer = make_buyer(r2)
        assert r2.post(f"/api/models/{model['id']}/like", headers=buyer.h).status_code == 200
    finally:
        finish_server(r2)


def test_restore_refuses_bad_files_and_leaves_the_database_untouched(fresh, tmp_path):
    good = str(tmp_path / "good.db")
    p = cli(fresh, "backup", good)
    assert p.returncode == 0, p.stderr
    # a change after the backup, so a restore would show
    assert cli(fresh, "create-admin", "--email", "later@example.com", "--password", PASSWORD).returncode == 0
    digest = live_files(fresh.data_dir)
    assert digest

    garbage = str(tmp_path / "garbage.db")
    with open(garbage, "wb") as f:
        f.write(os.urandom(64 * 1024))
    truncated = str(tmp_path / "truncated.db")
    with open(good, "rb") as f:
        data = f.read()
    with open(truncated, "wb") as f:
        f.write(data[:len(data) // 2])
    newer = str(tmp_path / "newer.db")
    shutil.copy(good, newer)
    con = sqlite3.connect(newer)
    con.execute("INSERT INTO schema_migrations VALUES (?, 'from_the_future', 0)", (migration_latest() + 1,))
    con.commit()
    con.close()
    foreign = str(tmp_path / "foreign.db")
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    con.commit()
    con.close()
    other = str(tmp_path / "other.db")
    shutil.copy(good, other)
    con = sqlite3.connect(other)
    con.execute("UPDATE schema_migrations SET name = 'something_else' WHERE version = 1")
    con.commit()
    con.close()
    empty = str(tmp_path / "empty.db")
    open(empty, "wb").close()

    cases = [
        (garbage, "not a sound SQLite database"),
        (truncated, "not a sound SQLite database"),
        (newer, "newer than this binary"),
        (foreign, "not an hwc3d database"),
        (other, "not an hwc3d database"),
        (empty, "not an hwc3d database"),
        (str(tmp_path / "missing.db"), "No such file"),
        (str(tmp_path), "not a regular file"),
    ]
    for path, why in cases:
        p = cli(fresh, "restore", path)
        assert p.returncode == 1, (path, p.stdout, p.stderr)
        assert why in p.stderr, (path, p.stderr)
        assert p.stdout == ""
        assert live_files(fresh.data_dir) == digest, f"restore of {path} touched the database"
    assert fresh.scalar("SELECT COUNT(*) FROM users WHERE email_normalized = 'later@example.com'") == "1"

    # the live database itself is neither a backup target nor a source
    live = os.path.join(fresh.data_dir, "hwc3d.db")
    for args in (["backup", live, "--force"], ["backup", live + "-wal", "--force"], ["restore", live]):
        p = cli(fresh, *args)
        assert p.returncode == 2 and "live database" in p.stderr, (args, p.stderr)
    assert live_files(fresh.data_dir) == digest

    # the good one restores, and the later admin is gone
    p = cli(fresh, "restore", good)
    assert p.returncode == 0, p.stderr
    assert fresh.scalar("SELECT COUNT(*) FROM users WHERE email_normalized = 'later@example.com'") == "0"
    assert fresh.scalar("SELECT COUNT(*) FROM users WHERE email_normalized = 'boss@example.com'") == "1"
    # the live database is back in WAL mode, with no journal left
    assert fresh.scalar("PRAGMA journal_mode") == "wal"
    assert not os.path.exists(os.path.join(fresh.data_dir, "hwc3d.db-journal"))


def test_restore_over_a_damaged_database_keeps_it_aside(fresh, tmp_path):
    good = str(tmp_path / "good.db")
    assert cli(fresh, "backup", good).returncode == 0
    live = os.path.join(fresh.data_dir, "hwc3d.db")
    for suffix in ("-wal", "-shm"):
        if os.path.exists(live + suffix):
            os.unlink(live + suffix)
    junk = b"not a database at all " * 1000
    with open(live, "wb") as f:
        f.write(junk)
    p = cli(fresh, "restore", good)
    assert p.returncode == 0, p.stderr
    out = one_json_line(p)
    kept = out["damaged_kept_as"]
    assert os.path.dirname(kept) == fresh.data_dir and open(kept, "rb").read() == junk
    assert "damaged" in p.stderr
    assert fresh.scalar("SELECT email_normalized FROM users") == "boss@example.com"


def test_restore_into_an_empty_data_dir(fresh, tmp_path):
    good = str(tmp_path / "good.db")
    assert cli(fresh, "backup", good).returncode == 0
    elsewhere = Server("sqlite", env={"DATA_DIR": str(tmp_path / "new-data")}, admins=(), seed=False,
                       label="backup-empty")
    try:
        p = cli(elsewhere, "restore", good)
        assert p.returncode == 0, p.stderr
        assert elsewhere.scalar("SELECT email_normalized FROM users") == "boss@example.com"
        p = cli(elsewhere, "backup", str(tmp_path / "x.db"))
        assert p.returncode == 0, p.stderr
        # a plain copy of a stopped server's file (its header says WAL) works
        # too, and nothing appears beside it
        raw = str(tmp_path / "raw copy #1.db")
        shutil.copy(os.path.join(fresh.data_dir, "hwc3d.db"), raw)
        assert open(raw, "rb").read()[18:20] == b"\x02\x02"
        p = cli(elsewhere, "restore", raw)
        assert p.returncode == 0, p.stderr
        assert not glob.glob(glob.escape(raw) + "-*")
        # a backup of nothing is refused
        shutil.rmtree(str(tmp_path / "new-data"))
        p = cli(elsewhere, "backup", str(tmp_path / "y.db"))
        assert p.returncode == 1 and "no database" in p.stderr, p.stderr
        assert not os.path.exists(str(tmp_path / "y.db"))
    finally:
        elsewhere.cleanup()


def test_postgres_backup_is_pg_dump_and_restore(tmp_path):
    require_pg()
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore are not installed")
    s = start_server("postgres", label="backup-pg", seed=False)
    restored_db = None
    try:
        p = cli(s, "backup", str(tmp_path / "x.db"))
        assert p.returncode == 2 and "pg_dump" in p.stderr and "docs/deployment.md" in p.stderr, p.stderr
        p = cli(s, "restore", str(tmp_path / "x.db"))
        assert p.returncode == 2 and "pg_restore" in p.stderr, p.stderr
        uid_a, _, _, email_a = register(s)

        # docs/deployment.md, "Backup and restore": the same commands
        dump = str(tmp_path / "hwc3d.dump")
        r = subprocess.run(["pg_dump", "-Fc", "-f", dump, s.pg.url], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        _, _, _, email_b = register(s)  # after the dump
        restored_db = "hwc_restored_" + uuid.uuid4().hex[:10]
        psql(s.pg.base, f"CREATE DATABASE {restored_db}")
        url = pg_url_with_db(s.pg.base, restored_db)
        r = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", url, dump],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        finish_server(s)
        s = None

        r2 = Server("sqlite", env={"DATABASE_URL": url}, admins=(), seed=False, label="backup-pg-restored")
        r2.start()
        try:
            r = login(r2, email_a)
            assert r.status_code == 200, r.text
            assert r.json()["user"]["id"] == uid_a
            assert login(r2, email_b).status_code == 401
        finally:
            finish_server(r2)
    finally:
        if s is not None:
            finish_server(s)
        if restored_db:
            psql(require_pg(), f"DROP DATABASE IF EXISTS {restored_db} WITH (FORCE)")
