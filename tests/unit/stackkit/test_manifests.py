"""The service manifests: read, checked (every problem at once, by file and key), and what
they derive for the local stack: Procfiles, the gateway's backends, the catalogue the
Tiltfile reads, the import contracts. A third service is one more manifest, no other line."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from stackkit.derived import derive, stale, write
from stackkit.local import start_order
from stackkit.manifest import ManifestError, load_manifests

ROOT = Path(__file__).resolve().parents[3]

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


def test_the_platform_services_start_callees_first_and_the_gateway_last() -> None:
    names = [m.name for m in start_order(load_manifests(ROOT))]

    assert [name for name in names if name in FIRST_SERVICES] == ["user", "auth", "gateway"]
    assert names[-1] == "gateway"


def test_every_derived_file_of_the_repository_is_up_to_date() -> None:
    assert stale(ROOT) == []


def test_a_new_service_is_one_manifest_and_everything_lists_it(repo: Path) -> None:
    add(repo, "notes", NOTES)

    files = derive(repo)

    procfile = files["Procfile"]
    assert "notes: exec python -m services.notes serve\n" in procfile
    assert (
        "services.user services.auth services.notes services.gateway" in procfile.splitlines()[-1]
    )
    assert procfile.index("user:") < procfile.index("notes:") < procfile.index("gateway:")
    assert '"python -m services.notes serve" services/notes' in files["Procfile.dev"]
    backends = files["services/gateway/backends.toml"]
    assert '[backends.notes]\ntarget = "127.0.0.1:50053"\n' in backends
    assert 'services = ["acme.notes.v1.NotesService"]' in backends
    catalogue = yaml.safe_load(files["platform/deploy/services.yaml"])["services"]
    assert [s["name"] for s in catalogue] == ["user", "auth", "notes", "gateway"]
    assert "    services.notes\n" in files[".importlinter"]


def test_the_stack_is_awaited_by_one_probe_of_every_service_at_once(repo: Path) -> None:
    add(repo, "notes", NOTES)

    files = derive(repo)

    for procfile in ("Procfile", "Procfile.dev"):
        ready = [line for line in files[procfile].splitlines() if line.startswith("ready:")]
        assert ready == [
            "ready: python -m servicekit.probe --wait 60 services.user services.auth "
            'services.notes services.gateway && echo "the stack is ready; Ctrl-C stops it" '
            "&& trap 'exit 0' INT TERM && while sleep 1; do :; done 2>/dev/null"
        ]


def test_make_dev_regenerates_the_stack_when_a_contract_changes(repo: Path) -> None:
    dev = derive(repo)["Procfile.dev"].splitlines()

    assert (
        "contracts: exec python -m stackkit.regenerate api/proto "
        "-- make --no-print-directory stack-generated"
    ) in dev


def test_write_rewrites_only_what_changed(repo: Path) -> None:
    first = write(repo)
    before = {name: (repo / name).stat().st_mtime_ns for name in first}

    again = write(repo)
    add(repo, "notes", NOTES)
    third = write(repo)

    assert "Procfile" in first
    assert again == []
    assert "Procfile" in third
    assert stale(repo) == []
    assert before  # every derived file was written the first time


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (NOTES.replace("name: notes", "name: memo"), "name: 'memo' must be the folder's name"),
        (NOTES.replace("kind: grpc", "kind: rest"), "kind: 'rest' must be one of grpc, gateway"),
        (NOTES.replace("calls: [user]", "calls: [billing]"), "calls: 'billing' is no service"),
        (NOTES.replace("acme.notes.v1.NotesService", "NotesService"), "is not a full contract"),
        (NOTES.replace("database: true", "database: yes please"), "database: 'yes please'"),
        (NOTES + "replicas: 3\n", "replicas: unknown key"),
        (NOTES.replace("ports: {serve: 50053, metrics: 9467}", "ports: {serve: 50053}"), "ports:"),
    ],
)
def test_a_wrong_manifest_is_named_by_file_and_key(repo: Path, text: str, problem: str) -> None:
    add(repo, "notes", text)

    with pytest.raises(ManifestError) as raised:
        load_manifests(repo)

    assert any(
        line.startswith("services/notes/service.yaml: ") and problem in line
        for line in raised.value.problems
    ), raised.value.problems


def test_a_port_taken_twice_names_both_services(repo: Path) -> None:
    add(repo, "notes", NOTES.replace("50053", "50051"))

    with pytest.raises(ManifestError) as raised:
        load_manifests(repo)

    [line] = raised.value.problems
    assert "ports: 50051 is also" in line
    assert "notes" in line
    assert "user" in line


def test_every_problem_is_reported_at_once(repo: Path) -> None:
    add(repo, "notes", NOTES.replace("kind: grpc", "kind: rest").replace("true", "maybe"))

    with pytest.raises(ManifestError) as raised:
        load_manifests(repo)

    assert len(raised.value.problems) == 2
