"""Decoding label photos: harmed but readable codes decode, bad uploads fail clearly."""

from __future__ import annotations

import random
import time

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from app.labels.cascade import Step
from app.labels.decoder import NotADeviceLabel, decode_image, scan
from app.labels.locator import code_angle, find_spots
from app.labels.photo import BadImage, Photo
from app.labels.prepare import (
    deblur,
    flatten,
    normalise,
    sharpen,
    sharpen_hard,
    threshold,
    upright,
)
from app.labels.readers import zbar
from app.labels.views import LOOSE, read_other_code, spots
from tests.labels.photos import (
    code_image,
    encode,
    glare,
    png_header_only,
    scene,
    tilted,
    tinted_glare,
)

LEGACY = "EZU31901021,TSPR04"
TUID = "TSPR04EZU31901021"


def tuids(data: bytes, **kwargs: object) -> list[str]:
    return [label.tuid for label in decode_image(data, **kwargs).labels]  # type: ignore[arg-type]


def test_clean_label_decodes_on_the_first_cheap_step() -> None:
    result = decode_image(encode(scene([LEGACY])))
    assert [code.to_dict() for code in result.codes] == [
        {
            "text": LEGACY,
            "label": {
                "tuid": TUID,
                "imc": "TSPR04",
                "psn": "EZU31901021",
                "device_type": "PRESENCE",
                "format": "legacy",
            },
            "error": None,
        }
    ]
    assert len(result.steps_tried) == 1
    assert result.elapsed_ms >= 0


@pytest.mark.parametrize("angle", [17, 45, 135, 260])
def test_rotated_label(angle: float) -> None:
    assert tuids(encode(scene([LEGACY], angle=angle))) == [TUID]


def test_label_seen_at_an_angle() -> None:
    assert tuids(encode(scene([LEGACY], tilt=0.35, angle=10))) == [TUID]


def test_blurred_label() -> None:
    data = encode(scene([LEGACY], module_px=6, blur=2.2))
    assert tuids(data) == [TUID]


def test_low_contrast_label_in_poor_light() -> None:
    data = encode(scene([LEGACY], ink=70, paper=110, backdrop=60, module_px=5), quality=60)
    assert tuids(data) == [TUID]


def test_small_code_in_a_big_photo_is_read_from_its_spot() -> None:
    image = scene(["https://thingsee.com/d/TSPR04EZU31901021"], size=(3000, 2250), module_px=3)
    result = decode_image(encode(image))
    assert [label.tuid for label in result.labels] == [TUID]
    assert result.steps_tried[0] == "frame 1000"  # too small there: 29 modules in 30 px
    assert result.steps_tried[-1].startswith("spots")


def test_locator_puts_the_code_first_among_clutter() -> None:
    image = scene([LEGACY], size=(1000, 750), module_px=4)  # code in the middle, lines around
    x0, y0, x1, y1 = find_spots(image)[0]
    assert x0 <= 500 <= x1 and y0 <= 375 <= y1
    assert find_spots(Image.new("L", (400, 300), 128)) == []


def test_locator_does_not_take_a_dark_photos_frame_for_a_code() -> None:
    # Pillow's 3x3 kernels leave the 1 px frame unfiltered: dark pixels there read as edges
    assert find_spots(Image.new("L", (400, 300), 30)) == []
    image = Image.new("L", (1000, 750), 25)
    image.paste(code_image(LEGACY, module_px=3).point(lambda v: 70 if v else 25), (450, 330))
    x0, y0, x1, y1 = find_spots(image.filter(ImageFilter.GaussianBlur(1.2)))[0]
    assert x0 < 550 and x1 > 450 and y0 < 430 and y1 > 330


@pytest.mark.parametrize("angle", [0, 12, 30, 44, -20, -40, 75])
def test_code_angle_measures_how_far_a_code_is_turned(angle: float) -> None:
    code = code_image(LEGACY, module_px=6).rotate(
        angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255
    )
    measured = code_angle(code.filter(ImageFilter.GaussianBlur(2)))
    assert abs((measured - angle + 45) % 90 - 45) < 1.5  # the same modulo a quarter turn


def test_upright_reads_a_tilted_code_near_45_degrees() -> None:
    code = tilted(code_image(LEGACY, module_px=6), 0.35, 255)
    code = code.rotate(45, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    blurred = code.filter(ImageFilter.GaussianBlur(2.1))
    assert scan(blurred) == []
    assert scan(upright()(blurred)) == [LEGACY]


def test_deblur_reads_a_defocused_code_in_sensor_noise() -> None:
    # blur of half a module: the one-module gaps are filled in; noise defeats unsharp masks
    code = code_image(LEGACY, module_px=6).point(lambda v: 140 if v else 40)
    blurred = code.filter(ImageFilter.GaussianBlur(3))
    rng = random.Random(5)
    noise = bytes(
        round(min(255, max(0, rng.gauss(128, 6)))) for _ in range(code.width * code.height)
    )
    photo = ImageChops.add(blurred, Image.frombytes("L", code.size, noise), 1.0, -128)
    assert scan(photo) == []
    assert scan(sharpen_hard(photo)) == []
    assert scan(deblur(6)(photo)) == [LEGACY]


def test_normalise_reads_a_faded_code_washed_out_by_glare() -> None:
    # the halo around the saturated core is a ramp steeper than the print's contrast
    code = code_image(LEGACY, module_px=6).point(lambda v: 186 if v else 89)
    photo = glare(code, (0.52, 0.64), 0.29, gain=1.15, soft=0.42).filter(
        ImageFilter.GaussianBlur(1)
    )
    assert scan(photo) == []
    assert scan(threshold(photo)) == []
    assert scan(normalise(45)(photo)) == [LEGACY]


def test_flatten_reads_a_code_whose_glare_halo_defeats_normalise() -> None:
    # the halo is a screen blend: dividing darkness by the paper's darkness undoes it
    code = code_image(LEGACY, module_px=6).point(lambda v: 235 if v else 30)
    photo = tinted_glare(code, (0.5, 0.5), 0.25, gain=2.2, soft=0.5, tint=(1.0, 0.9, 0.6))
    grey = photo.convert("L")
    assert scan(grey) == []
    assert scan(threshold(grey)) == []
    assert scan(normalise(33)(grey)) == []
    assert scan(flatten(33)(grey)) == [LEGACY]


def _tinted_glare_photo() -> Image.Image:
    # a warm lamp: red and green saturate over much of the code, blue keeps the modules
    code = code_image(LEGACY, module_px=6).point(lambda v: 235 if v else 30)
    return tinted_glare(code, (0.5, 0.5), 0.35, gain=2.0, soft=0.3, tint=(1.0, 0.9, 0.45))


def test_least_channel_keeps_the_modules_that_glare_saturates_in_luma() -> None:
    photo = Photo(encode(_tinted_glare_photo(), quality=90))
    grey = photo.grey()
    assert scan(grey) == []
    assert scan(normalise(33)(grey)) == []
    assert scan(flatten(33)(grey)) == []
    assert scan(photo.least_channel()) == [LEGACY]


def test_glared_label_that_luma_lost_is_read_from_the_least_channel() -> None:
    frame = Image.new("RGB", (1600, 1200), (90, 100, 110))
    draw = ImageDraw.Draw(frame)
    for i in range(0, 1600, 97):  # clutter with hard edges
        draw.line((i, 0, 1600 - i, 1200), fill=((i * 7) % 256,) * 3, width=3)
    frame.paste(_tinted_glare_photo(), (600, 400))
    result = decode_image(encode(frame, quality=90), clock=time.thread_time)
    assert [label.tuid for label in result.labels] == [TUID]
    assert "least channel" in result.steps_tried[-1]


def test_least_channel_of_a_big_jpeg_is_decoded_small() -> None:
    photo = Photo(encode(Image.new("RGB", (4000, 3000), (200, 180, 160)), quality=70))
    least = photo.least_channel()
    assert least.size == (2000, 1500)
    assert least.getpixel((10, 10)) == pytest.approx(160, abs=3)


def test_least_channel_of_a_png_is_its_greyscale_copy() -> None:
    photo = Photo(encode(Image.new("RGB", (800, 600), (200, 180, 160)), "PNG"))
    assert photo.least_channel().tobytes() == photo.grey().tobytes()


def test_label_outscored_by_clutter_is_read_from_a_later_spot() -> None:
    # six checkerboards outscore a small, soft, low-contrast code in the locator
    image = Image.new("L", (2000, 1500), 120)
    draw = ImageDraw.Draw(image)
    for x, y in [(100, 100), (700, 100), (1300, 100), (100, 800), (700, 800), (1300, 1100)]:
        for i in range(0, 160, 8):
            for j in range(0, 160, 8):
                draw.rectangle(
                    (x + i, y + j, x + i + 7, y + j + 7), fill=255 if (i + j) % 16 else 0
                )
    image.paste(code_image(LEGACY, module_px=2).point(lambda v: 170 if v else 90), (1500, 500))
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    first = find_spots(image.resize((1000, 750), Image.Resampling.BOX), count=4)
    assert not any(x0 <= 770 and x1 >= 750 and y0 <= 270 and y1 >= 250 for x0, y0, x1, y1 in first)
    # The test is about spots, not time: a long budget, on the CPU clock.
    result = decode_image(encode(image), budget_s=10, clock=time.process_time)
    assert [label.tuid for label in result.labels] == [TUID]


def test_several_labels_in_one_photo() -> None:
    texts = ["EZU31901021,TSPR04", "I#TSGW01,W#1505,S#AB123456789", "/d/XXXX05ABC12345678"]
    image = scene(texts, size=(1800, 700), module_px=6)
    found = {label.tuid: label.format for label in decode_image(encode(image)).labels}
    assert found == {
        "TSPR04EZU31901021": "legacy",
        "TSGW01AB123456789": "markers",
        "XXXX05ABC12345678": "url",
    }


def test_photo_without_a_code_returns_no_codes() -> None:
    result = decode_image(encode(Image.new("L", (800, 600), 128)))
    assert result.codes == []
    assert len(result.steps_tried) > 1  # it tried harder before giving up


def test_other_qr_code_is_returned_with_an_explanation() -> None:
    wifi = "WIFI:S:Site-Guest;T:WPA;P:hunter2;;"
    result = decode_image(encode(scene([wifi])))
    assert len(result.codes) == 1
    code = result.codes[0]
    assert code.text == wifi
    assert code.label is None
    assert code.reason == "not_a_device_label"
    assert code.error is not None and "not a Thingsee device label" in code.error
    with pytest.raises(NotADeviceLabel) as caught:
        result.require_label()
    assert caught.value.status == 422
    assert caught.value.details["codes"][0]["text"] == wifi


def test_other_qr_code_ends_the_search_after_the_extra_time() -> None:
    # no extra search: the step that found the Wi-Fi code is the last one, not every step
    data = encode(scene(["WIFI:S:Site-Guest;T:WPA;P:hunter2;;"]))
    assert decode_image(data, extra_search_s=0.0).steps_tried == ["frame 1000"]
    assert len(decode_image(data, extra_search_s=10.0).steps_tried) > 1


def test_no_code_and_a_label_need_no_label_check() -> None:
    for data in (encode(Image.new("L", (400, 300), 128)), encode(scene([LEGACY]))):
        result = decode_image(data)
        assert result.require_label() is result


def test_device_label_beside_another_code_is_found() -> None:
    result = decode_image(encode(scene(["https://example.com/menu", LEGACY], size=(1400, 700))))
    assert [label.tuid for label in result.labels] == [TUID]
    assert {code.text for code in result.codes} == {"https://example.com/menu", LEGACY}


def test_the_search_for_a_label_beside_another_code_skips_that_codes_spot() -> None:
    # The first step reads only the Wi-Fi code (as if the label were too damaged for it), the
    # second looks again with other crops: it leaves the Wi-Fi code's spot out.
    wifi = "WIFI:S:Site-Guest;T:WPA;P:hunter2;;"
    data = encode(scene([wifi, LEGACY], size=(1400, 700)))
    seen_by_second: list[list[str]] = []

    def misses_labels(view: Image.Image) -> list[str]:
        return [text for text in zbar(view) if text != LEGACY]

    def recording(view: Image.Image) -> list[str]:
        seen_by_second.append(zbar(view))
        return seen_by_second[-1]

    steps = (
        Step("first", spots(300, {"grey": None}), read=misses_labels),
        Step("second", spots(400, {"sharp": sharpen}, margin=LOOSE), read=recording),
    )
    result = decode_image(data, steps=steps, extra_search_s=10.0)
    assert [label.tuid for label in result.labels] == [TUID]
    # the locator ranks the Wi-Fi code's spot before the label's: it was skipped
    assert seen_by_second[-1] == [LEGACY]
    assert [wifi] not in seen_by_second


def test_a_spot_where_another_code_was_read_is_left_out_of_later_views() -> None:
    url, tag = "https://example.com/menu", "NANO-TAG-12"
    photo = Photo(encode(scene([url, tag], size=(1400, 700))))
    first = {key: zbar(view) for key, view in spots(300, {"grey": None})(photo)}
    url_key = next(key for key, texts in first.items() if texts == [url])
    read_other_code(photo, "frame:grey@1000")  # not a spot view: nothing is left out
    assert len(list(spots(300, {"grey": None})(photo))) == len(first)
    read_other_code(photo, url_key)
    later = [zbar(view) for _, view in spots(400, {"grey": None}, margin=LOOSE)(photo)]
    assert [url] not in later
    assert [tag] in later


@pytest.mark.parametrize(
    ("orientation", "stored_as"),
    [
        (2, Image.Transpose.FLIP_LEFT_RIGHT),
        (3, Image.Transpose.ROTATE_180),
        (6, Image.Transpose.ROTATE_90),
        (8, Image.Transpose.ROTATE_270),
    ],
)
def test_exif_orientation_is_honoured(orientation: int, stored_as: Image.Transpose) -> None:
    upright = scene([LEGACY], size=(900, 600))
    upright.paste(0, (0, 0, 60, 60))  # black top left, white bottom right: shows which way is up
    upright.paste(255, (840, 540, 900, 600))
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(upright.transpose(stored_as), exif=exif.tobytes())
    photo = Photo(data)
    assert photo.size == (900, 600)
    full_first = Photo(data)  # a small copy made from the full one must not turn twice
    for grey in (photo.grey(450), photo.grey(), full_first.grey(), full_first.grey(450)):
        assert grey.width > grey.height
        assert grey.getpixel((5, 5)) < 40  # type: ignore[operator]
        assert grey.getpixel((grey.width - 5, grey.height - 5)) > 80  # type: ignore[operator]
    assert tuids(data) == [TUID]


def test_unreadable_exif_is_ignored() -> None:
    data = encode(scene([LEGACY]), exif=b"Exif\x00\x00MM\x00*garbage")
    assert Photo(data).orientation == 1
    assert tuids(data) == [TUID]


def test_big_jpeg_is_decoded_small_first_without_a_full_size_copy() -> None:
    data = encode(scene([LEGACY], size=(4000, 3000), module_px=20))
    photo = Photo(data)
    small = photo.grey(1000)
    assert small.size == (1000, 750)
    assert photo._full is None  # the draft decode never built the 12 MP image
    assert tuids(data) == [TUID]


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_uploads(fmt: str) -> None:
    params = {"lossless": True} if fmt == "WEBP" else {}
    assert tuids(encode(scene([LEGACY]), fmt, **params)) == [TUID]


def test_code_on_a_transparent_png_is_read_on_white() -> None:
    code = scene([LEGACY], backdrop=0).convert("LA")
    code.putalpha(code.getchannel("L").point(lambda v: 0 if v > 200 else 255))
    assert tuids(encode(code, "PNG")) == [TUID]


def test_zero_budget_stops_after_the_first_step() -> None:
    result = decode_image(encode(Image.new("L", (800, 600), 128)), budget_s=0.0)
    assert result.steps_tried == []
    assert result.codes == []


# ---- bad uploads ------------------------------------------------------------------------------


def assert_bad_image(data: bytes, **kwargs: object) -> BadImage:
    """Assert decoding refuses the upload as a bad image (400); return the error."""
    with pytest.raises(BadImage) as caught:
        decode_image(data, **kwargs)  # type: ignore[arg-type]
    assert caught.value.status == 400
    assert caught.value.code == "bad_image"
    return caught.value


def test_not_an_image() -> None:
    assert "not a photo" in assert_bad_image(b"hello, this is text").message


def test_empty_upload() -> None:
    assert "empty" in assert_bad_image(b"").message


def test_truncated_jpeg() -> None:
    data = encode(scene([LEGACY], size=(1200, 900)))
    error = assert_bad_image(data[: len(data) // 2])
    assert "incomplete" in error.message


def test_garbage_after_a_jpeg_header() -> None:
    data = encode(scene([LEGACY]))
    error = assert_bad_image(data[:200] + bytes(range(256)) * 40)
    assert "Send a JPEG, PNG or WebP photo" in error.message


@pytest.mark.parametrize(("fmt", "name"), [("GIF", "GIF"), ("BMP", "BMP"), ("TIFF", "TIFF")])
def test_unsupported_formats_are_named(fmt: str, name: str) -> None:
    error = assert_bad_image(encode(scene([LEGACY], size=(300, 200)), fmt))
    assert error.message.startswith(f"{name} files are not supported")
    assert "JPEG, PNG or WebP" in error.message
    assert error.details == {"format": name}


def test_heic_is_named_too() -> None:
    error = assert_bad_image(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64)
    assert error.message.startswith("HEIC files are not supported")


def test_decompression_bomb_is_refused_before_decoding() -> None:
    error = assert_bad_image(png_header_only(30_000, 30_000))  # 900 MP: Pillow's own bomb error
    assert "too many pixels" in error.message


def test_too_many_pixels_for_our_limit() -> None:
    # 64 MP: below Pillow's limit, above ours
    error = assert_bad_image(png_header_only(8_000, 8_000))
    assert "too many pixels" in error.message
    assert error.details["max_pixels"] == 50_000_000


@pytest.mark.parametrize(
    ("colour_type", "depth", "per_pixel"), [(0, 8, 1), (0, 16, 2), (2, 8, 4), (6, 16, 4)]
)
def test_decoded_size_is_checked_from_the_header(
    colour_type: int, depth: int, per_pixel: int
) -> None:
    data = png_header_only(4000, 3000, colour_type=colour_type, depth=depth)
    limit = 4000 * 3000 * per_pixel
    error = assert_bad_image(data, max_decoded_bytes=limit - 1)
    assert error.details["decoded_bytes"] == limit
    with pytest.raises(BadImage, match="incomplete or damaged"):  # past the check: decoding
        decode_image(data, max_decoded_bytes=limit)


def test_a_colour_jpeg_counts_one_byte_a_pixel() -> None:
    data = encode(scene([LEGACY], size=(1200, 900)).convert("RGB"))
    assert tuids(data, max_decoded_bytes=1200 * 900) == [TUID]
    assert_bad_image(data, max_decoded_bytes=1200 * 900 - 1)


def test_16_bit_grey_png() -> None:
    image = scene([LEGACY]).point(lambda v: v * 257, "I").convert("I;16")
    assert tuids(encode(image, "PNG")) == [TUID]


def test_pixel_limit_is_a_parameter() -> None:
    error = assert_bad_image(encode(scene([LEGACY], size=(1200, 900))), max_pixels=1_000_000)
    assert "1200×900" in error.message
