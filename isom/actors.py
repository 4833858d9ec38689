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

    def has_any(self, *roles: str) -> bool:
        """Whether the actor holds one of `roles` (an admin holds them all)."""
        return "admin" in self.roles or bool(self.roles & set(roles))
