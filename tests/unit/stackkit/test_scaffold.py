"""`make new-service`'s choices before copier runs (ports, names), and what the template
renders for names other than the slow test's ``orders`` (tests/e2e/test_make_new_service.py
runs the whole command in a clone)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stackkit.manifest import ServiceManifest, load_manifests
from stackkit.scaffold import TEMPLATE, ScaffoldError, new_service, next_ports, update_service

ROOT = Path(__file__).resolve().parents[3]
COPIER = (sys.executable, "-m", "copier", "copy", "--quiet", "--defaults")


def manifest(name: str, kind: str, serve: int, metrics: int) -> ServiceManifest:
    return ServiceManifest(
        name=name,
        kind=kind,  # type: ignore[arg-type]  # one of the two kinds, as a test writes it
        implements=(f"acme.{name}.v1.Service",) if kind == "grpc" else (),
        serve_port=serve,
        metrics_port=metrics,
        database=kind == "grpc",
        calls=(),
    )


def test_the_ports_are_the_next_after_the_grpc_services_and_every_metrics_port() -> None:
    manifests = [
        manifest("user", "grpc", 50051, 9464),
        manifest("auth", "grpc", 50052, 9465),
        manifest("gateway", "gateway", 8080, 9466),
    ]

    assert next_ports(manifests) == (50053, 9467)


def test_a_port_some_manifest_uses_already_is_skipped() -> None:
    manifests = [
        manifest("user", "grpc", 50051, 9464),
        manifest("gateway", "gateway", 50052, 9465),  # a gateway on what would be next
    ]

    assert next_ports(manifests) == (50053, 9466)


def test_the_repositorys_next_ports_are_free_in_it() -> None:
    manifests = load_manifests(ROOT)
    taken = {port for m in manifests for port in (m.serve_port, m.metrics_port)}

    serve, metrics = next_ports(manifests)

    assert {serve, metrics}.isdisjoint(taken)
    assert serve != metrics


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Orders", "lowercase letters and digits"),
        ("2fa", "lowercase letters and digits"),
        ("order-items", "lowercase letters and digits"),
        ("import", "a Python keyword"),
        ("postgres", "a platform workload's name"),
        ("user", "services/user exists already"),
    ],
)
def test_a_name_that_cannot_be_a_service_is_refused_before_anything_is_written(
    name: str, problem: str
) -> None:
    with pytest.raises(ScaffoldError) as refused:
        new_service(ROOT, name)

    assert any(problem in line for line in refused.value.problems), refused.value.problems


def test_only_a_service_made_from_the_template_can_take_its_updates() -> None:
    with pytest.raises(ScaffoldError) as refused:
        update_service(ROOT, "user")

    assert refused.value.problems == [
        "services/user/.copier-answers.yml: missing; was user made by new-service?"
    ]


@pytest.mark.parametrize(
    ("name", "resource", "expected"),
    [
        ("categories", None, ("Category", "ListCategories", "category")),
        ("addresses", None, ("Address", "ListAddresses", "address")),
        ("inventory", None, ("Inventory", "ListInventory", "inventory")),
        ("people", "Person", ("Person", "ListPeople", "person")),
        ("userprofiles", "UserProfile", ("UserProfile", "ListUserProfiles", "user_profile")),
    ],
)
def test_the_template_renders_other_names_into_valid_code(
    tmp_path: Path, name: str, resource: str | None, expected: tuple[str, str, str]
) -> None:
    data = ["--data", f"name={name}", "--data", "grpc_port=50099", "--data", "metrics_port=9499"]
    if resource:
        data += ["--data", f"resource={resource}"]
    answers = f"services/{name}/.copier-answers.yml"
    subprocess.run(
        [*COPIER, "--answers-file", answers, *data, str(ROOT / TEMPLATE), str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    singular, list_rpc, snake = expected

    recorded = yaml.safe_load((tmp_path / answers).read_text())
    service = (tmp_path / f"api/proto/acme/{name}/v1/{name}_service.proto").read_text()
    assert recorded["resource"] == singular
    assert f"rpc {list_rpc}(" in service
    assert f"rpc Get{singular}(" in service
    assert f'post: "/v1/{name}"' in service
    assert f"def get_{snake}(" in (tmp_path / f"services/{name}/service.py").read_text()
    for source in tmp_path.rglob("*.py"):
        compile(source.read_text(), str(source), "exec")  # no Jinja left, valid Python
    manifest_text = (tmp_path / f"services/{name}/service.yaml").read_text()
    assert yaml.safe_load(manifest_text)["ports"] == {"serve": 50099, "metrics": 9499}
