"""connexion's ``AsyncApp``, each operation's handler decorated once instead of per request;
its Swagger UI middleware asked for the docs' paths only.

connexion 3.3 builds an operation's decorators on every request: ``AsyncOperation.fn``
makes a new ``StarletteDecorator``, whose wrapper decorates the handler again on each call
(a parameter decorator that inspects the handler's signature, a response decorator,
``functools.wraps`` three times) and builds a new URI parser from the operation's
definitions. None of it depends on the request. ``DecoratedOnceApp`` is ``AsyncApp`` with
operations that decorate their handler when first called and keep it, with the operation's
URI parser: each request is still parsed, validated and answered by connexion's own
decorators, as before. connexion has no option for this, so the three classes below
replace the ones ``AsyncApp`` builds (the lock pins connexion; the gateway's tests run
every operation through them).

``docs_only_swagger_ui(path)`` is connexion's ``SwaggerUIMiddleware`` that hands every
request outside ``path`` straight to the next layer: connexion's own copies each request's
scope and matches it against the docs' routes, only to pass it on unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from connexion.apps.abstract import AbstractApp
from connexion.apps.asynchronous import AsyncApi, AsyncApp, AsyncASGIApp, AsyncOperation
from connexion.context import receive, scope
from connexion.decorators.main import StarletteDecorator
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from starlette.types import Receive, Scope, Send

__all__ = ["DecoratedOnceApp", "docs_only_swagger_ui"]


class _DecoratedOnce(StarletteDecorator):  # type: ignore[misc]  # connexion is untyped
    """``StarletteDecorator`` whose decorators and URI parser are built once, on first call."""

    def __call__(self, function: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        decorated = self.decorate(function)
        uri_parser: Any = None  # the operation's, known from the first request's context

        @functools.wraps(function)
        async def wrapper(*_args: Any, **_kwargs: Any) -> Any:
            nonlocal uri_parser
            if uri_parser is None:
                uri_parser = self.uri_parser
            request = self.framework.get_request(
                uri_parser=uri_parser, scope=scope, receive=receive
            )
            return await decorated(request)

        return wrapper


class _Operation(AsyncOperation):  # type: ignore[misc]
    @functools.cached_property
    def fn(self) -> Callable[..., Awaitable[Any]]:
        decorator = _DecoratedOnce(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)
        return decorator(self._fn)


class _Api(AsyncApi):  # type: ignore[misc]
    def make_operation(self, operation: Any) -> _Operation:
        return _Operation.from_operation(  # type: ignore[no-any-return]
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )


class _ASGIApp(AsyncASGIApp):  # type: ignore[misc]
    api_cls = _Api


class DecoratedOnceApp(AsyncApp):  # type: ignore[misc]
    """``AsyncApp`` (same arguments) whose operations decorate their handler once."""

    def __init__(self, import_name: str, **options: Any) -> None:
        # What AsyncApp.__init__ does, with the operations above.
        self._middleware_app = _ASGIApp()
        AbstractApp.__init__(self, import_name, **options)


def docs_only_swagger_ui(docs_path: str) -> type[SwaggerUIMiddleware]:
    """``SwaggerUIMiddleware`` for the docs served at ``docs_path`` (and under it) only."""
    prefix = f"{docs_path.rstrip('/')}/"

    class DocsOnlySwaggerUI(SwaggerUIMiddleware):  # type: ignore[misc]
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            path = scope.get("path", "")
            if scope["type"] == "http" and path != docs_path and not path.startswith(prefix):
                await self.app(scope, receive, send)
                return
            await super().__call__(scope, receive, send)

    return DocsOnlySwaggerUI
