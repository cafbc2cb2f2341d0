"""grpc-gateway, bench/rest.py's anchor contender: generated, built and described here.

grpc-gateway is the reference REST-to-gRPC proxy: in front of the same `services.user` as
the platform's gateway, it says what a REST GetUser costs a proxy that does no more than
transcode. Nothing of it is committed but its pins and its `main.go`:

- bench/grpcgateway/ is a Go module of its own: go.mod pins grpc-gateway (its runtime and,
  by a `tool` line, the protoc-gen-grpc-gateway plugin) and takes gen/go's messages and
  gRPC clients from this checkout (`replace ... => ../../gen/go`); main.go serves the
  handlers in front of one plaintext gRPC backend.
- `build()` makes, in the git-ignored .tools/grpcgateway/: the plugin (`go build` of the
  tool), the handlers (`buf generate`, the repository's buf and workspace, the contracts'
  google.api.http annotations, the plugin as a `local:` plugin with `standalone=true`, and
  managed mode's go_package prefix of buf.gen.yaml, so that they import gen/go's
  packages), then the server, the handlers compiled in as package gw/... of the module
  through `go build -overlay` (they never appear in the working tree). Redone only when
  an input changed (gotools.Stamp): the module's files, the contracts, this script.

One option differs from grpc-gateway's defaults: `request_context=false`, so that the
backend call of a request is not cancelled when its HTTP client goes away (our gateway
does not cancel it either). wrk closes its connections with requests in flight at the end
of every window; cancelled there, some of the user service's calls leave a cut database
connection in its pool, and a call of the next contender's window then fails with
UNAVAILABLE (seen in 4 of 10 and 7 of 8 short window pairs: most likely a race in
servicekit's connection guard, outside this benchmark). It costs the same per request
either way.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from gotools import TOOLS, Stamp, Unavailable, go, go_version, pinned_version, run
from harness import ROOT

from contractkit.buf import BufError, buf_executable
from contractkit.thirdparty import materialise

__all__ = ["BINARY", "MODULE", "build", "describe"]

MODULE = Path(__file__).resolve().parent / "grpcgateway"
OUT = TOOLS / "grpcgateway"
PLUGIN = OUT / "bin" / "protoc-gen-grpc-gateway"
BINARY = OUT / "bin" / "grpc-gateway-bench"
GENERATED = OUT / "gen"
PLUGIN_PACKAGE = "github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway"
GATEWAY_MODULE = "github.com/grpc-ecosystem/grpc-gateway/v2"
GW_FOLDER = MODULE / "gw"  # where main.go imports the handlers from (an overlay)


def _template() -> dict[str, object]:
    """buf's generation template: buf.gen.yaml's Go options, grpc-gateway's plugin."""
    return {
        "version": "v2",
        "managed": {
            "enabled": True,
            "disable": [
                {"path": "google/api"},
                {"path": "google/rpc"},
                {"path": "buf/validate", "file_option": "go_package"},
            ],
            # As buf.gen.yaml: acme/user/v1 -> github.com/acme/platform/gen/go/acme/user/v1.
            "override": [
                {"file_option": "go_package_prefix", "value": "github.com/acme/platform/gen/go"}
            ],
        },
        "inputs": [{"directory": ".", "paths": ["api/proto/acme"]}],
        "plugins": [
            {
                "local": str(PLUGIN),
                "out": str(GENERATED),
                "strategy": "all",
                # standalone: a package of its own, importing gen/go's as extUserv1 & co.
                # request_context=false: a client going away does not cancel the backend
                # call, as in our gateway (see the module's docstring).
                "opt": ["paths=source_relative", "standalone=true", "request_context=false"],
            }
        ],
    }


def _inputs() -> list[Path]:
    sources = [MODULE / "go.mod", MODULE / "go.sum", MODULE / "main.go", Path(__file__)]
    return [*sources, ROOT / "buf.yaml", *sorted((ROOT / "api" / "proto").rglob("*.proto"))]


def _generate() -> dict[str, str]:
    """The handlers, generated afresh; the overlay that puts them under GW_FOLDER."""
    try:
        buf = buf_executable()
    except BufError as exc:
        raise Unavailable(str(exc)) from exc
    materialise(ROOT / ".thirdparty" / "proto")  # google/api/annotations.proto & co.
    shutil.rmtree(GENERATED, ignore_errors=True)
    template = OUT / "buf.gen.json"
    template.write_text(json.dumps(_template(), indent=2))
    run([buf, "generate", "--template", template], cwd=ROOT, what="buf generate (grpc-gateway)")
    handlers = sorted(GENERATED.rglob("*.pb.gw.go"))
    if not handlers:
        raise Unavailable("buf generated no grpc-gateway handler: no google.api.http binding?")
    return {str(GW_FOLDER / path.relative_to(GENERATED)): str(path) for path in handlers}


def build() -> Path:
    """The grpc-gateway server binary, built unless up to date; Unavailable if it cannot."""
    command = go()
    stamp = Stamp(OUT / "built.sha256", _inputs(), json.dumps(_template()), go_version())
    if stamp.fresh(BINARY, PLUGIN):
        return BINARY
    (OUT / "bin").mkdir(parents=True, exist_ok=True)
    run(
        [command, "build", "-mod=readonly", "-o", PLUGIN, PLUGIN_PACKAGE],
        cwd=MODULE,
        what="go build protoc-gen-grpc-gateway",
    )
    overlay = OUT / "overlay.json"
    overlay.write_text(json.dumps({"Replace": _generate()}, indent=2))
    run(
        [command, "build", "-mod=readonly", "-overlay", overlay, "-o", BINARY, "."],
        cwd=MODULE,
        what="go build bench/grpcgateway",
    )
    stamp.write()
    return BINARY


def describe() -> str:
    """grpc-gateway's pinned version and the Go that built it."""
    return f"grpc-gateway {pinned_version(MODULE / 'go.mod', GATEWAY_MODULE)} ({go_version()})"
