"""Turn a sampled QR module grid with soft values into the code's text.

The locator samples each module of a found code at its centre and hands over `soft[row][col]`:
> 0 dark, < 0 light, the magnitude is the confidence, and 0.0 (or NaN) means unknown, e.g. under
a saturated glare highlight. Unlike zbar we know which modules are unknown, so Reed-Solomon can
treat their codewords as erasures and correct twice as many of them as plain errors.

Orientation: soft[0][0] is the top-left module of the top-left finder pattern, rows go down and
columns go right (the code as printed, not mirrored); the caller fixes rotation and mirroring.

Safety over reach: a false read is far worse than no read. A block decode is accepted only if
the corrected block is a codeword and `2 * errors + erasures <= nsym - margin`; the data must
then parse exactly, including the terminator, the zero bits and the 0xEC/0x11 pad bytes.
The margin is 3 check symbols, less one for each pad byte the block's data ends in (a short
label text in a level-M code leaves several): a block that is really beyond repair passes one
decode attempt with odds of about 256**-3 (6e-8; every corrected error adds another factor of
about n/256), and a pad byte it must also reproduce exactly is worth the same 256**-1 as a
check symbol held back. So even 12 Chase attempts for each of 3 format candidates stay near
2e-6 per hopeless block before the other data checks. A margin of 2 would be 1.5e-5 per
attempt and 5e-4 per hopeless block, too high for a camera loop reading many frames.
"""

import math
from collections.abc import Sequence
from functools import cache

import qrcode.base
import qrcode.util

from app.labels.reed_solomon import Block, Uncorrectable

_MIN_VERSION, _MAX_VERSION = 1, 10
_RS_MARGIN = 3  # check symbols (or verified pad bytes) an accepted block keeps (see module doc)
_FORMAT_MIN_SCORE = 0.2  # normalised correlation the best format word needs at least
_FORMAT_CLOSE = 0.25  # further candidates must score within this of the best one
_FORMAT_CANDIDATES = 3
_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_PAD = (0xEC, 0x11)
# mode -> character-count bits for versions 1-9, 10-26, 27-40
_COUNT_BITS = {0b0001: (10, 12, 14), 0b0010: (9, 11, 13), 0b0100: (8, 16, 16)}
_MODE_ECI = 0b0111

Module = tuple[int, int]
Codeword = tuple[tuple[int, bool], ...]  # 8 x (flat index row * n + col, mask flips it), MSB first


class _Malformed(Exception):
    """The data bits do not parse as a complete, well-padded QR payload."""


def read_grid(soft: Sequence[Sequence[float]], *, max_tries: int = 12) -> str | None:
    """soft[row][col]: > 0 dark, < 0 light, magnitude = confidence; 0.0 (or NaN) = unknown (erased,
    e.g. under a saturated glare highlight). The grid is N x N with N = 17 + 4 * version
    (versions 1-10 are enough; reject other sizes by returning None).
    Returns the decoded text or None."""
    n = len(soft)
    version, rest = divmod(n - 17, 4)
    if rest or not _MIN_VERSION <= version <= _MAX_VERSION:
        return None
    if any(len(row) != n for row in soft):
        return None
    flat = [_finite(value) for row in soft for value in row]
    for level, mask in _format_candidates(flat, n):
        text = _read_with_format(flat, version, level, mask, max(1, max_tries))
        if text is not None:
            return text
    return None


def _finite(value: float) -> float:
    value = float(value)
    return 0.0 if math.isnan(value) else value


# --- format information ---------------------------------------------------------------------


@cache
def _format_modules(n: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Flat indexes of format bits 0-14 for both copies, where QRCode.setup_type_info puts them."""
    vertical = []
    horizontal = []
    for i in range(15):
        row = i if i < 6 else i + 1 if i < 8 else n - 15 + i
        vertical.append(row * n + 8)
        col = n - i - 1 if i < 8 else 15 - i if i < 9 else 15 - i - 1
        horizontal.append(8 * n + col)
    return tuple(vertical), tuple(horizontal)


@cache
def _format_words() -> tuple[tuple[int, int, tuple[int, ...]], ...]:
    """(level, mask, +1/-1 expected per format bit) for the 32 valid format words."""
    words = []
    for level in range(4):
        for mask in range(8):
            bits = qrcode.util.BCH_type_info((level << 3) | mask)
            words.append((level, mask, tuple(1 if (bits >> i) & 1 else -1 for i in range(15))))
    return tuple(words)


def _format_candidates(flat: list[float], n: int) -> list[tuple[int, int]]:
    """Up to 3 (level, mask) pairs, best correlation with both format copies first."""
    copies = [[flat[i] for i in copy] for copy in _format_modules(n)]
    total = sum(abs(v) for copy in copies for v in copy if math.isfinite(v))
    if total == 0.0:
        return []
    scored = []
    for level, mask, signs in _format_words():
        score = sum(_clip(v) * s for copy in copies for v, s in zip(copy, signs, strict=True))
        scored.append((score / total, level, mask))
    scored.sort(key=lambda item: item[0], reverse=True)
    best = scored[0][0]
    if best < _FORMAT_MIN_SCORE:
        return []
    close = [(level, mask) for score, level, mask in scored if score >= best - _FORMAT_CLOSE]
    return close[:_FORMAT_CANDIDATES]


def _clip(value: float) -> float:
    """An infinite soft value counts as a sure bit of weight 0 in the format correlation."""
    return value if math.isfinite(value) else 0.0


# --- module placement -----------------------------------------------------------------------


@cache
def _function_modules(version: int) -> frozenset[Module]:
    """Modules that carry no data: finders, separators, timing, alignment, format, version."""
    n = 17 + 4 * version
    taken: set[Module] = set()
    # finder + separator + format areas around the three finders (the dark module included)
    for r in range(9):
        for c in range(9):
            taken.add((r, c))
    for r in range(9):
        for c in range(n - 8, n):
            taken.add((r, c))
    for r in range(n - 8, n):
        for c in range(9):
            taken.add((r, c))
    for i in range(n):
        taken.add((6, i))
        taken.add((i, 6))
    finders = {(r, c) for r, c in taken if (r < 8 or r >= n - 8) and (c < 8 or c >= n - 8)}
    positions = qrcode.util.pattern_position(version)
    for row in positions:
        for col in positions:
            if (row, col) in finders:  # qrcode draws these after the finders, before the rest
                continue
            for r in range(row - 2, row + 3):
                for c in range(col - 2, col + 3):
                    taken.add((r, c))
    if version >= 7:
        for a in range(6):
            for b in range(n - 11, n - 8):
                taken.add((a, b))
                taken.add((b, a))
    return frozenset(taken)


@cache
def _data_modules(version: int) -> tuple[Module, ...]:
    """Data modules in the zigzag order of QRCode.map_data (bit order of the codeword stream)."""
    n = 17 + 4 * version
    function = _function_modules(version)
    order: list[Module] = []
    upward = True
    col = n - 1
    while col > 0:
        if col == 6:  # the timing column is skipped, the pair moves one to the left
            col -= 1
        rows = range(n - 1, -1, -1) if upward else range(n)
        for r in rows:
            for c in (col, col - 1):
                if (r, c) not in function:
                    order.append((r, c))
        upward = not upward
        col -= 2
    return tuple(order)


@cache
def _codewords(version: int, mask: int) -> tuple[Codeword, ...]:
    n = 17 + 4 * version
    total = sum(block.total_count for block in qrcode.base.rs_blocks(version, 0))
    modules = _data_modules(version)
    if len(modules) < total * 8:  # pragma: no cover - the tables and the layout disagree
        raise AssertionError(f"version {version}: {len(modules)} data modules")
    flips = qrcode.util.mask_func(mask)
    return tuple(
        tuple((r * n + c, bool(flips(r, c))) for r, c in modules[8 * i : 8 * i + 8])
        for i in range(total)
    )


@cache
def _blocks(version: int, level: int) -> tuple[tuple[tuple[int, ...], int], ...]:
    """Per RS block: (stream indexes of its data then check codewords, number of data ones)."""
    blocks = qrcode.base.rs_blocks(version, level)
    data: list[list[int]] = [[] for _ in blocks]
    check: list[list[int]] = [[] for _ in blocks]
    index = 0
    for lists, counts in (
        (data, [b.data_count for b in blocks]),
        (check, [b.total_count - b.data_count for b in blocks]),
    ):
        for i in range(max(counts)):
            for b, count in enumerate(counts):
                if i < count:
                    lists[b].append(index)
                    index += 1
    return tuple(
        (tuple(d + c), block.data_count) for d, c, block in zip(data, check, blocks, strict=True)
    )


# --- Reed-Solomon ---------------------------------------------------------------------------


def _read_with_format(
    flat: list[float], version: int, level: int, mask: int, max_tries: int
) -> str | None:
    values: list[int] = []
    confidence: list[float] = []
    erased: list[bool] = []
    halo = _halo(flat, 17 + 4 * version)
    for codeword in _codewords(version, mask):
        byte = 0
        lowest = math.inf
        for index, flip in codeword:
            value = -flat[index] if flip else flat[index]
            byte = (byte << 1) | (value > 0.0)
            lowest = min(lowest, abs(value))
        values.append(byte)
        # a module beside an unknown one lies in a glare halo, where a confident reading is
        # often wrong: such codewords are doubted sooner, the more of their modules are there
        confidence.append(lowest / (1 + sum(index in halo for index, _ in codeword)))
        erased.append(lowest == 0.0)
    data = bytearray()
    spares: list[tuple[int, int]] = []  # per block: (check symbols left unused, data end)
    for indexes, data_count in _blocks(version, level):
        decoded = _decode_block(
            [values[i] for i in indexes],
            [confidence[i] for i in indexes],
            [erased[i] for i in indexes],
            len(indexes) - data_count,
            max_tries,
        )
        if decoded is None:
            return None
        block, spare = decoded
        data += block[:data_count]
        spares.append((spare, len(data)))
    try:
        text, pads_from = _decode_data(bytes(data), version)
    except _Malformed:
        return None
    start = 0
    for spare, end in spares:
        pads = max(0, end - max(start, pads_from))  # pad bytes this block's data ends in
        if spare + pads < _RS_MARGIN:
            return None
        start = end
    return text


def _halo(flat: list[float], n: int) -> frozenset[int]:
    """Flat indexes of the known modules next to (8 around) an unknown one."""
    near: set[int] = set()
    for index, value in enumerate(flat):
        if value == 0.0:
            r, c = divmod(index, n)
            for y in range(max(0, r - 1), min(n, r + 2)):
                for x in range(max(0, c - 1), min(n, c + 2)):
                    near.add(y * n + x)
    return frozenset(i for i in near if flat[i] != 0.0)


def _decode_block(
    word: list[int], confidence: list[float], erased: list[bool], nsym: int, max_tries: int
) -> tuple[bytes, int] | None:
    """Errors-and-erasures decode with Chase retries: erase the least confident codewords too,
    a growing number of them per attempt. Returns the block and the check symbols it left
    unused (the caller holds that against the margin, with the pad bytes it verified)."""
    limit = nsym
    known = [i for i, gone in enumerate(erased) if gone]
    if len(known) > limit:
        return None
    doubtful = sorted((i for i, gone in enumerate(erased) if not gone), key=confidence.__getitem__)
    room = min(limit - len(known), len(doubtful))
    steps = [0]
    for attempt in range(1, max_tries):
        extra = math.ceil(room * attempt / (max_tries - 1))
        if extra > steps[-1]:
            steps.append(extra)
    block = Block(bytes(word), nsym)
    for extra in steps:
        erase = known + doubtful[:extra]
        try:
            full, errata = block.decode(erase)
        except Uncorrectable:
            continue
        errors = len(set(errata) - set(erase))
        if 2 * errors + len(erase) > limit:
            continue
        return bytes(full), limit - 2 * errors - len(erase)
    return None


# --- data segments --------------------------------------------------------------------------


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "big")
        self.size = len(data) * 8
        self.pos = 0

    def left(self) -> int:
        return self.size - self.pos

    def take(self, count: int) -> int:
        if count > self.left():
            raise _Malformed(f"{count} bits wanted, {self.left()} left")
        self.pos += count
        return (self.value >> (self.size - self.pos)) & ((1 << count) - 1)


def _decode_data(data: bytes, version: int) -> tuple[str, int]:
    """The text, and where its pad bytes start."""
    bits = _Bits(data)
    size_class = 0 if version <= 9 else 1 if version <= 26 else 2
    parts: list[str] = []
    pending = bytearray()  # consecutive byte-mode segments are decoded together
    while True:
        if bits.left() < 4:  # no room for a whole terminator: the rest must be zero
            if bits.take(bits.left()):
                raise _Malformed("data ends in non-zero bits")
            break
        mode = bits.take(4)
        if mode == 0:
            break
        if mode == _MODE_ECI:
            first = bits.take(8)
            if first & 0x80 == 0:
                pass
            elif first & 0xC0 == 0x80:
                bits.take(8)
            elif first & 0xE0 == 0xC0:
                bits.take(16)
            else:
                raise _Malformed("bad ECI designator")
            _flush(pending, parts)
            continue
        if mode not in _COUNT_BITS:
            raise _Malformed(f"unsupported mode {mode:04b}")
        count = bits.take(_COUNT_BITS[mode][size_class])
        if mode == 0b0100:
            pending += bytes(bits.take(8) for _ in range(count))
            continue
        _flush(pending, parts)
        parts.append(_numeric(bits, count) if mode == 0b0001 else _alphanumeric(bits, count))
    _flush(pending, parts)
    if bits.take(-bits.pos % 8):
        raise _Malformed("non-zero bits before the byte boundary")
    for i, byte in enumerate(data[bits.pos // 8 :]):
        if byte != _PAD[i % 2]:
            raise _Malformed("bad pad byte")
    return "".join(parts), bits.pos // 8


def _flush(pending: bytearray, parts: list[str]) -> None:
    if pending:
        try:
            parts.append(pending.decode("utf-8"))
        except UnicodeDecodeError:
            parts.append(pending.decode("latin-1"))
        pending.clear()


def _numeric(bits: _Bits, count: int) -> str:
    out = []
    for width, digits in [(10, 3)] * (count // 3) + [((0, 4, 7)[count % 3], count % 3)]:
        if digits:
            value = bits.take(width)
            if value >= 10**digits:
                raise _Malformed("numeric group out of range")
            out.append(f"{value:0{digits}d}")
    return "".join(out)


def _alphanumeric(bits: _Bits, count: int) -> str:
    out = []
    for _ in range(count // 2):
        value = bits.take(11)
        if value >= 45 * 45:
            raise _Malformed("alphanumeric pair out of range")
        out.append(_ALPHANUMERIC[value // 45] + _ALPHANUMERIC[value % 45])
    if count % 2:
        value = bits.take(6)
        if value >= 45:
            raise _Malformed("alphanumeric character out of range")
        out.append(_ALPHANUMERIC[value])
    return "".join(out)
