"""Device labels: read label text, decode label photos, print label sheets."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from app.api.access import SUPERVISORS, require_roles
from app.api.schemas import ErrorBody, Upload
from app.errors import DomainError, error_response
from app.labels.decoder import DEFAULT_BUDGET_S, decode_image
from app.labels.device_ids import label_rule, parse_device_label
from app.labels.sheet import MAX_LABELS, render_label_sheet
from app.labels.slots import DecoderBusy, DecodeSlots

bp = APIBlueprint("labels", __name__, url_prefix="/api/labels", abp_tags=[Tag(name="labels")])


class NoImage(DomainError):
    status = 400
    code = "no_image"


class LabelOut(BaseModel):
    tuid: str
    imc: str
    psn: str
    device_type: str
    format: str


class CodeOut(BaseModel):
    text: str
    label: LabelOut | None
    error: str | None


class DecodeOut(BaseModel):
    """Every QR code found; at least one is a device label, or there are none."""

    codes: list[CodeOut]
    elapsed_ms: int


class ParseBody(BaseModel):
    text: str = Field(max_length=2000, description="What the scanner read, or what was typed.")


class DecodeForm(BaseModel):
    image: Upload | None = Field(
        default=None, description="A JPEG, PNG or WebP photo of the label."
    )


class SheetBody(BaseModel):
    tuids: list[str] = Field(min_length=1, max_length=MAX_LABELS)


_DECODE_RESPONSES: dict[Any, Any] = {
    "200": DecodeOut,
    "400": ErrorBody,  # no_image, bad_image (not a photo, damaged, too many pixels or bytes)
    "401": ErrorBody,
    "413": ErrorBody,
    "422": ErrorBody,  # validation_failed; not_a_device_label with the codes found
    "503": ErrorBody,  # decoder_busy, with Retry-After
}


@bp.post("/parse", responses={"422": ErrorBody})
@require_roles()
def parse(body: ParseBody) -> Response:
    """Read label text into a device id by the platform's rule, or 422 not_a_device_label."""
    return jsonify(parse_device_label(body.text).to_dict())


@bp.post("/decode", responses=_DECODE_RESPONSES)
@require_roles()
def decode(form: DecodeForm) -> Response:
    """Find the QR codes in a photo and read each one that is a device label (platform's rule).

    422 not_a_device_label when the codes found are none of them a label (the parser's message,
    each code's text in details); 503 decoder_busy with Retry-After when every decode slot of
    this process stayed taken for LABEL_DECODE_WAIT_S.
    """
    if form.image is None:
        raise NoImage("No photo came with the request. Send it in the form field 'image'.")
    try:
        with decode_slots(current_app).held():
            result = decode_image(
                form.image.read(),
                max_decoded_bytes=current_app.config["LABEL_DECODE_MAX_BYTES"],
                parse=label_rule().parse,
            )
    except DecoderBusy as busy:
        response = error_response(busy.status, busy.code, busy.message, busy.details)
        response.headers["Retry-After"] = str(busy.retry_after_s)
        return response
    result.require_label()
    return jsonify(
        {"codes": [code.to_dict() for code in result.codes], "elapsed_ms": result.elapsed_ms}
    )


def decode_slots(app: Flask) -> DecodeSlots:
    """Return this app's decode slots (made once per process from LABEL_DECODE_* settings)."""
    slots = app.extensions.get("label_decode_slots")
    if slots is None:
        slots = app.extensions["label_decode_slots"] = DecodeSlots(
            app.config["LABEL_DECODE_SLOTS"],
            app.config["LABEL_DECODE_WAIT_S"],
            retry_after_s=DEFAULT_BUDGET_S,
        )
    return slots


@bp.post("/sheet", responses={"403": ErrorBody, "422": ErrorBody})
@require_roles(*SUPERVISORS)
def sheet(body: SheetBody) -> Response:
    """Return an A4 PDF of printable labels for these TUIDs (supervisors and admins)."""
    pdf = render_label_sheet(body.tuids)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="thingsee-labels.pdf"'},
    )
