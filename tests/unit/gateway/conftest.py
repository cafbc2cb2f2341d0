"""Fixtures of the gateway's unit tests: the plans of the real document, and of notes."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from services.gateway.contracts import import_contracts
from services.gateway.plans import OperationPlan, build_plans
from services.gateway.settings import DEFAULT_SPEC_FILE
from tests.unit.gateway._notes import notes_paths, register_notes


@pytest.fixture(scope="session")
def document() -> dict[str, Any]:
    """The generated OpenAPI document of the repository."""
    loaded: dict[str, Any] = yaml.safe_load(DEFAULT_SPEC_FILE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="session")
def plans(document: dict[str, Any]) -> dict[str, OperationPlan]:
    """Every operation's plan, the notes contract's included, by operationId."""
    import_contracts()
    register_notes()
    return build_plans({"paths": {**document["paths"], **notes_paths()}})
