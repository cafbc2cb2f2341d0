"""Plugin parameters: `file`, `title` and `version`, as buf passes them (`key=value,...`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from contractkit.plugins._io import PluginError

__all__ = ["Settings", "parse_settings"]


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What the plugin's parameters choose about the document."""

    file: str = "openapi.yaml"
    title: str = "API"
    version: str = "0.0.0"


def parse_settings(parameter: str) -> Settings:
    """The settings of a `key=value,key=value` parameter string; unknown keys are errors."""
    values: dict[str, str] = {}
    known = set(Settings.__dataclass_fields__)
    for item in filter(None, (part.strip() for part in parameter.split(","))):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise PluginError(f"parameter {item!r} is not of the form key=value")
        if key not in known:
            raise PluginError(f"unknown parameter {key!r} (known: {', '.join(sorted(known))})")
        values[key] = value
    settings = Settings(**values)
    path = PurePosixPath(settings.file)
    if path.is_absolute() or ".." in path.parts:
        raise PluginError(f"file={settings.file!r} must be a relative path inside the output")
    return settings
