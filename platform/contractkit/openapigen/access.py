"""The REST face of `acme.options.v1.access`: security requirements, the `x-access-policy`
extension and one sentence saying who may call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contractkit.openapigen.keywords import code, code_list
from contractkit.openapigen.types import Schema

__all__ = ["BEARER_SCHEME", "Access", "describe_access"]

BEARER = "bearerAuth"
BEARER_SCHEME: Schema = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "An access token from `POST /v1/auth/login` (or `/v1/auth/refresh`), "
    "sent as `Authorization: Bearer <token>`.",
}


@dataclass(frozen=True)
class Access:
    """What an access policy puts on an operation."""

    public: bool
    security: list[dict[str, list[str]]]
    extension: dict[str, Any]
    sentence: str


def describe_access(policy: Any | None) -> Access:
    """The operation-level view of an AccessPolicy (None: no policy, nobody may call)."""
    if policy is None:
        return Access(
            public=False,
            security=[{BEARER: []}],
            extension={},
            sentence="**Access:** nobody: the RPC declares no access policy.",
        )
    extension = {
        field.name: list(value) if field.is_repeated else value
        for field, value in policy.ListFields()
    }
    if policy.public:
        return Access(
            public=True,
            security=[],
            extension=extension,
            sentence="**Access:** public; no credentials are needed.",
        )
    return Access(
        public=False,
        security=[{BEARER: []}],
        extension=extension,
        sentence=f"**Access:** {_grants(policy)}.",
    )


def _grants(policy: Any) -> str:
    grants: list[str] = []
    if policy.authenticated:
        grants.append("any authenticated caller")
    if policy.roles:
        noun = "role" if len(policy.roles) == 1 else "roles"
        grants.append(f"callers holding the {noun} {code_list(policy.roles)}")
    if policy.owner_field:
        grants.append(f"the owner of the resource identified by {code(policy.owner_field)}")
    if policy.services:
        noun = "service" if len(policy.services) == 1 else "services"
        grants.append(f"the {noun} {code_list(policy.services)}, calling as itself")
    return ", or ".join(grants) if grants else "nobody: the policy grants nothing"
