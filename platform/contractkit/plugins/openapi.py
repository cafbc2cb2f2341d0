"""protoc-gen-openapi: the REST face of the contracts as one OpenAPI 3.0.3 document.

Run by buf with `strategy: all`, it merges every RPC with a `google.api.http` rule in the
files to generate into one YAML file. Parameters (`opt:` in buf.gen.yaml), comma-separated:
`file` (output name, default `openapi.yaml`), `title` (default `API`) and `version`.

When the files to generate bind no RPC to HTTP, no file is written: buf runs a
`strategy: all` plugin once per input of buf.gen.yaml, and an input of third-party protos
alone must not overwrite the document of the contracts with an empty one.
"""

from __future__ import annotations

from google.protobuf.compiler import plugin_pb2

from contractkit.openapigen import build_document, parse_settings, render_document
from contractkit.plugins._io import run_plugin

__all__ = ["generate", "main"]


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    """The response holding the one OpenAPI document of the request's files."""
    settings = parse_settings(request.parameter)
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL,
    )
    document = build_document(request, settings)
    if document["paths"]:
        response.file.add(name=settings.file, content=render_document(document))
    return response


def main() -> int:
    """Entry point of the `protoc-gen-openapi` executable."""
    return run_plugin(generate)


if __name__ == "__main__":
    raise SystemExit(main())
