"""The command line: migrate, create-admin, seed-demo, on fresh databases
of both engines."""
import glob
import os
import re

import pytest

from conftest import REPO, Server, require_pg, run_binary

ADMIN_PW = "a-perfectly-fine-password"


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def fresh(request):
    """A Server that is never started: an empty database, its env and sql()."""
    if request.param == "postgres":
        require_pg()
    s = Server(request.param, admins=(), seed=False, label=f"cli-{request.param}")
    yield s
    s.cleanup()


def cli(s, *args):
    return run_binary(list(args), s.env, s.tmp, timeout=60)


def user_count(s):
    """Users in s's database; 0 when the schema is not there yet."""
    if s.engine == "sqlite" and not os.path.exists(os.path.join(s.data_dir, "hwc3d.db")):
        return 0
    try:
        return int(s.scalar("SELECT COUNT(*) FROM users"))
    except Exception as e:  # no database file / no table yet
        if "users" in str(e) or "no such table" in str(e) or "does not exist" in str(e):
            return 0
        raise


def migration_versions():
    return sorted(int(os.path.basename(p).split("_")[0]) for p in glob.glob(os.path.join(REPO, "migrations", "*.sql")))


def test_migrate_twice_applies_each_migration_once(fresh):
    p = cli(fresh, "migrate")
    assert p.returncode == 0, p.stderr
    rows = fresh.sql("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
    versions = [int(r[0]) for r in rows]
    assert versions == migration_versions()
    assert all(r[1] for r in rows)
    p = cli(fresh, "migrate")
    assert p.returncode == 0, p.stderr
    assert fresh.sql("SELECT version, name, applied_at FROM schema_migrations ORDER BY version") == rows
    assert "applied migration" not in p.stderr


def test_migrate_refuses_a_newer_database(fresh):
    assert cli(fresh, "migrate").returncode == 0
    fresh.sql("INSERT INTO schema_migrations VALUES (9999, 'future', 0)")
    p = cli(fresh, "migrate")
    assert p.returncode == 1
    assert "newer" in p.stderr
    # serve refuses too, before listening
    p = cli(fresh, "serve")
    assert p.returncode == 1 and "newer" in p.stderr


def test_create_admin_then_again_updates(fresh):
    p = cli(fresh, "create-admin", "--email", "Boss@Example.com", "--password", ADMIN_PW)
    assert p.returncode == 0, p.stderr
    rows = fresh.sql("SELECT id, email_normalized, role, is_email_verified, password_hash FROM users")
    assert len(rows) == 1
    uid, email, role, verified, hash1 = rows[0]
    assert email == "boss@example.com" and role == "admin" and verified in ("1", "t")
    assert hash1.startswith("$argon2") and ADMIN_PW not in hash1
    p = cli(fresh, "create-admin", "--email", "boss@example.com", "--password", ADMIN_PW + "-2")
    assert p.returncode == 0, p.stderr
    rows = fresh.sql("SELECT id, role, password_hash, tokens_valid_after FROM users")
    assert len(rows) == 1 and rows[0][0] == uid and rows[0][1] == "admin"
    assert rows[0][2] != hash1, "the password was not changed"
    assert int(rows[0][3]) > 0, "old sessions of the admin should end"


def test_create_admin_promotes_an_existing_user(fresh):
    assert cli(fresh, "seed-demo", "--scale", "2", "--no-models").returncode == 0
    fresh.sql("UPDATE users SET is_banned = TRUE WHERE email_normalized = 'demo1@example.com'")
    p = cli(fresh, "create-admin", "--email", "demo1@example.com", "--password", ADMIN_PW)
    assert p.returncode == 0, p.stderr
    row = fresh.sql("SELECT role, is_banned FROM users WHERE email_normalized = 'demo1@example.com'")[0]
    assert row[0] == "admin" and row[1] in ("0", "f")
    assert fresh.scalar("SELECT COUNT(*) FROM users") == "2"


def test_create_admin_with_username(fresh):
    p = cli(fresh, "create-admin", "--email", "x@example.com", "--password", ADMIN_PW, "--username", "chief_admin")
    assert p.returncode == 0, p.stderr
    assert fresh.scalar("SELECT username FROM users") == "chief_admin"


def test_create_admin_username_clash_exits_1(fresh):
    assert cli(fresh, "create-admin", "--email", "a@example.com", "--password", ADMIN_PW,
               "--username", "same_name").returncode == 0
    p = cli(fresh, "create-admin", "--email", "b@example.com", "--password", ADMIN_PW, "--username", "same_name")
    assert p.returncode == 1
    assert "username" in p.stderr
    assert fresh.scalar("SELECT COUNT(*) FROM users") == "1"


@pytest.mark.parametrize("email,password,username", [
    ("admin@example.com", "short", None),
    ("admin@example.com", "x" * 11, None),
    ("admin@example.com", "password1234", None),
    ("admin@example.com", "PASSWORD1234", None),
    ("admin@example.com", "y" * 129, None),
    ("not-an-email", ADMIN_PW, None),
    ("a@b", ADMIN_PW, None),
    ("two@@example.com", ADMIN_PW, None),
    ("sp ace@example.com", ADMIN_PW, None),
    ("", ADMIN_PW, None),
    ("admin@example.com", ADMIN_PW, "Bad Name"),
    ("admin@example.com", ADMIN_PW, "ab"),
])
def test_create_admin_refuses_bad_input(fresh, email, password, username):
    args = ["create-admin", "--email", email, "--password", password]
    if username is not None:
        args += ["--username", username]
    p = cli(fresh, *args)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip()
    assert user_count(fresh) == 0


def test_seed_demo_twice_keeps_12_categories(fresh):
    assert cli(fresh, "seed-demo", "--scale", "3", "--no-models").returncode == 0
    assert fresh.scalar("SELECT COUNT(*) FROM categories") == "12"
    assert fresh.scalar("SELECT COUNT(*) FROM users") == "3"
    p = cli(fresh, "seed-demo", "--scale", "3", "--no-models")
    assert p.returncode == 0, p.stderr
    assert fresh.scalar("SELECT COUNT(*) FROM categories") == "12"
    assert fresh.scalar("SELECT COUNT(*) FROM users") == "3"
    rows = fresh.sql("SELECT email_normalized, username, user_type, is_email_verified FROM users ORDER BY username")
    assert [r[0] for r in rows] == ["demo1@example.com", "demo2@example.com", "demo3@example.com"]
    assert [r[1] for r in rows] == ["demo_user_1", "demo_user_2", "demo_user_3"]
    assert [r[2] for r in rows] == ["buyer", "buyer", "creator"]
    assert all(r[3] in ("1", "t") for r in rows)


def test_seed_demo_leaves_existing_categories_alone(fresh):
    assert cli(fresh, "migrate").returncode == 0
    fresh.sql("INSERT INTO categories (name, slug, created_at, updated_at) VALUES ('Mine', 'mine', 1, 1)")
    assert cli(fresh, "seed-demo").returncode == 0
    assert fresh.scalar("SELECT COUNT(*) FROM categories") == "1"


def test_seed_demo_categories_are_well_formed(fresh):
    assert cli(fresh, "seed-demo").returncode == 0
    rows = fresh.sql("SELECT slug, sort_order FROM categories ORDER BY sort_order")
    assert len(rows) == 12
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r[0]) for r in rows)
    assert len({r[0] for r in rows}) == 12
