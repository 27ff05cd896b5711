"""Request and response shapes every API module shares: the error body and an uploaded file."""

from __future__ import annotations

from typing import Annotated, Any

from flask_openapi3 import FileStorage
from pydantic import BaseModel, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError
from werkzeug.datastructures import FileStorage as UploadedFile


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    """The one error shape of the API."""

    error: ErrorDetail


def _a_file(value: object, info: ValidationInfo) -> object:
    if value is not None and not isinstance(value, UploadedFile):
        raise PydanticCustomError(
            "not_a_file",
            "'{field}' must be a file, not a text field",
            {"field": info.field_name or "file"},
        )
    return value


# A multipart file field: a text field of that name is a 422, not an object without read().
Upload = Annotated[FileStorage, BeforeValidator(_a_file)]
