"""Device labels: read label text, decode label photos, print label sheets."""

from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, FileStorage, Tag
from pydantic import BaseModel, Field

from app.api.access import SUPERVISORS, require_roles
from app.errors import DomainError
from app.labels.decoder import decode_image
from app.labels.device_ids import parse_device_label, read_code
from app.labels.sheet import MAX_LABELS, render_label_sheet

bp = APIBlueprint("labels", __name__, url_prefix="/api/labels", abp_tags=[Tag(name="labels")])


class NoImage(DomainError):
    status = 400
    code = "no_image"


class ParseBody(BaseModel):
    text: str = Field(max_length=2000, description="What the scanner read, or what was typed.")


class DecodeForm(BaseModel):
    image: FileStorage | None = Field(
        default=None, description="A JPEG, PNG or WebP photo of the label."
    )


class SheetBody(BaseModel):
    tuids: list[str] = Field(min_length=1, max_length=MAX_LABELS)


@bp.post("/parse")
@require_roles()
def parse(body: ParseBody) -> Response:
    """Read label text into a device id by the platform's rule, or 422 not_a_device_label."""
    return jsonify(parse_device_label(body.text).to_dict())


@bp.post("/decode")
@require_roles()
def decode(form: DecodeForm) -> Response:
    """Find the QR codes in a photo and read each one that is a device label."""
    if form.image is None:
        raise NoImage("No photo came with the request. Send it in the form field 'image'.")
    result = decode_image(form.image.read())
    return jsonify(
        {"codes": [read_code(code.text) for code in result.codes], "elapsed_ms": result.elapsed_ms}
    )


@bp.post("/sheet")
@require_roles(*SUPERVISORS)
def sheet(body: SheetBody) -> Response:
    """Return an A4 PDF of printable labels for these TUIDs (supervisors and admins)."""
    pdf = render_label_sheet(body.tuids)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="thingsee-labels.pdf"'},
    )
