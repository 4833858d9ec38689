"""`isom users ...` and `isom tokens ...`: accounts and API tokens from the command line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from sqlalchemy.orm import Session

from isom.auth import grants
from isom.auth import services as auth_service
from isom.auth.schemas import TokenOut, UserOut
from isom.db import Database
from isom.errors import IsomError

T = TypeVar("T")

users_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for devices, the ERP and scripts.", no_args_is_help=True)

ROLES_HELP = f"A role (repeat for several): {', '.join(sorted(auth_service.ALL_ROLES))}."


def _open_db() -> Database:
    from isom import schema

    return schema.open_db()


def _write(work: Callable[[Session], T]) -> T:
    """Run one unit of work against the configured store; an ISOM error exits 1 with its detail."""
    db = _open_db()
    try:
        return db.write(work)
    except IsomError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        if exc.expected:
            typer.echo(f"expected: {exc.expected}", err=True)
        raise typer.Exit(1) from None


def _read(work: Callable[[Session], T]) -> T:
    return _open_db().read(work)


def _when(value: object) -> str:
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else "-"


@users_app.command("add")
def add_user(
    username: str = typer.Argument(..., help="The sign-in name."),
    role: list[str] = typer.Option(..., "--role", "-r", help=ROLES_HELP),
    password: str | None = typer.Option(
        None, help="The password; asked for (hidden, twice) when left out."
    ),
    full_name: str = typer.Option("", "--full-name", help="The person's name."),
) -> None:
    """Add a user with one or more roles."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = _write(
        lambda s: UserOut.of(
            auth_service.create_user(
                s, username=username, password=password, roles=role, full_name=full_name
            )
        )
    )
    typer.echo(f"added user {user.username} with roles {', '.join(user.roles)}")


@users_app.command("list")
def list_users() -> None:
    """List users, their roles and whether they may sign in."""
    users = _read(lambda s: [UserOut.of(u) for u in auth_service.list_users(s)])
    if not users:
        typer.echo("no users yet: add one with `isom users add NAME --role admin`")
    for u in users:
        state = "active" if u.active else "inactive"
        typer.echo(f"{u.username:<24} {state:<9} {','.join(u.roles)}")


@tokens_app.command("create")
def create_token(
    name: str = typer.Argument(..., help="A name saying who holds it, e.g. scanner-07."),
    role: list[str] = typer.Option(..., "--role", "-r", help=ROLES_HELP),
) -> None:
    """Issue an API token; the secret is printed this once and never stored in clear."""

    def work(s: Session) -> tuple[str, TokenOut]:
        secret, token = auth_service.create_api_token(s, name=name, roles=role)
        return secret, TokenOut.of(token)

    secret, token = _write(work)
    typer.echo(f"token {token.id} ({token.name}) roles {', '.join(token.roles)}", err=True)
    typer.echo("store it now, it is not shown again:", err=True)
    typer.echo(secret)


@tokens_app.command("revoke")
def revoke_token(token_id: int = typer.Argument(..., help="The token's id (see `list`).")) -> None:
    """Revoke a token at once."""
    token = _write(lambda s: TokenOut.of(auth_service.revoke_api_token(s, token_id)))
    typer.echo(f"revoked token {token.id} ({token.name}) at {_when(token.revoked_at)}")


@tokens_app.command("list")
def list_tokens() -> None:
    """List API tokens (id, name, prefix, roles, revoked or not)."""
    tokens = _read(lambda s: [TokenOut.of(t) for t in auth_service.list_api_tokens(s)])
    if not tokens:
        typer.echo("no API tokens yet")
    for t in tokens:
        state = f"revoked {_when(t.revoked_at)}" if t.revoked_at else "active"
        typer.echo(f"{t.id:>5} {t.name:<24} {t.prefix:<14} {','.join(t.roles):<24} {state}")


auth_app = typer.Typer(
    help="Which sites users and API tokens act in (none granted: every site).",
    no_args_is_help=True,
)


def _holder(user: str | None, token: str | None) -> tuple[str, str]:
    if (user is None) == (token is None):
        typer.echo("error: name either --user or --token", err=True)
        raise typer.Exit(2)
    return ("user", user) if user is not None else ("token", str(token))


def _shown(codes: list[str]) -> str:
    return ", ".join(codes) or grants.ALL_SITES


@auth_app.command("grant")
def grant_site(
    site: str = typer.Argument(..., help="The site's code, e.g. DC1."),
    user: str | None = typer.Option(None, "--user", "-u", help="A user name."),
    token: str | None = typer.Option(None, "--token", "-t", help="An API token's name."),
) -> None:
    """Let a user or an API token act at a site (the first grant restricts it to that site)."""
    kind, name = _holder(user, token)
    grant = grants.grant_user_site if kind == "user" else grants.grant_token_site
    held = _write(lambda s: grant(s, name, site))
    typer.echo(f"{kind} {name} now acts at: {_shown(held)}")


@auth_app.command("revoke")
def revoke_site(
    site: str = typer.Argument(..., help="The site's code, e.g. DC1."),
    user: str | None = typer.Option(None, "--user", "-u", help="A user name."),
    token: str | None = typer.Option(None, "--token", "-t", help="An API token's name."),
) -> None:
    """Take a site from a user or an API token; the last one is refused (none means every
    site: use `span` to mean it)."""
    kind, name = _holder(user, token)
    revoke = grants.revoke_user_site if kind == "user" else grants.revoke_token_site
    held = _write(lambda s: revoke(s, name, site))
    typer.echo(f"{kind} {name} now acts at: {_shown(held)}")


@auth_app.command("span")
def span_sites(
    user: str | None = typer.Option(None, "--user", "-u", help="A user name."),
    token: str | None = typer.Option(None, "--token", "-t", help="An API token's name."),
) -> None:
    """Let a user (an administrator, an ERP integrator) act at every site: drop its grants."""
    kind, name = _holder(user, token)
    span = grants.span_user if kind == "user" else grants.span_token
    _write(lambda s: span(s, name))
    typer.echo(f"{kind} {name} now acts at: {grants.ALL_SITES}")


@auth_app.command("sites")
def list_sites() -> None:
    """Every user and live API token with the sites it acts in."""

    def read(s: Session) -> list[str]:
        lines = [
            f"user  {u.username:<24} {_shown(grants.sites_of_user(s, u.id))}"
            for u in auth_service.list_users(s)
        ]
        lines += [
            f"token {t.name:<24} {_shown(grants.sites_of_token(s, t.id))}"
            for t in auth_service.list_api_tokens(s, include_revoked=False)
        ]
        return lines

    for line in _read(read):
        typer.echo(line)
