"""The QR readers behind the cascade: zbar first, ZXing-C++ for codes zbar gives up on."""

from __future__ import annotations

import time

from PIL import Image, ImageFilter

from app.labels.cascade import STEPS, Step
from app.labels.decoder import decode_image
from app.labels.photo import Photo
from app.labels.readers import READERS, zbar, zxing
from app.labels.views import frame, joined
from tests.labels.photos import code_image, encode, scene

LEGACY = "EZU31901021,TSPR04"
TUID = "TSPR04EZU31901021"


def test_both_readers_read_a_clean_code() -> None:
    image = code_image(LEGACY)
    assert zbar(image) == [LEGACY]
    assert zxing(image) == [LEGACY]


def test_zxing_reads_a_code_blurred_past_zbar() -> None:
    blurred = code_image(LEGACY, module_px=6).filter(ImageFilter.GaussianBlur(3.0))
    assert zbar(blurred) == []
    assert zxing(blurred) == [LEGACY]


def test_zxing_reads_a_tiny_turned_code_zbar_misses() -> None:
    tiny = code_image(LEGACY, module_px=2).rotate(
        33, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255
    )
    tiny = tiny.filter(ImageFilter.GaussianBlur(0.8))
    assert zbar(tiny) == []
    assert zxing(tiny) == [LEGACY]


def test_zxing_reads_only_qr_codes() -> None:
    assert zxing(Image.new("L", (300, 300), 255)) == []


def test_zbar_steps_come_first_and_zxing_only_after_the_cheap_ones() -> None:
    readers = [step.reader for step in STEPS]
    assert set(readers) <= set(READERS)
    first_zxing = readers.index("zxing")
    assert readers[:first_zxing] == ["zbar"] * first_zxing
    assert first_zxing >= 5  # the cheap zbar looks read most photos before ZXing runs


def test_a_clean_label_never_reaches_zxing() -> None:
    result = decode_image(encode(scene([LEGACY])))
    assert result.steps_tried == [STEPS[0].name]


def test_a_badly_blurred_label_is_read_by_the_zxing_step_before_the_costly_zbar_ones() -> None:
    data = encode(scene([LEGACY], module_px=6, blur=3.2, angle=30))
    result = decode_image(data, clock=time.thread_time)
    assert [label.tuid for label in result.labels] == [TUID]
    assert result.steps_tried[-1] == "zxing spots"


def test_a_view_zbar_could_not_read_is_handed_to_zxing_too() -> None:
    # the same whole-frame view in two steps: a view is scanned once per reader, not once
    data = encode(scene([LEGACY], size=(1000, 750), module_px=6, blur=3.0))
    steps = (
        Step("zbar frame", frame(1000), whole_frame=True),
        Step("zxing frame", frame(1000), whole_frame=True, reader="zxing"),
    )
    result = decode_image(data, steps=steps)
    assert [label.tuid for label in result.labels] == [TUID]
    assert result.steps_tried == ["zbar frame", "zxing frame"]
    only_zbar = decode_image(data, steps=steps[:1])
    assert only_zbar.codes == []


def test_joined_views_yield_each_part_in_turn() -> None:
    photo = Photo(encode(scene([LEGACY], size=(800, 600))))
    views = joined(frame(400), frame(200, tag="small"))(photo)
    keys = [key for key, _image in views]
    assert keys == ["frame:grey@400", "frame:small@200"]
