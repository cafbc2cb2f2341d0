"""Plugin protocol plumbing shared by the contractkit plugins."""

from __future__ import annotations

import sys
from collections.abc import Callable

from google.protobuf.compiler import plugin_pb2

__all__ = ["PluginError", "run_plugin"]

Generator = Callable[[plugin_pb2.CodeGeneratorRequest], plugin_pb2.CodeGeneratorResponse]


def run_plugin(generate: Generator) -> int:
    """Reads the request from stdin, runs `generate`, writes the response to stdout.

    An exception inside `generate` becomes the response's `error` (which buf prints with
    the plugin's name) instead of a traceback on a pipe nobody reads.
    """
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    try:
        response = generate(request)
    except PluginError as exc:
        response = plugin_pb2.CodeGeneratorResponse(error=str(exc))
    sys.stdout.buffer.write(response.SerializeToString())
    sys.stdout.buffer.flush()
    return 0


class PluginError(Exception):
    """A problem in the input that the plugin reports to buf as its error."""
