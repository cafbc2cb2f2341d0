"""The gateway refuses to start when its document and the contracts disagree."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services.gateway.app import create_app
from services.gateway.plans import PlanError
from services.gateway.settings import DEFAULT_SPEC_FILE, load


def test_every_disagreement_is_named_before_anything_serves(tmp_path: Path) -> None:
    document = yaml.safe_load(DEFAULT_SPEC_FILE.read_text(encoding="utf-8"))
    paths = document["paths"]
    paths["/v1/users/{id}"]["get"]["operationId"] = "acme.user.v1.UserService.GetUsers"
    paths["/v1/users"]["get"]["parameters"].append(
        {"name": "sortBy", "in": "query", "schema": {"type": "string"}}
    )
    paths["/v2/auth/login"] = paths.pop("/v1/auth/login")
    settings = load(env={"GATEWAY_HTTP__SPEC_FILE": str(tmp_path / "openapi.yaml")})
    (tmp_path / "openapi.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")

    with pytest.raises(PlanError) as refused:
        create_app(settings)

    problems = "\n".join(refused.value.problems)
    assert "GET /v1/users/{id} (acme.user.v1.UserService.GetUsers): no gRPC method" in problems
    assert "query parameter 'sortBy': 'sortBy' is not a field of ListUsersRequest" in problems
    assert "POST /v2/auth/login" in problems
    assert "the google.api.http rule says POST /v1/auth/login" in problems
    assert len(refused.value.problems) == 3
