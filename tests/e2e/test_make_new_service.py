"""`make new-service NAME=orders` as a developer runs it, in a throw-away clone of this
repository (what is committed): the command alone gives a service that generates, lints,
passes its own tests, serves its resource through the gateway with the platform's sign-in
under `make up` (REST and gRPC), renders hardened and isolated in every overlay and has its
Tilt resource; removing it leaves `git status` clean.

The clone has a virtualenv of its own (from uv's cache) and borrows the other languages'
tools of this checkout (``.tools``, the npm tools); every file of the clone is dated back so
that `make` takes those tools as installed. Stack ports and files are moved aside as in
test_make_up.py. The time from `make new-service` to the first answer through the gateway
is printed (``-s`` shows it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from stackkit.manifest import ServiceManifest, load_manifests
from tests.deploy._netpol import Flow, flows, model
from tests.deploy._services import workload_problems
from tests.deploy._tilt_fake import evaluate
from tests.deploy.test_kustomize import OVERLAY_NAMES, assert_hardened, find, render
from tests.deploy.test_networkpolicies import assert_exactly, intended_flows
from tests.e2e._local_stack import local_stack_env
from tests.e2e.test_make_up import READY_LINE, kill_everything

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
NAME = "orders"
PASSWORD = "correct horse battery staple"
# What the clone borrows from this checkout: the other languages' pinned tools.
BORROWED = (".tools", "platform/tools/npm/node_modules", "gen/ts/node_modules")
# The new service's own tests, and the rules every service's migrations keep.
ITS_TESTS = (
    f"tests/unit/{NAME}",
    f"tests/integration/{NAME}",
    f"tests/e2e/{NAME}",
    "tests/integration/test_migrations.py",
)


@dataclass
class Clone:
    root: Path
    env: dict[str, str]

    def run(self, *command: str | Path, timeout: float = 600) -> str:
        done = subprocess.run(
            [str(part) for part in command],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{' '.join(map(str, command))}:\n{output[-4000:]}"
        return output

    def make(self, *arguments: str) -> str:
        return self.run("make", "--no-print-directory", *arguments)


def _environment() -> dict[str, str]:
    """A terminal's environment: no coverage, pytest or make state of this run leaks in."""
    leaked = ("COV_CORE_", "COVERAGE_", "PYTEST_", "MAKE", "MFLAGS", "VIRTUAL_ENV")
    return {name: value for name, value in os.environ.items() if not name.startswith(leaked)}


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Clone:
    """A clone of this repository at HEAD, installed."""
    missing = [name for name in BORROWED if not (REPO / name).is_dir()]
    if missing:
        pytest.skip(f"new-service tier: {', '.join(missing)} not installed (make install)")
    root = tmp_path_factory.mktemp("new-service") / "repo"
    subprocess.run(["git", "clone", "-q", str(REPO), str(root)], check=True, timeout=120)
    box = Clone(root=root, env=_environment())
    for name in BORROWED:
        (root / name).symlink_to(REPO / name)
    with (root / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.writelines(f"/{name}\n" for name in BORROWED)
    # Older than this checkout's install stamps: `make` takes the borrowed tools as installed.
    tracked = box.run("git", "ls-files", "-z").split("\0")
    for name in filter(None, tracked):
        os.utime(root / name, (946684800, 946684800), follow_symlinks=False)
    uv = Path(sys.executable).parent / "uv"
    box.run(uv, "venv", "-q", "--python", sys.executable, root / ".venv")
    shutil.copy2(uv, root / ".venv" / "bin" / "uv")  # venv.sh installs the lock with it
    box.make("install-python", f"PYTHON3={sys.executable}")
    # Never install into this checkout's tools through the links: they must be complete.
    pending = [line for line in box.make("-n", "installed").splitlines() if line != ":"]
    if pending:
        pytest.skip(f"new-service tier: this checkout's tools are not all installed: {pending}")
    return box


@dataclass
class Timing:
    started: float = 0.0
    answered: float = 0.0


@pytest.fixture(scope="module")
def timing() -> Timing:
    return Timing()


@pytest.fixture(scope="module")
def generated(clone: Clone, timing: Timing) -> list[ServiceManifest]:
    """`make new-service NAME=orders`, then `make generate`: the manifests after it."""
    timing.started = time.monotonic()
    made = clone.make("new-service", f"NAME={NAME}")
    clone.make("generate")
    assert f"{NAME}: " in made
    assert (clone.root / "services" / NAME / ".copier-answers.yml").is_file()
    return load_manifests(clone.root)


def test_it_serves_its_resource_through_the_gateway_under_make_up(
    clone: Clone, generated: list[ServiceManifest], timing: Timing, tmp_path: Path
) -> None:
    env = {**clone.env, **local_stack_env(tmp_path, clone.root)}
    base = f"http://127.0.0.1:{env['GATEWAY_HTTP__PORT']}"
    log = tmp_path / "make-up.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["make", "up"],
            cwd=clone.root,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(log, process)
        try:
            rest = _rest_session(base)
            timing.answered = time.monotonic()
            grpc = _grpc_session(clone, env, rest["token"])
        except AssertionError as failed:  # with what the services said
            raise AssertionError(f"{failed}\n{log.read_text(errors='replace')[-6000:]}") from None
        os.killpg(process.pid, signal.SIGINT)
        process.wait(60)
    finally:
        kill_everything(process)

    print(f"\nmake new-service -> {NAME} answering through the gateway: "
          f"{timing.answered - timing.started:.1f} s")  # fmt: skip
    orders = next(m for m in generated if m.name == NAME)
    assert f"{NAME}: ready   grpc 127.0.0.1:{env[orders.variable('grpc.port')]}" in log.read_text()
    assert rest["created"]["owner"] == rest["user_id"]
    assert rest["got"] == rest["created"]
    assert [item["id"] for item in rest["listed"][NAME]] == [rest["created"]["id"]]
    assert rest["updated"]["title"] == "Card"
    assert rest["statuses"] == {
        "anonymous list": 401,
        "someone else's get": 404,
        "stale update": 409,
        "unknown mask path": 400,
        "delete": 200,
        "get after delete": 404,
    }
    assert grpc == {"listed": [rest["updated"]["id"]], "title": "Card", "missing": "NOT_FOUND"}


def _wait_ready(log: Path, process: subprocess.Popen[bytes], within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        output = log.read_text(errors="replace")
        assert process.poll() is None, f"make up exited:\n{output[-4000:]}"
        if READY_LINE in output:
            return
        time.sleep(0.3)
    pytest.fail(f"make up never said the stack was ready:\n{log.read_text()[-4000:]}")


def _rest_session(base: str) -> dict[str, Any]:
    """Register and sign in (user and auth services), then every operation of the new
    resource over REST, through the gateway."""
    with httpx.Client(base_url=base, timeout=10) as client:
        user_id, token = _signed_in(client)
        _, other = _signed_in(client)
        me = {"Authorization": f"Bearer {token}"}
        them = {"Authorization": f"Bearer {other}"}
        created = client.post(f"/v1/{NAME}", json={"title": "Paper"}, headers=me)
        assert created.status_code == 200, created.text
        item = created.json()
        path = f"/v1/{NAME}/{item['id']}"
        got = client.get(path, headers=me).json()
        listed = client.get(f"/v1/{NAME}", params={"pageSize": 10}, headers=me).json()
        change = {"title": "Card", "etag": item["etag"]}
        updated = client.patch(path, params={"updateMask": "title"}, json=change, headers=me)
        assert updated.status_code == 200, updated.text
        statuses = {
            "anonymous list": client.get(f"/v1/{NAME}").status_code,
            "someone else's get": client.get(path, headers=them).status_code,
            "stale update": client.patch(
                path, params={"updateMask": "title"}, json=change, headers=me
            ).status_code,
            "unknown mask path": client.patch(
                path, params={"updateMask": "owner"}, json={"owner": "x"}, headers=me
            ).status_code,
        }
        # Deleted over gRPC below; a second item is deleted here.
        second = client.post(f"/v1/{NAME}", json={"title": "Bin"}, headers=me).json()
        statuses["delete"] = client.delete(f"/v1/{NAME}/{second['id']}", headers=me).status_code
        statuses["get after delete"] = client.get(
            f"/v1/{NAME}/{second['id']}", headers=me
        ).status_code
    return {
        "user_id": user_id,
        "token": token,
        "created": item,
        "got": got,
        "listed": listed,
        "updated": updated.json(),
        "statuses": statuses,
    }


def _signed_in(client: httpx.Client) -> tuple[str, str]:
    email = f"dev-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "displayName": "Dev", "password": PASSWORD}
    user = client.post("/v1/users", json=body)
    assert user.status_code == 200, user.text
    login = client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return user.json()["id"], login.json()["accessToken"]


# Run by the clone's interpreter: the generated Python client of the new contract.
_GRPC_CLIENT = """
import json, sys
import grpc
from acme.orders.v1 import orders_service_pb2 as pb, orders_service_pb2_grpc
target, token = sys.argv[1], sys.argv[2]
metadata = (("authorization", f"Bearer {token}"),)
with grpc.insecure_channel(target) as channel:
    stub = orders_service_pb2_grpc.OrderServiceStub(channel)
    listed = stub.ListOrders(pb.ListOrdersRequest(), metadata=metadata, timeout=10)
    first = listed.orders[0]
    request = pb.DeleteOrderRequest(id=first.id, etag=first.etag)
    stub.DeleteOrder(request, metadata=metadata, timeout=10)
    try:
        stub.GetOrder(pb.GetOrderRequest(id=first.id), metadata=metadata, timeout=10)
        missing = "found"
    except grpc.RpcError as error:
        missing = error.code().name
ids = [item.id for item in listed.orders]
print(json.dumps({"listed": ids, "title": first.title, "missing": missing}))
"""


def _grpc_session(clone: Clone, env: dict[str, str], token: str) -> dict[str, Any]:
    """List and delete over gRPC with the generated client, as the signed-in user."""
    target = f"127.0.0.1:{env['ORDERS_GRPC__PORT']}"
    output = clone.run(clone.root / ".venv/bin/python", "-c", _GRPC_CLIENT, target, token)
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def test_the_contract_lint_and_the_generated_files_pass(
    clone: Clone, generated: list[ServiceManifest]
) -> None:
    clone.make("lint")
    checked = clone.make("check-generated")

    assert "generated files: ok" in checked
    assert "derived files: ok" in checked


def test_its_code_passes_the_style_checks(clone: Clone, generated: list[ServiceManifest]) -> None:
    folders = [f"services/{NAME}", *ITS_TESTS[:3]]
    tools = clone.root / ".venv" / "bin"

    clone.run(tools / "ruff", "check", *folders)
    clone.run(tools / "ruff", "format", "--check", *folders)
    clone.run(tools / "mypy", *folders)
    clone.run(tools / "lint-imports")
    clone.run(tools / "bandit", "-q", "-r", f"services/{NAME}")


def test_its_own_tests_pass(clone: Clone, generated: list[ServiceManifest]) -> None:
    output = clone.run(clone.root / ".venv/bin/pytest", "-q", "-p", "no:cacheprovider", *ITS_TESTS)

    assert " passed" in output
    assert " failed" not in output


def test_it_renders_hardened_and_isolated_in_every_overlay(
    clone: Clone, generated: list[ServiceManifest]
) -> None:
    for overlay in OVERLAY_NAMES:
        docs = render(overlay, clone.root)
        assert workload_problems(docs, generated) == [], overlay
        assert_hardened(find(docs, "Deployment", NAME), f"{overlay}: {NAME}")
        if overlay.startswith("prod"):
            observability = overlay.endswith("observability")
            expected = intended_flows(generated, observability=observability)
            assert_exactly(flows(model(list(render(overlay, clone.root)))), expected)
            orders = next(m for m in generated if m.name == NAME)
            assert {
                Flow("gateway", NAME, orders.serve_port),
                Flow(NAME, "postgres", 5432),
                Flow(NAME, "gateway", 8080),  # the JWKS its tokens are verified with
            } <= expected


def test_tilt_builds_and_deploys_it(clone: Clone, generated: list[ServiceManifest]) -> None:
    record = evaluate(clone.root / "Tiltfile")

    orders = next(m for m in generated if m.name == NAME)
    assert record.images[f"acme/{NAME}"].options["build_args"] == {"SERVICE": NAME}
    forwards = record.k8s_resources[NAME].options["port_forwards"]
    assert f"{orders.serve_port}:{orders.serve_port}" in forwards


def test_removing_it_leaves_the_clone_clean(clone: Clone, generated: list[ServiceManifest]) -> None:
    clone.run("git", "checkout", "--", ".")
    clone.run("git", "clean", "-fdq")

    assert clone.run("git", "status", "--porcelain") == ""
    assert not (clone.root / "services" / NAME).exists()
    assert "derived files: ok" in clone.run(
        clone.root / ".venv/bin/python", "-m", "stackkit", "check"
    )
