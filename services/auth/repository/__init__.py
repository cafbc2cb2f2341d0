"""Where the Auth Service keeps its state: one module per aggregate, each repository an
interface with a SQLAlchemy implementation (the fakes live beside the unit tests, in
``tests/unit/auth/fakes.py``).

``sessions`` holds sessions and their refresh tokens, ``signing_keys`` the keys that sign
access tokens, ``login_attempts`` the sign-in counters of the throttle.

Both implementations pass one contract test suite. Repositories never commit: the use
case's unit of work does. Two writes decide races in the database itself: claiming a
refresh token is a conditional UPDATE (``WHERE used_at IS NULL``) whose row count says who
won, and a login-attempts row is locked (``SELECT ... FOR UPDATE``; SQLite's
``BEGIN IMMEDIATE`` serialises writers anyway) before it is counted.
"""
