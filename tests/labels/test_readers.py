"""A cascade step's reader: zbar first and by default; a step may hand its views to another."""

from __future__ import annotations

from PIL import Image

from app.labels import grid
from app.labels.cascade import STEPS, Step
from app.labels.decoder import decode_image
from app.labels.photo import Photo
from app.labels.readers import zbar
from app.labels.views import frame, joined
from tests.labels.photos import code_image, encode, scene

LEGACY = "EZU31901021,TSPR04"
TUID = "TSPR04EZU31901021"


def test_zbar_reads_a_clean_code_and_nothing_from_a_blank() -> None:
    assert zbar(code_image(LEGACY)) == [LEGACY]
    assert zbar(Image.new("L", (300, 300), 255)) == []


def test_shipped_steps_read_with_zbar_and_one_with_the_grid_reader() -> None:
    readers = [step.read for step in STEPS]
    assert set(readers) == {zbar, grid.read}
    assert readers.count(grid.read) == 1
    assert readers.index(grid.read) > 5  # after the cheap zbar steps: it is for what they miss


def test_a_view_is_scanned_once_per_reader_not_once() -> None:
    # the same whole-frame view in two steps with two readers: the second still gets it
    seen: list[tuple[int, int]] = []

    def blind(image: Image.Image) -> list[str]:
        seen.append(image.size)
        return []

    steps = (
        Step("blind frame", frame(1000), whole_frame=True, read=blind),
        Step("blind frame again", frame(1000), whole_frame=True, read=blind),
        Step("zbar frame", frame(1000), whole_frame=True),
    )
    result = decode_image(encode(scene([LEGACY], size=(1000, 750))), steps=steps)
    assert [label.tuid for label in result.labels] == [TUID]
    assert result.steps_tried == ["blind frame", "blind frame again", "zbar frame"]
    assert seen == [(1000, 750)]  # the second blind step skipped the view it had scanned


def test_joined_views_yield_each_part_in_turn() -> None:
    photo = Photo(encode(scene([LEGACY], size=(800, 600))))
    views = joined(frame(400), frame(200, tag="small"))(photo)
    assert [key for key, _image in views] == ["frame:grey@400", "frame:small@200"]
