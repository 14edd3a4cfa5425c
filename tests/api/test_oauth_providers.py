"""GET /api/auth/oauth/providers: the sign-in providers the web client may
offer, that is those with both a client id and a secret; public, and never
carrying a client id or secret."""
import pytest

from conftest import assert_error, finish_server, start_server

SECRETS = {"GOOGLE_CLIENT_ID": "g-id-visible-nowhere", "GOOGLE_CLIENT_SECRET": "g-secret-visible-nowhere",
           "DISCORD_CLIENT_ID": "d-id-visible-nowhere", "DISCORD_CLIENT_SECRET": "d-secret-visible-nowhere",
           # GitHub has an id but no secret: not configured
           "GITHUB_CLIENT_ID": "gh-id-visible-nowhere", "GITHUB_CLIENT_SECRET": None}


@pytest.fixture(scope="module")
def some():
    s = start_server("sqlite", env=SECRETS, admins=(), seed=False, label="oauth-providers")
    yield s
    finish_server(s)


def test_lists_only_configured_providers_in_order(some):
    r = some.get("/api/auth/oauth/providers")
    assert r.status_code == 200, r.text
    assert r.json() == {"providers": [{"name": "google", "label": "Google"},
                                      {"name": "discord", "label": "Discord"}]}
    for value in SECRETS.values():
        if value:
            assert value not in r.text


def test_empty_when_nothing_is_configured(server):
    """The suite's shared server configures no provider (and so counts
    this route's 2xx for the route-coverage check)."""
    r = server.get("/api/auth/oauth/providers")
    assert r.status_code == 200, r.text
    assert r.json() == {"providers": []}


def test_public_a_bad_token_is_not_looked_at(some):
    r = some.get("/api/auth/oauth/providers", headers={"Authorization": "Bearer not.a.token"})
    assert r.status_code == 200, r.text
    assert [p["name"] for p in r.json()["providers"]] == ["google", "discord"]


def test_agrees_with_authorize_url(some):
    """A listed provider gives an authorize URL; an unlisted one is 503."""
    redirect = "http://localhost:8000/auth"
    listed = {p["name"] for p in some.get("/api/auth/oauth/providers").json()["providers"]}
    for name in ("google", "github", "discord"):
        r = some.get(f"/api/auth/oauth/{name}/authorize-url", params={"redirect_uri": redirect})
        if name in listed:
            assert r.status_code == 200, r.text
            assert r.json()["url"].startswith("http")
        else:
            assert_error(r, 503, "SERVICE_UNAVAILABLE")


def test_other_methods_are_405(some):
    r = some.post("/api/auth/oauth/providers", json={})
    assert r.status_code == 405, r.text
