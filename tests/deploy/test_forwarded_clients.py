"""In the cluster the gateway calls the services in plaintext from an address of the pod
network: each gRPC service believes the client address it forwards from there (and only
from there), so that per-client rules (the sign-in throttle, keyed on account and client)
count each end client, not the gateway's pod. The network is the kind cluster's."""

from __future__ import annotations

import ipaddress

import pytest
import yaml

from servicekit.grpc.forwarding import ForwardingSettings
from tests.deploy._services import ROOT, gateways, grpc
from tests.deploy.test_kustomize import render

KIND_CLUSTER = ROOT / "platform" / "deploy" / "kind" / "cluster.yaml"


CTLPTL = ROOT / "platform" / "deploy" / "kind" / "ctlptl.yaml"


def pod_network() -> str:
    cluster = yaml.safe_load(KIND_CLUSTER.read_text(encoding="utf-8"))
    return str(cluster["networking"]["podSubnet"])


def test_both_ways_to_make_the_cluster_give_it_that_pod_network() -> None:
    """`make cluster` (cluster.yaml) and ctlptl (ctlptl.yaml) make the same cluster."""
    clusters = [
        doc["kindV1Alpha4Cluster"]
        for doc in yaml.safe_load_all(CTLPTL.read_text(encoding="utf-8"))
        if doc.get("kind") == "Cluster"
    ]
    assert [c["networking"]["podSubnet"] for c in clusters] == [pod_network()]


def config_maps(overlay: str) -> dict[str, dict[str, str]]:
    return {
        doc["metadata"]["name"]: doc.get("data", {})
        for doc in render(overlay)
        if doc["kind"] == "ConfigMap"
    }


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_each_grpc_service_believes_forwarded_addresses_from_the_pod_network_only(
    overlay: str,
) -> None:
    maps = config_maps(overlay)
    network = pod_network()

    for service in grpc():
        variable = service.variable("grpc.forwarding.trusted_networks")
        value = maps[f"{service.name}-config"].get(variable)
        assert value == network, (service.name, value)
        settings = ForwardingSettings(trusted_networks=(value,))
        assert settings.trusted_networks == (network,)
    for gateway in gateways():
        assert not [key for key in maps[f"{gateway.name}-config"] if "FORWARDING" in key]


def test_the_pod_network_is_a_private_network() -> None:
    """Trusting it trusts the cluster's own pods, never an address from outside."""
    assert ipaddress.ip_network(pod_network()).is_private
