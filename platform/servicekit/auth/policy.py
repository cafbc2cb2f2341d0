"""Who may call each RPC, as the contract says: the ``acme.options.v1.access`` option.

Policies are read from the generated service descriptors, never re-declared in Python.
Deny by default: a method without a policy is refused to everyone, except the health and
reflection services that probes and tools call without credentials.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from acme.options.v1 import access_pb2
from servicekit.auth.principal import Principal
from servicekit.errors import PermissionDenied, Unauthenticated

__all__ = ["ALWAYS_ALLOWED_SERVICES", "AccessPolicies", "MethodPolicy"]

ALWAYS_ALLOWED_SERVICES = (
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
)
_ALWAYS_ALLOWED_PREFIXES = tuple(f"/{service}/" for service in ALWAYS_ALLOWED_SERVICES)


@dataclass(frozen=True, kw_only=True, slots=True)
class MethodPolicy:
    """The access policy of one RPC; the grants are alternatives (any one admits)."""

    public: bool = False
    authenticated: bool = False
    roles: frozenset[str] = frozenset()
    owner_field: str = ""
    services: frozenset[str] = frozenset()
    _owner_path: tuple[str, ...] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        path = tuple(self.owner_field.split(".")) if self.owner_field else ()
        object.__setattr__(self, "_owner_path", path)  # split once, not on every call

    @classmethod
    def from_proto(cls, policy: access_pb2.AccessPolicy) -> MethodPolicy:
        return cls(
            public=policy.public,
            authenticated=policy.authenticated,
            roles=frozenset(policy.roles),
            owner_field=policy.owner_field,
            services=frozenset(policy.services),
        )

    def admits(self, principal: Principal, request: Message | None) -> bool:
        """Whether an authenticated ``principal`` may make this ``request``."""
        return (
            self.public
            or self.authenticated
            or not self.roles.isdisjoint(principal.roles)
            or (principal.service is not None and principal.service in self.services)
            or self._owns(principal, request)
        )

    def _owns(self, principal: Principal, request: Message | None) -> bool:
        # Ownership is a user's; a service principal's subject is a service name.
        if not self._owner_path or principal.is_service or request is None:
            return False
        owner = _field_value(request, self._owner_path)
        return bool(owner) and owner == principal.subject


class AccessPolicies:
    """Every RPC's policy, keyed by gRPC method name (``/acme.user.v1.UserService/GetUser``)."""

    def __init__(self, policies: Mapping[str, MethodPolicy]) -> None:
        self._policies = dict(policies)

    @classmethod
    def from_services(cls, *services: ServiceDescriptor) -> AccessPolicies:
        """The policies the contract declares on the methods of these services.

        Raises ``ValueError`` when an ``owner_field`` does not name a string field of the
        request: such a policy could never admit an owner, a contract bug to catch at start.
        """
        policies: dict[str, MethodPolicy] = {}
        for service in services:
            for method in service.methods:
                options = method.GetOptions()
                if not options.HasExtension(access_pb2.access):
                    continue  # deny by default; the contract lint requires a policy anyway
                policy = MethodPolicy.from_proto(options.Extensions[access_pb2.access])
                if policy.owner_field:
                    _check_string_path(method.input_type, policy.owner_field, method.full_name)
                policies[f"/{service.full_name}/{method.name}"] = policy
        return cls(policies)

    @property
    def method_names(self) -> frozenset[str]:
        return frozenset(self._policies)

    def policy_for(self, method_name: str) -> MethodPolicy | None:
        """The declared policy of a method, or None (the method is denied)."""
        return self._policies.get(method_name)

    @staticmethod
    def is_always_allowed(method_name: str) -> bool:
        """Health checks and reflection: infrastructure, callable without credentials."""
        return method_name.startswith(_ALWAYS_ALLOWED_PREFIXES)

    def check(self, method_name: str, principal: Principal | None, request: Message | None) -> None:
        """Return when the call is admitted; raise ``Unauthenticated`` when credentials are
        needed and missing, ``PermissionDenied`` when the caller may not call this."""
        if self.is_always_allowed(method_name):
            return
        policy = self._policies.get(method_name)
        if policy is None:
            raise PermissionDenied(f"calling {method_name} is not allowed")
        if policy.public:
            return
        if principal is None:
            raise Unauthenticated("authentication required")
        if not policy.admits(principal, request):
            raise PermissionDenied(f"calling {method_name} is not allowed")


def _field_value(message: Message, path: tuple[str, ...]) -> object:
    """The value at a path of ``message`` (its field names), or None when a step is unset
    or unknown."""
    value: object = message
    for name in path:
        if not isinstance(value, Message):
            return None
        step = getattr(value, name, None)
        if step is None or (isinstance(step, Message) and not value.HasField(name)):
            return None
        value = step
    return value


def _check_string_path(request: Descriptor, path: str, method: str) -> None:
    message: Descriptor | None = request
    field: FieldDescriptor | None = None
    for name in path.split("."):
        field = message.fields_by_name.get(name) if message is not None else None
        if field is None:
            raise ValueError(f"{method}: owner_field {path!r} does not name a request field")
        message = field.message_type
    if field is None or field.type != FieldDescriptor.TYPE_STRING or field.is_repeated:
        raise ValueError(f"{method}: owner_field {path!r} is not a string field")
