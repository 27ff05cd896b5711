"""The soft QR grid reader: codes made by the `qrcode` package, damaged the way photos damage them.

Which module belongs to which codeword is worked out here independently of the reader: qrcode's
own `makeImpl` places crafted codeword streams, and the modules that change tell the layout.
"""

import math
import random
from collections.abc import Iterator
from functools import cache

import pytest
import qrcode
import qrcode.base
import qrcode.util
import reedsolo
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.exceptions import DataOverflowError

from app.labels import qr_matrix
from app.labels.qr_matrix import read_grid

LEVELS = {"M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "L": ERROR_CORRECT_L, "H": ERROR_CORRECT_H}
TEXTS = [
    "KURZQ909LB7,TSPR03",
    "https://thingsee.com/d/TSTF02S1TZY1U2NCR",
    "I#TSPR03,W#1234567,S#KURZQ909LB7",
    "012345678901234567890123456789",
    "Mäkelä, Hämeenlinna ÄÖ",
    "ABC12345678901234567890123456xyz",  # byte + numeric + byte segments
]
Grid = list[list[float]]
Module = tuple[int, int]


def make(text: str | bytes, version: int, level: int, mask: int) -> qrcode.QRCode:
    code = qrcode.QRCode(version=version, error_correction=level, border=0, mask_pattern=mask)
    code.add_data(text)
    code.make(fit=False)
    return code


def soft(code: qrcode.QRCode) -> Grid:
    return [[1.0 if dark else -1.0 for dark in row] for row in code.modules]


def pads_per_block(code: qrcode.QRCode, version: int, level: int) -> list[int]:
    """How many 0xEC/0x11 pad bytes end each block's data, worked out as qrcode writes them."""
    buffer = qrcode.util.BitBuffer()
    for data in code.data_list:
        buffer.put(data.mode, 4)
        buffer.put(len(data), qrcode.util.length_in_bits(data.mode, version))
        data.write(buffer)
    spec = qrcode.base.rs_blocks(version, level)
    limit = sum(b.data_count for b in spec) * 8
    pads_from = math.ceil((len(buffer) + min(4, limit - len(buffer))) / 8)
    pads, start = [], 0
    for block in spec:
        end = start + block.data_count
        pads.append(max(0, end - max(start, pads_from)))
        start = end
    return pads


def capacities(code: qrcode.QRCode, version: int, level: int) -> list[int]:
    """Erasures each block may have and still be accepted: all its check symbols but the
    margin, which each pad byte the block's data ends in lowers by one."""
    return [
        nsym - max(0, qr_matrix._RS_MARGIN - pads)
        for (_, nsym), pads in zip(
            blocks(version, level), pads_per_block(code, version, level), strict=True
        )
    ]


def filling(version: int, level: int) -> str:
    """A byte-mode text that fills the code's data exactly: no pad bytes, the whole margin."""
    data = sum(b.data_count for b in qrcode.base.rs_blocks(version, level))
    return ("tspr03kurzq909lb7" * 10)[: data - 2]


@cache
def layout(version: int, mask: int) -> dict[Module, tuple[int, int]]:
    """(row, col) -> (index in the codeword stream, bit 0 = MSB), from qrcode's placement."""
    total = sum(b.total_count for b in qrcode.base.rs_blocks(version, ERROR_CORRECT_M))

    def place(stream: list[int]) -> list[list[bool]]:
        code = qrcode.QRCode(version=version, border=0)
        code.data_cache = stream
        code.makeImpl(False, mask)
        return [list(row) for row in code.modules]

    zero, ones = place([0] * total), place([0xFF] * total)
    planes = [place([0xFF if i >> p & 1 else 0 for i in range(total)]) for p in range(9)]
    bit_planes = [place([sum(0x80 >> b for b in range(8) if b >> q & 1)] * total) for q in range(3)]
    result = {}
    for r, row in enumerate(zero):
        for c, value in enumerate(row):
            if ones[r][c] == value:
                continue  # not a data module (function pattern or remainder bit)
            index = sum(1 << p for p, plane in enumerate(planes) if plane[r][c] != value)
            bit = sum(1 << q for q, plane in enumerate(bit_planes) if plane[r][c] != value)
            result[(r, c)] = (index, bit)
    assert sorted(result.values()) == [(i, b) for i in range(total) for b in range(8)]
    return result


def blocks(version: int, level: int) -> list[tuple[list[int], int]]:
    """Per block: its codewords' stream indexes and its number of check codewords."""
    spec = qrcode.base.rs_blocks(version, level)
    members: list[list[int]] = [[] for _ in spec]
    index = 0
    for counts in ([b.data_count for b in spec], [b.total_count - b.data_count for b in spec]):
        for i in range(max(counts)):
            for b, count in enumerate(counts):
                if i < count:
                    members[b].append(index)
                    index += 1
    return [(m, b.total_count - b.data_count) for m, b in zip(members, spec, strict=True)]


def damaged_per_block(version: int, level: int, mask: int, modules: set[Module]) -> list[int]:
    where = layout(version, mask)
    hit = {where[m][0] for m in modules if m in where}
    return [len(hit.intersection(members)) for members, _ in blocks(version, level)]


def codeword_modules(version: int, mask: int, index: int) -> list[Module]:
    return [m for m, (i, _) in layout(version, mask).items() if i == index]


def cases(text: str) -> Iterator[tuple[int, int, int, qrcode.QRCode]]:
    for version in range(1, 7):
        for level in LEVELS.values():
            for mask in range(8):
                try:
                    code = make(text, version, level, mask)
                except DataOverflowError:
                    break
                yield version, level, mask, code


# --- clean codes ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", TEXTS)
def test_clean_grids_decode_for_every_version_level_and_mask(text: str) -> None:
    decoded = [(v, lvl, m, read_grid(soft(code))) for v, lvl, m, code in cases(text)]
    assert len(decoded) >= 8 * 4 * 2  # every level fits from version 3 at the latest
    assert [d for d in decoded if d[3] != text] == []


def test_a_text_split_into_several_modes_decodes_whole() -> None:
    code = make(TEXTS[-1], 3, ERROR_CORRECT_M, 5)
    assert len(code.data_list) == 3
    assert len({segment.mode for segment in code.data_list}) == 2
    assert read_grid(soft(code)) == TEXTS[-1]


def test_bytes_that_are_not_utf8_fall_back_to_latin1() -> None:
    assert read_grid(soft(make("Käsi".encode("latin-1"), 2, ERROR_CORRECT_Q, 1))) == "Käsi"


def test_versions_7_to_10_with_version_information_decode() -> None:
    for version in (7, 10):
        for mask in (0, 7):
            code = make(TEXTS[1], version, ERROR_CORRECT_Q, mask)
            assert read_grid(soft(code)) == TEXTS[1]


def test_nan_and_confidence_values_other_than_one() -> None:
    code = make(TEXTS[0], 2, ERROR_CORRECT_Q, 3)
    grid = [
        [v * (0.2 + (r * 7 + c * 3) % 10) for c, v in enumerate(row)]
        for r, row in enumerate(soft(code))
    ]
    assert read_grid(grid) == TEXTS[0]
    grid[10][10] = math.nan
    assert read_grid(grid) == TEXTS[0]


# --- hand-made payloads ---------------------------------------------------------------------


def payload_grid(bits: str, version: int, level: int, mask: int, pad: bytes = b"") -> Grid:
    """A code whose data codewords are `bits` (zero-filled to a byte), then `pad` repeated."""
    spec = qrcode.base.rs_blocks(version, level)
    data = bytes(int(bits[i : i + 8].ljust(8, "0"), 2) for i in range(0, len(bits), 8))
    room = sum(b.data_count for b in spec)
    filler = (pad or b"\xec\x11") * room
    data = (data + filler)[:room]
    data_parts, check_parts, offset = [], [], 0
    for block in spec:
        part = data[offset : offset + block.data_count]
        offset += block.data_count
        nsym = block.total_count - block.data_count
        codec = reedsolo.RSCodec(nsym, fcr=0, prim=0x11D, generator=2, c_exp=8)
        data_parts.append(list(part))
        check_parts.append(list(codec.encode(part)[-nsym:]))
    stream = []
    for parts in (data_parts, check_parts):
        for i in range(max(map(len, parts))):
            stream += [p[i] for p in parts if i < len(p)]
    code = qrcode.QRCode(version=version, error_correction=level, border=0)
    code.data_cache = stream
    code.makeImpl(False, mask)
    return soft(code)


def byte_segment(text: bytes) -> str:
    return "0100" + f"{len(text):08b}" + "".join(f"{b:08b}" for b in text)


def test_hand_made_payload_matches_what_qrcode_makes() -> None:
    bits = byte_segment(TEXTS[0].encode()) + "0000"
    assert payload_grid(bits, 2, ERROR_CORRECT_Q, 4) == soft(make(TEXTS[0], 2, ERROR_CORRECT_Q, 4))


def test_eci_designators_are_skipped() -> None:
    for eci in ("00011010", "10" + f"{1000:014b}", "110" + f"{100000:021b}"):
        bits = "0111" + eci + byte_segment("Jää".encode()) + "0000"
        assert read_grid(payload_grid(bits, 2, ERROR_CORRECT_M, 6)) == "Jää"


def test_numeric_and_alphanumeric_segments() -> None:
    bits = "0001" + f"{5:010b}" + f"{123:010b}" + f"{45:07b}"  # "12345"
    bits += "0010" + f"{3:09b}" + f"{10 * 45 + 36:011b}" + f"{44:06b}" + "0000"  # "A :"
    assert read_grid(payload_grid(bits, 1, ERROR_CORRECT_L, 2)) == "12345A :"


@pytest.mark.parametrize(
    ("bits", "pad"),
    [
        ("1000" + "00000001" + "0" * 13 + "0000", b""),  # kanji
        ("0011" + "0" * 16 + byte_segment(b"x") + "0000", b""),  # structured append
        ("0100" + "11111111" + "01100001" * 3 + "0000", b""),  # byte count past the data
        ("0001" + f"{3:010b}" + f"{1000:010b}" + "0000", b""),  # numeric group out of range
        ("0010" + f"{1:09b}" + f"{45:06b}" + "0000", b""),  # alphanumeric value out of range
        (byte_segment(b"ok") + "0000", b"\xec\x12"),  # wrong pad byte
        (byte_segment(b"ok") + "0000", b"\x11\xec"),  # pad bytes in the wrong order
        (byte_segment(b"ok") + "0000" + "0001", b""),  # non-zero bits up to the byte boundary
    ],
)
def test_malformed_payloads_are_rejected(bits: str, pad: bytes) -> None:
    assert read_grid(payload_grid(bits, 1, ERROR_CORRECT_M, 0, pad)) is None


def test_well_formed_control_for_the_malformed_payloads() -> None:
    assert read_grid(payload_grid(byte_segment(b"ok") + "0000", 1, ERROR_CORRECT_M, 0)) == "ok"
    full = byte_segment(b"x" * 14)  # version 1-M holds 16 data codewords: 4 + 8 + 112 bits
    assert len(full) == 124
    assert read_grid(payload_grid(full, 1, ERROR_CORRECT_M, 0)) == "x" * 14


def test_data_that_fills_the_code_needs_no_terminator() -> None:
    digits = "3141592653589793238462643383279502"  # 34 digits: 4 + 10 + 11 * 10 + 4 = 128 bits
    groups = [digits[i : i + 3] for i in range(0, 34, 3)]
    bits = "0001" + f"{34:010b}" + "".join(f"{int(g):0{len(g) * 3 + 1}b}" for g in groups)
    assert len(bits) == 16 * 8
    assert read_grid(payload_grid(bits, 1, ERROR_CORRECT_M, 5)) == digits
    assert read_grid(soft(make(digits, 1, ERROR_CORRECT_M, 5))) == digits


# --- damage ---------------------------------------------------------------------------------


def disc(n: int, row: float, col: float, radius: float) -> set[Module]:
    return {
        (r, c) for r in range(n) for c in range(n) if (r - row) ** 2 + (c - col) ** 2 <= radius**2
    }


def erase(grid: Grid, modules: set[Module], value: float = 0.0) -> Grid:
    return [
        [value if (r, c) in modules else v for c, v in enumerate(row)] for r, row in enumerate(grid)
    ]


GLARE_CASES = [  # text, version, level, mask, glare centre as fractions of the size
    (TEXTS[0], 2, "Q", 3, (0.6, 0.6)),
    (TEXTS[1], 4, "M", 5, (0.35, 0.65)),
    (TEXTS[2], 4, "Q", 0, (0.7, 0.3)),
    (TEXTS[1], 5, "Q", 6, (0.5, 0.5)),
    (TEXTS[3], 6, "H", 2, (0.6, 0.45)),
    (TEXTS[4], 3, "L", 7, (0.75, 0.75)),
]


@pytest.mark.parametrize(("text", "version", "level", "mask", "centre"), GLARE_CASES)
def test_glare_disc_up_to_the_erasure_capacity_decodes_and_beyond_it_does_not(
    text: str, version: int, level: str, mask: int, centre: tuple[float, float]
) -> None:
    code = make(text, version, LEVELS[level], mask)
    n = len(code.modules)
    row, col = centre[0] * (n - 1), centre[1] * (n - 1)
    caps = capacities(code, version, LEVELS[level])
    within = beyond = None
    radius = 0.5
    while beyond is None:
        spot = disc(n, row, col, radius)
        hits = damaged_per_block(version, LEVELS[level], mask, spot)
        if all(h <= cap for h, cap in zip(hits, caps, strict=True)):
            within = (spot, hits)
        else:
            beyond = spot
        radius += 0.25
    assert within is not None
    spot, hits = within
    fill = max(h / cap for h, cap in zip(hits, caps, strict=True))
    assert fill >= 0.8, hits  # close to the capacity: the damage is real
    assert sum(hits) > sum(nsym // 2 for _, nsym in blocks(version, LEVELS[level])) or fill == 1
    assert read_grid(erase(soft(code), spot)) == text
    assert read_grid(erase(soft(code), spot, math.nan)) == text
    assert read_grid(erase(soft(code), beyond)) is None


@pytest.mark.parametrize("seed", range(10))
def test_a_fifth_of_the_codewords_erased_decodes_where_hard_decisions_cannot(seed: int) -> None:
    version, level, mask = 3, ERROR_CORRECT_M, seed % 8
    code = make(TEXTS[1], version, level, mask)
    [(members, nsym)] = blocks(version, level)  # one block: 44 data + 26 check codewords
    rng = random.Random(seed)
    chosen = rng.sample(members, round(0.2 * len(members)))
    assert nsym // 2 < len(chosen) <= capacities(code, version, level)[0]
    glare = {m for i in chosen for m in rng.sample(codeword_modules(version, mask, i), 3)}
    assert read_grid(erase(soft(code), glare)) == TEXTS[1]
    # the same codewords read as sure but wrong values: beyond what error correction can fix
    wrong = {m for i in chosen for m in codeword_modules(version, mask, i)}
    flipped = [
        [-v if (r, c) in wrong else v for c, v in enumerate(row)]
        for r, row in enumerate(soft(code))
    ]
    assert read_grid(flipped) is None


def flip_weakly(grid: Grid, modules: set[Module], confidence: float = 0.1) -> Grid:
    return [
        [-math.copysign(confidence, v) if (r, c) in modules else v for c, v in enumerate(row)]
        for r, row in enumerate(grid)
    ]


@pytest.mark.parametrize(
    ("version", "level", "mask"), [(3, "M", 1), (2, "Q", 4), (5, "Q", 6), (6, "H", 3), (1, "L", 2)]
)
def test_weak_flips_beyond_error_capacity_decode_through_chase_retries(
    version: int, level: str, mask: int
) -> None:
    code = make("TSPR03", version, LEVELS[level], mask)
    rng = random.Random(version * 10 + mask)
    flips = set()
    caps = capacities(code, version, LEVELS[level])
    for (members, nsym), cap in zip(blocks(version, LEVELS[level]), caps, strict=True):
        count = min(nsym // 2 + 1, cap)  # more than plain decoding can correct
        assert 2 * count > nsym - qr_matrix._RS_MARGIN
        for index in rng.sample(members, count):
            flips.add(rng.choice(codeword_modules(version, mask, index)))
    grid = flip_weakly(soft(code), flips)
    assert read_grid(grid, max_tries=1) is None  # errors only: beyond reach
    assert read_grid(grid) == "TSPR03"


@pytest.mark.parametrize(
    ("version", "level", "erased"), [(2, "Q", 0), (2, "Q", 9), (3, "H", 6), (1, "M", 0)]
)
def test_decodes_that_leave_less_than_the_margin_unused_are_refused(
    version: int, level: str, erased: int
) -> None:
    """Reed-Solomon alone would correct these; the margin check must refuse the tight ones.
    The text fills the code, so no pad byte lowers the margin."""
    text = filling(version, LEVELS[level])
    code = make(text, version, LEVELS[level], 2)
    assert set(pads_per_block(code, version, LEVELS[level])) == {0}
    for members, nsym in blocks(version, LEVELS[level]):
        rng = random.Random(nsym * 100 + erased)
        chosen = rng.sample(members, len(members))
        gone = {codeword_modules(version, 2, i)[0] for i in chosen[:erased]}
        errors = (nsym - qr_matrix._RS_MARGIN - erased) // 2
        assert 2 * (errors + 1) + erased <= nsym  # still within what RS itself can correct
        for count, expected in ((errors, text), (errors + 1, None)):
            wrong = set()
            for i in chosen[erased : erased + count]:
                wrong.update(codeword_modules(version, 2, i))
            grid = erase(soft(code), gone)
            grid = [
                [-v if (r, c) in wrong else v for c, v in enumerate(row)]
                for r, row in enumerate(grid)
            ]
            assert read_grid(grid, max_tries=1) == expected, (nsym, erased, count)


def test_sure_flips_beyond_capacity_never_give_a_wrong_text() -> None:
    codes = [
        ("TSPR03", 1, "L", 0),
        (TEXTS[3][:20], 1, "M", 3),
        (TEXTS[0], 2, "Q", 5),
        (TEXTS[2], 3, "M", 7),
        (TEXTS[1], 5, "H", 1),
        (TEXTS[3], 5, "Q", 2),
        (TEXTS[4], 6, "L", 6),
    ]
    outcomes = {"decoded": 0, "none": 0, "beyond": 0}
    rng = random.Random(20240611)
    for trial in range(300):
        text, version, level, mask = codes[trial % len(codes)]
        code = make(text, version, LEVELS[level], mask)
        data_modules = sorted(layout(version, mask))
        flips = set(rng.sample(data_modules, rng.randint(3, len(data_modules) // 6)))
        grid = [
            [-v if (r, c) in flips else v for c, v in enumerate(row)]
            for r, row in enumerate(soft(code))
        ]
        # confidence differences make the Chase retries erase some codewords, not others
        grid = [[v * rng.uniform(0.5, 1.0) for v in row] for row in grid]
        result = read_grid(grid)
        assert result in (None, text), (trial, result)
        hits = damaged_per_block(version, LEVELS[level], mask, flips)
        caps = capacities(code, version, LEVELS[level])
        if any(h > cap for h, cap in zip(hits, caps, strict=True)):
            assert result is None, (trial, hits)
            outcomes["beyond"] += 1
        outcomes["decoded" if result else "none"] += 1
    print(outcomes)
    assert outcomes["decoded"] >= 20 and outcomes["beyond"] >= 100, outcomes


# --- not a code -----------------------------------------------------------------------------


def test_noise_and_blank_grids_give_none() -> None:
    rng = random.Random(7)
    for version in range(1, 11):
        n = 17 + 4 * version
        assert read_grid([[0.0] * n for _ in range(n)]) is None
        assert read_grid([[math.nan] * n for _ in range(n)]) is None
        for _ in range(30):
            assert read_grid([[rng.uniform(-1, 1) for _ in range(n)] for _ in range(n)]) is None
            assert (
                read_grid([[rng.choice((-1.0, 1.0)) for _ in range(n)] for _ in range(n)]) is None
            )


def test_wrong_sizes_give_none() -> None:
    good = soft(make(TEXTS[0], 2, ERROR_CORRECT_Q, 0))
    assert read_grid(good) == TEXTS[0]
    for n in (0, 1, 13, 20, 22, 24, 26, 61, 65):
        assert read_grid([[1.0] * n for _ in range(n)]) is None
    assert read_grid([row[:-1] for row in good]) is None  # 25 x 24
    assert read_grid(good[:-1]) is None  # 24 x 25
    assert read_grid(good[:-1] + [good[-1] + [1.0]]) is None  # ragged
    assert read_grid([row + [1.0] * 4 for row in good] + [[1.0] * 29] * 4) is None  # v3 size, junk


def test_transposed_and_mirrored_grids_do_not_crash() -> None:
    for text, version, level, mask, _ in GLARE_CASES:
        grid = soft(make(text, version, LEVELS[level], mask))
        variants = [
            [list(col) for col in zip(*grid, strict=True)],
            [row[::-1] for row in grid],
            grid[::-1],
            [list(col) for col in zip(*grid[::-1], strict=True)],
        ]
        for variant in variants:
            assert read_grid(variant) in (None, text)


def test_the_margin_keeps_miscorrection_negligible() -> None:
    # a hopeless block passes one attempt with odds of about 256 ** -margin (see the module doc)
    assert qr_matrix._RS_MARGIN >= 3


def test_pad_bytes_stand_in_for_the_margin() -> None:
    """A short label text leaves pad bytes the decode must reproduce exactly, so its block may
    spend every check symbol; a text that fills the code keeps the whole margin back."""
    version, level, mask = 2, ERROR_CORRECT_M, 5
    [(members, nsym)] = blocks(version, level)  # one block: 28 data + 16 check codewords
    short = make(TEXTS[0], version, level, mask)
    assert pads_per_block(short, version, level) == [8]
    full = make(filling(version, level), version, level, mask)
    assert pads_per_block(full, version, level) == [0]
    rng = random.Random(5)
    for _ in range(5):
        chosen = rng.sample(members, nsym)
        glare = {codeword_modules(version, mask, i)[0] for i in chosen}
        assert read_grid(erase(soft(short), glare)) == TEXTS[0]
        assert read_grid(erase(soft(full), glare)) is None
        fewer = {codeword_modules(version, mask, i)[0] for i in chosen[: nsym - 3]}
        assert read_grid(erase(soft(full), fewer)) == filling(version, level)


# --- glare halos ----------------------------------------------------------------------------


def halo_grid(mask: int, spots: int, seed: int) -> tuple[Grid, int, int]:
    """A version 3-M code (one block, 26 check symbols) under small saturated spots whose halos read
    confidently wrong: every codeword with a module beside a spot (and none in one) has those
    modules flipped at confidence 0.6, the rest of it sure; elsewhere the modules are less sure
    (0.35-1), so their weakest module alone ranks the halo's codewords last.
    Returns the grid and how many codewords are erased and wrong."""
    version = 3
    code = make(TEXTS[1], version, ERROR_CORRECT_M, mask)
    n = len(code.modules)
    where = layout(version, mask)
    rng = random.Random(seed)
    core: set[Module] = set()
    for _ in range(spots):
        core |= disc(n, rng.uniform(9, n - 1), rng.uniform(9, n - 1), 1.0)
    near = {(r + i, c + j) for r, c in core for i in (-1, 0, 1) for j in (-1, 0, 1)} - core
    erased = {where[m][0] for m in core if m in where}
    wrong = {where[m][0] for m in near if m in where} - erased
    grid = soft(code)
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            index = where[(r, c)][0] if (r, c) in where else None
            if (r, c) in core:
                row[c] = 0.0
            elif index in wrong:
                row[c] = -0.6 * value if (r, c) in near else value
            else:
                row[c] = value * rng.uniform(0.35, 1.0)
    return grid, len(erased), len(wrong)


@pytest.mark.parametrize(("spots", "seed"), [(5, 4), (6, 1), (7, 4), (8, 4)])
def test_codewords_in_a_glare_halo_are_doubted_first(
    spots: int, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid, erased, wrong = halo_grid(seed % 8, spots, seed)
    # beyond errors-and-erasures unless the wrong codewords are among the ones erased
    assert 2 * wrong + erased > 26 - qr_matrix._RS_MARGIN
    assert read_grid(grid) == TEXTS[1]
    # ranked by their weakest module alone, the sure-looking halo codewords are erased too late
    monkeypatch.setattr(qr_matrix, "_halo", lambda flat, n: frozenset())
    assert read_grid(grid) is None


def test_glare_halos_never_give_a_wrong_text(monkeypatch: pytest.MonkeyPatch) -> None:
    read = {"halo first": 0, "weakest module": 0}
    for spots in range(4, 9):
        for seed in range(30):
            grid, _, _ = halo_grid(seed % 8, spots, seed)
            result = read_grid(grid)
            assert result in (None, TEXTS[1]), (spots, seed, result)
            read["halo first"] += result is not None
            with monkeypatch.context() as patched:
                patched.setattr(qr_matrix, "_halo", lambda flat, n: frozenset())
                read["weakest module"] += read_grid(grid) is not None
    # 150 grids: 75 read against 53 (none lost) when written; at least 10 fail either way
    assert read["halo first"] >= read["weakest module"] + 15 and read["halo first"] <= 140, read
