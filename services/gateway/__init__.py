"""The API Gateway: the REST face of the contracts, transcoded to gRPC.

A connexion (ASGI) app serves the generated OpenAPI document; every operation resolves to
one generic transcoder that finds its gRPC method by ``operationId`` and its
``google.api.http`` rule, builds the request message from the path, query and body (the
proto3 JSON mapping), calls the backend that serves the method's contract service and
answers with the reply as proto3 JSON. Errors are problem details derived from the gRPC
status. The routing names no contract service (only ``/.well-known/jwks.json`` names the
auth contract's GetJwks, and exists only while the document has it): the generated
contracts are found by walking them, and which backend serves which one is a setting.

Read it from the edge inward:

- ``app``: the wiring (``create_app``, ``serve``) and ``settings`` (the ``[backends.<name>]``
  map: ``backendmap``); ``contracts`` finds the generated contracts and routes each
  contract service to its backend (a service with no backend answers 503);
- ``edge``: the request's scope (``scope`` carries it inward), the body-size limit and the
  gateway's own ``endpoints`` (health, readiness, JWKS), over ``propagation`` (request id,
  trace context, the backends' metadata) and ``accesslog`` (one log line per request and
  its ``metrics``);
- connexion: routing and validation against the document (``validation`` reports field
  violations; ``errors`` renders what connexion raises);
- ``transcoder``: the one handler, after ``ratelimits`` (a budget per client and chosen
  operation), over ``plans`` (each operation's work, done at start;
  ``fieldpaths`` spells field names), ``messages`` (a call's request message from its
  arguments, its reply's body) and ``backends`` (servicekit's asyncio channels: deadline,
  propagation, metrics, one circuit breaker per method; readiness);
- ``problems``: every error as problem details.
"""

import warnings

# connexion imports starlette.testclient when it starts, and Starlette warns there about the
# test client's HTTP library on every start of the gateway; the gateway never uses it.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
