"""Server interceptors, one job each; ``servicekit.grpc.chain`` puts them in order.

This package re-exports the edge's error mapping. The observers (``request_context``,
``tracing``, ``metrics``) and the guards (``auth``, ``validation``) are imported from their
own modules.
"""

from servicekit.grpc.interceptors.errors import DEFAULT_ERROR_TABLE, ErrorMappingInterceptor

__all__ = ["DEFAULT_ERROR_TABLE", "ErrorMappingInterceptor"]
