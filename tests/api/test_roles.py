"""Every API endpoint says who may call it, and the role matrix holds over HTTP.

The static half reads the routes: every /api view is behind require_roles except the few that
must answer before sign-in. The dynamic half calls every GET as each role: signed out is 401,
a role outside the list is 403, a role inside is never 401/403.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

# Answer before sign-in: the connectivity probe, sign-in itself, "who am I", the API document.
PUBLIC = {"/api/health", "/api/auth/login", "/api/auth/me", "/api/openapi.json"}
ROLES = ("technician", "supervisor", "admin")


def _allowed_roles(view: Callable[..., Any]) -> tuple[str, ...] | None:
    current: Any = view
    while current is not None:
        roles = getattr(current, "allowed_roles", None)
        if roles:
            return tuple(roles)
        current = getattr(current, "__wrapped__", None)
    return None


def _api_routes(app: Flask) -> Iterator[tuple[str, str, str, tuple[str, ...] | None]]:
    urls = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api"):
            continue
        values: dict[str, Any] = {
            name: 1 if isinstance(converter, IntegerConverter) else "x"
            for name, converter in rule._converters.items()
        }
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            url = urls.build(rule.endpoint, values, method=method)
            yield method, rule.rule, url, _allowed_roles(app.view_functions[rule.endpoint])


def test_every_api_endpoint_names_its_roles(app: Flask) -> None:
    unguarded = [
        f"{method} {rule}"
        for method, rule, _url, roles in _api_routes(app)
        if roles is None and rule not in PUBLIC
    ]
    assert unguarded == []
    guarded_public = [rule for _m, rule, _u, roles in _api_routes(app) if rule in PUBLIC and roles]
    assert guarded_public == []


def test_role_matrix_over_http_for_every_read(app: Flask, login: Any) -> None:
    clients = {role: login(role) for role in ROLES}
    anonymous = app.test_client()
    checked = 0
    for method, rule, url, roles in _api_routes(app):
        if method != "GET" or roles is None:
            continue
        checked += 1
        assert anonymous.get(url).status_code == 401, rule
        for role, api in clients.items():
            status = api.get(url).status_code
            if role in roles:
                assert status not in (401, 403), (rule, role, status)
            else:
                assert status == 403, (rule, role, status)
    assert checked >= 10
