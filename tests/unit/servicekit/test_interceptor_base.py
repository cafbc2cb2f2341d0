"""The interceptors' base: grpc-interceptor's behaviour, with each method's handler reused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

from servicekit.grpc.interceptors.base import ServerInterceptor


@dataclass(frozen=True)
class Details:
    method: str
    invocation_metadata: tuple[tuple[str, str], ...] = ()


class Recorder(ServerInterceptor):
    """Tags each response with the method name it was told, to show what it was given."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def intercept(
        self, method: Callable[[Any, Any], Any], request: Any, context: Any, method_name: str
    ) -> Any:
        self.seen.append(method_name)
        return f"{method_name}:{method(request, context)}"


def unary(answer: str) -> Any:
    return grpc.unary_unary_rpc_method_handler(lambda request, context: f"{answer}({request})")


def test_a_methods_handler_is_built_once_while_the_next_step_returns_the_same_one() -> None:
    recorder = Recorder()
    inner = unary("inner")

    first = recorder.intercept_service(lambda _: inner, Details("/pkg.S/Get"))
    second = recorder.intercept_service(lambda _: inner, Details("/pkg.S/Get"))

    assert first is second
    assert first.unary_unary("one", None) == "/pkg.S/Get:inner(one)"
    assert second.unary_unary("two", None) == "/pkg.S/Get:inner(two)"


def test_a_next_step_that_builds_a_handler_per_call_gets_a_wrapper_per_call() -> None:
    recorder = Recorder()

    first = recorder.intercept_service(lambda _: unary("first"), Details("/pkg.S/Get"))
    second = recorder.intercept_service(lambda _: unary("second"), Details("/pkg.S/Get"))

    assert first is not second
    assert first.unary_unary("x", None) == "/pkg.S/Get:first(x)"
    assert second.unary_unary("x", None) == "/pkg.S/Get:second(x)"


def test_one_handler_serving_several_methods_is_told_the_right_method_each_time() -> None:
    recorder = Recorder()
    shared = unary("shared")

    for method in ("/pkg.S/A", "/pkg.S/B", "/pkg.S/A"):
        handler = recorder.intercept_service(lambda _: shared, Details(method))
        handler.unary_unary("x", None)

    assert recorder.seen == ["/pkg.S/A", "/pkg.S/B", "/pkg.S/A"]


def test_the_kind_and_the_serializers_of_the_next_handler_are_kept() -> None:
    def stream(request: Any, context: Any) -> Any:
        return iter([request])

    inner = grpc.unary_stream_rpc_method_handler(
        stream, request_deserializer=bytes.decode, response_serializer=str.encode
    )

    handler = Recorder().intercept_service(lambda _: inner, Details("/pkg.S/Watch"))

    assert handler.unary_unary is None
    assert handler.unary_stream is not None
    assert handler.request_deserializer is bytes.decode
    assert handler.response_serializer is str.encode


def test_an_unknown_method_stays_unimplemented() -> None:
    assert Recorder().intercept_service(lambda _: None, Details("/pkg.S/Nope")) is None
