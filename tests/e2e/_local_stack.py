"""The settings that move a `make up` stack aside, for every service the manifests declare.

Each service gets free ports (its gRPC or HTTP port, and its metrics port) and, when it owns
a database, a SQLite file in the caller's folder; every token verifier reads the JWKS file
the auth service publishes there; each caller's client and the gateway's backends point at
the moved ports. A service made by `make new-service` is moved aside like the others, so a
test's stack never shares a port or a file with another test's or a developer's.
"""

from __future__ import annotations

from pathlib import Path

from servicekit.testing.ports import free_port
from stackkit.manifest import load_manifests

__all__ = ["local_stack_env"]

REPO = Path(__file__).resolve().parents[2]
# Where the auth service publishes its signing keys: its own setting, which no manifest names.
PUBLISHED_KEYS = "AUTH_TOKENS__JWKS_FILE"


def local_stack_env(folder: Path, root: Path = REPO) -> dict[str, str]:
    """``{PREFIX}_*`` variables of every service of ``root``: free ports, state in ``folder``."""
    manifests = load_manifests(root)
    serve = {m.name: free_port() for m in manifests}
    target = {name: f"127.0.0.1:{port}" for name, port in serve.items()}
    jwks = str(folder / "jwks.json")
    env = {PUBLISHED_KEYS: jwks}
    for m in manifests:
        face = "http" if m.kind == "gateway" else "grpc"
        env[m.variable(f"{face}.port")] = str(serve[m.name])
        env[m.variable("metrics.port")] = str(free_port())
        if m.database:
            env[m.variable("database.url")] = f"sqlite:///{folder / f'{m.name}.db'}"
        if m.verifies_tokens:
            env[m.variable("auth.jwks_file")] = jwks
        for callee in m.calls:
            env[m.variable(f"{callee}_client.target")] = target[callee]
        if m.kind == "gateway":
            for backend in (b for b in manifests if b.kind == "grpc"):
                env[m.variable(f"backends.{backend.name}.target")] = (
                    f"127.0.0.1:{serve[backend.name]}"
                )
    return env
