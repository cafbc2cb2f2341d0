"""``load_settings``: dynaconf layers in, one frozen, typed and validated settings object out.

Layers, lowest first: ``settings.toml`` in the service's folder, an optional env file
(dotenv format), then the ``env`` mapping. Both of the last two hold variables named
``{PREFIX}_{KEY}``, with ``__`` between nested keys: ``USER_GRPC__PORT=50061`` sets
``[grpc] port``. Values are parsed as TOML by dynaconf (``50061`` is an integer,
``["a", "b"]`` a list), except for text fields (str, Secret, Path, string Literal), which
keep the exact text: a password ``0123`` or ``true`` stays that string.

Unknown keys are problems wherever they come from (a typo must not be ignored): a key of
a file by its dotted path (``grpc.prot``), a ``{PREFIX}_`` variable of the env file or of
``env`` by its name, with the closest setting's variable (``USER_GRPC__PROT: unknown
setting, did you mean USER_GRPC__PORT?``). Not reported: the variables Kubernetes injects
for a Service (``USER_PORT=tcp://...``, ``USER_SERVICE_HOST``..., see
``servicekit.config.variables``) and the ``other_variables`` a command reads itself.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar, cast

from dotenv import dotenv_values
from dynaconf import Dynaconf, DynaconfFormatError, DynaconfParseError

from servicekit.config.convert import build, insecure_values, takes_text, unknown_keys
from servicekit.config.errors import ConfigError, ConfigProblem
from servicekit.config.schema import Struct, describe, node_at, non_null
from servicekit.config.variables import is_service_link, suggestion

__all__ = ["SETTINGS_FILE", "SettingsLoader", "load_settings"]

SETTINGS_FILE = "settings.toml"

_T = TypeVar("_T")

_META_RULE = "a dynaconf meta variable would change what is loaded; remove it"


def load_settings(
    cls: type[_T],
    *,
    service_dir: Path,
    prefix: str,
    env: Mapping[str, str],
    env_file: Path | None = None,
    other_variables: Collection[str] = (),
) -> _T:
    """Load, validate and freeze the settings that ``cls`` (a frozen dataclass) declares.

    Raises ``ConfigError`` listing every problem found (``key: rule``), and ``TypeError``
    when ``cls`` itself cannot be loaded (a mutable dataclass, an unsupported annotation).
    Settings come only from ``service_dir/settings.toml``, ``env_file`` and ``env``;
    dynaconf itself still reads its ``*_FOR_DYNACONF`` variables and ``@format {env[X]}``
    from ``os.environ`` (the first are refused when they appear in ``env``).
    ``other_variables`` are variables of the prefix that are no settings (a command's own,
    such as ``USER_ADMIN_PASSWORD``): they are neither applied nor reported.
    """
    schema = describe(cls)
    if _has_insecure_defaults(schema) and schema.field("environment") is None:
        raise TypeError(f"{cls.__name__} marks insecure defaults but has no environment field")
    variables = _Variables(schema, prefix.upper().rstrip("_") + "_", frozenset(other_variables))
    problems = [ConfigProblem(name, _META_RULE) for name in env if _is_meta_variable(name)]
    layers = _read_defaults(service_dir / SETTINGS_FILE)
    problems += unknown_keys(schema, _snapshot(layers, problems))
    if env_file is not None:
        file_variables = _read_env_file(env_file, problems)
        problems += variables.apply(layers, file_variables, origin=f" (in {env_file})")
    problems += variables.apply(layers, env)
    data = _snapshot(layers, problems)
    # A variable may set a whole table (USER_GRPC='{port = 1}'): its keys are checked here,
    # those of the file were above.
    problems += [p for p in unknown_keys(schema, data) if p not in problems]
    settings = build(schema, data, problems)
    environment = _environment(schema, data)
    if environment is not None and environment != "development":
        problems += insecure_values(schema, data, environment)
    if problems:
        raise ConfigError(problems)
    return cast(_T, settings)


@dataclass(frozen=True, slots=True)
class SettingsLoader(Generic[_T]):
    """``load_settings`` of one service, declared once in its ``settings.py``::

        load = SettingsLoader(UserSettings, service_dir=Path(__file__).parent, prefix="USER")
        settings = load()                      # settings.toml, then USER_* of os.environ
        settings = load(env={...}, env_file=p)  # another environment, an env file between

    Builds nothing until called.
    """

    cls: type[_T]
    service_dir: Path
    prefix: str

    def __call__(
        self,
        env: Mapping[str, str] | None = None,
        env_file: Path | None = None,
        *,
        other_variables: Collection[str] = (),
    ) -> _T:
        return load_settings(
            self.cls,
            service_dir=self.service_dir,
            prefix=self.prefix,
            env=os.environ if env is None else env,
            env_file=env_file,
            other_variables=other_variables,
        )


def _read_defaults(settings_file: Path) -> Dynaconf:
    if not settings_file.is_file():
        raise ConfigError([ConfigProblem(str(settings_file), "settings file not found")])
    layers = Dynaconf(
        settings_files=[str(settings_file)],
        root_path=str(settings_file.parent),
        core_loaders=["TOML"],
        environments=False,  # `environment` is an ordinary, validated field
        loaders=[],  # dynaconf's env loader reads os.environ; `env` is applied by _apply
    )
    try:
        layers.as_dict()  # dynaconf reads lazily: read now to report a broken file here
    except ValueError as exc:  # TOMLDecodeError, UnicodeDecodeError
        raise ConfigError([ConfigProblem(str(settings_file), f"cannot be read: {exc}")]) from None
    return layers


def _snapshot(layers: Dynaconf, problems: list[ConfigProblem]) -> dict[str, object]:
    try:
        data: dict[str, object] = layers.as_dict()
    except DynaconfFormatError as exc:  # a lazy @format or @jinja value that cannot render
        raise ConfigError([*problems, ConfigProblem("@format", str(exc))]) from None
    return data


def _read_env_file(env_file: Path, problems: list[ConfigProblem]) -> Mapping[str, str | None]:
    if not env_file.is_file():
        problems.append(ConfigProblem(str(env_file), "env file not found"))
        return {}
    return dotenv_values(env_file, interpolate=False)


@dataclass(frozen=True, slots=True)
class _Variables:
    """The ``{PREFIX}_`` variables of one schema: which are settings, and applying them."""

    schema: Struct
    prefix: str
    others: frozenset[str]

    def apply(
        self, layers: Dynaconf, source: Mapping[str, str | None], origin: str = ""
    ) -> list[ConfigProblem]:
        """Set every setting's variable of ``source`` as dynaconf's env loader would; a
        problem for each variable of the prefix that names no setting."""
        problems = []
        for name in sorted(source):  # parents before children: GRPC before GRPC__PORT
            raw = source[name]
            if raw is None or not name.startswith(self.prefix) or name == self.prefix:
                continue
            key = name.removeprefix(self.prefix)
            path = key.lower().split("__")
            node = node_at(self.schema, path)
            if node is None:
                if name not in self.others and not is_service_link(name, raw):
                    problems.append(self._unknown(name, origin))
                continue
            tomlfy = not takes_text(node)
            try:
                layers.set(key, raw, tomlfy=tomlfy, loader_identifier="env")
            except (ValueError, DynaconfParseError, DynaconfFormatError):  # an @token failed
                rule = f"{name}: the @token cannot be applied"
                problems.append(ConfigProblem(".".join(path), rule))
        return problems

    def _unknown(self, name: str, origin: str) -> ConfigProblem:
        rule = f"unknown setting{origin}"
        close = suggestion(self.schema, self.prefix, name)
        if close is not None:
            rule += f", did you mean {close}?"
        return ConfigProblem(name, rule)


def _environment(schema: Struct, data: Mapping[str, object]) -> str | None:
    """The raw ``environment``: anything but exactly ``development`` refuses insecure values."""
    field = schema.field("environment")
    if field is None:
        return None
    raw = next((v for k, v in data.items() if k.lower() == "environment"), field.default)
    return None if raw is dataclasses.MISSING else str(raw)


def _is_meta_variable(name: str) -> bool:
    return name.upper().endswith("_FOR_DYNACONF")


def _has_insecure_defaults(struct: Struct) -> bool:
    for field in struct.fields:
        node = non_null(field.node)
        if field.insecure is not None:
            return True
        if isinstance(node, Struct) and _has_insecure_defaults(node):
            return True
    return False
