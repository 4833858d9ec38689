"""Browser hardening on every answer: CSP, no framing, no sniffing, and cookies `Secure` on TLS.

Pages load scripts only from this origin (`script-src 'self'`: no inline script, no eval), so an
injected `<script>` does not run. Styles allow 'unsafe-inline' because plotly.js writes inline
styles and injects its own style sheet when it draws a chart; inline style cannot run code.
The OpenAPI page (`/docs`) loads Swagger UI from its CDN with an inline bootstrap script, so it
gets its own, wider policy.

A cookie is marked `Secure` when the request came over TLS (`https` in the ASGI scope, which
uvicorn sets from `X-Forwarded-Proto` only for the proxies in `ISOM_TRUSTED_PROXIES`) or when
`ISOM_COOKIE_SECURE=1` says the site is only ever reached over TLS.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from isom.config import Settings, get_settings

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SWAGGER_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {SWAGGER_CDN}; "
    f"style-src 'self' 'unsafe-inline' {SWAGGER_CDN}; img-src 'self' data: https:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect"})

_FIXED = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def _secure_cookie(value: bytes) -> bytes:
    """A Set-Cookie value with the Secure attribute (once)."""
    attributes = [part.strip().lower() for part in value.split(b";")[1:]]
    return value if b"secure" in attributes else value + b"; Secure"


def _settings(scope: Scope) -> Settings:
    """The settings of the store the app serves, read per request (tests swap the store, and
    a stand-in store with no settings, as when a test loads the OpenAPI document at import,
    falls back to the environment's)."""
    settings: Settings | None = getattr(scope["app"].state.db, "settings", None)
    return settings or get_settings()


class _HttpMiddleware:
    """ASGI middleware that acts on HTTP requests only; the rest pass straight through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class TrustedProxies(_HttpMiddleware):
    """uvicorn's proxy-headers middleware, for the proxies in `ISOM_TRUSTED_PROXIES` only."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        # uvicorn types its ASGI callables apart from Starlette's: the same protocol, hence Any.
        self._by_hosts: dict[str, Any] = {}

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        trusted = _settings(scope).trusted_proxies
        if not trusted:
            await self.app(scope, receive, send)
            return
        if trusted not in self._by_hosts:
            inner: Any = self.app
            self._by_hosts[trusted] = ProxyHeadersMiddleware(inner, trusted_hosts=trusted)
        await self._by_hosts[trusted](scope, receive, send)


class SecurityHeaders(_HttpMiddleware):
    """Adds the hardening headers to every response, and `Secure` to cookies when on TLS."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        secure = _settings(scope).cookie_secure or scope.get("scheme") == "https"
        policy = DOCS_POLICY if scope["path"] in DOCS_PATHS else PAGE_POLICY

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, _secure_cookie(value) if secure and name == b"set-cookie" else value)
                    for name, value in message.get("headers", [])
                ]
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in _FIXED if n not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", policy.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_hardened)
