"""A new service from the platform's template, and later changes of that template brought in.

``new_service(root, "orders")`` (`make new-service NAME=orders [RESOURCE=Order]`) renders
``platform/templates/service`` with copier into the repository: the contract of one
resource (``api/proto/acme/orders/v1``), the service (``services/orders``, manifest
included), its unit, integration and e2e tests. Its ports are the next free ones after the
manifests' (``next_ports``); copier's answers are kept in
``services/orders/.copier-answers.yml``. ``update_service(root, "orders")``
(`make update-service NAME=orders`) brings the template's later changes into it with
``copier update``, merging them with the service's own.

Copier keeps one template per git repository, at its root, and records the commit it
rendered. The template lives in this repository instead, so ``template_repository`` makes
one of its own in ``.run/templates/service`` (git-ignored): ``git subtree split`` turns the
history of the template's folder into a history of its own, the same commits every time,
so the commit an old service recorded is found again by a later update. What is rendered
is the committed template (a change to it is committed first).
"""

from __future__ import annotations

import keyword
import shutil
import subprocess  # runs git, copier, buf and ruff with arguments built here  # nosec B404
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# The manifests' own rules for a name (a Python package, an env prefix, a DNS label).
from stackkit.manifest import _NAME, _RESERVED, ServiceManifest, load_manifests

__all__ = [
    "TEMPLATE",
    "TEMPLATE_REPOSITORY",
    "NewService",
    "ScaffoldError",
    "answers_file",
    "new_service",
    "next_ports",
    "template_repository",
    "update_service",
]

TEMPLATE = "platform/templates/service"
"""The template's folder (copier.yml, and what it renders under template/)."""
TEMPLATE_REPOSITORY = ".run/templates/service"
"""The git repository of the template alone, made from TEMPLATE's history for copier."""
# Where a new service's first gRPC and metrics ports are looked for, with no manifest yet.
_FIRST_PORTS = (50051, 9464)


class ScaffoldError(ValueError):
    """What stops a new service or an update, one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True, kw_only=True, slots=True)
class NewService:
    """What ``new_service`` made: the service, its ports, the files written."""

    name: str
    serve_port: int
    metrics_port: int
    files: tuple[str, ...]


def answers_file(name: str) -> str:
    """Where copier keeps a service's answers, relative to the repository root."""
    return f"services/{name}/.copier-answers.yml"


def next_ports(manifests: Sequence[ServiceManifest]) -> tuple[int, int]:
    """The gRPC port after the grpc services' highest, and the metrics port after every
    service's highest, each moved on past any port a manifest already uses."""
    taken = {port for m in manifests for port in (m.serve_port, m.metrics_port)}
    serve = max((m.serve_port for m in manifests if m.kind == "grpc"), default=_FIRST_PORTS[0] - 1)
    metrics = max((m.metrics_port for m in manifests), default=_FIRST_PORTS[1] - 1)
    serve = _free(serve + 1, taken)
    return serve, _free(metrics + 1, taken | {serve})


def _free(port: int, taken: set[int]) -> int:
    while port in taken:
        port += 1
    return port


def new_service(root: Path, name: str, *, resource: str | None = None) -> NewService:
    """Render the template as the service ``name`` (its resource: ``resource``, or the
    singular of ``name``); ``ScaffoldError`` when the name cannot be one."""
    manifests = load_manifests(root)
    problems = _name_problems(root, name, manifests)
    if problems:
        raise ScaffoldError(problems)
    serve, metrics = next_ports(manifests)
    source = template_repository(root)
    data = {"name": name, "grpc_port": str(serve), "metrics_port": str(metrics)}
    if resource:
        data["resource"] = resource
    before = _untracked(root)
    _copier(root, "copy", data, answers=answers_file(name), source=source)
    files = tuple(sorted(_untracked(root) - before))
    _format(root, name)
    return NewService(name=name, serve_port=serve, metrics_port=metrics, files=files)


def update_service(root: Path, name: str) -> None:
    """Bring the template's changes since the service was made (or last updated) into it:
    copier merges them with the service's own changes, marking conflicts inline (each
    named by a ``ScaffoldError``). The working tree must be clean (commit first): the result
    is a diff to review."""
    if not (root / answers_file(name)).is_file():
        raise ScaffoldError([f"{answers_file(name)}: missing; was {name} made by new-service?"])
    source = template_repository(root)
    _copier(root, "update", {}, answers=answers_file(name), source=source)
    conflicts = _git(root, "diff", "--name-only", "--diff-filter=U").splitlines()
    if conflicts:
        raise ScaffoldError(
            [
                f"{path}: a template change conflicts with the service's own, marked inline"
                for path in conflicts
            ]
        )
    _format(root, name)


def template_repository(root: Path) -> str:
    """``.run/templates/service`` at the template's committed state: a git repository whose
    history is the template folder's (``git subtree split``); its path, relative to root."""
    status = _git(root, "status", "--porcelain", "--", TEMPLATE)
    if status:
        print(
            f"{TEMPLATE} has uncommitted changes: the committed template is used", file=sys.stderr
        )
    try:
        commit = _git(root, "subtree", "split", "-q", f"--prefix={TEMPLATE}", "HEAD")
    except ScaffoldError as exc:
        raise ScaffoldError(
            [f"{TEMPLATE}: no committed template to render", *exc.problems]
        ) from exc
    repository = root / TEMPLATE_REPOSITORY
    if not (repository / ".git").is_dir():
        repository.mkdir(parents=True, exist_ok=True)
        _git(repository, "init", "-q", "-b", "main")
        # The push below updates the checked-out branch and its files together.
        _git(repository, "config", "receive.denyCurrentBranch", "updateInstead")
    _git(root, "push", "-q", "--force", str(repository), f"{commit}:refs/heads/main")
    return TEMPLATE_REPOSITORY


def _name_problems(root: Path, name: str, manifests: Sequence[ServiceManifest]) -> list[str]:
    if not _NAME.fullmatch(name):
        return [f"NAME={name!r}: lowercase letters and digits, starting with a letter (orders)"]
    problems = []
    if keyword.iskeyword(name) or name in _RESERVED:
        problems.append(f"NAME={name}: a Python keyword or a platform workload's name")
    if name in {m.name for m in manifests} or (root / "services" / name).exists():
        problems.append(f"NAME={name}: services/{name} exists already")
    if (root / "api" / "proto" / "acme" / name).exists():
        problems.append(f"NAME={name}: api/proto/acme/{name} exists already")
    return problems


def _copier(root: Path, command: str, data: dict[str, str], *, answers: str, source: str) -> None:
    """``copier copy|update`` in root: the template repository's HEAD, answers in ``answers``."""
    arguments = [sys.executable, "-m", "copier", command, "--quiet", "--defaults"]
    arguments += ["--vcs-ref", "HEAD", "--answers-file", answers]
    for key, value in data.items():
        arguments += ["--data", f"{key}={value}"]
    if command == "copy":
        arguments += [source, "."]
    else:
        arguments += ["--conflict", "inline", "."]
    _run(arguments, root)


def _format(root: Path, name: str) -> None:
    """What `make format` would change in the service's files: names longer than the
    template's examples may wrap lines differently."""
    tools = Path(sys.executable).parent
    folders = [
        f"{tier}/{name}"
        for tier in ("services", "tests/unit", "tests/integration", "tests/e2e")
        if (root / tier / name).is_dir()
    ]
    protos = f"api/proto/acme/{name}"
    _run([_tool(tools, "buf"), "format", "-w", "api/proto", "--path", protos], root)
    _run([_tool(tools, "ruff"), "format", "--quiet", *folders], root)
    _run([_tool(tools, "ruff"), "check", "--fix-only", "--quiet", *folders], root)


def _tool(folder: Path, name: str) -> str:
    found = shutil.which(name, path=str(folder)) or shutil.which(name)
    if found is None:
        raise ScaffoldError([f"{name} is not installed: run `make install-python`"])
    return found


def _untracked(root: Path) -> set[str]:
    listed = _git(root, "ls-files", "--others", "--exclude-standard")
    return set(listed.splitlines())


def _git(where: Path, *arguments: str) -> str:
    return _run(["git", *arguments], where)


def _run(arguments: list[str], where: Path) -> str:
    # No shell; the programs are git and the virtualenv's copier, buf and ruff.
    done = subprocess.run(  # noqa: S603  # nosec B603
        arguments, cwd=where, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip()
        raise ScaffoldError([f"{' '.join(arguments[:3])} ...: {output or 'failed'}"])
    return done.stdout.strip()
