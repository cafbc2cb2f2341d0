"""Authentication and authorization: access tokens in, principals out, contract policies.

Wiring, once per server::

    verifier = TokenVerifier.from_settings(settings.auth)
    policies = AccessPolicies.from_services(
        user_service_pb2.DESCRIPTOR.services_by_name["UserService"]
    )
    interceptors = [..., AuthenticationInterceptor(verifier), AccessPolicyInterceptor(policies)]

Handlers read the caller with ``servicekit.grpc.context.current_principal()``.
"""

from servicekit.auth.jwks import JwksSource, parse_jwks
from servicekit.auth.policy import ALWAYS_ALLOWED_SERVICES, AccessPolicies, MethodPolicy
from servicekit.auth.principal import Principal
from servicekit.auth.tokens import REQUIRED_CLAIMS, AuthSettings, TokenVerifier

__all__ = [
    "ALWAYS_ALLOWED_SERVICES",
    "REQUIRED_CLAIMS",
    "AccessPolicies",
    "AuthSettings",
    "JwksSource",
    "MethodPolicy",
    "Principal",
    "TokenVerifier",
    "parse_jwks",
]
