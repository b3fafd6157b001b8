"""Rendering: every output decodes back to the expected size, pixels, samples or text."""

from __future__ import annotations

import io

import numpy as np
import soundfile
from PIL import Image

from gencomp.continuation import Sampling
from gencomp.modalities import SAMPLE_RATE
from gencomp.render import (
    HIDDEN_COLOUR,
    PAD,
    file_stem,
    grid,
    image_comparison,
    markdown_comparison,
    masked,
    png_bytes,
    printable,
    spectrograms,
    upscale,
    wav_bytes,
)

RNG = np.random.default_rng(0)


def decode_png(data: bytes) -> np.ndarray:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return np.asarray(Image.open(io.BytesIO(data)))


def test_upscale_is_nearest_neighbour_and_png_is_lossless():
    pixels = RNG.integers(0, 256, (3, 5), dtype=np.uint8)
    big = upscale(pixels, 4)
    assert big.shape == (12, 20) and np.array_equal(big[::4, ::4], pixels) and np.array_equal(big[3::4, 3::4], pixels)
    assert np.array_equal(decode_png(png_bytes(big)), big)
    rgb = RNG.integers(0, 256, (3, 5, 3), dtype=np.uint8)
    assert np.array_equal(decode_png(png_bytes(rgb)), rgb)


def test_masked_context_paints_only_hidden_pixels():
    pixels = RNG.integers(0, 256, (2, 4), dtype=np.uint8)
    known = np.array([[1, 1, 0, 0], [1, 1, 0, 0]], dtype=bool)
    view = masked(pixels, known)
    assert view.shape == (2, 4, 3)
    assert np.array_equal(view[known][:, 0], pixels[known]) and (view[~known] == HIDDEN_COLOUR).all()


def test_comparison_grid_layout():
    patch = RNG.integers(0, 256, (8, 16), dtype=np.uint8)
    known = np.zeros_like(patch, dtype=bool)
    results = [(f"model-{i} with a label far too long to fit above its panel", patch) for i in range(3)]
    scale, columns = 3, 4
    image = decode_png(png_bytes(image_comparison(patch, known, results, scale, columns)))
    panels = 2 + len(results)  # original, context, one per model
    assert image.shape[2] == 3
    assert image.shape[1] == PAD + columns * (16 * scale + PAD)
    rows = -(-panels // columns)
    assert image.shape[0] > rows * 8 * scale and image.shape[0] < rows * (8 * scale + 40) + PAD
    assert grid([("a", patch)], scale=1).shape[1] == 16 + 2 * PAD


def test_wav_is_16_bit_16khz_and_exact():
    samples = RNG.integers(-32768, 32768, 800).astype(np.int16)
    data = wav_bytes(samples)
    info = soundfile.info(io.BytesIO(data))
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", "PCM_16", SAMPLE_RATE, 1)
    back, _ = soundfile.read(io.BytesIO(data), dtype="int16")
    assert np.array_equal(back, samples)


def test_spectrograms_figure_has_a_panel_per_signal():
    signal = RNG.integers(-3000, 3000, 4000).astype(np.int16)
    one = decode_png(spectrograms([("a", signal)], 0.1))
    three = decode_png(spectrograms([("a", signal), ("b", signal), ("c", np.zeros(4000, np.int16))], 0.1))
    assert one.shape[1] == three.shape[1] and three.shape[0] > 2 * one.shape[0] * 0.8


def test_printable_and_markdown():
    assert printable(b"ok\n\ttab\x1b[2J\xff") == "ok\n\ttab\\x1b[2J\\xff"
    page = markdown_comparison(b"The prompt", [("gzip", b"a ```fence``` b"), ("zstd", b"plain")], Sampling(seed=42))
    assert "seed 42" in page and "## gzip (15 bytes)" in page and "## zstd (5 bytes)" in page
    assert "````text\na ```fence``` b\n````" in page


def test_file_stems_are_safe():
    assert file_stem("zstd:level=19") == "zstd_level-19"
    assert file_stem("llm:org/model,device=cuda") == "llm_org_model_device-cuda"
