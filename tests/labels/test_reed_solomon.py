"""The block decoder against reedsolo's own decode on the same words: same answers, faster.

Words are real codewords (reedsolo's encoder) with errors and erasures at random, from well
within reach to far beyond it, in the block shapes of QR versions 1-10."""

import random

import pytest
import reedsolo

from app.labels.reed_solomon import Block, Uncorrectable

SHAPES = [(26, 10), (44, 16), (35, 13), (50, 26), (67, 18), (98, 24), (116, 28)]


def codeword(rng: random.Random, length: int, nsym: int) -> bytearray:
    codec = reedsolo.RSCodec(nsym, fcr=0, prim=0x11D, generator=2, c_exp=8)
    return bytearray(codec.encode(bytes(rng.randrange(256) for _ in range(length - nsym))))


def damaged(
    rng: random.Random, word: bytearray, errors: int, erasures: int
) -> tuple[bytearray, list[int]]:
    positions = rng.sample(range(len(word)), errors + erasures)
    out = bytearray(word)
    for position in positions[:errors]:
        out[position] ^= rng.randrange(1, 256)
    for position in positions[errors:]:  # an erased symbol holds anything, often still right
        out[position] = rng.choice((word[position], rng.randrange(256)))
    return out, sorted(positions[errors:])


def reference(word: bytearray, nsym: int, erase: list[int]) -> tuple[bytes, list[int]] | None:
    codec = reedsolo.RSCodec(nsym, fcr=0, prim=0x11D, generator=2, c_exp=8)
    try:
        _, full, errata = codec.decode(bytearray(word), erase_pos=list(erase))
    except reedsolo.ReedSolomonError:
        return None
    return bytes(full), list(errata)


@pytest.mark.parametrize(("length", "nsym"), SHAPES)
def test_it_decodes_as_reedsolo_does_within_reach_and_beyond(length: int, nsym: int) -> None:
    rng = random.Random(length * 1000 + nsym)
    outcomes = {"corrected": 0, "refused": 0}
    for _ in range(150):
        original = codeword(rng, length, nsym)
        erasures = rng.randrange(0, nsym + 1)
        errors = rng.randrange(0, (nsym - erasures) // 2 + 4)  # some past what can be corrected
        word, erase = damaged(rng, original, errors, erasures)
        expected = reference(word, nsym, erase)
        got: tuple[bytes, list[int]] | None
        try:
            corrected, errata = Block(word, nsym).decode(erase)
            got = bytes(corrected), errata
        except Uncorrectable:
            got = None
        if expected is None:
            assert got is None
            outcomes["refused"] += 1
        else:
            assert got is not None
            assert got == expected
            if 2 * errors + erasures <= nsym:
                assert got[0] == bytes(original)
            outcomes["corrected"] += 1
    assert outcomes["corrected"] > 30 and outcomes["refused"] > 10  # both sides were exercised


def test_one_block_is_decoded_under_many_erasure_sets_from_one_set_of_syndromes() -> None:
    rng = random.Random(7)
    original = codeword(rng, 44, 16)
    word, _ = damaged(rng, original, 9, 0)  # 9 errors: past the 8 that 16 check symbols fix
    wrong = [i for i in range(44) if word[i] != original[i]]
    block = Block(word, 16)
    with pytest.raises(Uncorrectable):
        block.decode([])
    corrected, errata = block.decode(wrong[:2])  # two of them erased: 7 errors + 2 erasures
    assert bytes(corrected) == bytes(original)
    assert sorted(errata) == wrong
    with pytest.raises(Uncorrectable):
        block.decode([])  # the first answer still stands: nothing of the last try is kept


def test_an_undamaged_block_comes_back_as_it_is_with_its_erasures_named() -> None:
    original = codeword(random.Random(3), 26, 10)
    corrected, errata = Block(original, 10).decode([4, 20])
    assert bytes(corrected) == bytes(original)
    assert errata == [4, 20]


def test_a_block_with_more_erasures_than_check_symbols_is_refused() -> None:
    original = codeword(random.Random(4), 26, 10)
    with pytest.raises(Uncorrectable):
        Block(original, 10).decode(list(range(11)))
    with pytest.raises(ValueError):
        Block(bytes(300), 10)
