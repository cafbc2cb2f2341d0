"""What a service's Kubernetes workload is called and configured with, from its manifest.

Its image (``acme/<name>``), its Secret (``<name>-secrets``: ``database-url`` when it owns
a database, and its manifest's ``cluster.secrets``), the settings of its ConfigMap (where it
listens, the services it calls, the gateway's backends, the JWKS of a token verifier, its
own ``cluster.settings``) and its resources. ``workload.py`` writes the objects from these.
"""

from __future__ import annotations

from collections.abc import Sequence

from stackkit.cluster import DATABASE_URL_KEY
from stackkit.manifest import MANIFEST, ManifestError, ServiceManifest

__all__ = [
    "BASE",
    "GENERATED",
    "IMAGE_PREFIX",
    "JWKS_PATH",
    "LIVENESS_SERVICE",
    "POD_NETWORK",
    "PRESTOP_SECONDS",
    "TERMINATION_GRACE_SECONDS",
    "UID",
    "config",
    "jwks_url",
    "resources",
    "secret_env",
    "secret_name",
]

GENERATED = (
    "Generated from the service manifests (services/*/service.yaml) by `make generate`\n"
    "# (platform/stackkit): edit a manifest or the template, never this file."
)
BASE = "platform/deploy/services"
IMAGE_PREFIX = "acme/"
# servicekit's health service that is SERVING while the process runs (servicekit.grpc.health;
# stackkit imports no runtime: tests/deploy checks the two agree).
LIVENESS_SERVICE = "liveness"
JWKS_PATH = "/.well-known/jwks.json"
UID = 10001
PRESTOP_SECONDS = 5
# Above the preStop pause plus a service's drain time (its grace_seconds, 10 by default).
TERMINATION_GRACE_SECONDS = 30
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "192Mi"}
DEFAULT_LIMITS = {"cpu": "1", "memory": "512Mi"}

# A pod listens on every address of its own network namespace: its Service and the metrics
# scraper reach it there, and nothing else can.
POD_ADDRESS = "0.0.0.0"  # noqa: S104  # nosec B104
# The cluster's pod network (platform/deploy/kind/cluster.yaml's podSubnet; tests/deploy checks
# the two agree). In the cluster the gateway calls the services in plaintext from an address
# of it, so the services believe the client address it forwards (x-forwarded-for) from there:
# otherwise every client counts as the gateway's pod, and the sign-in throttle, keyed on
# account and client, could lock an account out for everyone. The prod NetworkPolicies let
# only the declared callers in. A cluster with another pod network patches the setting.
POD_NETWORK = "10.244.0.0/16"


def secret_name(manifest: ServiceManifest) -> str:
    return f"{manifest.name}-secrets"


def secret_env(manifest: ServiceManifest) -> dict[str, str]:
    """Secret key -> setting, for every setting the service reads from its Secret."""
    found = {DATABASE_URL_KEY: "database.url"} if manifest.database else {}
    return found | dict(manifest.cluster.secrets)


def jwks_url(gateway: ServiceManifest) -> str:
    return f"http://{gateway.name}:{gateway.serve_port}{JWKS_PATH}"


def config(manifest: ServiceManifest, manifests: Sequence[ServiceManifest]) -> dict[str, str]:
    """The settings of its ConfigMap, variable -> text: what the manifests give, then its own
    ``cluster.settings`` (a setting derived here, or read from its Secret, cannot be one)."""
    by_name = {m.name: m for m in manifests}
    face = "http" if manifest.kind == "gateway" else "grpc"
    derived = {
        "environment": "production",
        f"{face}.host": POD_ADDRESS,
        f"{face}.port": str(manifest.serve_port),
        "metrics.host": POD_ADDRESS,
        "metrics.port": str(manifest.metrics_port),
    }
    for callee in manifest.calls:
        derived[f"{callee}_client.target"] = _target(by_name[callee])
    if manifest.kind == "gateway":
        for backend in (m for m in manifests if m.kind == "grpc"):
            derived[f"backends.{backend.name}.target"] = _target(backend)
    else:
        derived["grpc.forwarding.trusted_networks"] = POD_NETWORK
    gateways = [m for m in manifests if m.kind == "gateway"]
    if manifest.verifies_tokens and gateways:
        derived["auth.jwks_url"] = jwks_url(gateways[0])
        derived["auth.jwks_file"] = ""  # one source of keys: servicekit refuses both
    taken = set(derived) | set(secret_env(manifest).values()) | {"logging.format"}
    clashes = sorted(set(manifest.cluster.settings) & taken)
    if clashes:
        where = f"services/{manifest.name}/{MANIFEST}"
        raise ManifestError(
            [f"{where}: cluster.settings: {s} is derived by the platform" for s in clashes]
        )
    settings = derived | dict(manifest.cluster.settings) | {"logging.format": "json"}
    return {manifest.variable(setting): text for setting, text in settings.items()}


def _target(manifest: ServiceManifest) -> str:
    return f"{manifest.name}:{manifest.serve_port}"


def resources(manifest: ServiceManifest) -> tuple[dict[str, str], dict[str, str]]:
    """Requests and limits of each of its containers: the defaults, then its manifest's."""
    requests = DEFAULT_REQUESTS | dict(manifest.cluster.requests)
    limits = DEFAULT_LIMITS | dict(manifest.cluster.limits)
    return requests, limits
