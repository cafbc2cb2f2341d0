"""A small evaluator of Kubernetes NetworkPolicy semantics over rendered manifests.

It computes every allowed (source workload, destination workload, port) flow:
- a pod selected by any policy of a type (Ingress, Egress) is isolated for that direction,
  and then only what some rule of those policies allows gets through; a pod no policy of a
  type selects is open in that direction;
- a flow needs the source's egress AND the destination's ingress to allow it;
- peers: podSelector (this namespace), namespaceSelector (every pod of the matching
  namespaces), both (the matching pods of the matching namespaces), ipBlock (outside the
  cluster's pods); selectors with matchLabels and matchExpressions;
- ports by number (with endPort), or by name, resolved against the destination's container
  ports; no ports means every port; protocol TCP unless given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from tests.deploy.test_kustomize import pod_spec, workloads

Doc = dict[str, Any]
Labels = Mapping[str, str]

DNS_NAMESPACE = "kube-system"
DNS_LABELS = {"k8s-app": "kube-dns"}


class Flow(NamedTuple):
    source: str
    destination: str
    port: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: Labels
    # Container port name -> (number, protocol), every container of the pod.
    named_ports: Mapping[str, tuple[int, str]]
    ports: frozenset[tuple[int, str]]


@dataclass(frozen=True)
class Cluster:
    pods: tuple[Pod, ...]
    policies: tuple[Doc, ...]
    namespace_labels: Mapping[str, Labels]


# --- the model -----------------------------------------------------------------------------


def _pod(workload: Doc, namespace: str) -> Pod:
    spec = pod_spec(workload)
    named: dict[str, tuple[int, str]] = {}
    ports: set[tuple[int, str]] = set()
    for container in spec.get("initContainers", []) + spec["containers"]:
        for port in container.get("ports", []):
            value = (int(port["containerPort"]), port.get("protocol", "TCP"))
            ports.add(value)
            if "name" in port:
                named[port["name"]] = value
    labels = workload["spec"]["template"]["metadata"].get("labels", {})
    return Pod(workload["metadata"]["name"], namespace, labels, named, frozenset(ports))


def model(docs: Iterable[Doc]) -> Cluster:
    docs = tuple(docs)
    namespaces = [d for d in docs if d["kind"] == "Namespace"]
    assert len(namespaces) == 1, "one namespace per overlay"
    home = namespaces[0]["metadata"]["name"]
    namespace_labels: dict[str, Labels] = {
        home: {**namespaces[0]["metadata"].get("labels", {}), "kubernetes.io/metadata.name": home},
        DNS_NAMESPACE: {"kubernetes.io/metadata.name": DNS_NAMESPACE},
    }
    pods = tuple(_pod(w, w["metadata"].get("namespace", home)) for w in workloads(tuple(docs)))
    assert all(pod.namespace == home for pod in pods)
    # Stands for the cluster's DNS: a destination outside the namespace, never a source.
    dns = Pod("kube-dns", DNS_NAMESPACE, DNS_LABELS, {}, frozenset({(53, "UDP"), (53, "TCP")}))
    policies = tuple(d for d in docs if d["kind"] == "NetworkPolicy")
    for policy in policies:
        policy["metadata"].setdefault("namespace", home)
    return Cluster((*pods, dns), policies, namespace_labels)


# --- NetworkPolicy semantics ---------------------------------------------------------------

_OPERATORS: dict[str, Callable[[Labels, str, list[str]], bool]] = {
    "In": lambda labels, key, values: key in labels and labels[key] in values,
    "NotIn": lambda labels, key, values: key not in labels or labels[key] not in values,
    "Exists": lambda labels, key, _: key in labels,
    "DoesNotExist": lambda labels, key, _: key not in labels,
}


def selects(selector: Doc, labels: Labels) -> bool:
    """A label selector; the empty selector selects everything."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    return all(
        _OPERATORS[e["operator"]](labels, e["key"], e.get("values", []))
        for e in selector.get("matchExpressions", [])
    )


def policy_types(policy: Doc) -> list[str]:
    spec = policy["spec"]
    if "policyTypes" in spec:
        types: list[str] = spec["policyTypes"]
        return types
    return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]


def peer_matches(peer: Doc, policy_namespace: str, pod: Pod, cluster: Cluster) -> bool:
    if "ipBlock" in peer:
        return False  # meant for addresses outside the cluster's pods
    if "namespaceSelector" in peer:
        labels = cluster.namespace_labels.get(pod.namespace, {})
        if not selects(peer["namespaceSelector"], labels):
            return False
    elif pod.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector", {}), pod.labels)


def port_matches(rule_ports: list[Doc], destination: Pod, port: int, protocol: str) -> bool:
    if not rule_ports:
        return True
    for rule_port in rule_ports:
        if rule_port.get("protocol", "TCP") != protocol:
            continue
        wanted: int | str | None = rule_port.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            if destination.named_ports.get(wanted) == (port, protocol):
                return True
            continue
        end: int = rule_port.get("endPort", wanted)
        if wanted <= port <= end:
            return True
    return False


def rules_for(direction: str, pod: Pod, cluster: Cluster) -> list[tuple[str, Doc]] | None:
    """The rules that apply to `pod` in `direction` with their policy's namespace; None when
    no policy of that type selects the pod (it is not isolated: everything is allowed)."""
    selecting = [
        policy
        for policy in cluster.policies
        if policy["metadata"]["namespace"] == pod.namespace
        and direction in policy_types(policy)
        and selects(policy["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return None
    key = "egress" if direction == "Egress" else "ingress"
    return [
        (policy["metadata"]["namespace"], rule)
        for policy in selecting
        for rule in policy["spec"].get(key) or []
    ]


def allows(
    direction: str, subject: Pod, other: Pod, port: tuple[int, str], cluster: Cluster
) -> bool:
    """Whether `subject`'s policies let it talk to (egress) or hear from (ingress) `other`."""
    if subject.namespace == DNS_NAMESPACE:
        return True  # not this repository's to restrict
    rules = rules_for(direction, subject, cluster)
    if rules is None:
        return True
    destination = other if direction == "Egress" else subject
    peers_key = "to" if direction == "Egress" else "from"
    for namespace, rule in rules:
        peers = rule.get(peers_key) or []
        if peers and not any(peer_matches(peer, namespace, other, cluster) for peer in peers):
            continue
        if port_matches(rule.get("ports") or [], destination, *port):
            return True
    return False


def candidate_ports(destination: Pod, cluster: Cluster) -> set[tuple[int, str]]:
    """The destination's container ports, and every port number a policy names."""
    ports = set(destination.ports)
    for policy in cluster.policies:
        for key in ("ingress", "egress"):
            for rule in policy["spec"].get(key) or []:
                for port in rule.get("ports") or []:
                    if isinstance(port.get("port"), int):
                        ports.add((port["port"], port.get("protocol", "TCP")))
    return ports


def every_flow(cluster: Cluster) -> set[Flow]:
    """Every (source, destination, port) between the overlay's workloads, allowed or not."""
    ours = [pod for pod in cluster.pods if pod.namespace != DNS_NAMESPACE]
    return {
        Flow(source.name, destination.name, number, protocol)
        for source in ours
        for destination in ours
        for number, protocol in candidate_ports(destination, cluster)
    }


def flows(cluster: Cluster) -> set[Flow]:
    """The flows between the overlay's workloads that the policies allow."""
    pods = {pod.name: pod for pod in cluster.pods if pod.namespace != DNS_NAMESPACE}
    return {
        flow
        for flow in every_flow(cluster)
        if allows(
            "Egress", pods[flow.source], pods[flow.destination], (flow.port, flow.protocol), cluster
        )
        and allows(
            "Ingress",
            pods[flow.destination],
            pods[flow.source],
            (flow.port, flow.protocol),
            cluster,
        )
    }


def _selector(selector: Doc) -> str:
    labels = [f"{k}={v}" for k, v in sorted(selector.get("matchLabels", {}).items())]
    expressions = [
        f"{e['key']} {e['operator']} {e.get('values', [])}"
        for e in selector.get("matchExpressions", [])
    ]
    return ",".join(labels + expressions) or "*"


def _ports(rule: Doc) -> Iterator[str]:
    ports = rule.get("ports") or []
    if not ports:
        yield "all"
    for port in ports:
        end = f"-{port['endPort']}" if "endPort" in port else ""
        yield f"{port.get('protocol', 'TCP')}/{port.get('port', 'all')}{end}"


def beyond_the_namespace(direction: str, cluster: Cluster) -> set[tuple[str, str, str]]:
    """(workload, peer, port) for every allowance that reaches outside the namespace."""
    found: set[tuple[str, str, str]] = set()
    peers_key = "to" if direction == "Egress" else "from"
    for pod in cluster.pods:
        if pod.namespace == DNS_NAMESPACE:
            continue
        rules = rules_for(direction, pod, cluster)
        if rules is None:
            found.add((pod.name, "anywhere", "all"))
            continue
        for _, rule in rules:
            peers: list[str] = []
            for peer in rule.get(peers_key) or []:
                if "ipBlock" in peer:
                    peers.append(f"ipBlock {peer['ipBlock']['cidr']}")
                elif "namespaceSelector" in peer:
                    pods = _selector(peer.get("podSelector", {}))
                    peers.append(f"namespaces {_selector(peer['namespaceSelector'])} pods {pods}")
            if not rule.get(peers_key):
                peers.append("anywhere")
            found.update((pod.name, peer, port) for peer in peers for port in _ports(rule))
    return found
