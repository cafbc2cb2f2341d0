"""What became of a call, as seen by the interceptors that only observe it.

The request context, tracing and metrics interceptors sit outside the error mapping one.
By the time a call comes back to them its status is settled in one of three ways:

- the handler returned: ``context.code()`` is None (grpcio's "nothing set": OK), or the
  code a handler set with ``set_code``;
- something called ``context.abort``/``abort_with_status``: grpcio set the code, then
  raised a bare ``Exception``, which comes out of ``method(...)``;
- an exception escaped with no code set: grpcio will answer UNKNOWN;
- the client went away (cancelled, or its deadline passed) while nothing was set: the
  answer never reaches it, and the call counts as CANCELLED.

A streamed response is settled only when its iterator ends, which is why ``watch_stream``
exists: it reports the outcome when the last message has gone (or the client left).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

__all__ = ["Step", "final_code", "is_stream", "watch_stream"]

_T = TypeVar("_T")

Step = Callable[[Callable[[], Any]], Any]
"""Runs one piece of the call, e.g. ``contextvars.Context.run`` to stay in the call's scope."""


def final_code(context: grpc.ServicerContext, error: BaseException | None) -> grpc.StatusCode:
    """The status the client receives, given the exception the call ended with (if any)."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if error is not None:
        return grpc.StatusCode.UNKNOWN
    return grpc.StatusCode.OK if context.is_active() else grpc.StatusCode.CANCELLED


def is_stream(response: object) -> bool:
    """Whether a handler's result is a response stream rather than one message."""
    return response is not None and not isinstance(response, Message)


def _now(piece: Callable[[], _T]) -> _T:
    return piece()


def watch_stream(
    responses: Iterable[_T],
    context: grpc.ServicerContext,
    on_done: Callable[[grpc.StatusCode], None],
    *,
    step: Step = _now,
) -> Iterator[_T]:
    """Yield ``responses``, then call ``on_done`` once with the call's final code.

    A client that goes away closes this generator: the code is then CANCELLED and the
    inner iterator is closed too (through ``step``, so that it unwinds in its own scope).
    """
    iterator: Iterator[_T] = step(lambda: iter(responses))
    code: grpc.StatusCode | None = None
    try:
        while True:
            try:
                item: _T = step(lambda: next(iterator))
            except StopIteration:
                return
            yield item
    except GeneratorExit:
        code = grpc.StatusCode.CANCELLED
        close = getattr(iterator, "close", None)
        if close is not None:
            step(close)
        raise
    except BaseException as error:
        code = final_code(context, error)
        raise
    finally:
        on_done(code if code is not None else final_code(context, None))
