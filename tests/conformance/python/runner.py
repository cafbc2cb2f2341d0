"""The Python conformance runner: gen/python's stubs over grpcio.

    runner.py session SCENARIO CONFIG   # run data/session.json against a live stack
    runner.py vectors VECTORS           # decode and re-encode data/vectors.json

CONFIG is JSON: {"targets": {"<proto service>": "host:port"}, "inputs": {"run": ..., ...}}.
Prints `PASS step` or `FAIL step: why` per step (or vector), then `N passed, N failed`;
exits 1 when anything failed. The format of both data files is in tests/conformance/README.md.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.message import Message
from google.rpc import error_details_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_status import rpc_status  # type: ignore[import-untyped, unused-ignore]

# The messages the vectors name are registered by importing their modules.
from acme.auth.v1 import auth_service_pb2  # noqa: F401
from acme.options.v1 import access_pb2  # noqa: F401
from acme.user.v1 import user_service_pb2  # noqa: F401

DEADLINE_SECONDS = 10.0
VARIABLE = re.compile(r"\$\{([^}]+)\}")
MISSING = object()


class StepFailed(Exception):
    """Why a step (or a vector) did not pass."""


# --- values and variables -------------------------------------------------------------------


def lookup(value: Any, path: str) -> Any:
    """The value at a dotted ``path`` (a number indexes a list), or ``MISSING``."""
    for key in path.split("."):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return MISSING
    return value


def substitute(value: Any, inputs: dict[str, Any], replies: dict[str, Any]) -> Any:
    """``value`` with every ``${step.path}`` and ``${input.name}`` in its strings replaced."""

    def one(found: re.Match[str]) -> str:
        name, _, path = found[1].partition(".")
        resolved = lookup(inputs if name == "input" else replies.get(name, MISSING), path)
        if resolved is MISSING:
            raise StepFailed(f"unresolved ${{{found[1]}}}")
        return resolved if isinstance(resolved, str) else json.dumps(resolved)

    if isinstance(value, str):
        return VARIABLE.sub(one, value)
    if isinstance(value, list):
        return [substitute(item, inputs, replies) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, inputs, replies) for key, item in value.items()}
    return value


def is_present(value: Any) -> bool:
    return value is not MISSING and value not in ("", [], {}, None)


# --- checks ---------------------------------------------------------------------------------


def check_response(reply: Any, checks: list[dict[str, Any]]) -> None:
    for check in checks:
        path = check["path"]
        found = lookup(reply, path)
        if "equals" in check and found != check["equals"]:
            raise StepFailed(f"{path} is {show(found)}, expected {show(check['equals'])}")
        if "notEquals" in check and found == check["notEquals"]:
            raise StepFailed(f"{path} is {show(found)}, expected anything else")
        if "present" in check and is_present(found) != check["present"]:
            raise StepFailed(f"{path} is {show(found)}, expected present={check['present']}")
        if "length" in check and (not isinstance(found, list) or len(found) != check["length"]):
            raise StepFailed(f"{path} is {show(found)}, expected {check['length']} items")


def check_error(error: grpc.RpcError, expect: dict[str, Any]) -> None:
    status = rpc_status.from_call(error)
    details = list(status.details) if status is not None else []
    if "badRequest" in expect:
        got = sorted(
            (violation.field, violation.reason)
            for detail in details
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR)
            for violation in unpack(detail, error_details_pb2.BadRequest()).field_violations
        )
        wanted = sorted((item["field"], item["reason"]) for item in expect["badRequest"])
        if got != wanted:
            raise StepFailed(f"field violations {got}, expected {wanted}")
    if "retryInfo" in expect:
        delays = [
            unpack(detail, error_details_pb2.RetryInfo()).retry_delay.ToNanoseconds() / 1e9
            for detail in details
            if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR)
        ]
        least = expect["retryInfo"]["minDelaySeconds"]
        if not delays or delays[0] < least:
            raise StepFailed(f"retry delays {delays}, expected one of at least {least} s")


def unpack(detail: Any, into: Message) -> Any:
    detail.Unpack(into)
    return into


def show(value: Any) -> str:
    return "missing" if value is MISSING else json.dumps(value)


# --- session --------------------------------------------------------------------------------


class Session:
    """The generated stubs of each service, on one channel per target."""

    def __init__(self, targets: dict[str, str]) -> None:
        self.channels = {name: grpc.insecure_channel(target) for name, target in targets.items()}
        self.pool = descriptor_pool.Default()

    def method(self, call: str) -> tuple[Callable[..., Any], type[Message]]:
        """The stub's callable for ``service/Method`` and the class of its request."""
        service_name, _, method_name = call.partition("/")
        service = self.pool.FindServiceByName(service_name)
        stubs = importlib.import_module(
            service.file.name.removesuffix(".proto").replace("/", ".") + "_pb2_grpc"
        )
        stub = getattr(stubs, f"{service.name}Stub")(self.channels[service_name])
        request = message_factory.GetMessageClass(service.methods_by_name[method_name].input_type)
        return getattr(stub, method_name), request

    def run(self, step: dict[str, Any], inputs: dict[str, Any], replies: dict[str, Any]) -> None:
        method, request_class = self.method(step["call"])
        request = json_format.ParseDict(
            substitute(step["request"], inputs, replies), request_class()
        )
        metadata = []
        if "token" in step:
            metadata.append(
                ("authorization", f"Bearer {substitute(step['token'], inputs, replies)}")
            )
        expect = substitute(step["expect"], inputs, replies)
        try:
            reply = json_format.MessageToDict(
                method(request, metadata=metadata, timeout=DEADLINE_SECONDS)
            )
        except grpc.RpcError as error:
            if error.code().name != expect["code"]:
                raise StepFailed(
                    f"status {error.code().name} ({error.details()}), expected {expect['code']}"
                ) from None
            check_error(error, expect)
            return
        if expect["code"] != "OK":
            raise StepFailed(f"status OK, expected {expect['code']}")
        replies[step["name"]] = reply
        check_response(reply, expect.get("response", []))


def session(scenario_file: str, config_file: str) -> list[tuple[str, str | None]]:
    scenario = json.loads(Path(scenario_file).read_text())
    config = json.loads(Path(config_file).read_text())
    runner = Session(config["targets"])
    replies: dict[str, Any] = {}
    outcomes: list[tuple[str, str | None]] = []
    for step in scenario["steps"]:
        try:
            runner.run(step, config["inputs"], replies)
            outcomes.append((step["name"], None))
        except (StepFailed, json_format.ParseError, KeyError, ValueError) as failed:
            outcomes.append((step["name"], str(failed) or repr(failed)))
    return outcomes


# --- vectors --------------------------------------------------------------------------------


def vector(item: dict[str, Any]) -> None:
    """Binary and JSON decoded, each re-encoded both ways: bytes identical, JSON equal."""
    message_class = message_factory.GetMessageClass(
        descriptor_pool.Default().FindMessageTypeByName(item["type"])
    )
    binary = bytes.fromhex(item["binary"])
    from_binary = message_class.FromString(binary)
    from_json = json_format.ParseDict(item["json"], message_class())
    for source, decoded in (("binary", from_binary), ("json", from_json)):
        encoded = decoded.SerializeToString()
        if encoded != binary:
            raise StepFailed(f"{source} -> binary gave {encoded.hex()}, expected {item['binary']}")
        as_json = json.loads(json_format.MessageToJson(decoded))
        if as_json != item["json"]:
            raise StepFailed(f"{source} -> json gave {json.dumps(as_json)}")


def vectors(vectors_file: str) -> list[tuple[str, str | None]]:
    outcomes: list[tuple[str, str | None]] = []
    for item in json.loads(Path(vectors_file).read_text())["vectors"]:
        try:
            vector(item)
            outcomes.append((item["name"], None))
        except (StepFailed, json_format.ParseError, ValueError) as failed:
            outcomes.append((item["name"], str(failed)))
    return outcomes


def main(argv: list[str]) -> int:
    modes: dict[str, Callable[..., list[tuple[str, str | None]]]] = {
        "session": session,
        "vectors": vectors,
    }
    arity = {"session": 2, "vectors": 1}
    if len(argv) < 1 or argv[0] not in modes or len(argv) - 1 != arity[argv[0]]:
        print(__doc__, file=sys.stderr)
        return 2
    outcomes = modes[argv[0]](*argv[1:])
    for name, failure in outcomes:
        print(f"PASS {name}" if failure is None else f"FAIL {name}: {failure}")
    failed = sum(failure is not None for _, failure in outcomes)
    print(f"{len(outcomes) - failed} passed, {failed} failed")
    return 1 if failed or not outcomes else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
