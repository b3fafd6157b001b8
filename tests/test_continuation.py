"""Continuations: the given bytes come back unchanged, hidden bytes are never seen, and a
seed makes every result reproducible. Real gzip on bundled data, small sizes."""

from __future__ import annotations

import numpy as np
import pytest

from gencomp import load_predictor
from gencomp.coding import encode_chunk
from gencomp.continuation import Sampling, continue_audio, continue_image, drawn_bits, fill, image_mask
from gencomp.modalities import SAMPLE_RATE, audio_to_bytes, crop_patch, load_audio, load_image
from gencomp.errors import GencompError

SEED = Sampling(seed=7)


@pytest.fixture(scope="module")
def gzip():
    return load_predictor("gzip")


@pytest.fixture(scope="module")
def patch():
    return crop_patch(load_image("camera").pixels, (6, 12))


def test_masks():
    rows = image_mask((4, 7), "rows")
    assert rows.shape == (4, 7) and rows[:, :3].all() and not rows[:, 3:].any()
    raster = image_mask((6, 5), "raster")
    assert raster[:3].all() and not raster[3:].any()
    assert image_mask((6, 5), "raster", keep_rows=0).sum() == 0


@pytest.mark.parametrize(
    "shape, mode, keep_rows, message",
    [
        ((4, 8), "spiral", None, "unknown image mode"),
        ((4, 8), "raster", 4, "keeps 0 to 3 rows"),
        ((4, 8), "rows", 2, "keep_rows is for raster mode"),
        ((4, 1), "rows", None, "at least 2 pixels wide"),
    ],
)
def test_bad_image_settings(shape, mode, keep_rows, message):
    with pytest.raises(GencompError, match=message):
        image_mask(shape, mode, keep_rows)


@pytest.mark.parametrize("mode", ["rows", "raster"])
def test_image_continuation_keeps_the_context_and_is_reproducible(gzip, patch, mode):
    result = continue_image(gzip, patch, mode, sampling=SEED)
    assert result.pixels.shape == patch.shape and result.pixels.dtype == np.uint8
    assert np.array_equal(result.pixels[result.known], patch[result.known])
    assert np.array_equal(result.known, image_mask(patch.shape, mode))
    assert result.model == gzip.spec
    assert np.array_equal(continue_image(gzip, patch, mode, sampling=SEED).pixels, result.pixels)


@pytest.mark.parametrize("mode", ["rows", "raster"])
def test_hidden_pixels_are_never_seen(gzip, patch, mode):
    """Rows mode conditions on the rows above as generated, not as they were: scrambling
    every hidden pixel of the input changes nothing."""
    known = image_mask(patch.shape, mode)
    scrambled = patch.copy()
    scrambled[~known] = np.random.default_rng(1).integers(0, 256, int((~known).sum()))
    a = continue_image(gzip, patch, mode, sampling=SEED)
    b = continue_image(gzip, scrambled, mode, sampling=SEED)
    assert np.array_equal(a.pixels, b.pixels)


def test_fill_draws_only_hidden_bytes_and_reports_progress(gzip):
    data = b"abcabcabc" + bytes(6) + b"abc" + bytes(3)
    known = np.array([1] * 9 + [0] * 6 + [1] * 3 + [0] * 3, dtype=bool)
    calls = []
    out = fill(gzip, data, known, Sampling(temperature=0), calls.append)
    assert out[:9] == data[:9] and out[15:18] == b"abc" and len(out) == len(data)
    assert out[9:15] == b"abcabc"  # greedy gzip repeats the pattern
    assert calls == [1] * 9
    with pytest.raises(ValueError, match="mask has 3 entries"):
        fill(gzip, data, known[:3])


def test_different_seeds_give_different_images(gzip, patch):
    a = continue_image(gzip, patch, sampling=Sampling(seed=1)).pixels
    b = continue_image(gzip, patch, sampling=Sampling(seed=2)).pixels
    assert not np.array_equal(a, b)


@pytest.fixture(scope="module")
def speech():
    return load_audio("speech").samples


@pytest.mark.parametrize("bits", [8, 16])
def test_audio_continuation_keeps_the_prompt(gzip, speech, bits):
    prompt, drawn = 0.02, 0.002  # 320 samples given, 32 drawn
    result = continue_audio(gzip, speech, prompt, drawn, bits, SEED)
    given = int(prompt * SAMPLE_RATE)
    assert result.samples.dtype == np.int16 and len(result.samples) == given + int(drawn * SAMPLE_RATE)
    assert result.prompt_samples == given and result.prompt_seconds == prompt and result.bits == bits
    assert audio_to_bytes(result.samples[:given], bits) == audio_to_bytes(speech[:given], bits)
    span = len(result.samples)
    assert audio_to_bytes(result.original, bits) == audio_to_bytes(speech[:span], bits)
    if bits == 16:
        assert np.array_equal(result.samples[:given], speech[:given])


@pytest.mark.parametrize(
    "prompt, seconds, bits, message",
    [
        (2.0, 0.1, 8, "shorter than the 2 s prompt"),
        (0.1, 0.0, 8, "seconds > 0"),
        (0.1, 0.1, 12, "8 or 16 bits"),
    ],
)
def test_bad_audio_settings(gzip, speech, prompt, seconds, bits, message):
    with pytest.raises(GencompError, match=message):
        continue_audio(gzip, speech, prompt, seconds, bits)


def test_sampling_knobs_are_checked():
    with pytest.raises(ValueError, match="temperature"):
        Sampling(temperature=-1)
    assert Sampling(0.5, 3, 0.9, 1).knobs() == {"temperature": 0.5, "top_k": 3, "top_p": 0.9}


def test_drawn_bits_is_the_coders_ideal_length_of_the_drawn_bytes(prose):
    """What the page shows (bits per drawn byte) against the arithmetic coder's ideal code
    length Σ -log2 p: over a whole text, and over its second half alone, the first given."""
    gzip = load_predictor("gzip:paper")
    text = prose[:120]
    everything = drawn_bits(gzip, text, np.zeros(len(text), dtype=bool))
    assert everything * len(text) == pytest.approx(encode_chunk(gzip, text).ideal_bits, rel=1e-9)
    given = np.arange(len(text)) < 60
    second = drawn_bits(gzip, text, given) * 60
    assert second == pytest.approx(encode_chunk(gzip, text).ideal_bits - encode_chunk(gzip, text[:60]).ideal_bits, rel=1e-9)


def test_sequences_say_which_bytes_were_given():
    """On a patch and a signal made here (ramps)."""
    gzip = load_predictor("gzip:paper")
    image = continue_image(gzip, np.arange(24, dtype=np.uint8).reshape(4, 6), sampling=Sampling(seed=0))
    data, known = image.sequence
    assert data == image.pixels.tobytes() and known.tolist() == image.known.ravel().tolist()
    sound = continue_audio(gzip, (np.arange(400) * 50).astype(np.int16), 0.01, 0.001, bits=16, sampling=Sampling(seed=0))
    data, known = sound.sequence
    assert len(data) == 2 * len(sound.samples) and known.sum() == 2 * 160  # 0.01 s given, two bytes a sample
