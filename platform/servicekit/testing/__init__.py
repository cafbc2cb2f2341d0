"""Helpers for the tests of services: throw-away databases, signed test tokens, free ports,
and the in-memory unit of work that the services' fakes build on."""
