"""The label parser against the shared cases file the PWA's parser also uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.errors import Unprocessable
from app.labels.device_types import DEVICE_TYPES, device_type_for, is_gateway
from app.labels.parser import REASONS, LabelError, format_label_text, parse_label

CASES: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "label_cases.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES["valid"], ids=lambda case: repr(case["text"])[:60])
def test_valid_label_parses_to_the_expected_fields(case: dict[str, str]) -> None:
    label = parse_label(case["text"])
    assert label.to_dict() == {key: case[key] for key in label.to_dict()}


@pytest.mark.parametrize("case", CASES["invalid"], ids=lambda case: repr(case["text"])[:60])
def test_invalid_label_is_rejected_with_its_reason(case: dict[str, str]) -> None:
    with pytest.raises(LabelError) as caught:
        parse_label(case["text"])
    assert caught.value.reason == case["reason"]
    assert caught.value.details == {"reason": case["reason"]}
    assert "17-character ID" in caught.value.message


def test_cases_file_is_well_formed() -> None:
    assert set(CASES["reasons"]) == set(REASONS)
    assert {case["reason"] for case in CASES["invalid"]} == set(REASONS)
    assert {case["format"] for case in CASES["valid"]} == {"legacy", "markers", "url", "tuid"}
    assert {case["device_type"] for case in CASES["valid"]} == set(DEVICE_TYPES)
    texts = [case["text"] for case in CASES["valid"] + CASES["invalid"]]
    assert len(texts) == len(set(texts))
    for case in CASES["valid"]:
        assert case["imc"] + case["psn"] == case["tuid"]


def test_label_error_is_a_422_domain_error_with_its_own_code() -> None:
    with pytest.raises(Unprocessable) as caught:
        parse_label("NANO-TAG-12")
    assert caught.value.status == 422
    assert caught.value.code == "not_a_device_label"


def test_messages_help_the_technician() -> None:
    with pytest.raises(LabelError, match="This ID has 16 characters"):
        parse_label("TSPR04EZU3190102")
    with pytest.raises(LabelError, match="Did you mean TSPR04EZU31901021"):
        parse_label("tspr04 ezu31901021")
    with pytest.raises(LabelError, match="not a Thingsee device label"):
        parse_label("WIFI:S:net;T:WPA;P:x;;")


def test_parsed_label_is_frozen() -> None:
    label = parse_label("TSPR04EZU31901021")
    with pytest.raises(AttributeError):
        label.tuid = "X"  # type: ignore[misc]


def test_format_label_text_round_trips_through_the_legacy_form() -> None:
    text = format_label_text("tspr04ezu31901021")
    assert text == "EZU31901021,TSPR04"
    assert parse_label(text).tuid == "TSPR04EZU31901021"
    assert parse_label(text).format == "legacy"


@pytest.mark.parametrize(
    "bad", ["TSPR04", "EZU31901021,TSPR04", "https://x.io/d/TSPR04EZU31901021"]
)
def test_format_label_text_takes_only_a_tuid(bad: str) -> None:
    with pytest.raises(LabelError):
        format_label_text(bad)


def test_device_type_accepts_tuid_or_imc_and_short_input() -> None:
    assert device_type_for("TSPR04") == "PRESENCE"
    assert device_type_for(" tspr04ezu31901021 ") == "PRESENCE"
    assert device_type_for("TSPR") == "unknown"
    assert device_type_for("") == "unknown"
    assert is_gateway(device_type_for("TSGW05ABC12345678"))
    assert is_gateway(device_type_for("TSGW99ABC12345678"))
    assert not is_gateway(device_type_for("TSPR04ABC12345678"))
