"""The ppm predictor: the contract, the same numbers in any call order, a round trip
through the container, a rate on real prose below gzip's own, and one-line errors."""

from __future__ import annotations

import math
import random
import zlib

import numpy as np
import pytest
from typer.testing import CliRunner

import gencomp
from gencomp import coding, container, datasets
from gencomp.errors import SpecError
from gencomp.predictor import check_logprobs
from gencomp_cli.main import app


@pytest.fixture(scope="module")
def held_out() -> bytes:
    """A 2 KB chunk of Wikipedia prose from the corpus's end (the defaults were chosen on
    chunks 1000 and 1500)."""
    return coding.chunks(datasets.text_corpus().data)[-3]


def test_contract_on_text_and_random_bytes(held_out):
    """Finite and normalised on prose, on random bytes (which fill order 0 with all 256
    values) and on an empty context; bytes never seen keep a share (order -1)."""
    noise = random.Random(0).randbytes(3000)  # fixture data: every byte value, no structure
    ppm = gencomp.load_predictor("ppm:context_window=1024")
    for data in (held_out, noise):
        for end in (0, 1, 2, 7, 500, 1024, 1030, len(data)):
            check_logprobs(ppm.logprobs(data[:end]))
    assert ppm.logprobs(b"")[0] == pytest.approx(-math.log(256))


def test_probabilities_from_first_principles():
    """Context b"aab", order 1: b"b" was never followed, so order 0 decides, with Kneser-
    Ney's counts: each of a, b came after one distinct byte (a); discount d, strength s."""
    d, s = 0.8, 0.1
    probabilities = np.exp(gencomp.load_predictor(f"ppm:order=1,discount={d},strength={s}").logprobs(b"aab"))
    freed = (s + 2 * d) / (1 + 1 + s)
    assert probabilities[ord("a")] == pytest.approx((1 - d) / (2 + s) + freed / 256)
    assert probabilities[ord("z")] == pytest.approx(freed / 256)


def test_any_call_order_gives_the_walked_numbers(held_out):
    """A walk over a chunk (window 300: it slides), then the same contexts in shuffled
    order, with gaps, and cold in fresh predictors: bit-identical arrays."""
    spec = "ppm:context_window=300"
    walker = gencomp.load_predictor(spec)
    walked = {end: walker.logprobs(held_out[:end]) for end in range(len(held_out))}
    ends = list(range(0, len(held_out), 37))
    random.Random(1).shuffle(ends)
    shuffled, strided = gencomp.load_predictor(spec), gencomp.load_predictor(spec)
    for end in ends:
        assert np.array_equal(shuffled.logprobs(held_out[:end]), walked[end])
        assert np.array_equal(gencomp.load_predictor(spec).logprobs(held_out[:end]), walked[end])
    for end in range(0, len(held_out), 5):  # the benches' stride: a step of several bytes
        assert np.array_equal(strided.logprobs(held_out[:end]), walked[end])


def test_round_trip_and_rate_below_gzip(held_out):
    """Compressed into a container and back; the code is shorter than zlib's level 9 of the
    same chunk (its 2-byte header and 4-byte checksum taken off; measured 0.87x)."""
    ppm = gencomp.load_predictor("ppm")
    packed = container.compress(ppm, held_out)
    assert container.decompress(packed.data) == held_out
    gzip_bits = 8 * (len(zlib.compress(held_out, 9)) - 6)
    assert 8 * packed.payload_size < 0.92 * gzip_bits, (8 * packed.payload_size, gzip_bits)


@pytest.mark.parametrize(
    "spec, words",
    [
        ("ppm:order=-1", "ppm order (bytes of context) must be 0..16"),
        ("ppm:order=17", "must be 0..16, got 17"),
        ("ppm:discount=1.5", "ppm discount must be 0..1"),
        ("ppm:discount=0,strength=0", "above 0 when discount is 0"),
        ("ppm:strength=-1", "ppm strength must be >= 0"),
        ("ppm:context_window=0", "at least 1 byte"),
        ("ppm:order=five", "is not a valid int"),
        ("ppm:escape=c", "ppm has no option 'escape'"),
    ],
)
def test_bad_options_say_what_works(spec, words):
    with pytest.raises(SpecError) as error:
        gencomp.load_predictor(spec)
    assert words in str(error.value)


def test_cli_shows_a_bad_option_in_one_line():
    result = CliRunner().invoke(app, ["sample", "--model", "ppm:order=99", "-n", "5"])
    assert result.exit_code != 0
    assert "must be 0..16" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
