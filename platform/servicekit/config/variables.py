"""Which ``{PREFIX}_`` variables are settings, and what a typo among them is reported as.

Every variable that starts with the service's prefix names a setting (``USER_GRPC__PORT``:
``[grpc] port``) or is a mistake: ``USER_GRPC__PROT``, ``USER_GRPC_PORT`` and
``GATEWAY_HTTTP__PORT`` are reported with the closest setting's variable. Two kinds are not:

- the variables Kubernetes injects for every Service of the namespace (service links): a
  Service ``user`` (or ``user-db``) gives ``USER_SERVICE_HOST=10.0.0.7``,
  ``USER_SERVICE_PORT=50051``, ``USER_SERVICE_PORT_GRPC=50051``,
  ``USER_PORT=tcp://10.0.0.7:50051``, ``USER_PORT_50051_TCP=tcp://10.0.0.7:50051`` and its
  ``_PROTO``, ``_PORT`` and ``_ADDR``. Only exactly those shapes, names and values, are
  ignored: ``USER_GRPC_PORT=50061`` is not a service link (its value is no ``tcp://`` URL);
- the variables a command reads itself (``USER_ADMIN_PASSWORD``), which the caller names.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterator

from servicekit.config.schema import Struct, non_null

__all__ = ["is_service_link", "setting_paths", "suggestion"]

_PROTOCOL = r"(?:TCP|UDP|SCTP)"
_SERVICE_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_SUFFIX = re.compile(
    r"(?P<host>SERVICE_HOST)"
    r"|(?P<service_port>SERVICE_PORT(?:_[A-Z0-9_]+)?)"
    rf"|(?P<url>PORT(?:_[0-9]+_{_PROTOCOL})?)"
    rf"|PORT_[0-9]+_{_PROTOCOL}_(?:(?P<proto>PROTO)|(?P<port>PORT)|(?P<addr>ADDR))"
)
_URL = re.compile(r"(?:tcp|udp|sctp)://\S+:[0-9]+")
_NUMBER = re.compile(r"[0-9]+")


def is_service_link(name: str, value: str) -> bool:
    """Whether ``name=value`` is one of the variables Kubernetes injects for a Service."""
    # `<SERVICE>_<SUFFIX>`, split at every `_`: a Service may be called `user-service`.
    for index, char in enumerate(name):
        if char != "_" or not _SERVICE_NAME.fullmatch(name[:index]):
            continue
        match = _SUFFIX.fullmatch(name[index + 1 :])
        if match is not None and _value_fits(match, value):
            return True
    return False


def _value_fits(match: re.Match[str], value: str) -> bool:
    if match.group("host") or match.group("addr"):
        return _is_address(value)
    if match.group("service_port") or match.group("port"):
        return bool(_NUMBER.fullmatch(value))
    if match.group("url"):
        return bool(_URL.fullmatch(value))
    return value in ("TCP", "UDP", "SCTP", "tcp", "udp", "sctp")


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def setting_paths(struct: Struct, parent: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every setting (leaf) of ``struct``: ``("grpc", "port")``, ..."""
    for field in struct.fields:
        node = non_null(field.node)
        if isinstance(node, Struct):
            yield from setting_paths(node, (*parent, field.name))
        else:
            yield (*parent, field.name)


def suggestion(struct: Struct, env_prefix: str, name: str) -> str | None:
    """The variable of the setting closest to ``name`` (``USER_GRPC__PORT`` for
    ``USER_GRPC__PROT``), if one is close enough."""
    variables = {"__".join(path).upper(): path for path in setting_paths(struct)}
    close = difflib.get_close_matches(
        name.removeprefix(env_prefix).upper(), list(variables), n=1, cutoff=0.7
    )
    return env_prefix + close[0] if close else None
