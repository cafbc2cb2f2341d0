"""The NetworkPolicies allow exactly the traffic the platform needs: prod and
prod-observability deny everything else, dev-observability stays as open as dev.

The intended graph comes from the service manifests (``intended_flows``): the gateway calls
every grpc service, a service what its ``calls`` name, a database owner PostgreSQL, a token
verifier the gateway's JWKS. The overlays are rendered with kubectl kustomize; ``_netpol``
evaluates the policies and the flows they allow are compared with that graph.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest
import yaml

from stackkit.manifest import ServiceManifest
from tests.deploy._netpol import (
    DNS_NAMESPACE,
    Cluster,
    Doc,
    Flow,
    allows,
    beyond_the_namespace,
    every_flow,
    flows,
    model,
    rules_for,
    selects,
)
from tests.deploy._services import MANIFESTS, SERVICES, by_name, gateways
from tests.deploy.test_kustomize import render

OBSERVABILITY_POLICIES = (
    Path(__file__).resolve().parents[2]
    / "platform/deploy/components/observability-policies/networkpolicies.yaml"
)
POSTGRES = ("postgres", 5432)

# --- what prod allows ----------------------------------------------------------------------


def intended_flows(manifests: Sequence[ServiceManifest], *, observability: bool) -> set[Flow]:
    """Every flow the services need, from their manifests, and nothing else."""
    services = by_name(manifests)
    intended: set[Flow] = set()
    for m in manifests:
        if m.kind == "gateway":
            intended |= {Flow(m.name, b.name, b.serve_port) for b in manifests if b.kind == "grpc"}
        intended |= {Flow(m.name, callee, services[callee].serve_port) for callee in m.calls}
        if m.database:
            intended.add(Flow(m.name, *POSTGRES))
        if m.verifies_tokens:
            # It verifies tokens with the JWKS the gateway serves.
            intended |= {Flow(m.name, g.name, g.serve_port) for g in gateways(manifests)}
    if observability:
        intended |= {Flow("prometheus", m.name, m.metrics_port) for m in manifests}
        intended |= {Flow(m.name, "otel-collector", 4317) for m in manifests}
        intended |= {
            Flow("otel-collector", "jaeger", 4317),
            Flow("grafana", "prometheus", 9090),
            Flow("grafana", "jaeger", 16686),
        }
    return intended


PROD_FLOWS = intended_flows(MANIFESTS, observability=False)
EXPECTED_FLOWS = {
    "prod": PROD_FLOWS,
    "prod-observability": intended_flows(MANIFESTS, observability=True),
}
# The flows of the platform's first three services, as their policies were written by hand.
FIRST_SERVICES = {"user", "auth", "gateway", "postgres"}
FIRST_FLOWS = {
    Flow("gateway", "user", 50051),
    Flow("gateway", "auth", 50052),
    Flow("auth", "user", 50051),
    Flow("user", "postgres", 5432),
    Flow("auth", "postgres", 5432),
    Flow("user", "gateway", 8080),
}
DNS_PEER = "namespaces kubernetes.io/metadata.name=kube-system pods k8s-app=kube-dns"
# Prometheus discovers pods through the API server, whose address the cluster decides.
API_SERVER = {("prometheus", "anywhere", "TCP/443"), ("prometheus", "anywhere", "TCP/6443")}
OVERLAYS = sorted(EXPECTED_FLOWS)


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def _cluster(overlay: str) -> Cluster:
    return model(_copy(render(overlay)))


def _copy(docs: Iterable[Doc]) -> list[Doc]:
    """Deep copies, so that a test may change them without touching the cached render."""
    return [copy.deepcopy(doc) for doc in docs]


def _workload_names(cluster: Cluster) -> set[str]:
    return {pod.name for pod in cluster.pods if pod.namespace != DNS_NAMESPACE}


def test_the_manifests_keep_the_first_services_flows() -> None:
    among_them = {
        flow
        for flow in PROD_FLOWS
        if flow.source in FIRST_SERVICES and flow.destination in FIRST_SERVICES
    }
    assert among_them == FIRST_FLOWS


def test_exactly_the_expected_flows_are_allowed(overlay: str) -> None:
    assert_exactly(flows(_cluster(overlay)), EXPECTED_FLOWS[overlay])


def assert_exactly(allowed: set[Flow], expected: set[Flow]) -> None:
    assert not allowed - expected, f"allowed but not expected: {sorted(allowed - expected)}"
    assert not expected - allowed, f"expected but denied: {sorted(expected - allowed)}"


def test_every_workload_is_isolated_both_ways(overlay: str) -> None:
    cluster = _cluster(overlay)
    for pod in cluster.pods:
        if pod.namespace != DNS_NAMESPACE:
            for direction in ("Ingress", "Egress"):
                assert rules_for(direction, pod, cluster) is not None, f"{pod.name}: {direction}"


def test_every_workload_may_resolve_names(overlay: str) -> None:
    cluster = _cluster(overlay)
    dns = next(pod for pod in cluster.pods if pod.name == "kube-dns")
    assert _workload_names(cluster) >= {*SERVICES, "postgres"}
    for pod in cluster.pods:
        if pod.namespace != DNS_NAMESPACE:
            for protocol in ("UDP", "TCP"):
                assert allows("Egress", pod, dns, (53, protocol), cluster), pod.name
            assert not allows("Egress", pod, dns, (5353, "UDP"), cluster), pod.name


def test_nothing_else_leaves_the_namespace(overlay: str) -> None:
    cluster = _cluster(overlay)
    dns = {
        (name, DNS_PEER, port) for name in _workload_names(cluster) for port in ("UDP/53", "TCP/53")
    }
    expected = dns | (API_SERVER if "prometheus" in _workload_names(cluster) else set())
    assert beyond_the_namespace("Egress", cluster) == expected


def test_only_the_gateway_is_reachable_from_outside(overlay: str) -> None:
    cluster = _cluster(overlay)
    outside = {(g.name, "anywhere", f"TCP/{g.serve_port}") for g in gateways(MANIFESTS)}
    assert beyond_the_namespace("Ingress", cluster) == outside


# --- the evaluator fails when the policies change -------------------------------------------


def _policy(docs: list[Doc], name: str) -> Doc:
    (policy,) = (d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == name)
    return policy


def test_a_removed_rule_removes_its_flow() -> None:
    docs = _copy(render("prod"))
    egress = _policy(docs, "auth")["spec"]["egress"]
    egress[:] = [rule for rule in egress if rule["ports"][0]["port"] != 50051]
    assert flows(model(docs)) == PROD_FLOWS - {Flow("auth", "user", 50051)}


def test_a_flow_needs_both_egress_and_ingress() -> None:
    docs = _copy(render("prod"))
    postgres = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgres"}}}
    gateway = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}
    port = [{"port": 5432, "protocol": "TCP"}]
    _policy(docs, "gateway")["spec"]["egress"].append({"to": [postgres], "ports": port})
    assert flows(model(docs)) == PROD_FLOWS  # postgres' ingress still refuses the gateway
    _policy(docs, "postgres")["spec"]["ingress"].append({"from": [gateway], "ports": port})
    assert flows(model(docs)) == PROD_FLOWS | {Flow("gateway", "postgres", 5432)}


def test_a_rule_without_ports_allows_every_port() -> None:
    docs = _copy(render("prod"))
    gateway = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}
    _policy(docs, "auth")["spec"]["ingress"].append({"from": [gateway]})
    # auth declares its metrics port; the gateway's egress still only names 50052.
    assert flows(model(docs)) == PROD_FLOWS
    _policy(docs, "gateway")["spec"]["egress"].append({"to": []})
    extra = flows(model(docs)) - PROD_FLOWS
    # Now any port of auth (its metrics port too), and the gateway's own, which admits anyone.
    assert {Flow("gateway", "auth", 9465), Flow("gateway", "gateway", 8080)} <= extra
    assert {flow.source for flow in extra} == {"gateway"}
    assert {flow.destination for flow in extra} == {"auth", "gateway"}


def test_without_any_egress_policy_selecting_it_postgres_egress_is_open() -> None:
    docs = [d for d in _copy(render("prod")) if d["metadata"]["name"] != "default-deny"]
    # The DNS policy selects every pod for Egress: that alone keeps postgres isolated.
    assert flows(model(docs)) == PROD_FLOWS
    docs = [d for d in docs if d["metadata"]["name"] != "dns-egress"]
    cluster = model(docs)
    # postgres has no egress policy of its own: it reaches whatever admits anyone.
    assert flows(cluster) == PROD_FLOWS | {Flow("postgres", "gateway", 8080)}
    assert ("postgres", "anywhere", "all") in beyond_the_namespace("Egress", cluster)


def test_named_ports_resolve_on_the_destination() -> None:
    docs = _copy(render("prod-observability"))
    rule = _policy(docs, "metrics-from-prometheus")["spec"]["ingress"][0]
    rule["ports"] = [{"port": "grpc", "protocol": "TCP"}]
    allowed = flows(model(docs))
    assert not {Flow("prometheus", m.name, m.metrics_port) for m in MANIFESTS} & allowed
    # Prometheus' egress still names `metrics`: allowing `grpc` on ingress opens nothing.
    assert not any(flow.source == "prometheus" and flow.destination in SERVICES for flow in allowed)


@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        ({}, True),
        ({"matchLabels": {"app": "user"}}, True),
        ({"matchLabels": {"app": "auth"}}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["user"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["user"]}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, True),
    ],
)
def test_label_selectors(selector: Doc, selected: bool) -> None:
    assert selects(selector, {"app": "user"}) is selected


# --- dev stays open --------------------------------------------------------------------------


def test_dev_with_observability_is_as_open_as_dev() -> None:
    cluster = _cluster("dev-observability")
    assert {pod.name for pod in cluster.pods} >= {"prometheus", "grafana", "user", "postgres"}
    assert flows(cluster) == every_flow(cluster)
    everywhere = {(name, "anywhere", "all") for name in _workload_names(cluster)}
    for direction in ("Ingress", "Egress"):
        assert everywhere <= beyond_the_namespace(direction, cluster)


def test_the_observability_policies_would_cut_off_an_overlay_that_does_not_deny() -> None:
    # Why they are a component of their own, listed only by overlays that deny by default.
    docs = _copy(render("dev-observability"))
    for policy in yaml.safe_load_all(OBSERVABILITY_POLICIES.read_text()):
        policy["metadata"]["namespace"] = "acme-dev"
        docs.append(policy)
    allowed = flows(model(docs))
    assert Flow("gateway", "user", 50051) not in allowed
    assert Flow("user", "postgres", 5432) not in allowed
