"""The ``[backends.<name>]`` map of the settings: as many backends as the layers name.

servicekit's loader reads frozen dataclasses whose fields are fixed; the backends are a
map whose keys only the files and the environment know. So each load makes its schema:
``loading_class`` copies the settings class with ``backends`` as a dataclass of one field
per name found (``backend_names``), each a copy of ``BackendSettings`` whose defaults
are that backend's entry of the default map. The layers, lowest first:

1. the default map (``services.gateway.settings.default_backends()``, or what the caller
   of ``load`` passes);
2. the ``[backends]`` table of ``settings.toml``;
3. the env file, then the environment: ``GATEWAY_BACKENDS__<NAME>__<KEY>``.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, get_type_hints

from servicekit.config import ConfigProblem

__all__ = [
    "BACKENDS",
    "NAME_RULE",
    "backend_names",
    "backends_of",
    "loading_class",
    "unusable_variables",
    "valid_name",
]

BACKENDS = "backends"
"""The name of the map's field in the settings, and of its table in ``settings.toml``."""

_NAME = re.compile(r"[a-z][a-z0-9_]*")
NAME_RULE = "a backend name is lower-case letters, digits and _, starting with a letter"


def valid_name(name: str) -> bool:
    """Whether ``name`` can name a backend (and a ``GATEWAY_BACKENDS__<NAME>`` variable)."""
    return bool(_NAME.fullmatch(name)) and "__" not in name and not keyword.iskeyword(name)


def backend_names(
    *,
    settings_file: Path,
    sources: Iterable[Mapping[str, str | None]],
    prefix: str,
    defaults: Iterable[str],
) -> tuple[list[str], list[ConfigProblem]]:
    """Every backend name of the layers, sorted, and a problem for each unusable one.

    ``sources`` are the env file's and the environment's variables; ``prefix`` is the
    settings' prefix (``GATEWAY``).
    """
    found = {name.lower() for name in defaults} | _file_names(settings_file)
    start = f"{prefix.upper().rstrip('_')}_{BACKENDS.upper()}__"
    for source in sources:
        for variable in source:
            if variable.upper().startswith(start):
                name = variable[len(start) :].split("__", 1)[0].lower()
                if name:
                    found.add(name)
    names = sorted(name for name in found if valid_name(name))
    problems = [ConfigProblem(f"{BACKENDS}.{n}", NAME_RULE) for n in sorted(found - set(names))]
    return names, problems


def unusable_variables(
    sources: Iterable[Mapping[str, str | None]], *, prefix: str, names: Iterable[str]
) -> set[str]:
    """The ``{PREFIX}_BACKENDS__<NAME>__...`` variables of a name that is not among ``names``
    (one ``backend_names`` refused, and reported already): not unknown settings too."""
    start = f"{prefix.upper().rstrip('_')}_{BACKENDS.upper()}__"
    usable = set(names)
    return {
        variable
        for source in sources
        for variable in source
        if variable.upper().startswith(start)
        and variable[len(start) :].split("__", 1)[0].lower() not in usable
    }


def _file_names(settings_file: Path) -> set[str]:
    try:
        table = tomllib.loads(settings_file.read_text(encoding="utf-8")).get(BACKENDS)
    except (OSError, ValueError):  # the loader reports an unreadable file itself
        return set()
    return {str(name).lower() for name in table} if isinstance(table, Mapping) else set()


def loading_class(
    settings_cls: type[Any],
    backend_cls: type[Any],
    names: Iterable[str],
    defaults: Mapping[str, Any],
) -> type[Any]:
    """``settings_cls`` with ``backends`` as a dataclass of one ``backend_cls``-like field
    per name; each backend's fields default to its entry of ``defaults`` (if any).

    Loading one checks each backend with ``backend_cls`` (its problems are reported under
    ``backends.<name>``) and the map with ``settings_cls``'s own rules (under
    ``backends``); ``backends_of`` then gives the map itself.
    """
    backend_fields = []
    for name in names:
        cls = _backend_class(backend_cls, name, defaults.get(name))
        default = defaults.get(name)
        spec = (
            dataclasses.field() if default is None else dataclasses.field(default=_as(cls, default))
        )
        backend_fields.append((name, cls, spec))

    def check_map(self: Any) -> None:
        settings_cls.check_backends(backends_of(self, backend_cls))

    backends = dataclasses.make_dataclass(
        "Backends",
        backend_fields,
        namespace={"__post_init__": check_map},
        frozen=True,
        kw_only=True,
    )
    hints = get_type_hints(settings_cls, include_extras=True)
    # With no [backends] table and no variable, the map is the defaults' (when every name
    # has one); a name only a layer knows has no default, so then the layers must give it.
    every_default = all(name in defaults for name, _, _ in backend_fields)
    map_spec = dataclasses.field(default_factory=backends) if every_default else dataclasses.field()
    fields = [
        (f.name, backends, map_spec)
        if f.name == BACKENDS
        else (f.name, hints[f.name], _same_default(f))
        for f in dataclasses.fields(settings_cls)
    ]
    return dataclasses.make_dataclass(settings_cls.__name__, fields, frozen=True, kw_only=True)


def backends_of(loaded: Any, backend_cls: type[Any]) -> dict[str, Any]:
    """The map of a loaded ``Backends`` value: ``backend_cls`` by name."""
    return {
        field.name: _as(backend_cls, getattr(loaded, field.name))
        for field in dataclasses.fields(loaded)
    }


def _backend_class(backend_cls: type[Any], name: str, default: Any) -> type[Any]:
    hints = get_type_hints(backend_cls, include_extras=True)
    fields = []
    for field in dataclasses.fields(backend_cls):
        if default is not None:
            spec = dataclasses.field(default=getattr(default, field.name))
        else:
            spec = _same_default(field)
        fields.append((field.name, hints[field.name], spec))

    def check(self: Any) -> None:
        _as(backend_cls, self)  # ValueError: reported under backends.<name>

    return dataclasses.make_dataclass(
        f"Backend_{name}", fields, namespace={"__post_init__": check}, frozen=True, kw_only=True
    )


def _same_default(field: dataclasses.Field[Any]) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=field.default_factory)
    if field.default is not dataclasses.MISSING:
        return dataclasses.field(default=field.default)
    return dataclasses.field()


def _as(cls: type[Any], value: Any) -> Any:
    if isinstance(value, cls):
        return value
    return cls(**{f.name: getattr(value, f.name) for f in dataclasses.fields(cls)})
