"""schemathesis against the live gateway in front of real services: every operation with
valid and with invalid input, then sequences of calls linked by the ids they return. No
5xx, invalid input refused, and every answer (status, content type, headers, body) is one
the document declares.

The runs are bounded (``MAX_EXAMPLES`` cases per operation and mode, short scenarios) so
that ``make test`` stays quick; the calls are made as an administrator, so that they reach
the services' logic instead of stopping at authentication.
"""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from typing import Any

import hypothesis
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.gateway.settings import DEFAULT_SPEC_FILE
from tests.e2e.gateway._gateway import Rest, RunningGateway

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# schemathesis' own stateful defaults: no shrinking or replay of a live system's answers.
_STATEFUL = settings(_SETTINGS, derandomize=False, phases=[Phase.generate], stateful_step_count=6)


def _cases() -> list[Any]:
    """One (method, path, mode) per operation and generation mode that can apply to it."""
    document = yaml.safe_load(DEFAULT_SPEC_FILE.read_text(encoding="utf-8"))
    cases = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            modes = [GenerationMode.POSITIVE]
            if operation.get("parameters") or operation.get("requestBody"):
                modes.append(GenerationMode.NEGATIVE)  # something to get wrong
            cases += [
                pytest.param(method.upper(), path, mode, id=f"{method.upper()} {path} {mode}")
                for mode in modes
            ]
    return cases


@pytest.fixture(scope="module")
def api_schema(gateway: RunningGateway, rest: Rest) -> Any:
    """The document as the gateway serves it, unmodified, called as an administrator."""
    served = rest.client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(served)
    schema.config.update(base_url=gateway.base_url, headers=rest.admin())
    schema.config.generation.update(max_examples=MAX_EXAMPLES)
    return schema


# schemathesis' own parametrization (schemathesis.pytest.from_fixture) sets the removed
# `Node._nodeid` of pytest < 9.2, so each operation is driven through the Python API here.
@pytest.mark.parametrize(("method", "path", "mode"), _cases())
def test_every_operation_answers_as_the_document_says(
    api_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    """Valid requests, and invalid ones (negative mode: each must be refused with a 4xx)."""
    operation = api_schema[path][method]
    checks = CHECKS if mode is GenerationMode.POSITIVE else [*CHECKS, negative_data_rejection]

    @_SETTINGS
    @given(case=operation.as_strategy(mode))
    def call_and_check(case: Any) -> None:
        case.call_and_validate(checks=checks)

    call_and_check()


def test_linked_sequences_of_calls_answer_as_the_document_says(
    gateway: RunningGateway, rest: Rest
) -> None:
    """Scenarios chained through the ids of the users they create (create, then read,
    change and delete that user), from the links schemathesis infers."""
    answers: Counter[tuple[str, str, int]] = Counter()
    document = rest.client.get("/openapi.json").json()
    linked = _without_create_request_ids(document, gateway, rest)

    class Checked(linked.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            super().before_call(case)
            _realistic(case, document)

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            answers[(case.method, case.path, response.status_code)] += 1

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    for seed in range(5):
        try:
            hypothesis.seed(seed)(Checked).run(settings=_STATEFUL)
            break
        except FlakyStrategyDefinition:
            # The services' state changed between two draws of one scenario (an email taken
            # since, a user deleted): Hypothesis cannot replay it. Not a finding; go on.
            continue

    assert answers[("POST", "/v1/users", 200)] > 0
    assert answers[("GET", "/v1/users/{id}", 200)] > 0  # a created user, read back by its id
    assert answers[("PATCH", "/v1/users/{id}", 200)] > 0


def _without_create_request_ids(
    document: dict[str, Any], gateway: RunningGateway, rest: Rest
) -> Any:
    """The document without CreateUser's ``requestId``, for the linked scenarios:
    schemathesis reads a body field named ``<name>Id`` as a reference to a resource some
    other call must produce first, and finds a producer in the problem documents'
    ``requestId``, so it would never create a user first. Request ids have tests of their
    own (``tests/e2e/user/test_user_idempotency.py``)."""
    trimmed = copy.deepcopy(document)
    create = trimmed["components"]["schemas"]["acme.user.v1.CreateUserRequest"]
    create["properties"].pop("requestId")
    schema = schemathesis.openapi.from_dict(trimmed)
    schema.config.update(base_url=gateway.base_url, headers=rest.admin())
    schema.config.generation.update(max_examples=MAX_EXAMPLES)
    return schema


def _realistic(case: Any, document: dict[str, Any]) -> None:
    """Scenarios need some calls to succeed: only the fields the messages have (the
    document does not close its objects, the gateway refuses unknown fields), a fresh email
    and request id for each new user (Hypothesis keeps proposing ``0@A.com``), and an
    update mask naming the fields the body sets."""
    body = case.body if isinstance(case.body, dict) else None
    if body is None:
        return
    for name in set(body) - _declared(document, case.method, case.path):
        del body[name]
    if case.method == "POST" and case.path == "/v1/users" and "email" in body:
        body["email"] = f"{uuid.uuid4().hex}@example.com"
        if "requestId" in body:  # a request id is one create's: Hypothesis reuses its values
            body["requestId"] = str(uuid.uuid4())
    if case.method == "PATCH" and isinstance(case.query, dict):
        fields = [name for name in ("displayName", "email", "roles") if name in body]
        if fields:
            case.query["updateMask"] = ",".join(fields)


def _declared(document: dict[str, Any], method: str, path: str) -> set[str]:
    """The properties of the request body schema of an operation."""
    body = document["paths"][path][method.lower()].get("requestBody", {})
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return set(schema.get("properties", {}))
