"""The service manifests: ``services/<name>/service.yaml``, one per service, read and checked.

A manifest says what the rest of the platform needs to know of a service, once: its name
and kind, the contract services it implements, its ports, whether it owns a database, the
services it calls, whether it verifies access tokens, the client settings its callers
should use, and (optional, ``cluster``) what only its Kubernetes workload needs: resources,
settings from its Secret, settings of its own. ``load_manifests`` reads them all and
reports every problem at once (``ManifestError``), each naming the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from stackkit.cluster import ClusterSpec, read_cluster

__all__ = [
    "MANIFEST",
    "ClusterSpec",
    "Kind",
    "ManifestError",
    "ServiceManifest",
    "load_manifests",
]

MANIFEST = "service.yaml"
Kind = Literal["grpc", "gateway"]
_KINDS = ("grpc", "gateway")
_NAME = re.compile(r"[a-z][a-z0-9]*")  # a Python package, an env prefix, a DNS label
_SERVICE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\.[A-Z][A-Za-z0-9]*")
_KEYS = {
    "name",
    "kind",
    "implements",
    "ports",
    "database",
    "calls",
    "verifies_tokens",
    "client",
    "cluster",
}
_PORTS = {"serve", "metrics"}
# Workloads of the platform's own in the cluster, beside the services.
_RESERVED = {"postgres", "prometheus", "grafana", "jaeger"}


class ManifestError(ValueError):
    """Every problem of every manifest, one ``file: key: problem`` line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, kw_only=True)
class ServiceManifest:
    """One service as its manifest declares it."""

    name: str
    kind: Kind
    implements: tuple[str, ...]
    serve_port: int
    metrics_port: int
    database: bool
    calls: tuple[str, ...]
    verifies_tokens: bool = False
    client: Mapping[str, Any] = field(default_factory=dict)
    cluster: ClusterSpec = field(default_factory=ClusterSpec)

    @property
    def env_prefix(self) -> str:
        """The prefix of its settings variables: ``USER`` for ``USER_GRPC__PORT``."""
        return self.name.upper()

    def variable(self, setting: str) -> str:
        """The variable of a setting: ``USER_AUTH__JWKS_URL`` for ``auth.jwks_url``."""
        return f"{self.env_prefix}_{setting.upper().replace('.', '__')}"

    @property
    def package(self) -> str:
        return f"services.{self.name}"


def load_manifests(root: Path) -> list[ServiceManifest]:
    """Every ``services/*/service.yaml`` of ``root``, by name; ``ManifestError`` if any is
    wrong, or if they disagree with each other (a port used twice, a call to no service)."""
    problems: list[str] = []
    manifests = []
    for path in sorted((root / "services").glob(f"*/{MANIFEST}")):
        where = path.relative_to(root).as_posix()
        manifest = _read(path, where, problems)
        if manifest is not None:
            manifests.append(manifest)
    problems += _cross_checks(manifests)
    if problems:
        raise ManifestError(problems)
    return manifests


def _read(path: Path, where: str, problems: list[str]) -> ServiceManifest | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"{where}: cannot be read: {exc}")
        return None
    if not isinstance(data, dict):
        problems.append(f"{where}: must be a mapping of keys")
        return None
    found: list[str] = []
    problems += [f"{where}: {key}: unknown key" for key in sorted(set(data) - _KEYS)]
    name = data.get("name")
    if name != path.parent.name:
        found.append(f"name: {name!r} must be the folder's name, {path.parent.name!r}")
    elif not _NAME.fullmatch(name):
        found.append(f"name: {name!r} must be lowercase letters and digits")
    elif name in _RESERVED:
        found.append(f"name: {name!r} is a platform workload's name in the cluster")
    kind = data.get("kind")
    if kind not in _KINDS:
        found.append(f"kind: {kind!r} must be one of {', '.join(_KINDS)}")
    implements = _strings(data.get("implements", []), "implements", found)
    found += [
        f"implements: {service!r} is not a full contract service name (acme.user.v1.UserService)"
        for service in implements
        if not _SERVICE.fullmatch(service)
    ]
    if kind == "grpc" and not implements:
        found.append("implements: a grpc service implements at least one contract service")
    ports = _ports(data.get("ports"), found)
    database = _flag(data, "database", found)
    verifies_tokens = _flag(data, "verifies_tokens", found)
    calls = _strings(data.get("calls", []), "calls", found)
    client = data.get("client", {})
    if not isinstance(client, dict):
        found.append("client: must be a mapping of client settings")
    cluster = read_cluster(data.get("cluster", {}), found)
    problems += [f"{where}: {problem}" for problem in found]
    if found or not isinstance(name, str) or kind not in _KINDS:
        return None
    return ServiceManifest(
        name=name,
        kind=kind,
        implements=tuple(implements),
        serve_port=ports["serve"],
        metrics_port=ports["metrics"],
        database=database,
        calls=tuple(calls),
        verifies_tokens=verifies_tokens,
        client=client,
        cluster=cluster,
    )


def _flag(data: Mapping[str, object], key: str, found: list[str]) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        found.append(f"{key}: {value!r} must be true or false")
        return False
    return value


def _strings(value: object, key: str, found: list[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        found.append(f"{key}: must be a list of names")
        return []
    return value


def _ports(value: object, found: list[str]) -> dict[str, int]:
    if not isinstance(value, dict) or set(value) != _PORTS:
        found.append("ports: must give exactly serve and metrics")
        return {}
    for key, port in value.items():
        if not isinstance(port, int) or not 1 <= port <= 65535:
            found.append(f"ports.{key}: {port!r} is not a port number")
    return value


def _cross_checks(manifests: list[ServiceManifest]) -> list[str]:
    problems = []
    names = {m.name for m in manifests}
    owners: dict[int, str] = {}
    served: dict[str, str] = {}
    for manifest in manifests:
        where = f"services/{manifest.name}/{MANIFEST}"
        for port in (manifest.serve_port, manifest.metrics_port):
            if port in owners:
                problems.append(f"{where}: ports: {port} is also {owners[port]}'s")
            owners.setdefault(port, manifest.name)
        for call in manifest.calls:
            if call not in names:
                problems.append(f"{where}: calls: {call!r} is no service of services/")
            elif call == manifest.name:
                problems.append(f"{where}: calls: a service does not call itself")
        for service in manifest.implements:
            if service in served:
                problems.append(f"{where}: implements: {service} is also {served[service]}'s")
            served.setdefault(service, manifest.name)
    gateways = sum(m.kind == "gateway" for m in manifests)
    if gateways > 1:
        problems.append("services/: more than one service of kind gateway")
    problems += [
        f"services/{m.name}/{MANIFEST}: verifies_tokens: no service of kind gateway serves the keys"
        for m in manifests
        if m.verifies_tokens and not gateways
    ]
    return problems
