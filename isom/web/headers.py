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

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class SecurityHeaders:
    """Adds the hardening headers to every response, and `Secure` to cookies when on TLS."""

    def __init__(self, app: ASGIApp, *, cookie_secure: bool = False) -> None:
        self.app = app
        self.cookie_secure = cookie_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = self.cookie_secure or scope.get("scheme") == "https"
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
