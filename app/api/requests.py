"""How every request's raw inputs are read, within limits, before any model validates them.

One place for what no per-field rule can catch, because it goes wrong while parsing:
- a JSON body: at most JSON_MAX_BYTES (413; the photo upload limit is UPLOAD_MAX_BYTES) and
  nested at most JSON_MAX_DEPTH deep (400 json_too_deep; the parser would otherwise recurse
  until Python gives up);
- the query string: at most QUERY_MAX_PARAMS parameters (400 too_many_parameters);
- NUL characters anywhere in the path, query, form or JSON strings (400 nul_character; the
  database cannot store them in text), a multipart part without a name (400 bad_form);
- integers in paths: beyond the database's id range there is no such row (404).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, current_app, request
from flask import Request as FlaskRequest
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter
from werkzeug.utils import cached_property

from app.errors import DomainError
from app.input_bounds import MAX_ROW_ID


class TooDeep(DomainError):
    code = "json_too_deep"


class TooManyParameters(DomainError):
    code = "too_many_parameters"


class BadForm(DomainError):
    code = "bad_form"


class NulCharacter(DomainError):
    code = "nul_character"


def _nul(where: str) -> NulCharacter:
    return NulCharacter(f"The {where} holds a NUL character (\\u0000), which cannot be stored.")


def too_deep(limit: int) -> TooDeep:
    """The 400 for a JSON body nested past JSON_MAX_DEPTH."""
    return TooDeep(f"The JSON body is nested more than {limit} levels deep.", {"limit": limit})


def check_json(value: Any, max_depth: int) -> None:
    """Raise TooDeep past max_depth levels of arrays and objects, NulCharacter on a NUL."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise _nul("JSON body")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            raise too_deep(max_depth)
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        else:
            stack.extend((child, depth + 1) for child in item)


class ApiRequest(FlaskRequest):
    """Flask's request, reading JSON, query and form inputs within the app's limits."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Parse the body as JSON within JSON_MAX_BYTES and JSON_MAX_DEPTH.

        The limits apply even when `silent`: a body past them is refused, not read as absent.
        """
        if cache and self._cached_json[silent] is not Ellipsis:
            return self._cached_json[silent]
        if not (force or self.is_json):
            return super().get_json(force, silent, cache)
        limit = int(current_app.config["JSON_MAX_BYTES"])
        self.max_content_length = limit  # the 413's message names this limit
        if self.content_length is not None and self.content_length > limit:
            raise RequestEntityTooLarge()
        if getattr(self, "_cached_data", None) is None:
            data = self.stream.read(limit + 1)  # a chunked body has no length to check first
            if len(data) > limit:
                raise RequestEntityTooLarge()
            self._cached_data = data
        depth = int(current_app.config["JSON_MAX_DEPTH"])
        try:
            value = super().get_json(force, silent, cache)
        except RecursionError:
            raise too_deep(depth) from None
        try:
            check_json(value, depth)
        except DomainError:
            self._cached_json = (Ellipsis, Ellipsis)  # refused, not to be read again
            raise
        return value

    @cached_property
    def args(self) -> MultiDict[str, str]:
        """The query parameters, at most QUERY_MAX_PARAMS of them and none holding a NUL."""
        pairs = parse_qsl(
            self.query_string.decode("utf-8", "replace"),
            keep_blank_values=True,
            errors="werkzeug.url_quote",
        )
        limit = int(current_app.config["QUERY_MAX_PARAMS"])
        if len(pairs) > limit:
            raise TooManyParameters(
                f"The query has {len(pairs)} parameters; at most {limit} are accepted.",
                {"limit": limit},
            )
        if any("\x00" in key or "\x00" in value for key, value in pairs):
            raise _nul("query")
        return self.parameter_storage_class(pairs)

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form, files = self.__dict__.get("form"), self.__dict__.get("files")
        if any(key is None for fields in (form, files) if fields is not None for key in fields):
            raise BadForm("A form part has no name (Content-Disposition without name=...).")
        if files is not None and any(
            "\x00" in (upload.filename or "") for upload in files.values()
        ):
            raise _nul("file name")
        if form is not None and any(
            "\x00" in f"{key}{value}" for key, value in form.items(multi=True)
        ):
            raise _nul("form")


class RowIdConverter(IntegerConverter):
    """`<int:...>` in a route: a number past the database's id range matches no row."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Read every request through ApiRequest; bound integer path segments."""
    app.request_class = ApiRequest
    app.url_map.converters["int"] = RowIdConverter

    @app.before_request
    def _no_nul_in_path() -> None:
        if "\x00" in request.path:
            raise _nul("path")
