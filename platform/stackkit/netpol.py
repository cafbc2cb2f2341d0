"""The services' NetworkPolicies, from the declared calls: what the prod component allows.

Every flow a service needs, and no other (the overlay denies everything by default and
allows DNS): the gateway calls every grpc service, a service calls what its manifest's
``calls`` name, a database owner reaches PostgreSQL, a service that verifies tokens reads
the keys the gateway serves. A grpc service is reachable only from its callers and the
gateway; the gateway from anywhere (the ingress controller); PostgreSQL from its owners.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from stackkit.manifest import ServiceManifest

__all__ = ["POSTGRES", "POSTGRES_PORT", "Flow", "flows", "networkpolicies"]

POSTGRES = "postgres"
POSTGRES_PORT = 5432


class Flow(NamedTuple):
    """A connection a service opens: to which workload, on which TCP port, and why."""

    source: str
    destination: str
    port: int
    why: str


def flows(manifests: Sequence[ServiceManifest]) -> list[Flow]:
    """Every flow between the services and PostgreSQL, by source as the manifests list them."""
    by_name = {m.name: m for m in manifests}
    gateways = [m for m in manifests if m.kind == "gateway"]
    found: list[Flow] = []
    for m in manifests:
        targets: dict[str, tuple[int, str]] = {}
        if m.kind == "gateway":
            targets |= {
                b.name: (b.serve_port, "a backend of the gateway")
                for b in manifests
                if b.kind == "grpc"
            }
        for callee in m.calls:
            targets.setdefault(callee, (by_name[callee].serve_port, "declared in its calls"))
        if m.database:
            targets[POSTGRES] = (POSTGRES_PORT, "its database")
        if m.verifies_tokens:
            targets |= {
                g.name: (g.serve_port, "the JWKS it verifies tokens with") for g in gateways
            }
        found += [Flow(m.name, name, port, why) for name, (port, why) in targets.items()]
    return found


def networkpolicies(manifests: Sequence[ServiceManifest], generated: str) -> str:
    every = flows(manifests)
    summary = "".join(
        f"#   {f.source:<15} -> {f.destination}:{f.port} ({f.why})\n"
        for f in every
        if f.destination != POSTGRES
    )
    owners = sorted({f.source for f in every if f.destination == POSTGRES})
    summary += f"#   {', '.join(owners) or 'no service':<15} -> {POSTGRES}:{POSTGRES_PORT}\n"
    documents = [_policy(m, every) for m in manifests]
    documents.append(_postgres(every))
    return (
        f"# {generated}\n"
        "# Every service isolated both ways; allowed (default-deny and DNS: the overlay's):\n"
        + "".join(
            f"#   anyone          -> {m.name}:{m.serve_port} (the ingress controller)\n"
            for m in manifests
            if m.kind == "gateway"
        )
        + summary
        + "---\n".join(documents)
    )


def _selector(name: str, indent: int) -> str:
    pad = " " * indent
    return (
        f"{pad}- podSelector:\n{pad}    matchLabels:\n{pad}      app.kubernetes.io/name: {name}\n"
    )


def _ports(port: int, indent: int) -> str:
    pad = " " * indent
    return f"{pad}ports:\n{pad}  - port: {port}\n{pad}    protocol: TCP\n"


def _policy(manifest: ServiceManifest, every: list[Flow]) -> str:
    name = manifest.name
    text = f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {name}
  policyTypes: ["Ingress", "Egress"]
"""
    if manifest.kind == "gateway":
        text += (
            "  ingress:\n    # From anywhere: the ingress controller, services reading the JWKS.\n"
        )
        text += "    - " + _ports(manifest.serve_port, 6).lstrip()
    else:
        callers = sorted({f.source for f in every if f.destination == name})
        if callers:
            text += "  ingress:\n    - from:\n"
            text += "".join(_selector(caller, 8) for caller in callers)
            text += _ports(manifest.serve_port, 6)
    egress = [f for f in every if f.source == name]
    if egress:
        text += "  egress:\n"
        for flow in egress:
            text += f"    # {flow.why}\n    - to:\n"
            text += _selector(flow.destination, 8) + _ports(flow.port, 6)
    return text


def _postgres(every: list[Flow]) -> str:
    owners = sorted({f.source for f in every if f.destination == POSTGRES})
    text = f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {POSTGRES}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {POSTGRES}
  policyTypes: ["Ingress"]
"""
    if owners:
        text += (
            "  ingress:\n    # The database owners (their migrate init containers too: same pod).\n"
        )
        text += "    - from:\n" + "".join(_selector(owner, 8) for owner in owners)
        text += _ports(POSTGRES_PORT, 6)
    return text
