"""Schemathesis over /api/openapi.json as a technician and as a supervisor (issue #13).

A bounded, repeatable run: a fixed seed, a few valid and a few invalid examples per operation,
against the real app (its WSGI callable, its database, the emulator). It fails on any 5xx, any
status the document does not list, and any response that does not match its documented schema,
so fuzzing is a regression check from now on.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ApiClient
from tests.waiting import wait_until

# Per operation, per generation mode (valid, invalid), per role; FIELDHAND_FUZZ_EXAMPLES=50 for
# a deeper run by hand.
EXAMPLES = int(os.environ.get("FIELDHAND_FUZZ_EXAMPLES", "3"))
SEED = 13
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


SIGN_IN_COOKIES = ("session", "remember_token")
ENDS_SIGN_IN = {
    "POST /api/auth/logout",
    "POST /api/auth/password",
    "POST /api/auth/sign-out-everywhere",
    "POST /api/users/{user_id}/sign-out-everywhere",
}


def _restore_cookies(api: ApiClient, cookies: dict[str, Any]) -> None:
    for name, cookie in cookies.items():
        now = api.client.get_cookie(name)
        if cookie is not None and (now is None or now.value != cookie.value):
            api.client.set_cookie(name, cookie.value, domain=cookie.domain, path=cookie.path)


@dataclass
class Tally:
    cases: int = 0
    server_errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _run_operation(
    app: Flask, api: ApiClient, operation: Any, mode: GenerationMode, tally: Tally
) -> None:
    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        tally.cases += 1
        cookies = {name: api.client.get_cookie(name) for name in SIGN_IN_COOKIES}
        if mode is GenerationMode.POSITIVE and case.cookies:
            # Valid examples run signed in: drop the cookies schemathesis makes up for the
            # security schemes (signed-out and garbage cookies are the invalid examples' part).
            case.cookies = {k: v for k, v in case.cookies.items() if k not in SIGN_IN_COOKIES}
        headers = {"X-CSRFToken": api.csrf_token or ""}
        response = case.call(session=api.client, headers=headers, app=app)
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            tally.server_errors += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, FailureGroup) as failure:  # note it; every case still runs
            first = str(failure).strip().splitlines()[:6]
            tally.failures.append(f"{operation.label} [{mode.value}]: {' | '.join(first)}")
        # An invalid example may send its own session cookies, which schemathesis then drops:
        # put ours back. Only the operations that end sign-ins need a new one.
        _restore_cookies(api, cookies)
        if operation.label in ENDS_SIGN_IN and api.get("/api/auth/me").status_code == 401:
            assert api.user is not None
            again = api.login(api.user["username"], "correct horse battery")
            assert again.status_code == 200, again.json

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid: no parameters, no body
        run()


@pytest.mark.parametrize("role", ["technician", "supervisor"])
def test_fuzzing_finds_no_server_error_and_no_schema_violation(
    app: Flask, login: Any, role: str
) -> None:
    app.config["LOGIN_RATE_LIMIT"] = "10000 per minute"  # logins the run makes stay signed in
    api = login(role)
    document = app.test_client().get("/api/openapi.json").json
    schema = schemathesis.openapi.from_dict(document)
    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    started = time.monotonic()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run_operation(app, api, operation, mode, tally)
    elapsed = time.monotonic() - started
    print(
        f"\nschemathesis as {role}: {len(operations)} operations, {tally.cases} cases in "
        f"{elapsed:.0f} s, {tally.server_errors} server errors, {len(tally.failures)} failures; "
        f"statuses {dict(sorted(tally.statuses.items()))}"
    )
    if role == "supervisor":  # previews started by the run finish before the tables are emptied
        wait_until(
            lambda: not api.get("/api/bulk?state=checking").json["items"],
            timeout=60,
            what="bulk previews to finish",
        )
    assert tally.server_errors == 0 and not tally.failures, "\n".join(tally.failures[:40])
