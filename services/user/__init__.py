"""The User Service: users and their credentials behind ``acme.user.v1.UserService``.

Read it inward: ``handlers`` (proto <-> plain values) -> ``service`` (use cases, one
transaction each) -> ``domain`` (entities and rules) <- ``repository`` (storage; its
in-memory double for unit tests in ``fakes``).
"""
