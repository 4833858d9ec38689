"""Browser hardening: every answer forbids framing and sniffing and sets a script policy; cookies
are `Secure` when the request came over TLS, directly or through a proxy we are told to trust."""

from __future__ import annotations

from fastapi.testclient import TestClient

from isom.db import Database
from isom.web.app import create_app
from tests.ops.support import MakeClient
from tests.web.seed import sign_in, user


def _cookies(r: object) -> list[str]:
    return r.headers.get_list("set-cookie")  # type: ignore[attr-defined, no-any-return]


def test_pages_and_api_answers_carry_the_hardening_headers(db: Database) -> None:
    client = TestClient(create_app(db), follow_redirects=False)
    for r in (client.get("/login"), client.get("/api/v1/auth/me"), client.get("/healthz")):
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        policy = r.headers["content-security-policy"]
        assert "script-src 'self';" in policy
        assert "frame-ancestors 'none'" in policy
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]


def test_cookies_are_secure_over_tls_and_not_over_plain_http(
    db: Database, configured: MakeClient
) -> None:
    user(db, "clara", "clerk")
    plain = configured()
    assert all("Secure" not in c for c in _cookies(plain.get("/login")))

    tls = configured("https://testserver")
    assert all(c.endswith("; Secure") for c in _cookies(tls.get("/login")))
    sign_in(tls)
    session = [c for c in tls.cookies.jar if c.name == "isom_session"]
    assert len(session) == 1 and session[0].secure


def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(
    db: Database, configured: MakeClient
) -> None:
    proxied = {"X-Forwarded-Proto": "https"}
    untrusted = configured()
    assert all("Secure" not in c for c in _cookies(untrusted.get("/login", headers=proxied)))

    trusted = configured(trusted_proxies="*")
    assert all("Secure" in c for c in _cookies(trusted.get("/login", headers=proxied)))
    assert all("Secure" not in c for c in _cookies(trusted.get("/login")))


def test_a_site_reached_only_over_tls_can_force_secure_cookies(
    db: Database, configured: MakeClient
) -> None:
    forced = configured(cookie_secure=True)
    cookies = _cookies(forced.get("/login"))
    assert cookies and all(c.count("Secure") == 1 for c in cookies)
