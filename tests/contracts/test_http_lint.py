"""contractkit.http_lint: every `google.api.http` binding names fields its messages have,
checked at lint (generation would refuse them later, one at a time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contractkit.http_lint import check_http_rules
from tests.contracts._buf import build_contract

OWN = "shop/v1/shop.proto"
SOURCE = """syntax = "proto3";
package shop.v1;
import "google/api/annotations.proto";

service Shop {
  rpc Get(GetRequest) returns (GetResponse) {
    option (google.api.http) = {BINDING};
  }
}
message GetRequest {
  string id = 1;
  Item item = 2;
  repeated Item items = 3;
}
message Item {
  string sku = 1;
  Price price = 2;
}
message Price {
  int64 cents = 1;
}
message GetResponse {
  Item item = 1;
}
"""


def problems(tmp_path: Path, binding: str) -> list[str]:
    files = build_contract(tmp_path / "contract", {OWN: SOURCE.replace("BINDING", binding)})
    return [f"{f.message} [{f.rule}]" for f in check_http_rules(files, [OWN])]


@pytest.mark.parametrize(
    "binding",
    [
        'get: "/v1/items/{id}"',
        'get: "/v1/items/{item.sku}"',
        'get: "/v1/{item.price.cents}"',
        'patch: "/v1/items/{item.sku}" body: "item" response_body: "item"',
        'post: "/v1/items" body: "*"',
        'get: "/v1/items/{id=shelves/*}" additional_bindings {get: "/v2/items/{item.sku}"}',
        'custom: {kind: "HEAD" path: "/v1/items/{id}"}',
    ],
)
def test_a_binding_that_names_real_fields_passes(tmp_path: Path, binding: str) -> None:
    assert problems(tmp_path, binding) == []


@pytest.mark.parametrize(
    ("binding", "expected"),
    [
        (
            'get: "/v1/items/{uid}"',
            "GET /v1/items/{uid}: path variable {uid} names no field of shop.v1.GetRequest "
            "[HTTP_PATH_VARIABLE]",
        ),
        (
            'get: "/v1/items/{item.code}"',
            "GET /v1/items/{item.code}: path variable {item.code} names no field of "
            "shop.v1.GetRequest (shop.v1.Item has no 'code') [HTTP_PATH_VARIABLE]",
        ),
        (
            'get: "/v1/items/{item}"',
            "GET /v1/items/{item}: path variable {item} names shop.v1.GetRequest.item, which is "
            "not a singular scalar or enum field [HTTP_PATH_VARIABLE]",
        ),
        (
            'get: "/v1/items/{items.sku}"',
            "GET /v1/items/{items.sku}: path variable {items.sku} steps through "
            "shop.v1.GetRequest.items, which is not a singular message field [HTTP_PATH_VARIABLE]",
        ),
        (
            'post: "/v1/items" body: "thing"',
            "POST /v1/items: body 'thing' names no field of shop.v1.GetRequest [HTTP_BODY_FIELD]",
        ),
        (
            'get: "/v1/items/{id}" response_body: "items"',
            "GET /v1/items/{id}: response_body 'items' names no field of shop.v1.GetResponse "
            "[HTTP_RESPONSE_BODY_FIELD]",
        ),
        (
            'get: "/v1/items/{id" ',
            "GET /v1/items/{id: path template '/v1/items/{id' has a malformed variable "
            "[HTTP_PATH_TEMPLATE]",
        ),
        (
            'get: "/v1/items/{id}" additional_bindings {delete: "/v1/items/{sku}"}',
            "DELETE /v1/items/{sku}: path variable {sku} names no field of shop.v1.GetRequest "
            "[HTTP_PATH_VARIABLE]",
        ),
    ],
)
def test_a_binding_that_names_a_missing_field_is_named(
    tmp_path: Path, binding: str, expected: str
) -> None:
    assert problems(tmp_path, binding) == [expected]


def test_the_finding_names_the_rpc_and_its_line(tmp_path: Path) -> None:
    files = build_contract(
        tmp_path / "contract", {OWN: SOURCE.replace("BINDING", 'get: "/v1/items/{uid}"')}
    )

    [finding] = check_http_rules(files, [OWN])

    assert (finding.source, finding.location) == ("shop/v1/shop.proto:6:3", "shop.v1.Shop.Get")
