"""What the manifests derive for the cluster: one workload per service from one template,
the overlays' components, PostgreSQL's databases and the NetworkPolicies from the declared
calls; a manifest's ``cluster`` key checked like the rest. A third service is one manifest.
(tests/deploy renders and checks all of it with kustomize.)"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackkit.derived import derive, stale, write
from stackkit.manifest import ManifestError, load_manifests
from stackkit.netpol import Flow, flows

ROOT = Path(__file__).resolve().parents[3]
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 - what a pod listens on, reached through its Service

NOTES = """\
name: notes
kind: grpc
implements: [acme.notes.v1.NotesService]
ports: {serve: 50053, metrics: 9467}
database: true
calls: [user]
"""


# The platform's first services: what the tests below add to and derive from, whichever
# services the repository holds besides them (`make new-service` adds some).
FIRST_SERVICES = ("user", "auth", "gateway")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The manifests of the platform's first services in a throw-away tree."""
    for name in FIRST_SERVICES:
        target = tmp_path / "services" / name / "service.yaml"
        target.parent.mkdir(parents=True)
        shutil.copy(ROOT / "services" / name / "service.yaml", target)
    return tmp_path


def add(repo: Path, name: str, text: str) -> None:
    folder = repo / "services" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "service.yaml").write_text(textwrap.dedent(text))


def _objects(text: str) -> dict[tuple[str, str], Any]:
    return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(text) if d}


def test_a_new_service_gets_a_workload_and_a_place_in_every_component(repo: Path) -> None:
    add(repo, "notes", NOTES)

    files = derive(repo)

    objects = _objects(files["platform/deploy/services/notes.yaml"])
    assert set(objects) == {
        ("ServiceAccount", "notes"),
        ("ConfigMap", "notes-config"),
        ("Deployment", "notes"),
        ("Service", "notes"),
    }
    assert objects["ConfigMap", "notes-config"]["data"] == {
        "NOTES_ENVIRONMENT": "production",
        "NOTES_GRPC__HOST": EVERY_ADDRESS,
        "NOTES_GRPC__PORT": "50053",
        "NOTES_METRICS__HOST": EVERY_ADDRESS,
        "NOTES_METRICS__PORT": "9467",
        "NOTES_USER_CLIENT__TARGET": "user:50051",
        "NOTES_GRPC__FORWARDING__TRUSTED_NETWORKS": "10.244.0.0/16",
        "NOTES_LOGGING__FORMAT": "json",
    }
    assert "  - notes.yaml\n" in files["platform/deploy/services/kustomization.yaml"]
    gateway = _objects(files["platform/deploy/services/gateway.yaml"])
    assert gateway["ConfigMap", "gateway-config"]["data"]["GATEWAY_BACKENDS__NOTES__TARGET"] == (
        "notes:50053"
    )
    dev = files["platform/deploy/components/services-dev/kustomization.yaml"]
    assert "      - notes-password=dev-notes\n" in dev
    assert "  - name: notes-secrets\n" in dev
    assert ("Deployment", "notes") in _objects(
        files["platform/deploy/components/services-dev/copy-source.yaml"]
    )
    prod = files["platform/deploy/components/services-prod/kustomization.yaml"]
    assert "  - name: notes\n    count: 2\n" in prod
    assert "  - name: acme/notes\n" in prod
    for kind, file in (("PodDisruptionBudget", "pdb"), ("HorizontalPodAutoscaler", "hpa")):
        path = f"platform/deploy/components/services-prod/{file}.yaml"
        assert (kind, "notes") in _objects(files[path])
    assert "\ncreate notes\n" in files["platform/deploy/postgres/init/10-databases.sh"]
    tracing = _objects(files["platform/deploy/components/observability/tracing-endpoint.yaml"])
    assert ("ConfigMap", "notes-config") in tracing


def test_the_flows_follow_the_declared_calls(repo: Path) -> None:
    add(repo, "notes", NOTES)

    allowed = {(f.source, f.destination, f.port) for f in flows(load_manifests(repo))}

    assert allowed == {
        ("gateway", "user", 50051),
        ("gateway", "auth", 50052),
        ("gateway", "notes", 50053),
        ("auth", "user", 50051),
        ("notes", "user", 50051),
        ("user", "postgres", 5432),
        ("auth", "postgres", 5432),
        ("notes", "postgres", 5432),
        ("user", "gateway", 8080),  # user verifies tokens with the gateway's JWKS
    }
    policies = _objects(
        derive(repo)["platform/deploy/components/services-prod/networkpolicies.yaml"]
    )
    notes = policies["NetworkPolicy", "notes"]["spec"]
    callers = [peer["podSelector"]["matchLabels"] for peer in notes["ingress"][0]["from"]]
    assert callers == [{"app.kubernetes.io/name": "gateway"}]
    assert Flow("notes", "user", 50051, "declared in its calls") in flows(load_manifests(repo))


def test_the_cluster_key_adds_resources_secrets_and_settings(repo: Path) -> None:
    add(
        repo,
        "notes",
        NOTES
        + """\
cluster:
  resources: {requests: {cpu: 200m}, limits: {memory: 2Gi}}
  secrets: {api-key: search.api_key}
  settings: {search.timeout_seconds: 2.5, search.enabled: true}
""",
    )

    files = derive(repo)

    objects = _objects(files["platform/deploy/services/notes.yaml"])
    app = objects["Deployment", "notes"]["spec"]["template"]["spec"]["containers"][0]
    assert app["resources"] == {
        "requests": {"cpu": "200m", "memory": "192Mi"},
        "limits": {"cpu": "1", "memory": "2Gi"},
    }
    env = {var["name"]: var["valueFrom"]["secretKeyRef"] for var in app["env"]}
    assert env["NOTES_SEARCH__API_KEY"] == {"name": "notes-secrets", "key": "api-key"}
    data = objects["ConfigMap", "notes-config"]["data"]
    assert data["NOTES_SEARCH__TIMEOUT_SECONDS"] == "2.5"
    assert data["NOTES_SEARCH__ENABLED"] == "true"
    dev = files["platform/deploy/components/services-dev/kustomization.yaml"]
    assert "      - api-key=dev-only-api-key-0123456789\n" in dev


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("cluster: {replicas: 3}\n", "cluster.replicas: unknown key"),
        ("cluster: {resources: {limits: {gpu: 1}}}\n", "cluster.resources.limits.gpu: unknown"),
        ("cluster: {resources: {limits: {memory: lots}}}\n", "'lots' is not a quantity"),
        ("cluster: {secrets: {API_KEY: search.key}}\n", "'API_KEY' is not a Secret key"),
        ("cluster: {secrets: {database-url: other.url}}\n", "database-url is the database's"),
        ("cluster: {secrets: {api-key: key}}\n", "'key' is not a setting (section.key)"),
        ("cluster: {settings: {search.hosts: [a, b]}}\n", "must be text, a number or a boolean"),
        ("verifies_tokens: maybe\n", "verifies_tokens: 'maybe' must be true or false"),
    ],
)
def test_a_wrong_cluster_key_is_named_by_file_and_key(repo: Path, extra: str, problem: str) -> None:
    add(repo, "notes", NOTES + extra)

    with pytest.raises(ManifestError) as raised:
        load_manifests(repo)

    assert any(
        line.startswith("services/notes/service.yaml: ") and problem in line
        for line in raised.value.problems
    ), raised.value.problems


def test_a_setting_the_platform_derives_cannot_be_set_again(repo: Path) -> None:
    add(repo, "notes", NOTES + "cluster: {settings: {grpc.port: 1}}\n")

    with pytest.raises(ManifestError) as raised:
        derive(repo)

    assert raised.value.problems == [
        "services/notes/service.yaml: cluster.settings: grpc.port is derived by the platform"
    ]


def test_a_platform_workload_name_is_no_service_name(repo: Path) -> None:
    add(repo, "postgres", NOTES.replace("notes", "postgres").replace("50053", "50054"))

    with pytest.raises(ManifestError) as raised:
        load_manifests(repo)

    assert any("a platform workload's name" in line for line in raised.value.problems)


def test_token_verifiers_need_a_gateway(repo: Path) -> None:
    shutil.rmtree(repo / "services" / "gateway")

    with pytest.raises(ManifestError) as raised:
        load_manifests(repo)

    assert raised.value.problems == [
        "services/user/service.yaml: verifies_tokens: no service of kind gateway serves the keys"
    ]


def test_a_removed_service_leaves_no_derived_file_behind(repo: Path) -> None:
    add(repo, "notes", NOTES)
    write(repo)
    shutil.rmtree(repo / "services" / "notes")

    problems = stale(repo)
    removed = write(repo)

    orphan = "platform/deploy/services/notes.yaml"
    assert f"{orphan}: derived from no manifest (run `make generate`)" in problems
    assert orphan in removed
    assert not (repo / orphan).exists()
    assert stale(repo) == []
