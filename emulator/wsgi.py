"""The emulator as one WSGI callable: the API under /prod/v1/, test control under /_emulator/."""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound
from werkzeug.wrappers import Request, Response

from . import api, control
from .errors import ApiError, error_body, error_response, injected_fault_response, json_response
from .httpserver import CONNECTION_CONTROL
from .ratelimit import retry_after_header
from .state import EmulatorState

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Requests whose credential is unknown share one bucket, like unauthenticated API Gateway calls.
ANONYMOUS = "anonymous"


class EmulatorApp:
    """Dispatch requests to the API pipeline or the control surface."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path
        if path == api.API_PREFIX or path.startswith(api.API_PREFIX + "/"):
            response = self._serve_api(request)
        elif path == control.CONTROL_PREFIX or path.startswith(control.CONTROL_PREFIX + "/"):
            response = self._serve_control(request)
        else:
            response = json_response(error_body(404, f"No route for {path}"), 404)
        return response(environ, start_response)

    def _serve_api(self, request: Request) -> Response:
        state = self.state
        arrived = state.clock.now()
        method, path = request.method, request.path
        client_id: str | None = None
        fault: str | None = None
        try:
            outage = state.settings.outage
            if outage:
                response, fault = _outage_response(request, outage), "outage"
                status = 0 if outage == "drop" else response.status_code
                record_request(state, request, arrived, status, None, fault)
                return response
            endpoint, args = _match(api.API_ROUTES, api.API_PREFIX, request)
            credential = (
                _token_request_client(request)
                if endpoint == api.TOKEN_ENDPOINT
                else state.credential_for(request.headers.get("Authorization"))
            )
            client_id = credential
            # Sleep before taking any lock so concurrent requests overlap their latency.
            delay = state.delay_s(path, method)
            if delay > 0:
                time.sleep(delay)
            wait = state.rate_limiter.acquire(credential or ANONYMOUS)
            if wait is not None:
                fault = "rate_limit"
                response = injected_fault_response(429, retry_after_header(wait))
            else:
                response, fault = self._run_endpoint(request, endpoint, args, arrived)
        except ApiError as error:
            response = error_response(error)
        except Exception as exc:  # an emulator bug must still answer in the API's shape
            traceback.print_exc(file=sys.stderr)
            response = json_response(error_body(500, f"Emulator error: {exc!r}"), 500)
        record_request(state, request, arrived, response.status_code, client_id, fault)
        return response

    def _run_endpoint(
        self, request: Request, endpoint: str, args: dict[str, Any], arrived: float
    ) -> tuple[Response, str | None]:
        state = self.state
        method, path = request.method, request.path
        client_id: str | None = None
        if endpoint != api.TOKEN_ENDPOINT:
            client_id = state.authenticate(request.headers.get("Authorization"), at=arrived)
        status = state.take_scripted_fault(method, path, after_apply=False)
        if status is not None:
            return injected_fault_response(status), "fail_next"
        status = state.random_fault()
        if status is not None:
            return injected_fault_response(status), "random"
        data = api.HANDLERS[endpoint](state, request, client_id, **args)
        # The write above is applied; the client just never learns that it was.
        status = state.take_scripted_fault(method, path, after_apply=True)
        if status is not None:
            return injected_fault_response(status), "fail_next_after_apply"
        return json_response({"data": data}), None

    def _serve_control(self, request: Request) -> Response:
        try:
            endpoint, args = _match(control.CONTROL_ROUTES, control.CONTROL_PREFIX, request)
            return json_response(control.HANDLERS[endpoint](self.state, request, **args))
        except ApiError as error:
            return error_response(error)


def record_request(
    state: EmulatorState,
    request: Request,
    arrived: float,
    status: int,
    client_id: str | None,
    fault: str | None,
) -> None:
    """Log one answered API request (status 0: the connection was closed unanswered)."""
    state.record_call(
        time=arrived,
        method=request.method,
        path=request.path,
        query=request.query_string.decode("latin-1"),
        status=status,
        client_id=client_id,
        fault=fault,
    )


def _outage_response(request: Request, mode: str) -> Response:
    """Answer nothing (the server closes the connection) or a gateway's 503; apply nothing."""
    control = request.environ.get(CONNECTION_CONTROL)
    if mode == "drop" and isinstance(control, dict):
        control["drop"] = True
        return Response(status=502)  # never sent
    return injected_fault_response(503 if mode == "503" else 502)


def make_app(state: EmulatorState) -> WSGIApplication:
    """Build the WSGI callable that serves `state`."""
    return EmulatorApp(state)


def _match(routes: Any, prefix: str, request: Request) -> tuple[str, dict[str, Any]]:
    # Both apps differ on trailing slashes (`groups` vs `groups/`), so accept either everywhere.
    relative = request.path[len(prefix) :].rstrip("/") or "/"
    adapter = routes.bind("emulator", "/")
    try:
        endpoint, args = adapter.match(relative, method=request.method)
    except RouteNotFound:
        raise ApiError(f"No route for {request.method} {request.path}", status=404) from None
    except MethodNotAllowed:
        raise ApiError(f"{request.method} not allowed on {request.path}", status=405) from None
    return str(endpoint), args


def _token_request_client(request: Request) -> str | None:
    try:
        body = json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        return None
    client_id = body.get("client_id") if isinstance(body, dict) else None
    return client_id if isinstance(client_id, str) else None
