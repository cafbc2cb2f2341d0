"""A recording fake of the Tilt API, for evaluating a Tiltfile with starlark-pyo3.

Every Tilt builtin the platform's Tiltfile calls is a Python callable here that records its
arguments; `evaluate` runs the Tiltfile against them and returns the record. No cluster, no
Docker, no Tilt binary: the checks are on what the Tiltfile asks Tilt to do.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import starlark as sl
import yaml


@dataclass(frozen=True)
class Step:
    """One live_update step: sync, run, fall_back_on or restart_container."""

    kind: str
    args: tuple[Any, ...]
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Blob:
    """What kustomize() and local() return: YAML or output text, here its origin."""

    source: str
    path: str


@dataclass(frozen=True)
class Call:
    args: tuple[Any, ...]
    options: Mapping[str, Any]


@dataclass
class TiltRecord:
    """What the Tiltfile asked for, keyed by resource or image name."""

    images: dict[str, Call] = field(default_factory=dict)
    k8s_yaml: list[Any] = field(default_factory=list)
    k8s_resources: dict[str, Call] = field(default_factory=dict)
    local_resources: dict[str, Call] = field(default_factory=dict)
    flags: dict[str, str] = field(default_factory=dict)
    # Every repository path the Tiltfile named (contexts, Dockerfiles, syncs, deps, ...).
    paths: set[str] = field(default_factory=set)
    # Paths it only asked about (os.path.exists, read_file with a default): may be absent.
    probed: set[str] = field(default_factory=set)
    loads: list[str] = field(default_factory=list)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _opaque(value: object) -> sl.OpaquePythonObject:
    return sl.OpaquePythonObject(value)


class TiltFake:
    """Tilt's builtins as recording Python callables rooted at one repository."""

    def __init__(self, root: Path, args: Mapping[str, Any] | None = None) -> None:
        self.root = root
        self.args = dict(args or {})
        self.record = TiltRecord()

    # --- paths -----------------------------------------------------------------------
    def _name(self, *paths: Any) -> None:
        for path in paths:
            for item in _as_list(path):
                self.record.paths.add(os.path.normpath(str(item)))

    # --- builds ----------------------------------------------------------------------
    def docker_build(self, ref: str, context: str, **options: Any) -> None:
        assert ref not in self.record.images, f"image {ref} built twice"
        self._name(context, options.get("dockerfile", os.path.join(context, "Dockerfile")))
        for step in _as_list(options.get("live_update")):
            if step.kind in {"sync", "fall_back_on"}:
                self._name(step.args[0])
        self.record.images[ref] = Call((ref, context), options)

    def sync(self, local_path: str, remote_path: str) -> sl.OpaquePythonObject:
        return _opaque(Step("sync", (local_path, remote_path)))

    def run(self, cmd: Any, **options: Any) -> sl.OpaquePythonObject:
        self._name(options.get("trigger"))
        return _opaque(Step("run", (cmd,), options))

    def fall_back_on(self, files: Any) -> sl.OpaquePythonObject:
        return _opaque(Step("fall_back_on", (_as_list(files),)))

    def restart_container(self) -> sl.OpaquePythonObject:
        return _opaque(Step("restart_container", ()))

    # --- Kubernetes ------------------------------------------------------------------
    def kustomize(self, path: str, **_: Any) -> sl.OpaquePythonObject:
        self._name(path)
        return _opaque(Blob("kustomize", path))

    def k8s_yaml(self, yaml: Any, **_: Any) -> None:
        for item in _as_list(yaml):
            if isinstance(item, str):
                self._name(item)
            self.record.k8s_yaml.append(item)

    def k8s_resource(self, workload: str = "", **options: Any) -> None:
        name = options.get("new_name") or workload
        assert name not in self.record.k8s_resources, f"k8s_resource {name} configured twice"
        self.record.k8s_resources[name] = Call((workload,), options)

    # --- local -----------------------------------------------------------------------
    def local_resource(self, name: str, cmd: Any = "", **options: Any) -> None:
        assert name not in self.record.local_resources, f"local_resource {name} twice"
        self._name(options.get("deps"))
        self.record.local_resources[name] = Call((name, cmd), options)

    def local(self, cmd: Any, **_: Any) -> sl.OpaquePythonObject:
        return _opaque(Blob("local", str(cmd)))

    def read_file(self, path: str, default: Any = None) -> str:
        file = self.root / path
        if default is None:
            self._name(path)
            return file.read_text()
        self.record.probed.add(os.path.normpath(path))
        return file.read_text() if file.is_file() else str(default)

    def read_yaml(self, path: str, default: Any = None) -> Any:
        """Tilt's read_yaml: the document as plain values (dicts, lists, strings, numbers)."""
        return yaml.safe_load(self.read_file(path, default))

    def link(self, url: str, name: str = "") -> sl.OpaquePythonObject:
        return _opaque({"url": url, "name": name})

    def probe(self, **options: Any) -> sl.OpaquePythonObject:
        return _opaque({"probe": options})

    def tcp_socket_action(self, port: int, host: str = "") -> sl.OpaquePythonObject:
        return _opaque({"tcp_socket": {"port": port, "host": host}})

    def http_get_action(self, port: int, **options: Any) -> sl.OpaquePythonObject:
        return _opaque({"http_get": {"port": port, **options}})

    # --- config and os -----------------------------------------------------------------
    def config_define_bool(self, name: str, args: bool = False, usage: str = "") -> None:
        self.record.flags[name] = "bool"

    def config_define_string(self, name: str, args: bool = False, usage: str = "") -> None:
        self.record.flags[name] = "string"

    def config_parse(self) -> dict[str, Any]:
        """Like Tilt: only the flags given are in the result (a Tiltfile supplies defaults)."""
        unknown = set(self.args) - set(self.record.flags)
        assert not unknown, f"flags the Tiltfile does not define: {sorted(unknown)}"
        for name, value in self.args.items():
            if self.record.flags[name] == "bool":
                assert isinstance(value, bool), f"--{name} is a bool flag, given {value!r}"
        return dict(self.args)

    def os_path_exists(self, path: str) -> bool:
        self.record.probed.add(os.path.normpath(path))
        return (self.root / path).exists()

    def os_listdir(self, path: str) -> list[str]:
        self._name(path)
        return sorted(str(p.relative_to(self.root)) for p in (self.root / path).iterdir())

    def builtins(self) -> dict[str, Callable[..., Any]]:
        return {
            name: getattr(self, name)
            for name in (
                "docker_build",
                "sync",
                "run",
                "fall_back_on",
                "restart_container",
                "kustomize",
                "k8s_yaml",
                "k8s_resource",
                "local_resource",
                "local",
                "read_file",
                "read_yaml",
                "link",
                "probe",
                "tcp_socket_action",
                "http_get_action",
                "config_define_bool",
                "config_define_string",
                "config_parse",
                "os_path_exists",
                "os_listdir",
            )
        }


# Tilt's namespaced builtins (config.*, os.*) as structs over the flat callables.
_PRELUDE = """
config = struct(
    define_bool = config_define_bool,
    define_string = config_define_string,
    parse = config_parse,
)
os = struct(
    path = struct(exists = os_path_exists, join = lambda *parts: "/".join(parts)),
    listdir = os_listdir,
)
"""


def evaluate(tiltfile: Path, args: Mapping[str, Any] | None = None) -> TiltRecord:
    """Evaluate `tiltfile` as Tilt would with `tilt up -- <args>`; return the record."""
    fake = TiltFake(tiltfile.parent, args)
    module = sl.Module()
    for name, function in fake.builtins().items():
        module.add_callable(name, function)
    globals_ = sl.Globals.extended_by([sl.LibraryExtension.StructType])
    sl.eval(module, sl.parse("prelude.star", _PRELUDE), globals_)

    def load(name: str) -> sl.FrozenModule:
        # Tilt extensions (ext://) would need the network: the platform allows none.
        fake.record.loads.append(name)
        raise AssertionError(f"the Tiltfile loads {name}: no load() is expected")

    dialect = sl.Dialect.standard()
    dialect.enable_load = True
    dialect.enable_lambda = True
    dialect.enable_top_level_stmt = True
    ast = sl.parse(str(tiltfile), tiltfile.read_text(), dialect)
    sl.eval(module, ast, globals_, sl.FileLoader(load))
    return fake.record
