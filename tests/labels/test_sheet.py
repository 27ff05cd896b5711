"""Label sheets: every printed label decodes back to its TUID; bad lines are listed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from flask import Flask

from app.labels.decoder import decode_image
from app.labels.sheet import (
    LABELS_PER_PAGE,
    MARGIN_PX,
    MM,
    PAGE_PX,
    LabelSheetError,
    render_label_pages,
    render_label_sheet,
)
from tests.labels.photos import encode

PREFIXES = ["TSPR04", "XXXX00", "TSGW05", "XXXXSP", "WHLL01", "TSEN01"]
TUIDS = [f"{prefix}EZU3190{n:04d}" for n in range(4) for prefix in PREFIXES]  # 24: two pages


def _decoded(page_bytes: bytes) -> list[str]:
    # The budget on the CPU clock: the test is about reading every label, and a loaded machine
    # must not cut the cascade short (the server's wall-clock budget has tests of its own).
    result = decode_image(page_bytes, clock=time.process_time)
    return sorted(label.tuid for label in result.labels)


def test_every_label_decodes_back_to_its_tuid() -> None:
    pages = render_label_pages(TUIDS)
    assert len(pages) == 2
    assert all(page.size == PAGE_PX and page.mode == "1" for page in pages)
    first, second = (_decoded(encode(page, "PNG")) for page in pages)
    assert first == sorted(TUIDS[:LABELS_PER_PAGE])
    assert second == sorted(TUIDS[LABELS_PER_PAGE:])


def test_codes_hold_the_legacy_text_and_are_at_least_25_mm() -> None:
    page = render_label_pages(["tspr04ezu31901021"])[0]
    result = decode_image(encode(page, "PNG"))
    assert [code.text for code in result.codes] == ["EZU31901021,TSPR04"]
    # across the middle of the first code, inside its cell: dark modules span >= 25 mm
    band = page.convert("L").crop(
        (MARGIN_PX + 20, MARGIN_PX + 200, MARGIN_PX + 700, MARGIN_PX + 400)
    )
    box = band.point(lambda v: 255 - v).getbbox()
    assert box is not None
    assert 25 <= (box[2] - box[0]) / MM <= 35


def test_sheet_is_a_multi_page_a4_pdf() -> None:
    pdf = render_label_sheet(TUIDS)
    assert pdf.startswith(b"%PDF-")
    assert b"/Count 2" in pdf
    # A4 at 300 dpi in points: 2480 x 3508 px -> 595.2 x 841.92 pt (A4 is 595.28 x 841.89)
    assert pdf.count(b"/MediaBox [ 0 0 595.2 841.92 ]") == 2
    assert b"/CCITTFaxDecode" in pdf or b"/DCTDecode" in pdf
    assert len(pdf) < 200_000


def test_bad_lines_are_listed_and_nothing_is_rendered() -> None:
    with pytest.raises(LabelSheetError) as caught:
        render_label_sheet(["TSPR04EZU31901021", "NANO-TAG-12", "", "TSPR04"])
    error = caught.value
    assert error.status == 422
    assert error.code == "invalid_tuids"
    assert "line 2 ('NANO-TAG-12')" in error.message
    assert "line 4 ('TSPR04')" in error.message
    assert [(b["line"], b["reason"]) for b in error.details["lines"]] == [
        (2, "customer_label"),
        (3, "empty"),
        (4, "wrong_length"),
    ]


def test_empty_and_oversized_requests_are_refused() -> None:
    with pytest.raises(LabelSheetError, match="no device IDs"):
        render_label_sheet([])
    with pytest.raises(LabelSheetError, match="too many"):
        render_label_sheet(["TSPR04EZU31901021"] * 1001)


def test_labels_print_command(app_factory_cli: Flask, tmp_path: Path) -> None:
    tuids_file = tmp_path / "site-a.txt"
    tuids_file.write_text(
        "# site A, floor 2\n\nTSPR04EZU31901021\n  ezu31901021,tspr04  \nXXXX00X1O73360355\n"
    )
    out = tmp_path / "labels.pdf"
    result = app_factory_cli.test_cli_runner().invoke(
        args=["labels", "print", "--tuids-file", str(tuids_file), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 3 labels on 1 page(s)" in result.output
    assert out.read_bytes().startswith(b"%PDF-")


def test_labels_print_command_names_bad_lines(app_factory_cli: Flask, tmp_path: Path) -> None:
    tuids_file = tmp_path / "bad.txt"
    tuids_file.write_text("# header\nTSPR04EZU31901021\n\nNANO-TAG-12\n")
    out = tmp_path / "labels.pdf"
    result = app_factory_cli.test_cli_runner().invoke(
        args=["labels", "print", "--tuids-file", str(tuids_file), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert f"{tuids_file}:4: 'NANO-TAG-12' is not a device ID (customer_label)" in result.output
    assert "nothing was written" in result.output
    assert not out.exists()


@pytest.fixture
def app_factory_cli(tmp_path: Path) -> Flask:
    """A bare app for CLI tests (the labels commands need no database)."""
    from app import create_app

    return create_app(
        {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path}/db"}
    )


def test_sheet_renders_with_pillows_font_when_dejavu_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.labels import sheet

    monkeypatch.setattr(sheet, "_FONT_FILES", ("NoSuchFont.ttf",))
    page = render_label_pages(["TSPR04EZU31901021"])[0]
    assert _decoded(encode(page, "PNG")) == ["TSPR04EZU31901021"]
