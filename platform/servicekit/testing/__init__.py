"""Helpers for the tests of services: throw-away databases, signed test tokens, free ports."""
