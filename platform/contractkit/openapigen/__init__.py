"""The REST face of the contracts: one OpenAPI 3.0.3 document from `google.api.http`.

`protoc-gen-openapi` (`contractkit.plugins.openapi`) is the entry point; the modules here
each build one part of the document: comments, schemas and their validation constraints,
path templates, parameters, operations, access policies and problem responses.
"""

from contractkit.openapigen.document import build_document, render_document
from contractkit.openapigen.settings import Settings, parse_settings

__all__ = ["Settings", "build_document", "parse_settings", "render_document"]
