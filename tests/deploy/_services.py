"""The services as their manifests declare them (``services/*/service.yaml``), and what a
rendered overlay must hold for each: the deploy tests name no service of their own.

``workload_problems`` is the two-way check between the manifests and the rendered objects:
a declared service without its objects, and a service workload that no manifest declares.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from stackkit.k8s import IMAGE_PREFIX
from stackkit.manifest import ServiceManifest, load_manifests

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS: tuple[ServiceManifest, ...] = tuple(load_manifests(ROOT))
SERVICES: tuple[str, ...] = tuple(m.name for m in MANIFESTS)
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}

Doc = dict[str, Any]


def grpc(manifests: Iterable[ServiceManifest] = MANIFESTS) -> list[ServiceManifest]:
    return [m for m in manifests if m.kind == "grpc"]


def gateways(manifests: Iterable[ServiceManifest] = MANIFESTS) -> list[ServiceManifest]:
    return [m for m in manifests if m.kind == "gateway"]


def by_name(manifests: Iterable[ServiceManifest] = MANIFESTS) -> dict[str, ServiceManifest]:
    return {m.name: m for m in manifests}


def _is_service_workload(doc: Doc) -> bool:
    """A workload the platform builds for a service: labelled so, or running one of its images."""
    if doc["kind"] not in WORKLOAD_KINDS:
        return False
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template = spec["template"]
    if template["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "service":
        return True
    pod = template["spec"]
    containers = pod.get("initContainers", []) + pod.get("containers", [])
    return any(c.get("image", "").startswith(IMAGE_PREFIX) for c in containers)


def workload_problems(docs: Sequence[Doc], manifests: Sequence[ServiceManifest]) -> list[str]:
    """Every declared service's objects present once; every service workload declared."""
    problems = []
    for manifest in manifests:
        expected = [(kind, manifest.name) for kind in ("Deployment", "Service", "ServiceAccount")]
        expected.append(("ConfigMap", f"{manifest.name}-config"))
        for kind, name in expected:
            count = sum(d["kind"] == kind and d["metadata"]["name"] == name for d in docs)
            if count != 1:
                problems.append(f"service {manifest.name}: {count} {kind}/{name}, expected one")
    declared = {m.name for m in manifests}
    problems += [
        f"{doc['kind']}/{doc['metadata']['name']}: a service workload without a manifest "
        f"(services/{doc['metadata']['name']}/service.yaml)"
        for doc in docs
        if _is_service_workload(doc) and doc["metadata"]["name"] not in declared
    ]
    return problems
