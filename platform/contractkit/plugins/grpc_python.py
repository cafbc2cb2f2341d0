"""protoc-gen-grpc_python: grpcio-tools' gRPC Python generator as a standalone plugin.

grpcio-tools embeds its gRPC generator in its own protoc and ships no plugin binary, and
buf has no built-in `grpc_python`. This plugin hands the request's files to that embedded
protoc as a descriptor set and returns what it writes, so the output is byte-for-byte
what `python -m grpc_tools.protoc --grpc_python_out` produces, with protoc pinned by the
lock file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc

from contractkit.plugins._io import PluginError, run_plugin

__all__ = ["generate", "main"]


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    """Runs the embedded generator over the request's files to generate."""
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL,
    )
    with tempfile.TemporaryDirectory(prefix="grpc_python-") as tmp:
        root = Path(tmp)
        descriptors = root / "request.binpb"
        descriptors.write_bytes(
            descriptor_pb2.FileDescriptorSet(file=request.proto_file).SerializeToString()
        )
        out = root / "out"
        out.mkdir()
        option = (
            f"--grpc_python_out={request.parameter}:{out}"
            if request.parameter
            else (f"--grpc_python_out={out}")
        )
        status = protoc.main(
            [
                "grpc_tools.protoc",
                f"--descriptor_set_in={descriptors}",
                option,
                *request.file_to_generate,
            ]
        )
        if status != 0:
            raise PluginError(f"grpc_tools.protoc exited with {status}")
        for path in sorted(out.rglob("*")):
            if path.is_file():
                response.file.add(name=path.relative_to(out).as_posix(), content=path.read_text())
    return response


def main() -> int:
    """Entry point of the `protoc-gen-grpc_python` executable."""
    return run_plugin(generate)


if __name__ == "__main__":
    raise SystemExit(main())
