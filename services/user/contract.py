"""The rules of the User Service that its contract states, read from the descriptors.

The use cases and the domain never import protobuf: the wiring reads these once and hands
them in as plain values. Each is cross-checked, so a contract the code cannot follow stops
the service at start instead of misbehaving later.
"""

from __future__ import annotations

import dataclasses

from acme.user.v1 import user_pb2, user_service_pb2
from servicekit.contract import field_default, field_mask_paths, int_bounds, is_required
from services.user.domain import UpdateMask, UserChanges
from services.user.pagination import PageLimits

__all__ = ["contract_page_limits", "contract_update_mask"]


def contract_page_limits() -> PageLimits:
    """``ListUsers``' page size default and maximum, as the contract states them."""
    descriptor = user_service_pb2.ListUsersRequest.DESCRIPTOR
    default = field_default(descriptor, "page_size")
    _, maximum = int_bounds(descriptor, "page_size")
    if not isinstance(default, int) or maximum is None:
        raise TypeError("ListUsersRequest.page_size lacks its default or maximum in the contract")
    return PageLimits(default=default, maximum=maximum)


def contract_update_mask() -> UpdateMask:
    """``UpdateUser``'s mask: the paths its ``field_mask.in`` rule allows, among the fields of
    ``User``, and whether the mask is required; each path one that ``UserChanges`` carries."""
    request = user_service_pb2.UpdateUserRequest.DESCRIPTOR
    paths = field_mask_paths(request, "update_mask")
    carried = {field.name for field in dataclasses.fields(UserChanges)}
    if not paths or not paths <= carried:
        raise TypeError(
            "UpdateUserRequest.update_mask must list its paths (field_mask.in), each one of "
            f"{sorted(carried)}; the contract lists {sorted(paths)}"
        )
    return UpdateMask(
        paths=paths,
        fields=frozenset(user_pb2.User.DESCRIPTOR.fields_by_name),
        required=is_required(request, "update_mask"),
    )
