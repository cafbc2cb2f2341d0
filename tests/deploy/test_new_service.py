"""A third service is one manifest and nothing else in the deploy tree.

In a throw-away copy of the repository (the manifests, ``platform/deploy``, the Tiltfile), a
``notes`` manifest (grpc, a database, calls user) and `python -m stackkit derive` give a
service that renders in every overlay, valid and hardened, with its database, role and
Secret, exactly its own network flows, and a Tilt resource. The deploy tests' checks are
the ones the platform's own services pass; they fail when a manifest's workload was never
derived, and when a workload's manifest is gone.
"""

from __future__ import annotations

import base64
import copy
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate  # type: ignore[import-untyped]  # no py.typed
import pytest

from stackkit.derived import stale
from stackkit.manifest import ServiceManifest, load_manifests
from stackkit.scaffold import next_ports
from tests.deploy._netpol import DNS_NAMESPACE, Flow, flows, model, rules_for
from tests.deploy._services import MANIFESTS, ROOT, gateways, grpc, workload_problems
from tests.deploy._tilt_fake import evaluate
from tests.deploy.test_kustomize import (
    KUBERNETES_VERSION,
    OVERLAY_NAMES,
    Doc,
    assert_declared_environment,
    assert_dev_workload,
    assert_hardened,
    assert_prod_workload,
    assert_service_pod,
    find,
    pod_spec,
    render,
)
from tests.deploy.test_networkpolicies import EXPECTED_FLOWS, assert_exactly, intended_flows
from tests.deploy.test_tiltfile import (
    assert_dependency_chain,
    assert_every_service_resource,
    assert_resources_match_workloads,
)

# The ports a new service gets (`make new-service`): the next free ones after the manifests'.
NOTES_PORT, NOTES_METRICS_PORT = next_ports(MANIFESTS)
NOTES = f"""\
name: notes
kind: grpc
implements: [acme.notes.v1.NotesService]
ports: {{serve: {NOTES_PORT}, metrics: {NOTES_METRICS_PORT}}}
database: true
calls: [user]
"""
# What notes adds to the platform's flows: the gateway calls it, it calls user, it owns a
# database; with observability, Prometheus scrapes it and it sends spans to the collector.
NOTES_FLOWS = {
    Flow("gateway", "notes", NOTES_PORT),
    Flow("notes", "user", 50051),
    Flow("notes", "postgres", 5432),
}
NOTES_OBSERVABILITY_FLOWS = {
    Flow("prometheus", "notes", NOTES_METRICS_PORT),
    Flow("notes", "otel-collector", 4317),
}


def _copy(target: Path) -> Path:
    """What deriving and rendering read: the manifests, platform/deploy and the Tiltfile."""
    shutil.copytree(ROOT / "platform" / "deploy", target / "platform" / "deploy")
    for manifest in (ROOT / "services").glob("*/service.yaml"):
        folder = target / "services" / manifest.parent.name
        folder.mkdir(parents=True)
        shutil.copy(manifest, folder / "service.yaml")
    shutil.copy(ROOT / "Tiltfile", target / "Tiltfile")
    return target


def _add_notes(root: Path) -> None:
    (root / "services" / "notes").mkdir()
    (root / "services" / "notes" / "service.yaml").write_text(NOTES)


def _derive(root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stackkit", "derive", "--root", str(root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _render_now(overlay: str, root: Path) -> tuple[Doc, ...]:
    """Uncached: for a copy that changes between renders."""
    return render.__wrapped__(overlay, root)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = _copy(tmp_path_factory.mktemp("with-notes"))
    _add_notes(root)
    _derive(root)
    return root


@pytest.fixture(scope="module")
def manifests(repo: Path) -> list[ServiceManifest]:
    return load_manifests(repo)


@pytest.fixture(params=OVERLAY_NAMES)
def overlay(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_derive_leaves_nothing_stale(repo: Path) -> None:
    assert stale(repo) == []
    assert (repo / "platform/deploy/services/notes.yaml").is_file()


def test_it_runs_in_every_overlay_valid_and_hardened(
    repo: Path, manifests: list[ServiceManifest], overlay: str
) -> None:
    docs = render(overlay, repo)
    assert workload_problems(docs, manifests) == []
    # What notes changed (its objects, the gateway's settings, PostgreSQL's, the policies);
    # test_kustomize validates the rest.
    changed = [doc for doc in docs if doc not in render(overlay)]
    assert any(doc["metadata"]["name"] == "notes" for doc in changed)
    for doc in changed:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    notes = next(m for m in manifests if m.name == "notes")
    assert_hardened(find(docs, "Deployment", "notes"), f"{overlay}: notes")
    assert_service_pod(docs, notes)
    for manifest in manifests:  # notes' own settings, and the gateway's backend for it
        assert_declared_environment(docs, manifest, manifests)
    if overlay.startswith("dev"):
        assert_dev_workload(docs, "notes")
    else:
        assert_prod_workload(docs, "notes")
    if overlay.endswith("observability"):
        settings = find(docs, "ConfigMap", "notes-config")["data"]
        assert settings["NOTES_TRACING__OTLP_ENDPOINT"] == "http://otel-collector:4317"


def test_it_gets_its_database_role_and_secret(repo: Path) -> None:
    docs = render("dev", repo)
    script = find(docs, "ConfigMap", _named(docs, "ConfigMap", "postgres-init"))["data"]
    assert "\ncreate notes\n" in script["10-databases.sh"]
    passwords = find(docs, "Secret", _named(docs, "Secret", "postgres-secrets"))["data"]
    assert _decode(passwords["notes-password"]) == "dev-notes"
    secret = _named(docs, "Secret", "notes-secrets")
    url = _decode(find(docs, "Secret", secret)["data"]["database-url"])
    assert url == "postgresql+psycopg://notes_service:dev-notes@postgres:5432/notes"
    for container in pod_spec(find(docs, "Deployment", "notes"))["containers"]:
        refs = {v["name"]: v["valueFrom"]["secretKeyRef"] for v in container.get("env", [])}
        assert refs["NOTES_DATABASE__URL"] == {"name": secret, "key": "database-url"}
    prod = render("prod", repo)
    app = pod_spec(find(prod, "Deployment", "notes"))["containers"][0]
    assert {v["valueFrom"]["secretKeyRef"]["name"] for v in app["env"]} == {"notes-secrets"}


def _named(docs: tuple[Doc, ...], kind: str, prefix: str) -> str:
    """The name a generator gave (``<prefix>-<hash of 10>``)."""
    names: list[str] = [d["metadata"]["name"] for d in docs if d["kind"] == kind]
    (name,) = (n for n in names if n.startswith(f"{prefix}-") and len(n) == len(prefix) + 11)
    return name


def _decode(value: str) -> str:
    return base64.b64decode(value).decode()


@pytest.mark.parametrize("prod", sorted(EXPECTED_FLOWS))
def test_it_gets_exactly_its_network_flows(
    repo: Path, manifests: list[ServiceManifest], prod: str
) -> None:
    cluster = model(copy.deepcopy(list(render(prod, repo))))
    observability = prod.endswith("observability")
    expected = intended_flows(manifests, observability=observability)
    assert_exactly(flows(cluster), expected)
    added = NOTES_FLOWS | (NOTES_OBSERVABILITY_FLOWS if observability else set())
    assert expected - EXPECTED_FLOWS[prod] == added
    assert EXPECTED_FLOWS[prod] <= expected
    notes = next(pod for pod in cluster.pods if pod.name == "notes")
    assert notes.namespace != DNS_NAMESPACE
    for direction in ("Ingress", "Egress"):
        assert rules_for(direction, notes, cluster) is not None, direction


def test_tilt_builds_deploys_and_forwards_it(repo: Path, manifests: list[ServiceManifest]) -> None:
    record = evaluate(repo / "Tiltfile")
    assert record.images["acme/notes"].options["build_args"] == {"SERVICE": "notes"}
    assert_every_service_resource(record, {m.name: m.serve_port for m in manifests})
    backends = tuple(m.name for m in grpc(manifests))
    assert "notes" in backends
    assert_dependency_chain(record, backends, tuple(g.name for g in gateways(manifests)))
    names = tuple(m.name for m in manifests)
    for observability in (True, False):
        assert_resources_match_workloads(repo, names, observability=observability)


def test_a_manifest_whose_workload_was_never_derived_fails(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _add_notes(root)
    manifests = load_manifests(root)
    for overlay in ("dev", "prod"):
        problems = workload_problems(_render_now(overlay, root), manifests)
        assert "service notes: 0 Deployment/notes, expected one" in problems
    assert "platform/deploy/services/notes.yaml: missing (run `make generate`)" in stale(root)


def test_a_workload_whose_manifest_is_gone_fails_until_derived_again(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _add_notes(root)
    _derive(root)
    shutil.rmtree(root / "services" / "notes")
    manifests = load_manifests(root)
    problems = workload_problems(_render_now("prod", root), manifests)
    assert any(
        p.startswith("Deployment/notes: a service workload without a manifest") for p in problems
    )
    assert (
        "platform/deploy/services/notes.yaml: derived from no manifest (run `make generate`)"
        in stale(root)
    )
    _derive(root)
    assert not (root / "platform/deploy/services/notes.yaml").exists()
    assert workload_problems(_render_now("prod", root), manifests) == []
