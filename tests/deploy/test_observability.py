"""The optional observability component renders onto the overlays that enable it, valid and
hardened: dev-observability (what Tilt deploys by default) and prod-observability.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]  # no py.typed
import pytest
import yaml
from prometheus_client import CollectorRegistry

from services.auth.metrics import AuthMetrics
from services.user.metrics import UserMetrics
from tests.deploy._services import ROOT, SERVICES
from tests.deploy.test_kustomize import (
    KUBERNETES_VERSION,
    containers,
    find,
    pod_spec,
    render,
    workloads,
)

Doc = dict[str, Any]
COMPONENT = Path("platform") / "deploy" / "components" / "observability"
OBSERVABILITY = ("prometheus", "grafana", "otel-collector", "jaeger")
OTLP_ENDPOINT = "http://otel-collector:4317"
# Overlay -> its namespace.
OVERLAYS = {"dev-observability": "acme-dev", "prod-observability": "acme"}


@pytest.fixture(params=sorted(OVERLAYS))
def overlay(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def docs(overlay: str) -> tuple[Doc, ...]:
    return render(overlay)


def test_the_component_is_a_kustomize_component() -> None:
    kustomization = yaml.safe_load((ROOT / COMPONENT / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Component"
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1alpha1"


def test_the_overlays_enable_the_component(overlay: str) -> None:
    path = ROOT / "platform" / "deploy" / "overlays" / overlay / "kustomization.yaml"
    kustomization = yaml.safe_load(path.read_text())
    assert "../../components/observability" in kustomization["components"]
    assert kustomization["namespace"] == OVERLAYS[overlay]


def test_every_document_is_valid_for_kubernetes(docs: tuple[Doc, ...]) -> None:
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_observability_objects_exist(docs: tuple[Doc, ...], overlay: str) -> None:
    for name in OBSERVABILITY:
        find(docs, "Deployment", name)
        find(docs, "Service", name)
        assert find(docs, "ServiceAccount", name)["automountServiceAccountToken"] is False
    assert find(docs, "Service", "grafana")["spec"]["ports"][0]["port"] == 3000
    jaeger_ports = {p["port"] for p in find(docs, "Service", "jaeger")["spec"]["ports"]}
    assert jaeger_ports >= {16686, 4317}
    assert 4317 in {p["port"] for p in find(docs, "Service", "otel-collector")["spec"]["ports"]}
    for doc in docs:
        assert doc["metadata"].get("namespace", OVERLAYS[overlay]) == OVERLAYS[overlay]


def test_the_new_workloads_are_hardened(docs: tuple[Doc, ...]) -> None:
    found = [w for w in workloads(docs) if w["metadata"]["name"] in OBSERVABILITY]
    assert {w["metadata"]["name"] for w in found} == set(OBSERVABILITY)
    for workload in found:
        where = workload["metadata"]["name"]
        spec = pod_spec(workload)
        assert spec.get("automountServiceAccountToken") is False, where
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        writable = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for container, _ in containers(workload):
            image = container["image"]
            assert ":" in image, f"{where}: unpinned {image}"
            assert not image.endswith(":latest"), f"{where}: unpinned {image}"
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert isinstance(context["runAsUser"], int), where
            assert context["runAsUser"] > 0, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert context["seccompProfile"]["type"] == "RuntimeDefault", where
            assert {"cpu", "memory"} <= container["resources"]["limits"].keys(), where
            assert {"cpu", "memory"} <= container["resources"]["requests"].keys(), where
            assert "readinessProbe" in container, where
            assert "livenessProbe" in container, where
            mounts = {m["name"]: m for m in container["volumeMounts"]}
            assert mounts["tmp"]["mountPath"] == "/tmp", where  # noqa: S108 - an emptyDir
            assert "tmp" in writable, where


def _config_file(docs: tuple[Doc, ...], workload: str, volume: str, key: str) -> str:
    spec = pod_spec(find(docs, "Deployment", workload))
    source = next(v for v in spec["volumes"] if v["name"] == volume)
    text: str = find(docs, "ConfigMap", source["configMap"]["name"])["data"][key]
    return text


def test_prometheus_scrapes_pods_by_annotation(docs: tuple[Doc, ...]) -> None:
    config = yaml.safe_load(_config_file(docs, "prometheus", "config", "prometheus.yml"))
    jobs = config["scrape_configs"]
    assert any(sd["role"] == "pod" for job in jobs for sd in job["kubernetes_sd_configs"])
    relabels = [rule for job in jobs for rule in job["relabel_configs"]]
    scrape = [
        r
        for r in relabels
        if r["source_labels"] == ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
    ]
    assert scrape
    assert scrape[0]["action"] == "keep"
    assert scrape[0]["regex"] == "true"
    sources = {label for r in relabels for label in r["source_labels"]}
    assert "__meta_kubernetes_pod_annotation_prometheus_io_port" in sources
    assert "__meta_kubernetes_pod_annotation_prometheus_io_path" in sources
    for name in SERVICES:
        annotations = pod_spec_annotations(find(docs, "Deployment", name))
        assert annotations["prometheus.io/scrape"] == "true"
    role = find(docs, "Role", "prometheus")
    assert any("pods" in r["resources"] and "list" in r["verbs"] for r in role["rules"])
    binding = find(docs, "RoleBinding", "prometheus")
    assert binding["roleRef"]["name"] == "prometheus"
    assert binding["subjects"][0]["name"] == "prometheus"
    spec = pod_spec(find(docs, "Deployment", "prometheus"))
    assert spec["serviceAccountName"] == "prometheus"
    token = next(v for v in spec["volumes"] if v["name"] == "kube-api-access")
    assert any("serviceAccountToken" in s for s in token["projected"]["sources"])


def pod_spec_annotations(workload: Doc) -> dict[str, str]:
    annotations: dict[str, str] = workload["spec"]["template"]["metadata"]["annotations"]
    return annotations


def test_grafana_is_provisioned_with_prometheus_and_the_grpc_dashboard(
    docs: tuple[Doc, ...],
) -> None:
    sources = yaml.safe_load(_config_file(docs, "grafana", "datasources", "datasources.yaml"))[
        "datasources"
    ]
    prometheus = next(s for s in sources if s["type"] == "prometheus")
    assert prometheus["url"] == "http://prometheus:9090"
    dashboard = json.loads(_config_file(docs, "grafana", "dashboards", "grpc.json"))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    joined = "\n".join(exprs)
    assert "grpc_server_handled_total" in joined
    assert "grpc_server_handling_seconds_bucket" in joined
    assert "histogram_quantile(0.5," in joined
    assert "histogram_quantile(0.99," in joined
    assert 'grpc_code!="OK"' in joined
    assert "http_server_requests_total" in joined
    assert any("by (grpc_method, grpc_code)" in e for e in exprs)


def test_grafana_shows_every_domain_series_on_a_dashboard_beside_the_grpc_one(
    docs: tuple[Doc, ...],
) -> None:
    dashboard = json.loads(_config_file(docs, "grafana", "dashboards", "domain.json"))
    grpc_dashboard = json.loads(_config_file(docs, "grafana", "dashboards", "grpc.json"))
    exprs = "\n".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    # The series the services declare (their DomainCounters), from the code itself.
    registry = CollectorRegistry()
    AuthMetrics(registry)
    UserMetrics(registry)
    declared = {family.name for family in registry.collect()}
    assert declared >= {"acme_users_registered", "acme_logins", "acme_sessions_revoked"}
    for name in declared:
        assert f"{name}_total" in exprs, f"{name}: no panel of the domain dashboard shows it"
    assert "sum by (outcome)" in exprs
    assert "sum by (reason)" in exprs
    assert dashboard["uid"] != grpc_dashboard["uid"]
    assert "acme" in dashboard["tags"]
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


def test_the_collector_exports_to_jaeger(docs: tuple[Doc, ...]) -> None:
    config = yaml.safe_load(_config_file(docs, "otel-collector", "config", "config.yaml"))
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")
    pipeline = config["service"]["pipelines"]["traces"]
    exporters = [config["exporters"][name] for name in pipeline["exporters"]]
    assert any(e["endpoint"] == "jaeger:4317" for e in exporters)


def test_every_service_container_gets_the_otlp_endpoint(docs: tuple[Doc, ...]) -> None:
    for name in SERVICES:
        variable = f"{name.upper()}_TRACING__OTLP_ENDPOINT"
        checked = []
        for container, is_init in containers(find(docs, "Deployment", name)):
            if is_init and not container.get("envFrom"):
                continue  # dev's copy-source: copies files, runs no service code
            checked.append(container["name"])
            env: dict[str, str] = {}
            for source in container.get("envFrom", []):
                env.update(find(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
            for var in container.get("env", []):
                if "value" in var:
                    env[var["name"]] = var["value"]
            assert env.get(variable) == OTLP_ENDPOINT, f"{name}/{container['name']}"
        assert name in checked
