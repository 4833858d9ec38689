"""Who acts: the one view of a caller every domain's operations take (user, device, roles)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who acts, and through which device."""

    name: str
    user_id: int | None = None
    device: str | None = None
    roles: frozenset[str] = frozenset()
    #: The site ids it acts in; empty: every site (checked where objects are loaded, see
    #: `isom.auth.sites`).
    sites: frozenset[int] = frozenset()

    def has_any(self, *roles: str) -> bool:
        """Whether the actor holds one of `roles` (an admin holds them all)."""
        return "admin" in self.roles or bool(self.roles & set(roles))
