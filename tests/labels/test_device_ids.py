"""Each platform's device-id rule against the shared cases file the PWA's rules also use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.labels.decoder import NotADeviceLabel, decode_image
from app.labels.device_ids import RULES, normalise_device_id, parse_device_label
from app.labels.parser import LabelError
from tests.labels.photos import encode, scene

CASES: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "device_id_cases.json").read_text(encoding="utf-8")
)
ROWS = [
    (platform, case) for platform, cases in CASES.items() if platform in RULES for case in cases
]


@pytest.mark.parametrize(
    ("platform", "case"), ROWS, ids=lambda v: v if isinstance(v, str) else repr(v["text"])[:50]
)
def test_label_text_reads_as_the_cases_file_says(platform: str, case: dict[str, str]) -> None:
    if "id" in case:
        label = parse_device_label(case["text"], platform)
        assert (label.tuid, label.to_dict()["format"]) == (case["id"], case["format"])
        # What a label reads as is also what typing it gives.
        assert normalise_device_id(label.tuid, platform) == label.tuid
    else:
        with pytest.raises(LabelError) as caught:
            parse_device_label(case["text"], platform)
        assert caught.value.reason == case["reason"]
        assert caught.value.message.endswith(".")  # a sentence for the technician


def test_every_other_platform_has_cases() -> None:
    assert set(CASES) - {"_about"} == set(RULES) - {"thingsee"}


@pytest.mark.parametrize(
    ("platform", "raw", "expected"),
    [
        ("thingsee", " tspr04ezu31901021 ", "TSPR04EZU31901021"),
        ("thingsee", "TSPR04-EZU31901021", "TSPR04EZU31901021"),
        ("thingsee", "tspr04 ezu319 01021", "TSPR04EZU31901021"),
        ("thingsmatrix", "ab-12345", "AB-12345"),
        ("thingscale", "xbee_0013a200", "XBEE_0013A200"),
        ("thingshub", "70-b3-d5-7e-d0-04-1d-8a", "70B3D57ED0041D8A"),
    ],
)
def test_typed_ids_are_normalised(platform: str, raw: str, expected: str) -> None:
    assert normalise_device_id(raw, platform) == expected


@pytest.mark.parametrize("platform", sorted(RULES))
def test_a_bad_typed_id_says_what_the_platform_expects(platform: str) -> None:
    with pytest.raises(LabelError) as caught:
        normalise_device_id("no!", platform)
    assert caught.value.message.startswith("must be")
    assert RULES[platform].name.split()[0] in caught.value.message or platform == "thingsee"


def test_a_decoded_code_is_read_by_the_platform_rule() -> None:
    lorawan = "LW:D0:70B3D57ED0000000:70B3D57ED0041D8A:AABB1122"
    rule = RULES["thingshub"]
    [good] = decode_image(encode(scene([lorawan])), parse=rule.parse).codes
    assert good.error is None and good.label is not None
    assert good.label.tuid == "70B3D57ED0041D8A"
    # a Thingsee label is not a label there: answered after the short extra search, with why
    result = decode_image(encode(scene(["EZU31901021,TSPR04"])), parse=rule.parse)
    assert result.labels == [] and "DevEUI" in str(result.codes[0].error)
    with pytest.raises(NotADeviceLabel):
        result.require_label()
