"""Auth endpoints: sign in and out, who am I, and the administrator's users and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy.orm import Session

from isom.auth import services as auth_service
from isom.auth import throttle
from isom.auth.deps import SESSION_COOKIE, current_principal, get_db, require_roles
from isom.auth.models import Role, User
from isom.auth.schemas import (
    LoginIn,
    Me,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from isom.auth.services import Principal
from isom.db import Database
from isom.errors import NotAuthenticated, problem_responses

router = APIRouter(tags=["auth"])

PROBLEMS = problem_responses(
    "No such user or token",
    "The name is taken, or the change would leave no active administrator",
)

admin_only = require_roles(Role.admin)


def set_session_cookie(response: Response, secret: str, db: Database) -> None:
    """Hand the browser its session secret: HttpOnly, SameSite=Lax, Secure when configured."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(auth_service.SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=db.settings.cookie_secure,
    )


def clear_session_cookie(response: Response, db: Database) -> None:
    """Tell the browser to forget its session cookie."""
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=db.settings.cookie_secure
    )


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy: run uvicorn with
    --proxy-headers so this is the client's, not the proxy's)."""
    return request.client.host if request.client else "unknown"


def sign_in(db: Database, username: str, password: str, address: str) -> tuple[str, Me]:
    """Check the throttle and the password, then open a web session; returns the cookie secret
    and who signed in. Wrong passwords are counted per user and per address (429 when many)."""
    db.read(lambda s: throttle.check(s, username, address))
    # Verify outside the write transaction so a stream of wrong guesses never holds the writer.
    try:
        user_id = db.read(lambda s: auth_service.authenticate(s, username, password).id)
    except NotAuthenticated:
        db.write(lambda s: throttle.record_failure(s, username, address))
        raise

    def open_session(s: Session) -> tuple[str, Me]:
        user = s.get(User, user_id)
        if user is None or not user.active:
            raise NotAuthenticated("wrong user name or password")
        throttle.clear(s, username)
        secret, row = auth_service.open_web_session(s, user)
        me = Me(
            name=user.username,
            roles=list(user.roles),
            user_id=user.id,
            token_id=None,
            csrf_token=row.csrf_token,
        )
        return secret, me

    return db.write(open_session)


@router.post(
    "/auth/login",
    response_model=Me,
    responses={
        **PROBLEMS,
        429: {
            "description": "Too many wrong passwords for this user or from this address lately",
            "headers": {
                "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
            },
        },
    },
    summary="Sign in",
)
def login(
    body: LoginIn, request: Request, response: Response, db: Database = Depends(get_db)
) -> Me:
    """Sign in with a password: sets the `isom_session` cookie and returns the csrf token."""
    secret, me = sign_in(db, body.username, body.password, client_address(request))
    set_session_cookie(response, secret, db)
    return me


@router.post("/auth/logout", status_code=204, responses=PROBLEMS, summary="Sign out")
def logout(
    request: Request,
    _: Principal = Depends(current_principal),
    db: Database = Depends(get_db),
) -> Response:
    """End the browser session behind the cookie (a bearer token stays valid: revoke it)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        db.write(lambda s: auth_service.close_web_session(s, cookie))
    response = Response(status_code=204)
    clear_session_cookie(response, db)
    return response


@router.get("/auth/me", response_model=Me, responses=PROBLEMS, summary="Who am I")
def me(principal: Principal = Depends(current_principal)) -> Me:
    """The signed-in user or token holder, with roles and (for a browser) the csrf token."""
    return Me(
        name=principal.name,
        roles=sorted(principal.roles),
        user_id=principal.user_id,
        token_id=principal.token_id,
        csrf_token=principal.csrf_token,
    )


@router.get("/users", response_model=list[UserOut], responses=PROBLEMS, summary="List users")
def list_users(_: Principal = Depends(admin_only), db: Database = Depends(get_db)) -> list[UserOut]:
    """Every user with roles and whether they may sign in."""
    return db.read(lambda s: [UserOut.of(u) for u in auth_service.list_users(s)])


@router.post(
    "/users", response_model=UserOut, status_code=201, responses=PROBLEMS, summary="Add a user"
)
def create_user(
    body: UserIn, _: Principal = Depends(admin_only), db: Database = Depends(get_db)
) -> UserOut:
    """Add a user; the password is kept only as an argon2 hash."""
    return db.write(
        lambda s: UserOut.of(
            auth_service.create_user(
                s,
                username=body.username,
                password=body.password,
                roles=[r.value for r in body.roles],
                full_name=body.full_name,
            )
        )
    )


@router.patch(
    "/users/{username}", response_model=UserOut, responses=PROBLEMS, summary="Change a user"
)
def update_user(
    username: str,
    body: UserPatch,
    _: Principal = Depends(admin_only),
    db: Database = Depends(get_db),
) -> UserOut:
    """Change roles, active flag, password or name; deactivating or a new password signs out."""
    return db.write(
        lambda s: UserOut.of(
            auth_service.update_user(
                s,
                username,
                roles=[r.value for r in body.roles] if body.roles is not None else None,
                active=body.active,
                password=body.password,
                full_name=body.full_name,
            )
        )
    )


@router.get("/tokens", response_model=list[TokenOut], responses=PROBLEMS, summary="List tokens")
def list_tokens(
    _: Principal = Depends(admin_only), db: Database = Depends(get_db)
) -> list[TokenOut]:
    """Every API token, revoked ones included, newest first; never the secret."""
    return db.read(lambda s: [TokenOut.of(t) for t in auth_service.list_api_tokens(s)])


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=201,
    responses=PROBLEMS,
    summary="Issue an API token",
)
def create_token(
    body: TokenIn, _: Principal = Depends(admin_only), db: Database = Depends(get_db)
) -> TokenCreated:
    """Issue a bearer token for a device or the ERP; the secret is returned this once only."""

    def work(s: Session) -> TokenCreated:
        secret, token = auth_service.create_api_token(
            s, name=body.name, roles=[r.value for r in body.roles]
        )
        return TokenCreated(**TokenOut.of(token).model_dump(), token=secret)

    return db.write(work)


@router.delete(
    "/tokens/{token_id}", response_model=TokenOut, responses=PROBLEMS, summary="Revoke a token"
)
def revoke_token(
    token_id: int = Path(gt=0, le=2**31 - 1, description="The token's id"),
    _: Principal = Depends(admin_only),
    db: Database = Depends(get_db),
) -> TokenOut:
    """Revoke a token at once: its next request gets 401. Revoking twice is harmless."""
    return db.write(lambda s: TokenOut.of(auth_service.revoke_api_token(s, token_id)))
