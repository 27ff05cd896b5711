"""ThingsMatrix Service Platform 2.3 as a `Platform` (seed 000; mapping in docs/platforms.md).

What the seed documents, and how we use it:
- Authentication by bearer token from a login API taking `loginName` and the password's MD5,
  or by an API key made in the GUI. The token's lifetime is not documented (ASSUMPTION: 30 min,
  PLATFORM_TOKEN_TTL_S changes it); return codes 14101 "invalid token" and 14102 "token parse
  failed" mean the token was refused, so we fetch a new one once and replay.
- Every answer is `{"code", "data", "msg"}`; code 0 is success and any other code is an error
  whatever the HTTP status (ASSUMPTION: real answers may use HTTP 200 for them). Each
  documented code maps to one typed error (`CODE_ERRORS`).
- Devices are named by `sn`; the device detail carries `onlineStatus`, `model`, `group` and
  free `attributes`. ThingsMatrix has no installation status, so ours lives in the attribute
  `installationStatus` (ASSUMPTION) and there is no installation history.
- Groups have an `id` and a `name` and only take devices of their model (14410); moving a
  device into the group it is in is "invalid operations (same group)" (14407), which we read as
  already done so retries stay idempotent. Our group id is the ThingsMatrix group `id`, which
  never changes, so renaming (of the name) is left to ThingsMatrix's own GUI.
- Lists are paged (`page`, `size`, `sort=field,asc`; answers carry `totalElements`, `last`,
  `totalPages`, `number`, `size`); we read every page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from app.platform.capabilities import Capabilities, DeviceIdRule, PlatformProfile
from app.platform.errors import (
    AuthError,
    Conflict,
    MalformedResponse,
    NotFound,
    NotSupported,
    PlatformError,
    Unavailable,
    ValidationFailed,
)
from app.platform.http import HttpPlatform, client_options
from app.platform.interface import (
    INSTALLATION_STATUSES,
    UNASSIGNED,
    Group,
    InstallationRecord,
    ThingInfo,
)
from app.platform.optional import OptionalCalls
from app.platform.shapes import (
    checked_status,
    expect_dict,
    expect_list,
    expect_str,
    json_or_none,
    segment,
    str_or_none,
)
from app.platform.tokens import FetchedToken

LOGIN_PATH = "auth/login"
STATUS_ATTRIBUTE = "installationStatus"
PAGE_SIZE = 100
MAX_PAGES = 1000  # 100,000 rows: a guard against a platform that never says `last`

PROFILE = PlatformProfile(
    key="thingsmatrix",
    title="ThingsMatrix",
    capabilities=Capabilities(
        deployment_groups=True,
        group_create=True,
        group_delete=True,
        online_status=True,
    ),
    device_id=DeviceIdRule(
        name="sn",
        description="The device's serial number (sn): 4 to 32 letters, digits or dashes.",
        example="12345688922",
        max_length=32,
    ),
    token_ttl=1800.0,
)

TOKEN_REFUSED = frozenset({14101, 14102})  # invalid token, token parse failed
CODE_ERRORS: dict[int, type[PlatformError]] = {
    -1: Unavailable,  # unknown error
    9999: Unavailable,  # fail
    10001: ValidationFailed,  # request body check error %s
    10002: Unavailable,  # %s service invocation failed
    10003: Conflict,  # duplicate record
    10004: Unavailable,  # edit failed
    10005: Unavailable,  # query failed
    10006: Unavailable,  # delete failed
    10007: NotFound,  # %s non-existent
    10008: ValidationFailed,  # %s %s do not match
    10009: Unavailable,  # %s resource access failed
    10010: ValidationFailed,  # %s cannot be empty
    10011: ValidationFailed,  # %s isn't allowed to be edited
    10012: ValidationFailed,  # %s isn't allowed to be deleted
    10013: Conflict,  # %s already exists
    10014: ValidationFailed,  # request body parse error
    10015: Conflict,  # unique field %s already exists
    10016: ValidationFailed,  # %s read only
    10017: ValidationFailed,  # invalid id %s
    10018: NotFound,  # invalid sn %s: no such device in this company
    10019: Unavailable,  # table %s does not exist
    14101: AuthError,  # invalid token (refreshed once first)
    14102: AuthError,  # token parse failed (refreshed once first)
    14103: AuthError,  # not authorized
    14201: AuthError,  # username or password incorrect
    14202: AuthError,  # user forbidden
    14203: AuthError,  # company forbidden
    14401: NotFound,  # invalid or non-existent equipment
    14402: ValidationFailed,  # [%s/%s] relationship is not allowed to be modified
    14403: ValidationFailed,  # [%s] and device are related
    14404: ValidationFailed,  # [%s] model are inconsistent
    14405: ValidationFailed,  # group does not have elements
    14406: ValidationFailed,  # [%s] and group are related: the group still has devices
    14407: ValidationFailed,  # invalid operations (same group)
    14408: NotFound,  # no data available for %s-%s
    14410: ValidationFailed,  # groupId:[%s] does not match model:[%s]
    14501: NotSupported,  # the protocol does not support this instruction
}
SAME_GROUP = 14407
NOT_IN_A_GROUP = 14405


def code_error(code: int, message: str, http_status: int, method: str) -> PlatformError:
    """Map a ThingsMatrix return code to the typed error the sync worker decides on."""
    kind = CODE_ERRORS.get(code)
    text = f"{message} (code {code})"
    if kind is Unavailable or kind is None:
        # Unknown codes are treated like "fail": retried, and a write's outcome is unknown.
        return Unavailable(text, status=http_status, outcome_unknown=method != "GET", code=code)
    return kind(text, status=http_status, code=code)


def _body_code(response: httpx.Response) -> tuple[int | None, str]:
    body = json_or_none(response)
    if not isinstance(body, dict):
        return None, ""
    code = body.get("code")
    if isinstance(code, bool) or not isinstance(code, int):
        return None, ""
    return code, str_or_none(body.get("msg")) or f"ThingsMatrix return code {code}"


class ThingsMatrixClient(HttpPlatform, OptionalCalls):
    """Thread-safe ThingsMatrix 2.3 client: one token (or the API key) and one connection pool."""

    profile = PROFILE
    user_agent = "fieldhand-thingsmatrix/1"

    def __init__(
        self,
        base_url: str,
        login_name: str | None = None,
        password: str | None = None,
        *,
        api_key: str | None = None,
        **options: Any,
    ) -> None:
        if not api_key and not (login_name and password):
            raise ValueError("ThingsMatrix needs a loginName and password, or an API key")
        self.login_name = login_name
        self._client_secret = password or ""
        super().__init__(base_url, static_token=api_key or None, **options)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ThingsMatrixClient:
        """Build a client from PLATFORM_* settings (loginName/password or PLATFORM_API_KEY)."""
        if not config.get("PLATFORM_URL"):
            raise ValueError("the ThingsMatrix platform is not configured: set PLATFORM_URL")
        return cls(
            str(config["PLATFORM_URL"]),
            config.get("PLATFORM_CLIENT_ID") or None,
            config.get("PLATFORM_CLIENT_SECRET") or None,
            api_key=config.get("PLATFORM_API_KEY") or None,
            **client_options(config),
        )

    def __repr__(self) -> str:
        return f"ThingsMatrixClient(base_url={self.base_url!r}, login_name={self.login_name!r})"

    # ---- devices -------------------------------------------------------------------------

    def _device(self, sn: str) -> dict[str, Any]:
        return expect_dict(self._get(f"devices/{segment(sn, 'sn')}"))

    def get_thing(self, tuid: str) -> ThingInfo:
        """Return the device detail: online flag and model (no battery or latest event)."""
        data = self._device(tuid)
        model = data.get("model")
        online = data.get("onlineStatus")
        return ThingInfo(
            tuid=tuid,
            online=None if online is None else online == 1,
            model=str_or_none(model.get("name")) if isinstance(model, dict) else None,
            raw=data,
        )

    def get_installation_status(self, tuid: str) -> str | None:
        """Return the status kept in the device's attributes, None if Fieldhand never set one."""
        attributes = self._device(tuid).get("attributes")
        status = attributes.get(STATUS_ATTRIBUTE) if isinstance(attributes, dict) else None
        return status if status in INSTALLATION_STATUSES else None

    def set_installation_status(self, tuid: str, status: str) -> InstallationRecord:
        """Write the status into the device's `installationStatus` attribute."""
        checked_status(status)
        path = f"devices/{segment(tuid, 'sn')}/attributes"
        self._send_json("PUT", path, body={STATUS_ATTRIBUTE: status})
        return InstallationRecord(tuid=tuid, installation_status=status)

    def get_group(self, tuid: str) -> str:
        """Return the device's group id (`unassigned` when it has none)."""
        group = self._device(tuid).get("group")
        if not isinstance(group, dict) or group.get("id") is None:
            return UNASSIGNED
        return expect_str(group.get("id"), "group.id")

    def set_group(self, tuid: str, group_id: str) -> str:
        """Move the device into a group of its model; `unassigned` takes it out of its group."""
        path = f"devices/{segment(tuid, 'sn')}/group"
        try:
            if group_id == UNASSIGNED:
                self._send_json("DELETE", path)
            else:
                self._send_json("PUT", path, body={"groupId": segment(group_id, "group_id")})
        except ValidationFailed as exc:
            # "Same group" and "not in a group" say the move is already done: a retry after an
            # unknown outcome must not fail on its own earlier success.
            done = SAME_GROUP if group_id != UNASSIGNED else NOT_IN_A_GROUP
            if exc.code != done:
                raise
        return group_id

    # ---- groups --------------------------------------------------------------------------

    def list_groups(self, q: str | None = None, limit: int | None = None) -> list[Group]:
        """Return `unassigned` and every group (id, with its name as the description)."""
        groups = [Group(UNASSIGNED)]
        for item in self._pages("GET", "groups", sort="name,asc"):
            item = expect_dict(item)
            groups.append(
                Group(expect_str(item.get("id"), "group.id"), str_or_none(item.get("name")))
            )
        if q:
            needle = q.lower()
            groups = [
                g
                for g in groups
                if needle in g.group_id.lower() or needle in (g.description or "").lower()
            ]
        return groups[:limit] if limit else groups

    def create_group(self, group_id: str, description: str | None = None) -> Group:
        """Create a group named `group_id`; ThingsMatrix gives it its own id, which we return."""
        if not isinstance(group_id, str) or not group_id.strip():
            raise ValidationFailed("a group needs a name")
        body: dict[str, Any] = {"name": group_id}
        if description is not None:
            body["description"] = description
        data = expect_dict(self._post("groups", body))
        return Group(expect_str(data.get("id"), "group.id"), str_or_none(data.get("name")))

    def delete_group(self, group_id: str) -> None:
        """Delete an empty group (ThingsMatrix refuses one that still has devices: 14406)."""
        if group_id == UNASSIGNED:
            raise ValidationFailed(f"'{UNASSIGNED}' cannot be deleted")
        self._send_json("DELETE", f"groups/{segment(group_id, 'group_id')}")

    def group_things(self, group_id: str) -> list[str]:
        """Return the sn of every device in a group."""
        if group_id == UNASSIGNED:
            raise self._unsupported("list of devices outside any group")
        body = {"groupId": group_id}
        return [
            expect_str(expect_dict(d).get("sn"), "sn")
            for d in self._pages("POST", "devices/search", sort="sn,asc", body=body)
        ]

    def _pages(
        self, method: str, path: str, *, sort: str, body: dict[str, Any] | None = None
    ) -> Iterator[Any]:
        """Yield every row of a paged list, page after page until the platform says `last`."""
        for page in range(MAX_PAGES):
            params = {"page": page, "size": PAGE_SIZE, "sort": sort}
            if method == "GET":
                data = self._get(path, params=params)
            else:
                # A search changes nothing, so it is safe to read again like a GET.
                data = self._send_json(method, path, params=params, body=body or {})
            data = expect_dict(data)
            rows = expect_list(data.get("content"))
            yield from rows
            if data.get("last") is not False or not rows:
                return
        raise MalformedResponse(f"{path} did not end after {MAX_PAGES} pages")

    # ---- what ThingsMatrix says differently ----------------------------------------------

    def _auth_headers(self, token: str) -> dict[str, str]:
        if self._static_token is not None:
            return {"X-API-Key": token}
        return {"Authorization": f"Bearer {token}"}

    def _is_token_refusal(self, response: httpx.Response) -> bool:
        code, _ = _body_code(response)
        if code is not None:
            return code in TOKEN_REFUSED
        return response.status_code == 401

    def _read_data(self, response: httpx.Response, method: str) -> Any:
        code, message = _body_code(response)
        if code is not None and code != 0:
            raise code_error(code, message, response.status_code, method)
        return super()._read_data(response, method)

    def _unwrap(self, response: httpx.Response, body: Any) -> Any:
        if not isinstance(body, dict) or body.get("code") != 0:
            raise MalformedResponse(
                f"HTTP {response.status_code} without return code 0", status=response.status_code
            )
        return body.get("data")

    def _request_token(self) -> str | FetchedToken:
        """Log in with loginName and the password's MD5 (as the API wants it)."""
        digest = hashlib.md5(self._client_secret.encode("utf-8"), usedforsecurity=False)
        body = {"loginName": self.login_name, "password": digest.hexdigest()}
        response = self._post_for_token(LOGIN_PATH, body)
        code, _ = _body_code(response)
        if code in (14201, 14202, 14203) or response.status_code in (401, 403):
            raise self._credentials_refused(response, self._client_secret)
        data = self._read_data(response, "GET")
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token.strip():
            raise MalformedResponse("the login answer has no token", status=response.status_code)
        return token.strip()
