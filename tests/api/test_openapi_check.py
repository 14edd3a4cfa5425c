"""scripts/check-openapi.py, the check behind `make test-openapi`, holds
docs/openapi.yaml to the route table: it passes on the real document and
fails on each kind of drift (so the check itself can fail)."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from conftest import BINARY, REPO, base_env

CHECK = os.path.join(REPO, "scripts", "check-openapi.py")


def load_doc():
    with open(os.path.join(REPO, "docs", "openapi.yaml")) as f:
        return yaml.safe_load(f)


def run_check(tmp_path, doc=None):
    args = [sys.executable, CHECK, "--binary", BINARY]
    if doc is not None:
        path = tmp_path / "openapi.yaml"
        path.write_text(yaml.safe_dump(doc))
        args += ["--doc", str(path)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_routes_name_every_handler(tmp_path):
    p = subprocess.run([BINARY, "routes"], capture_output=True, text=True, cwd=tmp_path,
                       env=base_env({"DATA_DIR": str(tmp_path)}), timeout=60)
    assert p.returncode == 0, p.stderr
    routes = json.loads(p.stdout)
    names = [r["handler"] for r in routes]
    assert all(names), [r for r in routes if not r["handler"]]
    assert len(names) == len(set(names)), "one handler serves two routes: operationIds would clash"
    get = next(r for r in routes if (r["method"], r["path"]) == ("GET", "/api/models/{id:int}"))
    assert get["handler"] == "models_get"


def test_the_document_agrees(tmp_path):
    p = run_check(tmp_path)
    assert p.returncode == 0, p.stderr
    assert "agree" in p.stdout


@pytest.mark.parametrize("case", ["missing_path", "extra_operation", "operation_id",
                                  "security_public", "security_optional", "missing_429",
                                  "missing_401", "missing_422_body", "duplicate_operation_id"])
def test_drift_fails(tmp_path, case):
    doc = load_doc()
    paths = doc["paths"]
    if case == "missing_path":
        del paths["/api/jobs/{id}"]
        want = "GET /api/jobs/{id:int}: in the route table, missing from the document"
    elif case == "extra_operation":
        paths["/api/version"]["post"] = dict(paths["/api/version"]["get"], operationId="x")
        want = "POST /api/version: documented, but no such route"
    elif case == "operation_id":
        paths["/api/models/{id}/like"]["post"]["operationId"] = "models_likes"
        want = "operationId 'models_likes', handler 'models_like'"
    elif case == "security_public":
        paths["/api/admin/slider"]["get"]["security"] = []
        want = "GET /api/admin/slider: security [] but access admin"
    elif case == "security_optional":
        paths["/api/models/{id}"]["get"]["security"] = [{"bearer": []}]
        want = "GET /api/models/{id:int}: security [{'bearer': []}] but access optional"
    elif case == "missing_429":
        del paths["/api/leaderboard"]["get"]["responses"]["429"]
        want = "GET /api/leaderboard: no 429 response"
    elif case == "missing_401":
        del paths["/api/users/me"]["get"]["responses"]["401"]
        want = "GET /api/users/me: no 401 response"
    elif case == "missing_422_body":
        del paths["/api/auth/login"]["post"]["responses"]["422"]
        want = "POST /api/auth/login: no 422 response"
    else:
        paths["/api/slider"]["get"]["operationId"] = "admin_slider_list"
        want = "operationId admin_slider_list is also used by"
    p = run_check(tmp_path, doc)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert want in p.stderr, p.stderr
