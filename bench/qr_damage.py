"""How much of each unread label the grid reader saw wrong: is it the reader, or is it gone?

For every photo of a seed the shipped cascade does not read, this samples the code the way the
grid reader does (app/labels/grid.py: the finders found, each grid it would try) and compares
the best grid with the true code (made again with the `qrcode` package from the label's text,
at the level and mask it chose). Per Reed-Solomon block it counts the codewords the reader
marked unknown (glare) and the ones it read wrong, against the block's check symbols: a block
can be corrected when unknown + wrong <= check symbols, if the reader knew which were wrong.

    excess = max over blocks of (unknown + wrong - check symbols)

excess <= 0: the information is in the grid and a better ranking of doubtful codewords could
read it; > 0: more is unknown or wrong in every grid this reader samples than the code can
restore (a saturated core is lost to any reader; blur or a misplaced grid may not be);
"no grid": no finder triple the reader found gives a grid of the code's size. Tuning seeds
only.

    .venv/bin/python bench/qr_damage.py [--seed 1] [--count 300] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import qrcode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.labels import finders, grid, grid_deblur, qr_matrix  # noqa: E402
from app.labels.cascade import STEPS  # noqa: E402
from app.labels.decoder import decode_image  # noqa: E402
from app.labels.photo import Photo  # noqa: E402
from bench.label_corpus import make_sample  # noqa: E402

Grid = list[list[float]]


def truths(text: str) -> list[tuple[int, list[list[bool]], int]]:
    """(level, modules, mask) of the code at each level the corpus uses."""
    out = []
    for level in (qrcode.constants.ERROR_CORRECT_M, qrcode.constants.ERROR_CORRECT_Q):
        code = qrcode.QRCode(error_correction=level, border=0)
        code.add_data(text)
        code.make(fit=True)
        out.append((level, [list(row) for row in code.modules], code.best_mask_pattern()))
    return out


def sampled_grids(photo: Photo) -> list[Grid]:
    """Every grid the grid step's views would hand to the matrix reader, as sampled and with
    the blur taken out (no reading cap)."""
    step = next(s for s in STEPS if s.read is grid.read)
    grids: list[Grid] = []
    for _key, view in step.views(photo):
        grey = view.convert("L")
        for found in finders.binarisations(grey):
            for triple in finders.triples(found):
                for version in grid._versions(*triple):
                    for values in grid._grids(grey, triple, version):
                        grids.append(grid._soft(values, len(values)))
                        unblurred = grid_deblur.unblurred(values, saturated=grid.SATURATED)
                        if unblurred is not None:
                            grids.append(grid._soft(unblurred, len(unblurred)))
    return grids


def damage(seed: int, index: int) -> tuple[int, int | None, str, str] | None:
    """(index, excess or None for no grid, blocks, effects) of an unread photo; None if read."""
    s = make_sample(seed, index)
    result = decode_image(s.jpeg, clock=time.thread_time)
    if s.tuid in {code.label.tuid for code in result.codes if code.label}:
        return None
    best: tuple[int, str] | None = None
    for grid_values in sampled_grids(Photo(s.jpeg)):
        flat = [v for row in grid_values for v in row]
        if sum(v == 0 for v in flat) > 0.6 * len(flat):
            continue  # nothing sampled: not a code there
        for level, modules, mask in truths(s.text):
            size = len(modules)
            if size != len(grid_values):
                continue
            version = (size - 17) // 4
            truth = [v for row in modules for v in row]
            codewords = qr_matrix._codewords(version, mask)
            blocks = []
            for indexes, data_count in qr_matrix._blocks(version, level):
                unknown = wrong = 0
                for i in indexes:
                    cells = [cell for cell, _flip in codewords[i]]
                    if any(flat[c] == 0 for c in cells):
                        unknown += 1
                    elif any((flat[c] > 0) != truth[c] for c in cells):
                        wrong += 1
                blocks.append((unknown, wrong, len(indexes) - data_count))
            excess = max(u + w - n for u, w, n in blocks)
            text = " ".join(f"{u}+{w}/{n}" for u, w, n in blocks)
            if best is None or excess < best[0]:
                best = (excess, text)
    effects = " ".join(s.effects)
    return (index, None, "", effects) if best is None else (index, best[0], best[1], effects)


def _bucket(excess: int | None) -> str:
    if excess is None:
        return "no grid"
    if excess <= 0:
        return "excess <= 0"
    return "excess 1-5" if excess <= 5 else "excess > 5"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=1, help="a tuning seed")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    with ProcessPoolExecutor(args.jobs) as pool:
        found = [
            r
            for r in pool.map(damage, [args.seed] * args.count, range(args.count), chunksize=2)
            if r is not None
        ]
    print(f"seed {args.seed}: {len(found)} of {args.count} photos not read by the cascade")
    print("  photo  excess  unknown+wrong/check symbols per block   effects")
    for index, excess, blocks, effects in found:
        shown = "-" if excess is None else str(excess)
        print(f"  #{index:<5} {shown:>6}  {blocks:<38} {effects}")
    counts = Counter(_bucket(excess) for _, excess, _, _ in found)
    print("  " + ", ".join(f"{name}: {n}" for name, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
