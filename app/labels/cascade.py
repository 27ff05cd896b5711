"""The cascade's steps, cheap to costly, and why each one is there (measured on the tuning seed
of bench/qr_decode.py, checked on its held-out seeds)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.labels import grid
from app.labels.photo import Photo
from app.labels.prepare import (
    chained,
    deblur,
    denoise_sharpen,
    enlarge_sharpen,
    flatten,
    normalise,
    sharpen,
    sharpen_hard,
    threshold,
    upright,
)
from app.labels.readers import Reader, zbar
from app.labels.views import LOOSE, WIDE, View, frame, joined, leading, spots, turns


@dataclass(frozen=True)
class Step:
    """One way of looking at the photo: yields (key, image) views for a reader to scan."""

    name: str
    views: Callable[[Photo], Iterator[View]]  # (key, image): a key is scanned once per photo
    whole_frame: bool = False  # looks at the whole photo, not only at the likeliest spots
    read: Reader = zbar  # the QR reader its views go to


# Glare: the darkest channel (the lamp's tint leaves one below full scale), the light taken out,
# then turned square; the angle is measured after the light is out, as a highlight's rim
# outweighs the modules' edges. Glare breaks a code into fragments the locator scores apart,
# hence a wide margin too. On the tuning seed these read 5 of the 70 glare photos the cascade
# missed (of 102; loose crops 4, wide ones 2, one in both); most of the rest are not read from
# the label's true box in any channel either: the saturated core covers more than the 6-9 % of
# a level-M code zbar corrects, or a finder pattern. Held-out (seeds 2-4, the first 230
# photos, against the cascade without them, same photos): glare 21 -> 24 of 69, overall
# 158 -> 161, nothing lost; non-label photos answered 32 -> 34 of 38 at the same median time;
# 12 MP photos read: median 103 -> 105 ms CPU.
GLARE_NORMALISE = chained(normalise(50), upright())
GLARE_FLATTEN = chained(flatten(50), deblur(6), upright())

# zbar reads every view. A ZXing-C++ step after "spots 400 deblur" (on its own and on prepared
# crops: sharpened, least channel normalised or deblurred, small spots normalised or enlarged)
# read 5 more of the tuning seed's first 150 photos but only 2 more of 300 held-out ones
# (70.3 -> 71.0 %, one far code lost), at the same time: not enough to ship a second decoder
# for. bench/qr_decode.py --zxing measures it again (see its `with_zxing`).

# The grid step hands its views to our own reader (grid.py, qr_matrix.py), not to zbar: it maps
# the module grid from the finder patterns and gives Reed-Solomon the modules a glare highlight
# saturated as erasures, which correct twice as many codewords as the errors zbar sees there.
# It comes after the zbar steps that read most photos cheaply and before the spots-500 steps,
# which read nothing more on the tuning seed once it ran. There it starts 1.0-1.8 s into the
# 1.5 s budget on the photos the cascade misses (a view it fails on costs it 200-600 ms CPU,
# one it reads 70 ms at the median): of the 80 tuning photos missed, the grid reader alone,
# given all the time it wants, reads 10. Its views come in the order that reads most of them
# early: the spots found in the 2000 px copy (placed closer round a small code), then the
# darkest channel's, then the 1000 px copy's; in the step's first 400 ms that order reads 7 of
# the 10 where 1000 px first read 1, and as many photos overall (194 and 192 of 300 with the
# grid step alone on each photo). With reed_solomon.py's faster decoding: tuning seed side by
# side 219 -> 221, held-out 666 -> 667 (noise-sized; the reorder costs nothing).
# Moving the step earlier does not pay: right after "spots 250" the tuning seed read 226-227
# (glare 44 -> 50) but held-out seeds 2-4 only 652 of 900 (glare 121, and one photo with
# none of the degradations lost): the zbar sweeps after it read many held-out photos cheaply
# (spots 200 upright sharpen 35, spots 400 upright sharpen hard 20) and a failing grid view
# took their budget. Two grids of two views tried early, the rest here: held-out 665.
# Measured with bench/qr_decode.py, the cascade without it / with it, same 900 photos of
# held-out seeds 2-4: 645 -> 669 read (71.7 -> 74.3 %), glare 110 -> 135 of 282; the tuning
# seed 216 -> 224 of 300; non-label photos answered at the same median (308 / 305 ms CPU).
# Reading the grids of guessed triples (a finder burnt out) from a sharpened copy (grid.SHARPEN):
# tuning seed 224 -> 227 (glare 49 -> 52 of 102), nothing lost; held-out 669 -> 670 (74.4 %,
# glare 136, low contrast 188 of 272, the other rows the same); same medians (12 MP read 68 ms,
# non-label 309 ms CPU; tuning run). Of the 76 tuning photos unread before it, bench/qr_damage.py
# finds no grid of the code's size in 43: cropped at the label's true box they do not read
# either, nor with the finder search helped (2x Lanczos for modules under 3 px, a median or
# Gaussian before binarising, a lower _MIN_UNIT, a smaller mean window, a lower dark margin, a
# looser 1:1:3:1:1 tolerance): 1 of 43 at best, and in the step's own crops the looser
# tolerance's false triples took the reads of 2 it reads now.
# 26 of them are blurred by 0.55-1.5 module (sigma 2-3 px on 2-5 px modules); most grids the
# helped search does place are 10-24 codewords a block past what the check symbols restore.
# Doubting codewords in a glare halo first (qr_matrix: a codeword's weakest module divided by
# 1 + its modules beside an unknown one): tuning seed 227 -> 228 (glare 52 -> 53), nothing lost;
# held-out 670 -> 671 (74.6 %, glare 137 of 282, the other rows the same); 12 MP read 67 ms,
# non-label 310 ms CPU. Of the 73 tuning photos unread before it none reads by combining the
# grids tried for a triple (mean, or per module the surest), by taking each block from whichever
# grid of the triple or the view decodes it, or by ranking on a codeword's second-weakest or mean
# module: qr_damage's 9 photos with excess <= 0 keep 0-4 check symbols at best, with the wrong
# codewords known, and the margin asks 3 (less pad bytes) on top of what the ranking finds.
# Blur taken out of the grids (grid_deblur, after every grid as sampled has failed): measured on
# a machine that decodes about 1.9 times slower than the one above (12 MP read 131 ms), where
# the budget cuts more searches short: held-out 654 -> 665 of 900 (blur 158 -> 167, glare
# 125 -> 128, far codes 106 -> 111), non-label photos 93 -> 94 of 100 answered at 359 / 366 ms
# median CPU; tuning seed 216 -> 220, nothing lost.

# The cascade: cheap and often successful first, the costly sweeps last (they only run on
# photos nothing else could read). Chosen by measurement with bench/qr_decode.py (its `--steps`
# table; the commit history has the steps measured and dropped).
# "frame 2000" decodes no photo of the one-label corpus that the steps before it miss; it stays
# for photos with several codes (a label sheet), where zbar at 1000 px misses some.
# A spot crop of 400 px holds a code of about 230 px: some 6-7 px a module, hence deblur(6).
# The upright deblur that reads most blurred codes also pays off on a larger crop (bigger
# codes, 8 px a module), on the small spots (a 60-100 px code in a 12 MP frame, which the
# 1000 px locator copy blurs away) and on the next four spots; on held-out seeds 2-5 these
# three read 1-3 more photos in 300 each, and they only run on photos nothing before read.
# On the field-like corpus (glare, far codes, blur, low contrast; bench/label_corpus.py) local
# normalisation on loose, small-code and further spots reads 1 more photo each on the tuning
# seed (glare halos and faded prints); enlarge-sharpen on small-code spots read 2 of its
# failures alone (in the cascade one is read before it, one is ended by the early stop). On
# the held-out seeds the four read 9 photos of 900 but take budget the turned sweeps and
# frame 2000 used to have: net +2. Most photos the cascade misses there are not read from the
# label's true box either (`--ceiling`): the glare core or the blur took the modules.
STEPS: tuple[Step, ...] = (
    Step("frame 1000", frame(1000), whole_frame=True),
    Step("spots 200", spots(200, {"grey": None})),
    Step("spots 250", spots(250, {"grey": None})),
    Step("spots 200 upright sharpen", spots(200, {"upright+sharpen": upright(sharpen)})),
    Step("spots 320 threshold", spots(320, {"threshold": threshold})),
    Step("spots 400 deblur", spots(400, {"deblur": deblur(6)}, margin=LOOSE)),
    Step(
        "spots 400 upright sharpen hard",
        spots(400, {"upright+sharpen_hard": upright(sharpen_hard)}, margin=LOOSE),
    ),
    Step(
        "spots 400 upright deblur", spots(400, {"upright+deblur": upright(deblur(6))}, margin=LOOSE)
    ),
    Step(
        "spots 400 least channel normalise upright",
        spots(400, {"normalise+upright": GLARE_NORMALISE}, margin=LOOSE, least_channel=True),
    ),
    Step(
        "spots 400 least channel flatten deblur upright",
        spots(400, {"flatten+deblur+upright": GLARE_FLATTEN}, margin=LOOSE, least_channel=True),
    ),
    Step(
        "spots 400 wide least channel normalise, flatten",
        spots(
            400,
            {"normalise+upright": GLARE_NORMALISE, "flatten+deblur+upright": GLARE_FLATTEN},
            margin=WIDE,
            least_channel=True,
        ),
    ),
    Step("frame 1000 threshold", frame(1000, threshold, "threshold"), whole_frame=True),
    Step(
        "grid: spots 400, small, least channel",
        joined(
            leading(2, spots(400, {"grey": None}, margin=LOOSE, locate_px=2000)),
            leading(2, spots(400, {"grey": None}, margin=LOOSE, least_channel=True)),
            leading(2, spots(400, {"grey": None}, margin=LOOSE)),
        ),
        read=grid.read,
    ),
    Step(
        "spots 500 upright deblur 8",
        spots(500, {"upright+deblur8": upright(deblur(8))}, margin=LOOSE),
    ),
    Step("spots 500 wide deblur", spots(500, {"deblur": deblur(6)}, margin=WIDE)),
    Step(
        "small spots 250",
        spots(250, {"grey": None, "sharpen": sharpen}, margin=LOOSE, locate_px=2000),
    ),
    Step(
        "small spots 400 upright deblur",
        spots(400, {"upright+deblur": upright(deblur(6))}, margin=LOOSE, locate_px=2000),
    ),
    Step(
        "more spots 250, upright sharpen",
        spots(250, {"grey": None, "upright+sharpen": upright(sharpen)}, more=True),
    ),
    Step(
        "more spots 400 upright deblur",
        spots(400, {"upright+deblur": upright(deblur(6))}, margin=LOOSE, more=True),
    ),
    Step("spots 400 normalise", spots(400, {"normalise": normalise(50)}, margin=LOOSE)),
    Step(
        "small spots 320 normalise",
        spots(320, {"normalise": normalise(50)}, margin=LOOSE, locate_px=2000),
    ),
    Step(
        "small spots 400 upright enlarge sharpen",
        spots(400, {"upright+enlarge": upright(enlarge_sharpen)}, margin=LOOSE, locate_px=2000),
    ),
    Step(
        "more spots 400 normalise",
        spots(400, {"normalise": normalise(50)}, margin=LOOSE, more=True),
    ),
    Step(
        "spots 250 sharpen hard, turned", spots(250, turns(denoise_sharpen) | turns(sharpen_hard))
    ),
    Step(
        "spots 400 sharpen hard, turned", spots(400, turns(denoise_sharpen) | turns(sharpen_hard))
    ),
    Step("frame 2000", frame(2000), whole_frame=True),
)
