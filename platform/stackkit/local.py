"""What the manifests give the local stack: the Procfiles of `make up` and `make dev`, the
gateway's default backends, and the import contracts that keep services apart.

Each function takes the manifests (``load_manifests``) and returns ``{path: content}``
of the files it derives, relative to the repository root.
"""

from __future__ import annotations

from collections.abc import Sequence

from stackkit.manifest import ServiceManifest

__all__ = ["backends", "catalogue", "import_contracts", "procfiles", "start_order"]

GENERATED = "Generated from the service manifests (services/*/service.yaml) by `make generate`."
READY_LINE = "the stack is ready; Ctrl-C stops it"
CATALOGUE = "platform/deploy/services.yaml"
# The contracts: `make dev` regenerates the stack's outputs when one of them changes.
CONTRACTS = "api/proto"
# What every service's process runs on, besides its own folder: a change there restarts it.
SHARED = ("platform/servicekit", "gen/python")
# The gateway also serves the OpenAPI document and reads it with contractkit.
GATEWAY_SHARED = ("platform/servicekit", "platform/contractkit", "gen/python", "api/openapi")


def start_order(manifests: Sequence[ServiceManifest]) -> list[ServiceManifest]:
    """Callees before their callers, the gateway last; otherwise by name."""
    by_name = {m.name: m for m in manifests}
    placed: list[ServiceManifest] = []
    done: set[str] = set()

    def place(manifest: ServiceManifest, seen: tuple[str, ...]) -> None:
        if manifest.name in done or manifest.name in seen:
            return  # a cycle: the order among its members is the names'
        for call in sorted(manifest.calls):
            place(by_name[call], (*seen, manifest.name))
        done.add(manifest.name)
        placed.append(manifest)

    for manifest in sorted(manifests, key=lambda m: (m.kind == "gateway", m.name)):
        place(manifest, ())
    return placed


def procfiles(manifests: Sequence[ServiceManifest]) -> dict[str, str]:
    ordered = start_order(manifests)
    packages = " ".join(m.package for m in ordered)
    ready = (
        f"ready: python -m servicekit.probe --wait 60 {packages} "
        f'&& echo "{READY_LINE}" '
        "&& trap 'exit 0' INT TERM && while sleep 1; do :; done 2>/dev/null\n"
    )
    up = [
        "# The local stack of `make up`, run by honcho (one line per service, logs prefixed by\n",
        "# name). Migrations run before it starts; every address is a setting.\n",
        "# `ready` awaits every service's readiness (their `probe` commands, all at once, in one\n",
        "# interpreter), prints the addresses, then idles: honcho stops the whole stack if it\n",
        "# gives up (not ready within 60 s).\n",
        f"# {GENERATED}\n",
    ]
    up += [f"{m.name}: exec python -m {m.package} serve\n" for m in ordered]
    dev = [
        "# `make dev`: the stack of `make up`, each service restarted (watchfiles) when its code\n",
        "# or settings, the shared runtime or the generated stubs change (the gateway: also the\n",
        "# OpenAPI document). watchfiles' default filter skips __pycache__ and editor files.\n",
        "# `contracts` regenerates the stubs and the OpenAPI document when a .proto file of\n",
        f"# {CONTRACTS} changes (`make stack-generated`), so a contract edit restarts what it\n",
        "# concerns; a generation error is one line, and the services keep running.\n",
        "# `ready`: as in the Procfile.\n",
        f"# {GENERATED}\n",
    ]
    for m in ordered:
        watched = " ".join((f"services/{m.name}", *_shared(m)))
        dev.append(f'{m.name}: exec watchfiles "python -m {m.package} serve" {watched}\n')
    dev.append(
        f"contracts: exec python -m stackkit.regenerate {CONTRACTS} "
        "-- make --no-print-directory stack-generated\n"
    )
    return {"Procfile": "".join([*up, ready]), "Procfile.dev": "".join([*dev, ready])}


def _shared(manifest: ServiceManifest) -> tuple[str, ...]:
    return GATEWAY_SHARED if manifest.kind == "gateway" else SHARED


def backends(manifests: Sequence[ServiceManifest]) -> dict[str, str]:
    """For each gateway, ``backends.toml`` beside its settings: every grpc service as a
    backend, at its default address, serving what it implements, with its client settings
    (the layers of the gateway's settings go on top)."""
    files = {}
    grpc = [m for m in manifests if m.kind == "grpc"]
    for gateway in (m for m in manifests if m.kind == "gateway"):
        lines = [
            f"# {GENERATED}\n",
            "# The gateway's default backends: settings.toml and GATEWAY_BACKENDS__<NAME>__<KEY>\n",
            "# variables override them key by key.\n",
        ]
        for backend in grpc:
            lines += [
                f"\n[backends.{backend.name}]\n",
                f'target = "127.0.0.1:{backend.serve_port}"\n',
                f"services = [{', '.join(_toml(s) for s in backend.implements)}]\n",
                *(f"{key} = {_toml(value)}\n" for key, value in sorted(backend.client.items())),
            ]
        files[f"services/{gateway.name}/backends.toml"] = "".join(lines)
    return files


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"client settings are numbers, booleans or strings, not {value!r}")


def catalogue(manifests: Sequence[ServiceManifest]) -> dict[str, str]:
    """Every manifest in one file, callees first, for readers that cannot list folders (the
    Tiltfile reads it with read_yaml)."""
    lines = [
        f"# {GENERATED}\n",
        "# Every service in start order (callees first, the gateway last).\n",
    ]
    lines.append("services:\n")
    for m in start_order(manifests):
        lines += [
            f"  - name: {m.name}\n",
            f"    kind: {m.kind}\n",
            f"    implements: [{', '.join(m.implements)}]\n",
            f"    ports: {{serve: {m.serve_port}, metrics: {m.metrics_port}}}\n",
            f"    database: {'true' if m.database else 'false'}\n",
            f"    calls: [{', '.join(m.calls)}]\n",
        ]
    return {CATALOGUE: "".join(lines)}


def import_contracts(manifests: Sequence[ServiceManifest]) -> dict[str, str]:
    """import-linter's configuration: the platform's layers, and every service independent
    of every other (they talk through the generated clients)."""
    services = "\n".join(f"    {m.package}" for m in sorted(manifests, key=lambda m: m.name))
    text = f"""# {GENERATED}
# import-linter (`lint-imports`, in `make style`) reads this file.
[importlinter]
root_packages =
    contractkit
    servicekit
    stackkit
    services

[importlinter:contract:platform-independent]
name = The runtime, the contract tooling and the service catalogue are independent of each other
type = independence
modules =
    contractkit
    servicekit
    stackkit

[importlinter:contract:platform-below-services]
name = Platform packages never import services
type = forbidden
source_modules =
    contractkit
    servicekit
    stackkit
forbidden_modules =
    services

[importlinter:contract:services-independent]
name = Services never import each other: they talk through the generated clients
type = independence
modules =
{services}
"""
    return {".importlinter": text}
