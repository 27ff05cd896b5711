"""One WSGI pipeline for the other platforms' modes, told apart by a `Dialect`.

Each request goes through what the Thingsee mode does (emulator.wsgi): route, latency, the
per-credential rate limit, authentication, scripted and random faults, the handler, faults after
the write is applied, the call log. The dialect decides everything a platform says its own way:
its URL prefix and routes, how it authenticates, its success and error bodies.

Scripted faults (`fail_next`, `fail_next_after_apply`) select requests by method and path. A
dialect also names the Thingsee call each request stands for (`concepts`: a ThingsMatrix
`PUT /devices/{sn}/attributes` is a status write, `POST /things/{sn}/installations`), so one
fault script drives every mode: {"status": 504, "method": "POST", "path": "/installations"}
hits the status write on whichever platform is emulated. `fail_next_error` queues the
platform's own error codes (ThingsMatrix 14410, ThingScale "MAX_DEVICE_REACH").
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from .. import control
from ..errors import ApiError, json_response
from ..httpserver import CONNECTION_CONTROL
from ..ratelimit import retry_after_header
from ..wsgi import ANONYMOUS, _match, record_request
from .state import PlatformState

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

# A handler answers (HTTP status, JSON payload); the dialect wraps the payload.
Handler = Callable[..., tuple[int, Any]]
Concept = tuple[str, str]  # (method, path) of the Thingsee call a request stands for


class PlatformFault(ApiError):
    """A refusal in the platform's own terms: HTTP status plus the platform's error code."""

    def __init__(self, status: int, code: int | str, message: str) -> None:
        super().__init__(message, status=status)
        self.code = code


@dataclass
class Dialect:
    """What one platform says differently."""

    key: str
    title: str
    api_prefix: str
    routes: Map
    handlers: dict[str, Handler]
    public: frozenset[str]  # endpoints that need no credentials (the login)
    authenticate: Callable[[PlatformState, Request], str]  # client id, or raise a fault
    caller: Callable[[PlatformState, Request], str | None]  # for rate limiting only
    concepts: Callable[[str, Request, dict[str, Any]], list[Concept]]
    fault_for_code: Callable[[int | str], PlatformFault]  # a queued platform error
    fault_for_status: Callable[[int], PlatformFault]  # an injected HTTP failure
    translate: Callable[[ApiError], PlatformFault]  # a shared-state error, in platform terms
    success: Callable[[int, Any], Response]
    error: Callable[[PlatformFault, dict[str, str] | None], Response]
    control_routes: Map | None = None
    control_handlers: dict[str, Callable[..., Any]] = field(default_factory=dict)


class PlatformApp:
    """Serve one platform's API under its prefix and the shared control surface."""

    def __init__(self, state: PlatformState, dialect: Dialect) -> None:
        self.state = state
        self.dialect = dialect

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        path, prefix = request.path, self.dialect.api_prefix
        if path == prefix or path.startswith(prefix + "/"):
            response = self._serve_api(request)
        elif path == control.CONTROL_PREFIX or path.startswith(control.CONTROL_PREFIX + "/"):
            response = self._serve_control(request)
        else:
            fault = PlatformFault(404, 404, f"No route for {path}")
            response = self.dialect.error(self.dialect.translate(fault), None)
        return response(environ, start_response)

    def _serve_api(self, request: Request) -> Response:
        state, dialect = self.state, self.dialect
        arrived = state.clock.now()
        client_id: str | None = None
        fault: str | None = None
        try:
            outage = state.settings.outage
            if outage:
                # As in the Thingsee mode: closed unanswered ("drop") or answered 503.
                fault = "outage"
                connection = request.environ.get(CONNECTION_CONTROL)
                if outage == "drop" and isinstance(connection, dict):
                    connection["drop"] = True
                response = dialect.error(dialect.fault_for_status(503), None)
                status = 0 if outage == "drop" else response.status_code
                record_request(state, request, arrived, status, None, fault)
                return response
            endpoint, args = _match(dialect.routes, dialect.api_prefix, request)
            client_id = dialect.caller(state, request)
            delay = state.delay_s(request.path, request.method)
            if delay > 0:
                time.sleep(delay)  # before any lock, so concurrent requests overlap
            wait = state.rate_limiter.acquire(client_id or ANONYMOUS)
            if wait is not None:
                fault = "rate_limit"
                headers = {"Retry-After": retry_after_header(wait)}
                response = dialect.error(dialect.fault_for_status(429), headers)
            else:
                response, fault = self._run_endpoint(request, endpoint, args)
        except PlatformFault as refused:
            response = dialect.error(refused, None)
        except ApiError as error:
            response = dialect.error(dialect.translate(error), None)
        except Exception as exc:  # an emulator bug must still answer in the API's shape
            traceback.print_exc(file=sys.stderr)
            response = dialect.error(PlatformFault(500, 500, f"Emulator error: {exc!r}"), None)
        record_request(state, request, arrived, response.status_code, client_id, fault)
        return response

    def _run_endpoint(
        self, request: Request, endpoint: str, args: dict[str, Any]
    ) -> tuple[Response, str | None]:
        state, dialect = self.state, self.dialect
        caller = None if endpoint in dialect.public else dialect.authenticate(state, request)
        concepts = [(request.method, request.path), *dialect.concepts(endpoint, request, args)]
        status = self._scripted(concepts, after_apply=False)
        if status is not None:
            return dialect.error(dialect.fault_for_status(status), None), "fail_next"
        code = state.take_queued_error(" ".join(path for _, path in concepts))
        if code is not None:
            return dialect.error(dialect.fault_for_code(code), None), "fail_next_error"
        status = state.random_fault()
        if status is not None:
            return dialect.error(dialect.fault_for_status(status), None), "random"
        http_status, payload = dialect.handlers[endpoint](state, request, caller, **args)
        status = self._scripted(concepts, after_apply=True)
        if status is not None:
            # The write above is applied; the client just never learns that it was.
            return dialect.error(dialect.fault_for_status(status), None), "fail_next_after_apply"
        return dialect.success(http_status, payload), None

    def _scripted(self, concepts: list[Concept], *, after_apply: bool) -> int | None:
        for method, path in concepts:
            status = self.state.take_scripted_fault(method, path, after_apply=after_apply)
            if status is not None:
                return status
        return None

    def _serve_control(self, request: Request) -> Response:
        try:
            extra = self.dialect.control_routes
            if extra is not None:
                try:
                    endpoint, args = _match(extra, control.CONTROL_PREFIX, request)
                except ApiError:
                    pass
                else:
                    handler = self.dialect.control_handlers[endpoint]
                    return json_response(handler(self.state, request, **args))
            endpoint, args = _match(control.CONTROL_ROUTES, control.CONTROL_PREFIX, request)
            return json_response(control.HANDLERS[endpoint](self.state, request, **args))
        except ApiError as error:
            return json_response({"error": error.message}, error.status)


def json_payload(request: Request) -> Any:
    """Parse the body as JSON, or raise ValueError (the dialect says how it refuses)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ValueError("request body is required")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("request body is not valid JSON") from None
