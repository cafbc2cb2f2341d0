"""The Auth Service: sign-in, refresh-token rotation and signing keys behind ``acme.auth.v1``.

Read it inward: ``handlers`` (proto <-> plain values) -> ``service`` (the session and token
use cases, one transaction each, with ``key_management`` for the signing keys' and
``throttling`` for counting sign-in attempts) -> ``domain`` (entities and rules),
``attempts`` (the sign-in throttle's rules), ``keys``
and ``tokens`` (signing) <- ``repository`` (storage: ``sessions``, ``signing_keys``,
``login_attempts``). ``ports`` names what the service needs from outside: the user
directory that checks passwords and tells what a user is now, on every refresh (the User
Service, called as the service ``auth``).
``app`` wires it all; ``definition`` declares the service to servicekit, whose command
line ``python -m services.auth`` runs.
"""
