"""PyYAML with libyaml's parser and emitter when PyYAML has them (its wheels do).

The OpenAPI documents of the REST face are large: libyaml reads them in a tenth of the
pure-Python parser's time and writes them in a fifth, with the same result. They are read
twice by every `make breaking`, written by every `make generate`, and read by the gateway
at every start.
"""

from __future__ import annotations

from typing import Any

import yaml

try:
    from yaml import CSafeDumper as SafeDumper
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    from yaml import SafeDumper, SafeLoader  # type: ignore[assignment]

__all__ = ["SafeDumper", "SafeLoader", "safe_load"]


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)``, parsed by libyaml when PyYAML has it."""
    return yaml.load(text, SafeLoader)
