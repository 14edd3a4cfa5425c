"""Configuration from the environment and .env: bad settings stop the
binary with exit code 2 and one clear line; good ones take effect."""
import json
import os
import re
import secrets
import shutil
import tempfile

import pytest
import requests

from conftest import Server, base_env, bearer, free_port, mint_token, run_binary


@pytest.fixture
def tmpdir_():
    d = tempfile.mkdtemp(prefix="hwc3d-config-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run(tmp, args, **env):
    e = base_env(dict({"DATA_DIR": os.path.join(tmp, "data"), "JWT_SECRET_KEY": secrets.token_hex(32),
                       "PORT": str(free_port())}, **env))
    return run_binary(args, e, tmp, timeout=30)


def error_lines(p):
    return [l for l in p.stderr.splitlines() if l.strip()]


@pytest.mark.parametrize("var,value", [
    ("DATABASE_URL", "mysql://x"),
    ("DATABASE_URL", "postgresql://%zz"),
    ("DATABASE_URL", "postgresql://host:notaport/db"),
    ("DATABASE_URL", "postgresql://127.0.0.1:99999/db"),
    ("DATABASE_URL", "sqlite:"),
    ("DATABASE_URL", "redis://localhost"),
    ("PORT", "abc"),
    ("PORT", "70000"),
    ("PORT", "-1"),
    ("PORT", "80x"),
    ("RATE_LIMIT_AUTH", "5/fortnight"),
    ("RATE_LIMIT_GENERAL", "0/minute"),
    ("RATE_LIMIT_GENERAL", "many/minute"),
    ("RATE_LIMIT_UPLOAD", "10"),
    ("RATE_LIMIT_ADMIN", "/minute"),
    ("RATE_LIMIT_ENABLED", "maybe"),
    ("RESPONSE_CACHE", "sometimes"),
    ("HEADER_TIMEOUT", "0"),
    ("BODY_MIN_RATE", "-5"),
    ("TRUSTED_PROXIES", "notanip"),
    ("TRUSTED_PROXIES", "10.0.0.0/33"),
    ("TRUSTED_PROXIES", "127.0.0.1/32, bogus"),
    ("REDIS_URL", "http://localhost:6379"),
    ("CORS_ORIGINS", "not a url"),
    ("PUBLIC_URL", "ftp://example.com"),
    ("LOG_LEVEL", "verbose"),
    ("JSON_BODY_LIMIT", "12"),
    ("HWC_THREADS", "0"),
])
def test_bad_setting_exits_2(tmpdir_, var, value):
    p = run(tmpdir_, ["migrate"], **{var: value})
    assert p.returncode == 2, f"{var}={value!r}: exit {p.returncode}\n{p.stderr}"
    lines = error_lines(p)
    assert len(lines) == 1, f"{var}={value!r}: expected one line, got:\n{p.stderr}"
    assert var in lines[0], lines[0]
    assert not os.path.exists(os.path.join(tmpdir_, "data", "hwc3d.db")), "touched the database"


@pytest.mark.parametrize("secret", ["short", "your-secret-key", "YOUR-SECRET-KEY", "secret", "changeme",
                                    "x" * 31])
def test_weak_jwt_secret_refuses_to_serve(tmpdir_, secret):
    p = run(tmpdir_, ["serve"], JWT_SECRET_KEY=secret)
    assert p.returncode == 2, p.stderr
    lines = error_lines(p)
    assert len(lines) == 1 and "JWT_SECRET_KEY" in lines[0], p.stderr


def test_missing_jwt_secret_is_generated_once(tmpdir_):
    """No JWT_SECRET_KEY: a random one is kept in DATA_DIR, with a warning."""
    s = Server("sqlite", env={"JWT_SECRET_KEY": None}, admins=(), seed=False, label="gensecret")
    try:
        s.start()
        path = os.path.join(s.data_dir, "jwt_secret")
        with open(path) as f:
            secret = f.read()
        assert re.fullmatch(r"[0-9a-f]{64}", secret)
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
        assert "JWT_SECRET_KEY" in s.log()
        # tokens signed with the kept secret are accepted
        uid = s.make_user(role="admin")
        r = requests.get(s.url + "/api/admin/categories", headers=bearer(mint_token(secret, uid, "admin")),
                         timeout=10)
        assert r.status_code == 200
        s.stop()
        s.proc = None
        # a restart reuses it
        s.stopped = False
        s.start()
        with open(path) as f:
            assert f.read() == secret
        r = requests.get(s.url + "/api/admin/categories", headers=bearer(mint_token(secret, uid, "admin")),
                         timeout=10)
        assert r.status_code == 200
        s.stop()
    finally:
        s.kill()
        s.cleanup()


def test_version_command():
    p = run_binary(["version"], base_env(), tempfile.gettempdir())
    assert p.returncode == 0
    assert re.fullmatch(r"hwc3d \d+\.\d+\.\d+\S*\n", p.stdout), p.stdout


def test_version_matches_api(server):
    p = run_binary(["version"], base_env(), tempfile.gettempdir())
    assert p.stdout.strip() == "hwc3d " + server.get("/api/version").json()["version"]


@pytest.mark.parametrize("args", [["frobnicate"], ["serve", "extra"], ["migrate", "extra"],
                                  ["create-admin"], ["create-admin", "--email"], ["seed-demo", "--scale"],
                                  ["seed-demo", "--scale", "abc"], ["seed-demo", "--scale", "-1"],
                                  ["create-admin", "--bogus", "x"]])
def test_bad_usage_exits_2(tmpdir_, args):
    p = run(tmpdir_, args)
    assert p.returncode == 2, p.stderr
    assert "usage" in p.stderr.lower()


def test_help_exits_0():
    p = run_binary(["--help"], base_env(), tempfile.gettempdir())
    assert p.returncode == 0 and "usage" in p.stderr.lower()


def test_routes_command_lists_json(tmpdir_):
    p = run(tmpdir_, ["routes"])
    assert p.returncode == 0
    routes = json.loads(p.stdout)
    assert {"method", "path", "access", "rate_limit", "body", "summary"} <= set(routes[0])
    assert {"method": "GET", "path": "/api/categories"}.items() <= next(
        r for r in routes if r["path"] == "/api/categories").items()
    pairs = [(r["method"], r["path"]) for r in routes]
    assert len(pairs) == len(set(pairs))


# ---------------------------------------------------------------- .env

def _dotenv_server(tmp_env_lines, env):
    s = Server("sqlite", env=env, admins=(), seed=False, label="dotenv")
    with open(os.path.join(s.tmp, ".env"), "w") as f:
        f.write("\n".join(tmp_env_lines) + "\n")
    return s


def test_dotenv_is_read():
    port = free_port()
    s = _dotenv_server([
        "# a comment line",
        "",
        f'export PORT="{port}"',
        "DATA_DIR='./envdata'   ",
        f"JWT_SECRET_KEY={secrets.token_hex(32)}  # trailing comment",
        "RATE_LIMIT_ENABLED=false",
        "not a valid line",
    ], env={"PORT": None, "DATA_DIR": None, "JWT_SECRET_KEY": None})
    s.port = port
    s.url = f"http://127.0.0.1:{port}"
    s.data_dir = os.path.join(s.tmp, "envdata")
    try:
        s.start()
        assert requests.get(s.url + "/readyz", timeout=10).json()["database"] == "sqlite"
        assert os.path.exists(os.path.join(s.tmp, "envdata", "hwc3d.db"))
        assert not os.path.exists(os.path.join(s.tmp, "envdata", "jwt_secret")), "the .env secret was not used"
        s.stop()
    finally:
        s.kill()
        s.cleanup()


def test_environment_overrides_dotenv():
    env_port, file_port = free_port(), free_port()
    s = _dotenv_server([f"PORT={file_port}", "DATA_DIR=./from-file", "LOG_LEVEL=verbose"],
                       env={"PORT": env_port, "LOG_LEVEL": "info"})
    try:
        s.start()  # s.url is the environment's port
        assert requests.get(s.url + "/healthz", timeout=10).status_code == 200
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{file_port}/healthz", timeout=2)
        assert os.path.exists(os.path.join(s.data_dir, "hwc3d.db"))
        assert not os.path.exists(os.path.join(s.tmp, "from-file"))
        s.stop()
    finally:
        s.kill()
        s.cleanup()


def test_bad_value_in_dotenv_exits_2(tmpdir_):
    with open(os.path.join(tmpdir_, ".env"), "w") as f:
        f.write("PORT=notaport\n")
    e = base_env({"DATA_DIR": os.path.join(tmpdir_, "data")})
    p = run_binary(["migrate"], e, tmpdir_)
    assert p.returncode == 2 and "PORT" in p.stderr


def test_port_in_use_fails_cleanly():
    s = Server("sqlite", admins=(), seed=False, label="port-a")
    s2 = None
    try:
        s.start()
        s2 = Server("sqlite", admins=(), seed=False, label="port-b", env={"PORT": s.port})
        p = run_binary(["serve"], s2.env, s2.tmp, timeout=20)
        assert p.returncode == 1, p.stderr
        assert str(s.port) in p.stderr
        s.stop()
    finally:
        s.kill()
        s.cleanup()
        if s2:
            s2.cleanup()


def test_unreachable_postgres_exits_1_without_leaking_the_password(tmpdir_):
    port = free_port()
    p = run(tmpdir_, ["migrate"],
            DATABASE_URL=f"postgresql://postgres:s3cr3t-pw-value@127.0.0.1:{port}/x?connect_timeout=2")
    assert p.returncode == 1, p.stderr
    assert "postgresql" in p.stderr.lower() or "database" in p.stderr.lower()
    assert "s3cr3t-pw-value" not in p.stderr
