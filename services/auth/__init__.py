"""The Auth Service: sign-in, refresh-token rotation and signing keys behind ``acme.auth.v1``.

Read it inward: ``handlers`` (proto <-> plain values) -> ``service`` (use cases, one
transaction each) -> ``domain`` (entities and rules), ``keys`` and ``tokens`` (signing) <-
``repository`` (storage). ``ports`` names what the service needs from outside: the user
directory that checks passwords (the User Service, called as the service ``auth``).
"""
