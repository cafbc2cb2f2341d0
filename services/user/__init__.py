"""The User Service: users and their credentials behind ``acme.user.v1.UserService``.

Read it inward: ``handlers`` (proto <-> plain values) -> ``service`` (use cases, one
transaction each) -> ``domain`` (entities and rules) <- ``repository`` (storage; its
in-memory double lives beside the unit tests). ``contract`` reads the rules the contract
states (page sizes, update-mask paths) for ``app``, the wiring; ``definition`` declares the
service to servicekit, whose command line ``python -m services.user`` runs.
"""
