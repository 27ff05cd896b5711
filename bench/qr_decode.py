"""Label-photo decoding: plain pyzbar on the full image against app.labels.decoder.

A seeded corpus of phone-like photos of Thingsee labels is generated in-process (qrcode +
Pillow: perspective, rotation, defocus and motion blur, low and uneven light, glare, sensor
noise, JPEG artefacts, EXIF orientation; codes of 60-400 px in 1600-4000 px frames) and
encoded as JPEG bytes, the way a phone uploads them. Each photo is decoded twice, one at a time:

- baseline: `pyzbar.decode` on the whole image, as it comes out of Image.open;
- pipeline: `decode_image` (downscaled decode, then the cascade, within its time budget).

Then every cascade step is run on every photo to show what each one wins (`--no-steps` skips
that part; it is slow because it runs all steps, not just until the first success).

    .venv/bin/python bench/qr_decode.py [--count 300] [--seed 1] [--out DIR] [--jobs 2]
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import qrcode
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps
from pyzbar import pyzbar
from pyzbar.pyzbar import ZBarSymbol

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.labels.decoder import (  # noqa: E402
    LOOSE,
    STEPS,
    Step,
    deblur,
    decode_image,
    frame,
    run_step,
    sharpen,
    spots,
    threshold,
    turned,
)
from app.labels.device_types import TYPE_BY_IMC  # noqa: E402
from app.labels.parser import LabelError, parse_label  # noqa: E402

# Phone camera frames (landscape; a third are shot in portrait) and how often each turns up.
FRAMES: tuple[tuple[tuple[int, int], float], ...] = (
    ((4000, 3000), 0.40),
    ((3264, 2448), 0.15),
    ((2592, 1944), 0.15),
    ((2048, 1536), 0.15),
    ((1600, 1200), 0.15),
)
TWELVE_MP = (4000, 3000)
QR_PX = (60, 400)
FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
_NOISE_TILE = 512


@dataclass
class Sample:
    """One generated label photo and what it should decode to."""

    index: int
    jpeg: bytes
    tuid: str
    size: tuple[int, int]
    qr_px: int
    effects: list[str] = field(default_factory=list)
    box: tuple[int, int, int, int] = (0, 0, 0, 0)  # where the label is, before EXIF rotation

    @property
    def megapixels(self) -> float:
        return self.size[0] * self.size[1] / 1e6


# ---------------------------------------------------------------------------------------------
# Corpus generation


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT_PATH, max(size, 6))
    except OSError:
        return ImageFont.load_default()


def _random_label(rng: random.Random) -> tuple[str, str]:
    imc = rng.choice(sorted(TYPE_BY_IMC))
    psn = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(11))
    tuid = imc + psn
    form = rng.random()
    if form < 0.6:
        text = f"{psn},{imc}"
    elif form < 0.8:
        text = f"https://thingsee.com/d/{tuid}"
    else:
        text = f"I#{imc},W#{rng.randrange(10**5, 10**8)},S#{psn}"
    return text, tuid


def _qr_matrix(rng: random.Random, text: str) -> Image.Image:
    """Return the code as an L image with one pixel per module and a 2-4 module quiet zone."""
    level = rng.choice([qrcode.constants.ERROR_CORRECT_M, qrcode.constants.ERROR_CORRECT_Q])
    code = qrcode.QRCode(error_correction=level, box_size=1, border=rng.choice([2, 3, 4]))
    code.add_data(text)
    code.make(fit=True)
    return code.make_image().get_image().convert("L")


def _label_patch(rng: random.Random, text: str, tuid: str, qr_px: int) -> Image.Image:
    """Draw a sticker (code + TUID) on a piece of device housing; RGBA, transparent outside."""
    matrix = _qr_matrix(rng, text)
    code = matrix.resize((qr_px, qr_px), Image.Resampling.NEAREST)
    ink = rng.randrange(0, 60)
    paper = rng.randrange(215, 256)
    code = code.point(lambda v: paper if v > 127 else ink)
    text_px = max(qr_px // 9, 6)
    sticker = Image.new("L", (int(qr_px * 1.25), int(qr_px * 1.25 + text_px * 2.2)), paper)
    offset = (sticker.width - qr_px) // 2
    sticker.paste(code, (offset, offset))
    ImageDraw.Draw(sticker).text(
        (offset, offset + qr_px + text_px // 3), tuid, fill=ink, font=_font(text_px)
    )
    body_colour = rng.choice([(235, 235, 230), (200, 200, 205), (60, 62, 70), (30, 30, 35)])
    pad = int(qr_px * rng.uniform(0.2, 0.8))
    patch = Image.new("RGBA", (sticker.width + 2 * pad, sticker.height + 2 * pad), (0, 0, 0, 0))
    ImageDraw.Draw(patch).rounded_rectangle(
        (0, 0, patch.width - 1, patch.height - 1), radius=pad, fill=(*body_colour, 255)
    )
    patch.paste(sticker.convert("RGB"), (pad, pad))
    return patch


def _perspective_coeffs(
    out_pts: list[tuple[float, float]], in_pts: list[tuple[float, float]]
) -> list[float]:
    """Solve the 8 coefficients mapping output points to input points (Gauss-Jordan)."""
    rows: list[list[float]] = []
    for (x, y), (u, v) in zip(out_pts, in_pts, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, v])
    n = 8
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][n] / rows[i][i] for i in range(n)]


def _warp(rng: random.Random, patch: Image.Image, effects: list[str]) -> Image.Image:
    """Rotate by any angle and tilt in perspective, as a hand-held phone does."""
    angle = rng.uniform(0, 360)
    patch = patch.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    effects.append(f"rot{angle:.0f}")
    if rng.random() < 0.7:
        w, h = patch.size
        tilt = rng.uniform(0.05, 0.22)
        effects.append(f"persp{tilt:.2f}")
        src = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]
        dst = [(x + rng.uniform(-tilt, tilt) * w, y + rng.uniform(-tilt, tilt) * h) for x, y in src]
        min_x, min_y = min(p[0] for p in dst), min(p[1] for p in dst)
        dst = [(x - min_x, y - min_y) for x, y in dst]
        out_w = int(max(p[0] for p in dst)) + 1
        out_h = int(max(p[1] for p in dst)) + 1
        coeffs = _perspective_coeffs(dst, src)
        patch = patch.transform(
            (out_w, out_h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC
        )
    return patch


def _background(rng: random.Random, size: tuple[int, int], light: float) -> Image.Image:
    """A smooth, uneven backdrop with clutter: boxes, lines, text, other stickers."""
    w, h = size
    cells = [tuple(int(rng.randrange(40, 230) * light) for _ in range(3)) for _ in range(4 * 3)]
    small = Image.new("RGB", (4, 3))
    small.putdata(cells)
    image = small.resize(size, Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randrange(15, 50)):
        colour = tuple(int(rng.randrange(256) * light) for _ in range(3))
        x, y = rng.randrange(w), rng.randrange(h)
        kind = rng.random()
        if kind < 0.4:
            draw.rectangle(
                (x, y, x + rng.randrange(20, w // 4), y + rng.randrange(20, h // 4)), fill=colour
            )
        elif kind < 0.7:
            draw.line(
                (x, y, rng.randrange(w), rng.randrange(h)), fill=colour, width=rng.randrange(1, 12)
            )
        else:
            draw.text(
                (x, y),
                "Thingsee 2024 ROOM 3.14 CE FCC",
                fill=colour,
                font=_font(rng.randrange(14, 90)),
            )
    return image


def _noise_layer(rng: random.Random, size: tuple[int, int], sigma: float) -> Image.Image:
    """Grey sensor noise centred on 128 with about this sigma, tiled from one seeded tile.

    (Image.effect_noise would be simpler but draws from C's rand(), not from our seed.) The mean
    of two uniform tiles is triangular noise with sigma 255/sqrt(24), about 52.
    """
    area = _NOISE_TILE * _NOISE_TILE
    first, second = (
        Image.frombytes("L", (_NOISE_TILE, _NOISE_TILE), rng.randbytes(area)) for _ in range(2)
    )
    tile = ImageChops.add(first, second, scale=2.0).point(
        lambda v: max(0, min(255, round(128 + (v - 127.5) * sigma / 52)))
    )
    layer = Image.new("L", size)
    for y in range(0, size[1], _NOISE_TILE):
        for x in range(0, size[0], _NOISE_TILE):
            layer.paste(tile.rotate(90 * rng.randrange(4)), (x, y))
    return layer


def _degrade_region(
    rng: random.Random, region: Image.Image, module_px: float, effects: list[str]
) -> Image.Image:
    """Blur, motion blur, uneven light and glare, applied around the label only (fast)."""
    if rng.random() < 0.5:
        sigma = min(rng.uniform(0.3, 0.45) * module_px, 3.5)
        region = region.filter(ImageFilter.GaussianBlur(sigma))
        effects.append(f"blur{sigma:.1f}")
    if rng.random() < 0.25:
        length = max(2, int(rng.uniform(0.3, 0.7) * module_px))
        angle = rng.uniform(0, math.pi)
        dx, dy = math.cos(angle), math.sin(angle)
        acc = region
        for i in range(1, length):
            shifted = ImageChops.offset(region, int(round(dx * i)), int(round(dy * i)))
            acc = Image.blend(acc, shifted, 1 / (i + 1))
        region = acc
        effects.append(f"motion{length}")
    if rng.random() < 0.4:
        corners = [rng.uniform(0.35, 1.0) for _ in range(4)]
        gradient = Image.new("L", (2, 2))
        gradient.putdata([int(255 * c) for c in corners])
        gradient = gradient.resize(region.size, Image.Resampling.BILINEAR)
        region = ImageChops.multiply(region, Image.merge("RGB", (gradient,) * 3))
        effects.append("gradient")
    if rng.random() < 0.2:
        glare = Image.new("L", (64, 64), 0)
        cx, cy, r = rng.uniform(16, 48), rng.uniform(16, 48), rng.uniform(6, 18)
        ImageDraw.Draw(glare).ellipse(
            (cx - r, cy - r * 0.6, cx + r, cy + r * 0.6), fill=int(255 * rng.uniform(0.4, 0.75))
        )
        glare = glare.filter(ImageFilter.GaussianBlur(4)).resize(
            region.size, Image.Resampling.BILINEAR
        )
        region = ImageChops.screen(region, Image.merge("RGB", (glare,) * 3))
        effects.append("glare")
    return region


_ORIENTATION_STORE = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


def make_sample(seed: int, index: int) -> Sample:
    """Generate photo number `index` of the corpus for `seed` (same inputs, same bytes)."""
    rng = random.Random(f"fieldhand-labels:{seed}:{index}")
    frames, weights = zip(*FRAMES, strict=True)
    size = rng.choices(frames, weights)[0]
    if rng.random() < 0.33:
        size = (size[1], size[0])
    effects: list[str] = []
    light = 1.0
    if rng.random() < 0.3:
        light = rng.uniform(0.25, 0.6)
        effects.append(f"dark{light:.2f}")
    image = _background(rng, size, light)

    text, tuid = _random_label(rng)
    qr_px = rng.randrange(QR_PX[0], QR_PX[1] + 1)
    patch = _warp(rng, _label_patch(rng, text, tuid, qr_px), effects)
    if light < 1.0:
        alpha = patch.getchannel("A")
        patch = patch.convert("RGB").point(lambda v: int(v * light))
        patch.putalpha(alpha)
    x = rng.randrange(0, max(1, size[0] - patch.width))
    y = rng.randrange(0, max(1, size[1] - patch.height))
    image.paste(patch, (x, y), patch)

    margin = qr_px // 2
    box = (
        max(0, x - margin),
        max(0, y - margin),
        min(size[0], x + patch.width + margin),
        min(size[1], y + patch.height + margin),
    )
    module_px = qr_px / 33
    image.paste(_degrade_region(rng, image.crop(box), module_px, effects), box[:2])

    if rng.random() < 0.6 or light < 1.0:
        sigma = rng.uniform(2, 8) * (1.5 if light < 1.0 else 1.0)
        noise = _noise_layer(rng, size, sigma)
        image = ImageChops.add(image, Image.merge("RGB", (noise,) * 3), 1.0, -128)
        effects.append(f"noise{sigma:.0f}")

    exif = Image.Exif()
    if rng.random() < 0.25:
        orientation = rng.choice(sorted(_ORIENTATION_STORE))
        image = image.transpose(_ORIENTATION_STORE[orientation])
        exif[0x0112] = orientation
        effects.append(f"exif{orientation}")
    quality = rng.randrange(60, 96)  # phones save at 85-95; re-encoding apps go lower
    effects.append(f"q{quality}")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return Sample(index, out.getvalue(), tuid, image.size, qr_px, effects, box)


def make_corpus(count: int, seed: int, jobs: int = 1) -> Iterator[Sample]:
    """Yield the corpus in index order, generated on `jobs` processes."""
    if jobs <= 1:
        for index in range(count):
            yield make_sample(seed, index)
        return
    with ProcessPoolExecutor(jobs) as pool:
        yield from pool.map(make_sample, [seed] * count, range(count), chunksize=4)


# ---------------------------------------------------------------------------------------------
# Steps measured and dropped (`--candidates` runs them after the kept ones, to show what each
# would still add). Tiles and an older locator were dropped earlier; see the commit history.


def autocontrast(image: Image.Image) -> Image.Image:
    return ImageOps.autocontrast(image, cutoff=1)


def denoise(image: Image.Image) -> Image.Image:
    return image.filter(ImageFilter.MedianFilter(3))


DROPPED: tuple[Step, ...] = (
    Step("frame 1000 autocontrast", frame(1000, autocontrast, "ac"), whole_frame=True),
    Step("frame 2000 threshold", frame(2000, threshold, "thr"), whole_frame=True),
    Step("frame 2000 sharpen", frame(2000, sharpen, "sharp"), whole_frame=True),
    Step("frame 2000 turned 45", frame(2000, turned(45), "turn45"), whole_frame=True),
    Step("frame full", frame(None), whole_frame=True),
    Step("spots 160", spots(160, {"grey": None})),
    Step("spots 400", spots(400, {"grey": None, "autocontrast": autocontrast})),
    Step("spots 600", spots(600, {"grey": None, "threshold": threshold})),
    Step("spots 250 denoise", spots(250, {"denoise": denoise})),
    Step("spots 320 turned 60", spots(320, {"turn60": turned(60)})),
    Step("spots 400 turned", spots(400, {f"turn{a}": turned(a) for a in (15, 30, 45, 60, 75)})),
    # replaced by "spots 200 upright sharpen" (one measured turn instead of a fixed one)
    Step("spots 200 sharpen turned 30", spots(200, {"sharpen+turn30": turned(30, sharpen)})),
    # nothing left for these once deblur and the upright steps were in
    Step("spots 400 sharpen, threshold", spots(400, {"sharpen": sharpen, "threshold": threshold})),
    Step("spots 400 denoise", spots(400, {"denoise": denoise})),
    Step("more spots 400 deblur", spots(400, {"deblur": deblur(6)}, margin=LOOSE, more=True)),
)


# ---------------------------------------------------------------------------------------------
# Measuring


def baseline(jpeg: bytes) -> list[str]:
    """Plain pyzbar on the full image, no preparation at all."""
    with Image.open(io.BytesIO(jpeg)) as image:
        return [
            d.data.decode("utf-8", "replace") for d in pyzbar.decode(image, [ZBarSymbol.QRCODE])
        ]


def _tuids(texts: list[str]) -> set[str]:
    found = set()
    for text in texts:
        try:
            found.add(parse_label(text).tuid)
        except LabelError:
            continue
    return found


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="also write every photo here as JPEG")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="processes for generating the corpus (decoding is always serial)",
    )
    parser.add_argument("--no-steps", action="store_true", help="skip the per-step table")
    parser.add_argument(
        "--candidates", action="store_true", help="add the dropped steps to the per-step table"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    corpus = list(make_corpus(args.count, args.seed, args.jobs))
    generation_s = time.perf_counter() - started
    twelve = sum(1 for s in corpus if sorted(s.size) == sorted(TWELVE_MP))
    print(
        f"corpus: {len(corpus)} photos (seed {args.seed}), {twelve} of them 12 MP; "
        f"generated in {generation_s:.1f} s on {args.jobs} process(es); "
        f"median upload {statistics.median(len(s.jpeg) for s in corpus) / 1e6:.2f} MB"
    )
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for s in corpus:
            name = f"{s.index:04d}_{s.size[0]}x{s.size[1]}_qr{s.qr_px}_{'_'.join(s.effects)}.jpg"
            (args.out / name).write_bytes(s.jpeg)
        print(f"wrote {len(corpus)} photos to {args.out}")

    load_before = os.getloadavg()[0]
    runs: dict[str, list[Run]] = {"baseline": [], "pipeline": []}
    failures: list[Sample] = []
    wins_by_step: Counter[str] = Counter()
    for s in corpus:
        twelve = sorted(s.size) == sorted(TWELVE_MP)
        wall, cpu = time.perf_counter(), time.process_time()
        texts = baseline(s.jpeg)
        runs["baseline"].append(Run(s.tuid in _tuids(texts), *_since(wall, cpu), twelve))
        wall, cpu = time.perf_counter(), time.process_time()
        result = decode_image(s.jpeg)
        ok = s.tuid in _tuids([code.text for code in result.codes])
        runs["pipeline"].append(Run(ok, *_since(wall, cpu), twelve))
        if ok:
            wins_by_step[result.steps_tried[-1]] += 1
        else:
            failures.append(s)
    print(
        f"\ndecode rate and time per photo, one photo at a time (load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after, {os.cpu_count()} cores; "
        "wall time suffers from other work on the machine, CPU time much less):"
    )
    for name in ("baseline", "pipeline"):
        for label, subset in (("all", runs[name]), ("12 MP", [r for r in runs[name] if r.twelve])):
            print(_row(f"{name}, {label}", subset))
    print("\npipeline: the step that found the label, in cascade order:")
    for step in STEPS:
        print(f"  {step.name:<40} {wins_by_step[step.name]:>4}")
    if failures:
        print("\nnot decoded by the pipeline:")
        for s in failures:
            print(
                f"  #{s.index:<4} {s.size[0]}x{s.size[1]} qr {s.qr_px:>3} px  {' '.join(s.effects)}"
            )

    if not args.no_steps:
        _step_table(corpus, STEPS + (DROPPED if args.candidates else ()))


@dataclass
class Run:
    ok: bool
    wall_ms: float
    cpu_ms: float
    twelve: bool


def _since(wall: float, cpu: float) -> tuple[float, float]:
    """Return (wall ms, CPU ms) since the perf_counter and process_time readings given."""
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _row(name: str, runs: list[Run]) -> str:
    ok = sum(r.ok for r in runs)
    wall = [r.wall_ms for r in runs]
    cpu = [r.cpu_ms for r in runs]
    return (
        f"  {name:<18} {ok:>4}/{len(runs):<4} {100 * ok / max(len(runs), 1):5.1f} %  "
        f"wall median {statistics.median(wall):6.1f} p95 {_pct(wall, 0.95):6.1f} ms  "
        f"CPU median {statistics.median(cpu):6.1f} p95 {_pct(cpu, 0.95):6.1f} "
        f"max {max(cpu):6.1f} ms"
    )


def _step_table(corpus: list[Sample], steps: tuple[Step, ...]) -> None:
    print("\nevery step alone on every photo: photos it decodes ('alone'), photos no step above")
    print("it decodes ('new'), photos no other step decodes ('only'), median CPU ms per photo")
    print("(including decoding the JPEG and locating spots, which the cascade does only once):")
    solved: dict[str, set[int]] = {step.name: set() for step in steps}
    cost: dict[str, list[float]] = {step.name: [] for step in steps}
    for s in corpus:
        for step in steps:
            t0 = time.process_time()
            texts = run_step(s.jpeg, step)
            cost[step.name].append((time.process_time() - t0) * 1000)
            if s.tuid in _tuids(texts):
                solved[step.name].add(s.index)
    covered: set[int] = set()
    print(f"  {'step':<40} {'alone':>6} {'new':>5} {'only':>5} {'median ms':>10}")
    for step in steps:
        if step is DROPPED[0]:
            print("  -- measured and dropped:")
        mine = solved[step.name]
        others = set().union(*(v for k, v in solved.items() if k != step.name))
        print(
            f"  {step.name:<40} {len(mine):>6} {len(mine - covered):>5} "
            f"{len(mine - others):>5} {statistics.median(cost[step.name]):>10.1f}"
        )
        covered |= mine
    print(f"  decoded by some step: {len(covered)}/{len(corpus)}")


if __name__ == "__main__":
    main()
