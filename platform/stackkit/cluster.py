"""The optional ``cluster`` key of a service manifest: what only its Kubernetes workload
needs, beside what the rest of the manifest already says (ports, database, calls).

    cluster:
      resources: {requests: {memory: 256Mi}, limits: {memory: 1Gi}}
      secrets: {key-encryption-secret: tokens.key_encryption_secret}
      settings: {tokens.jwks_file: ""}

``read_cluster`` checks it and appends every problem to the manifest's list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DATABASE_URL_KEY", "ClusterSpec", "read_cluster"]

_CLUSTER_KEYS = {"resources", "secrets", "settings"}
_RESOURCES = {"cpu", "memory"}
_QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?")
_SETTING = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")  # section.key, as in settings.toml
_SECRET_KEY = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# The key of the database URL in the Secret of a service that owns a database.
DATABASE_URL_KEY = "database-url"


@dataclass(frozen=True, kw_only=True)
class ClusterSpec:
    """What only the service's Kubernetes workload needs (the manifest's ``cluster`` key).

    ``requests`` and ``limits``: resource quantities by resource (``cpu``, ``memory``) that
    replace the platform's defaults. ``secrets``: settings read from the service's Secret,
    Secret key -> setting (``tokens.key_encryption_secret``). ``settings``: settings of its
    own in the cluster, setting -> value, all as text (a ConfigMap holds text).
    """

    requests: Mapping[str, str] = field(default_factory=dict)
    limits: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, str] = field(default_factory=dict)


def read_cluster(value: object, found: list[str]) -> ClusterSpec:
    """The ``cluster`` key: every part optional; problems appended to ``found``."""
    if not isinstance(value, dict):
        found.append("cluster: must be a mapping (resources, secrets, settings)")
        return ClusterSpec()
    found += [f"cluster.{key}: unknown key" for key in sorted(set(value) - _CLUSTER_KEYS)]
    resources = _mapping(value.get("resources", {}), "cluster.resources", found)
    found += [
        f"cluster.resources.{key}: unknown key (requests, limits)"
        for key in sorted(map(str, set(resources) - {"requests", "limits"}))
    ]
    requests, limits = (
        _quantities(resources.get(key, {}), f"cluster.resources.{key}", found)
        for key in ("requests", "limits")
    )
    secrets = _mapping(value.get("secrets", {}), "cluster.secrets", found)
    for key, setting in secrets.items():
        if not isinstance(key, str) or not _SECRET_KEY.fullmatch(key):
            found.append(f"cluster.secrets: {key!r} is not a Secret key (lowercase, dashes)")
        elif key == DATABASE_URL_KEY:
            found.append(f"cluster.secrets: {key} is the database's (database: true)")
        if not isinstance(setting, str) or not _SETTING.fullmatch(setting):
            found.append(f"cluster.secrets.{key}: {setting!r} is not a setting (section.key)")
    settings = _mapping(value.get("settings", {}), "cluster.settings", found)
    for setting, text in settings.items():
        if not isinstance(setting, str) or not _SETTING.fullmatch(setting):
            found.append(f"cluster.settings: {setting!r} is not a setting (section.key)")
        if not isinstance(text, str | int | float | bool):
            found.append(f"cluster.settings.{setting}: must be text, a number or a boolean")
    return ClusterSpec(
        requests=requests,
        limits=limits,
        secrets={str(key): str(setting) for key, setting in secrets.items()},
        settings={str(key): _text(text) for key, text in settings.items()},
    )


def _mapping(value: object, key: str, found: list[str]) -> dict[object, object]:
    if not isinstance(value, dict):
        found.append(f"{key}: must be a mapping")
        return {}
    return value


def _quantities(value: object, key: str, found: list[str]) -> dict[str, str]:
    quantities = {}
    for resource, quantity in _mapping(value, key, found).items():
        if resource not in _RESOURCES:
            found.append(f"{key}.{resource}: unknown resource (cpu, memory)")
        elif isinstance(quantity, bool) or not _QUANTITY.fullmatch(str(quantity)):
            found.append(f"{key}.{resource}: {quantity!r} is not a quantity (100m, 1, 256Mi)")
        else:
            quantities[str(resource)] = str(quantity)
    return quantities


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
