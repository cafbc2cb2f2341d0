"""The contract services the gateway knows: found in the generated code, named nowhere here.

``import_contracts`` imports every generated ``*_pb2`` module of the organisation's
package (``acme``, under ``gen/python``) by its name, which puts its descriptors in the
default pool, where ``services.gateway.plans`` finds each operation's method. A contract
added and generated is routable without a line of the gateway changing.

``routing`` then decides which backend serves each contract service that has routes,
from the settings' ``[backends.<name>] services``: a backend naming a service that no
contract declares is a ``RoutingError`` (a typo must not leave the real service unserved
in silence); a service with routes that no backend serves is ``unrouted``, and the
gateway answers its routes with 503 (``services.gateway.transcoder``).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

__all__ = [
    "CONTRACT_PACKAGE",
    "Routing",
    "RoutingError",
    "contract_services",
    "import_contracts",
    "routing",
]

CONTRACT_PACKAGE = "acme"
"""The import name of the organisation's generated contracts (``acme.user.v1...``)."""


class RoutingError(ValueError):
    """The backends of the settings name contract services that do not exist."""


@dataclass(frozen=True, slots=True)
class Routing:
    """Which backend serves each routed contract service, and which services have none."""

    backend_of: Mapping[str, str]
    unrouted: tuple[str, ...]


def import_contracts(package: str = CONTRACT_PACKAGE) -> tuple[ModuleType, ...]:
    """Every generated ``*_pb2`` module under ``package``, imported (sorted by name)."""
    spec = importlib.util.find_spec(package)
    locations = [] if spec is None else list(spec.submodule_search_locations or ())
    if not locations:
        raise RoutingError(f"no generated contracts: {package!r} is not importable")
    names = {
        ".".join((package, *path.relative_to(root).with_suffix("").parts))
        for root in map(Path, locations)
        for path in root.rglob("*_pb2.py")
    }
    return tuple(importlib.import_module(name) for name in sorted(names))


def contract_services(modules: Iterable[ModuleType]) -> frozenset[str]:
    """The full names of the services the modules declare."""
    return frozenset(
        service.full_name
        for module in modules
        for service in module.DESCRIPTOR.services_by_name.values()
    )


def routing(
    routed: Iterable[str],
    backends: Mapping[str, Collection[str]],
    *,
    known: Collection[str],
) -> Routing:
    """The backend of each service of ``routed`` (services with routes).

    ``backends`` gives each backend's services; ``known`` every contract service (a
    backend may serve one that has no routes, as long as it exists).
    """
    unknown = [
        f"backends.{name} serves {service}, which no contract declares"
        for name, services in sorted(backends.items())
        for service in services
        if service not in known
    ]
    if unknown:
        raise RoutingError("; ".join(unknown))
    served = {service: name for name, services in backends.items() for service in services}
    wanted = sorted(set(routed))
    return Routing(
        backend_of={service: served[service] for service in wanted if service in served},
        unrouted=tuple(service for service in wanted if service not in served),
    )
