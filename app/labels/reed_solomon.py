"""Errors-and-erasures decoding of one QR block: reedsolo's algorithm, with its syndromes fast.

The grid reader tries a block again and again (Chase retries, format candidates, grid after
grid), and reedsolo recomputes the syndromes of the whole word on every try, three times on
a success, a Python call per field multiplication: profiled on views the grid step fails on,
that was half of the Reed-Solomon time and a fifth of the step's. Syndromes are linear in
the word, so each position's share of them is looked up per half byte from a table made once
per block shape, all of them packed into one integer: a word's syndromes are a few dozen
XORs, erasing a position XORs its share out, and a corrected word's syndromes follow from the
corrections alone. Berlekamp-Massey is reedsolo's own function; the steps around it are
reedsolo's too, with the field's products looked up in its tables in place (a function call
per product was most of their time), and are held to give what reedsolo's decode gives.
"""

from __future__ import annotations

from functools import cache

import reedsolo

_PRIM, _GENERATOR, _C_EXP = 0x11D, 2, 8  # QR's field: x^8 + x^4 + x^3 + x^2 + 1, alpha = 2

reedsolo.init_tables(_PRIM, _GENERATOR, _C_EXP)


class Uncorrectable(Exception):
    """The word is not within reach of a codeword with these erasures."""


@cache
def _shares(length: int, nsym: int) -> tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]:
    """Per position, its syndromes for each low and each high half byte, packed little-endian
    (syndrome j in byte j): S_j = sum over i of word[i] * alpha^(j * (length - 1 - i))."""
    tables = []
    for i in range(length):
        powers = [reedsolo.gf_pow(_GENERATOR, j * (length - 1 - i)) for j in range(nsym)]
        bits = [
            int.from_bytes(bytes(reedsolo.gf_mul(1 << bit, p) for p in powers), "little")
            for bit in range(8)
        ]
        low, high = [0] * 16, [0] * 16  # a product is linear in the value: XOR of its bits'
        for value in range(1, 16):
            lowest = value & -value
            bit = lowest.bit_length() - 1
            low[value] = low[value ^ lowest] ^ bits[bit]
            high[value] = high[value ^ lowest] ^ bits[bit + 4]
        tables.append((tuple(low), tuple(high)))
    return tuple(tables)


def _packed_syndromes(word: bytes | bytearray, nsym: int) -> int:
    total = 0
    for (low, high), value in zip(_shares(len(word), nsym), word, strict=True):
        if value:
            total ^= low[value & 15] ^ high[value >> 4]
    return total


def _share(length: int, nsym: int, position: int, value: int) -> int:
    low, high = _shares(length, nsym)[position]
    return low[value & 15] ^ high[value >> 4]


class Block:
    """A received block (data then check symbols), decoded under as many erasure sets as the
    caller likes; its syndromes are computed once."""

    def __init__(self, word: bytes | bytearray, nsym: int) -> None:
        if len(word) > 255 or not 0 < nsym < len(word):
            raise ValueError("a block holds at most 255 symbols, some of them check symbols")
        self.word = bytes(word)
        self.nsym = nsym
        self._syndromes = _packed_syndromes(self.word, nsym)

    def decode(self, erase: list[int]) -> tuple[bytearray, list[int]]:
        """The corrected block and the positions corrected (the erasures first), as
        reedsolo.rs_correct_msg gives them; raises Uncorrectable."""
        n, nsym = len(self.word), self.nsym
        if len(erase) > nsym:
            raise Uncorrectable("more erasures than check symbols")
        message = bytearray(self.word)
        packed = self._syndromes
        for position in erase:  # erased symbols count as 0, as reedsolo sets them
            packed ^= _share(n, nsym, position, message[position])
            message[position] = 0
        if not packed:
            return message, list(erase)
        synd = [0, *packed.to_bytes(nsym, "little")]  # reedsolo's layout: a leading 0
        try:
            forney = _forney_syndromes(synd, erase, n)
            locator = reedsolo.rs_find_error_locator(forney, nsym, erase_count=len(erase))
            errors = _error_positions(locator[::-1], n)
            corrected = _corrected(message, synd, list(erase) + errors)
        except (reedsolo.ReedSolomonError, ZeroDivisionError, IndexError, ValueError) as exc:
            raise Uncorrectable(str(exc)) from exc
        for position in range(n):  # the corrections' syndromes must cancel the word's
            change = message[position] ^ corrected[position]
            if change:
                packed ^= _share(n, nsym, position, change)
        if packed:
            raise Uncorrectable("the corrected block is not a codeword")
        return corrected, list(erase) + errors


# reedsolo's rs_forney_syndromes, rs_find_errors and rs_correct_errata, products looked up
# in its log tables in place; alpha^k has log k.


def _forney_syndromes(synd: list[int], erase: list[int], length: int) -> list[int]:
    """The syndromes with the erasures taken out, so that Berlekamp-Massey sees errors only."""
    exp, log = reedsolo.gf_exp, reedsolo.gf_log
    forney = list(synd[1:])
    last = len(forney) - 1
    for position in erase:
        shift = (length - 1 - position) % 255
        for j in range(last):
            value = forney[j]
            forney[j] = (exp[log[value] + shift] if value else 0) ^ forney[j + 1]
    return forney


def _error_positions(locator: list[int], length: int) -> list[int]:
    """Where the error locator (highest degree first) has its roots: the errors' positions."""
    exp, log = reedsolo.gf_exp, reedsolo.gf_log
    head, rest = locator[0], locator[1:]
    positions = []
    for i in range(length):
        value = head
        for coefficient in rest:
            value = (exp[log[value] + i] if value else 0) ^ coefficient
        if value == 0:
            positions.append(length - 1 - i)
    if len(positions) != len(locator) - 1:
        raise Uncorrectable("the error locator's roots are not all in the block")
    return positions


def _corrected(message: bytearray, synd: list[int], positions: list[int]) -> bytearray:
    """The Forney algorithm: the value of each error and erasure, each added in."""
    exp, log = reedsolo.gf_exp, reedsolo.gf_log
    length, count = len(message), len(positions)
    logs = [(length - 1 - p) % 255 for p in positions]  # log of each errata locator X
    locator = [1]  # the errata locator, lowest degree first: the product of (1 + X x)
    for x in logs:
        locator = [
            value ^ (exp[log[previous] + x] if previous else 0)
            for value, previous in zip([*locator, 0], [0, *locator], strict=True)
        ]
    evaluator = []  # the lowest count + 1 terms of synd x locator, lowest degree first
    for k in range(count + 1):
        term = 0
        for b in range(min(k, count) + 1):
            a, c = synd[k - b], locator[b]
            if a and c:
                term ^= exp[log[a] + log[c]]
        evaluator.append(term)
    out = bytearray(message)
    for i, x in enumerate(logs):
        inverse = 255 - x if x else 0  # log of 1 / X
        derivative = 1
        for j, other in enumerate(logs):
            if j != i:
                factor = 1 ^ exp[(inverse + other) % 255]
                if not factor:
                    raise Uncorrectable("two errata at one place")
                derivative = exp[log[derivative] + log[factor]]
        value = 0
        for coefficient in reversed(evaluator):  # Horner, at 1 / X
            value = (exp[log[value] + inverse] if value else 0) ^ coefficient
        if value:
            out[positions[i]] ^= exp[(log[value] + x + 255 - log[derivative]) % 255]
    return out
