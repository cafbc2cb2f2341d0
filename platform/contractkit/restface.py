"""Names of the REST face that the OpenAPI generator writes and the gateway reads.

Like ``contractkit.httpstatus``, this module imports nothing: the gateway's runtime reads
it without loading the generator.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FIELD_PATH_EXTENSION"]

FIELD_PATH_EXTENSION: Final = "x-acme-field-path"
"""The extension of a path parameter naming the request field it fills, as a dotted path
of proto field names (``user.id``): the parameter's own name is an identifier (``id``),
as every OpenAPI tool needs, and says nothing of where the value goes."""
