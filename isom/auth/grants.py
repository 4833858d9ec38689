"""Granting sites to users and API tokens, and naming the sites each holds."""

from __future__ import annotations

from sqlalchemy import column, delete, select, table
from sqlalchemy.orm import Session

from isom.auth import cache, sites
from isom.auth.models import ApiToken, TokenSite, User, UserSite
from isom.errors import Conflict, NotFound

#: Master data's locations, read by name only (auth sits below master data).
_LOCATION = table("md_location", column("id"), column("code"), column("kind"))

#: What a user or token with no site grants is shown as.
ALL_SITES = "all sites"


def site_id(session: Session, code: str) -> int:
    """The id of the site with this code, or a 404 naming the sites there are."""
    found = session.scalar(
        select(_LOCATION.c.id).where(_LOCATION.c.code == code, _LOCATION.c.kind == "site")
    )
    if found is None:
        known = session.scalars(
            select(_LOCATION.c.code).where(_LOCATION.c.kind == "site").order_by(_LOCATION.c.code)
        ).all()
        raise NotFound(
            f"no site {code!r}", field="site", expected=f"one of: {', '.join(known) or '(none)'}"
        )
    return int(found)


def held_site(session: Session, code: str) -> int:
    """The id of a site the caller names and holds; 404 for an unknown site or one of others."""
    found = site_id(session, code)
    sites.check(found, "site", code, field="site")
    return found


def site_codes(session: Session, ids: frozenset[int]) -> list[str]:
    """The codes of these sites, sorted."""
    if not ids:
        return []
    return sorted(session.scalars(select(_LOCATION.c.code).where(_LOCATION.c.id.in_(ids))).all())


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    return user


def _token(session: Session, name: str) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise NotFound(f"no API token named {name!r}", field="token")
    return token


def grant_user_site(session: Session, username: str, site: str) -> list[str]:
    """Let a user work at `site` (a user with no site spans every site); returns its sites."""
    user, sid = _user(session, username), site_id(session, site)
    cache.changed(session)
    if session.get(UserSite, (user.id, sid)) is None:
        session.add(UserSite(user_id=user.id, site_id=sid))
        session.flush()
    return sites_of_user(session, user.id)


def revoke_user_site(session: Session, username: str, site: str) -> list[str]:
    """Take `site` from a user; never the last one (that would silently widen it to every
    site): grant another first, or let it span every site on purpose (`span_user`)."""
    user, sid = _user(session, username), site_id(session, site)
    cache.changed(session)
    session.execute(delete(UserSite).where(UserSite.user_id == user.id, UserSite.site_id == sid))
    left = sites_of_user(session, user.id)
    if not left:
        raise _last_site(f"user {username}")
    return left


def span_user(session: Session, username: str) -> None:
    """Let a user act at every site: its site grants are dropped."""
    user = _user(session, username)
    cache.changed(session)
    session.execute(delete(UserSite).where(UserSite.user_id == user.id))


def _last_site(holder: str) -> Conflict:
    return Conflict(
        f"{holder} would hold no site, which means every site",
        field="site",
        expected="grant another site first, or let it span every site on purpose (span)",
    )


def grant_token_site(session: Session, name: str, site: str) -> list[str]:
    """Let an API token act at `site`; returns its own sites."""
    token, sid = _token(session, name), site_id(session, site)
    cache.changed(session)
    if session.get(TokenSite, (token.id, sid)) is None:
        session.add(TokenSite(token_id=token.id, site_id=sid))
        session.flush()
    return sites_of_token(session, token.id)


def revoke_token_site(session: Session, name: str, site: str) -> list[str]:
    """Take `site` from an API token; never the last one (see `revoke_user_site`)."""
    token, sid = _token(session, name), site_id(session, site)
    cache.changed(session)
    session.execute(
        delete(TokenSite).where(TokenSite.token_id == token.id, TokenSite.site_id == sid)
    )
    left = sites_of_token(session, token.id)
    if not left:
        raise _last_site(f"token {name}")
    return left


def span_token(session: Session, name: str) -> None:
    """Let a token act in its user's sites, or every site when it has no user: its own site
    grants are dropped."""
    token = _token(session, name)
    cache.changed(session)
    session.execute(delete(TokenSite).where(TokenSite.token_id == token.id))


def sites_of_user(session: Session, user_id: int) -> list[str]:
    """A user's site codes (empty: every site)."""
    ids = session.scalars(select(UserSite.site_id).where(UserSite.user_id == user_id)).all()
    return site_codes(session, frozenset(ids))


def sites_shown(session: Session, username: str) -> str:
    """Where a user works, for people to read: its site codes, or "all sites"."""
    return ", ".join(sites_of_user(session, _user(session, username).id)) or "all sites"


def sites_of_token(session: Session, token_id: int) -> list[str]:
    """A token's own site codes (empty: its user's sites, else every site)."""
    ids = session.scalars(select(TokenSite.site_id).where(TokenSite.token_id == token_id)).all()
    return site_codes(session, frozenset(ids))
