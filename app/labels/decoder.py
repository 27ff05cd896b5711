"""Find Thingsee label QR codes in an uploaded photo: a cheap-to-expensive cascade on pyzbar.

Each step looks at the photo in one prepared way (a size, a contrast fix, a crop...) and the
cascade stops at the first step that finds a device label, or when the time budget is spent.
A photo whose only codes are not device labels (a URL, a Wi-Fi code, another vendor's label)
gets a short extra search for a label beside them (`EXTRA_SEARCH_S`), not the whole budget;
that search skips the spots where such a code was read (views.read_other_code): measured side
by side on the tuning seed 226 -> 227 (a label beside another code 23 -> 24 of 38), held-out
seeds 2-4 unchanged at 673 of 900.
Which steps are in `STEPS` (cascade.py), and in what order, was decided by measurement: see
bench/qr_decode.py and its per-step table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

from app.labels.cascade import STEPS, Step
from app.labels.parser import LabelError, parse_label
from app.labels.photo import (
    DEFAULT_MAX_DECODED_BYTES,
    DEFAULT_MAX_PIXELS,
    Photo,
    release_memory,
)
from app.labels.readers import Reader, zbar
from app.labels.results import DecodedCode, DecodeResult, LabelReader, NotADeviceLabel
from app.labels.views import read_other_code

__all__ = ["DEFAULT_BUDGET_S", "DecodeResult", "DecodedCode", "NotADeviceLabel", "decode_image"]

DEFAULT_BUDGET_S = 1.5
EXTRA_SEARCH_S = 0.25  # after a code that is not a label: how long to look for one beside it


def decode_image(
    data: bytes,
    *,
    budget_s: float = DEFAULT_BUDGET_S,
    extra_search_s: float = EXTRA_SEARCH_S,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
    clock: Callable[[], float] = time.perf_counter,
    parse: LabelReader = parse_label,
    steps: Sequence[Step] = STEPS,
) -> DecodeResult:
    """Find the QR codes in a JPEG/PNG/WebP photo and read each as a device label if it is one.

    Raises BadImage for anything that is not a readable photo of an accepted format, or one
    that would take more than `max_decoded_bytes` to open. The budgets are read on `clock`
    (the benchmark passes a CPU clock, so a busy machine does not cut the cascade short).
    `parse` reads a code's text as a label: Thingsee's TUID rules unless the platform has others.
    `steps` is the cascade (the benchmark passes others to compare).
    """
    try:
        return _decode(
            data, budget_s, extra_search_s, max_pixels, max_decoded_bytes, clock, parse, steps
        )
    finally:
        release_memory()


def _decode(
    data: bytes,
    budget_s: float,
    extra_search_s: float,
    max_pixels: int,
    max_decoded_bytes: int,
    clock: Callable[[], float],
    parse: LabelReader,
    steps: Sequence[Step],
) -> DecodeResult:
    started = clock()
    deadline = started + budget_s
    photo = Photo(data, max_pixels=max_pixels, max_decoded_bytes=max_decoded_bytes)
    result = DecodeResult()
    seen: dict[str, DecodedCode] = {}
    scanned: set[tuple[Reader, str]] = set()  # (reader, view key): each scanned once
    several = False  # more than one code: a label sheet, or a label beside another code
    other_code = False  # a code that is not a label was found: the deadline came closer

    def over_budget() -> bool:
        return clock() > deadline

    for step in steps:
        if over_budget():
            break
        if several and not step.whole_frame:
            continue
        result.steps_tried.append(step.name)
        before = len(seen)
        for key, view in step.views(photo):
            if (step.read, key) in scanned:
                continue
            scanned.add((step.read, key))
            texts = step.read(view)
            for text in texts:
                if text not in seen:
                    seen[text] = _read(text, parse)
            if texts and not _has_label(seen, texts):
                read_other_code(photo, key)
            if over_budget() or (not step.whole_frame and _has_label(seen, texts)):
                break  # one spot with a label is enough; whole-frame steps look again
        if not _has_label(seen, seen.keys()):
            if seen and not other_code:
                other_code = True
                deadline = min(deadline, clock() + extra_search_s)
            continue
        if len(seen) <= 1 or (several and len(seen) == before):
            break  # the usual photo (one label), or a whole-frame look that added nothing
        several = True  # zbar can miss one of many codes: look at the whole photo again
    result.codes = list(seen.values())
    result.elapsed_ms = round((clock() - started) * 1000)
    return result


def run_step(data: bytes, step: Step) -> list[str]:
    """Run one step alone on a photo and return the texts it finds (for the benchmark)."""
    photo = Photo(data)
    texts: list[str] = []
    for _key, view in step.views(photo):
        texts.extend(step.read(view))
    return texts


scan = zbar  # the first reader, by its old name


def _has_label(seen: dict[str, DecodedCode], texts: Iterable[str]) -> bool:
    return any(seen[text].label is not None for text in texts)


def _read(text: str, parse: LabelReader) -> DecodedCode:
    try:
        return DecodedCode(text=text, label=parse(text), error=None)
    except LabelError as exc:
        return DecodedCode(text=text, label=None, error=exc.message, reason=exc.reason)
