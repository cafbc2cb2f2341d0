"""Who is calling: a user (from an access token) or a service (a service principal)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Principal"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Principal:
    """An authenticated caller.

    ``subject`` is the user's id for a user, the service's name for a service. Roles are
    lowercase names as the contract's access policies spell them (``admin``).
    """

    subject: str
    roles: frozenset[str] = frozenset()
    service: str | None = None
    token_id: str | None = None

    @property
    def is_service(self) -> bool:
        return self.service is not None

    def has_role(self, role: str) -> bool:
        return role in self.roles
