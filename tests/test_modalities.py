"""Images and audio <-> bytes: exact round trips, conversions said as notes, bad files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
from PIL import Image

from gencomp import datasets
from gencomp.modalities import (
    SAMPLE_RATE,
    audio_to_bytes,
    bytes_to_audio,
    crop_patch,
    image_patches,
    load_audio,
    load_image,
    read_audio,
    to_7bit,
    to_grayscale,
)
from gencomp.errors import GencompError

RNG = np.random.default_rng(0)


def write_png(path, pixels):
    Image.fromarray(pixels).save(path, format="PNG")
    return path


# ---------------------------------------------------------------------------- images


def test_grayscale_is_pillows_luma_and_leaves_gray_alone():
    rgb = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    assert np.array_equal(to_grayscale(rgb), np.asarray(Image.fromarray(rgb).convert("L")))
    rgba = np.concatenate([rgb, np.zeros((5, 7, 1), np.uint8)], axis=2)
    assert np.array_equal(to_grayscale(rgba), to_grayscale(rgb))
    gray = rgb[:, :, 0]
    assert to_grayscale(gray) is gray
    assert to_grayscale(np.array([[True, False]])).tolist() == [[255, 0]]


def test_gray_png_round_trips_exactly_without_notes(tmp_path):
    pixels = RNG.integers(0, 256, (12, 20), dtype=np.uint8)
    image = load_image(write_png(tmp_path / "gray.png", pixels))
    assert np.array_equal(image.pixels, pixels) and image.notes == []


def test_colour_file_is_converted_and_said(tmp_path):
    rgb = RNG.integers(0, 256, (6, 9, 3), dtype=np.uint8)
    image = load_image(write_png(tmp_path / "colour.png", rgb))
    assert image.pixels.shape == (6, 9) and image.pixels.dtype == np.uint8
    assert image.notes == ["converted RGB image to grayscale"]


def test_16_bit_gray_keeps_its_high_byte(tmp_path):
    wide = np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000
    image = load_image(write_png(tmp_path / "deep.png", wide))
    assert np.array_equal(image.pixels, (wide >> 8).astype(np.uint8))
    assert image.notes == ["reduced I;16 grayscale to 8 bits (the high byte)"]


def test_bundled_images_by_name():
    camera = load_image()  # the default
    assert camera.pixels.shape == (512, 512) and camera.notes == [] and "camera" in camera.source
    astronaut = load_image("astronaut")
    assert astronaut.pixels.ndim == 2 and astronaut.notes == ["converted the colour photograph astronaut to grayscale"]
    assert np.array_equal(astronaut.pixels, to_grayscale(datasets.bundled_image("astronaut")))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.png", "neither a file nor one of the bundled images"),
        (lambda d: d, "is a folder"),
        (lambda d: (d / "notes.txt", (d / "notes.txt").write_text("not an image"))[0], "cannot read"),
        (lambda d: (d / "cut.png", (d / "cut.png").write_bytes((d / "whole.png").read_bytes()[:60]))[0], "cannot read"),
    ],
    ids=["missing", "folder", "text file", "truncated png"],
)
def test_bad_image_files_are_one_line_errors(tmp_path, make, message):
    write_png(tmp_path / "whole.png", RNG.integers(0, 256, (64, 64), dtype=np.uint8))
    with pytest.raises(GencompError, match=message) as error:
        load_image(make(tmp_path))
    assert "\n" not in str(error.value)


def test_crop_patch_centres_places_and_refuses():
    gray = np.arange(40 * 50, dtype=np.int64).reshape(40, 50).astype(np.uint8)
    assert np.array_equal(crop_patch(gray, (4, 6)), gray[18:22, 22:28])
    assert np.array_equal(crop_patch(gray, (4, 6), 0, 44), gray[0:4, 44:50])
    with pytest.raises(GencompError, match="does not fit"):
        crop_patch(gray, (41, 6))
    with pytest.raises(GencompError, match="leaves"):
        crop_patch(gray, (4, 6), 37, 0)
    with pytest.raises(GencompError, match="at least one row"):
        crop_patch(gray, (0, 6))


def test_image_patches_row_major_and_edges_dropped():
    gray = RNG.integers(0, 256, (70, 130), dtype=np.uint8)
    patches = image_patches(gray)
    assert len(patches) == 2 * 2 and all(p.shape == (32, 64) for p in patches)
    assert np.array_equal(patches[1], gray[0:32, 64:128])


# ----------------------------------------------------------------------------- audio


def test_audio_bytes_round_trips():
    samples = RNG.integers(-32768, 32768, 1000).astype(np.int16)
    assert np.array_equal(bytes_to_audio(audio_to_bytes(samples, 16), 16), samples)
    eight = audio_to_bytes(samples, 8)
    assert len(eight) == 1000 and audio_to_bytes(bytes_to_audio(eight, 8), 8) == eight
    assert np.array_equal(bytes_to_audio(eight, 8) >> 8, samples >> 8)  # the high byte survives
    assert audio_to_bytes(np.array([-32768, 0, 32767], np.int16)) == bytes([0, 128, 255])
    assert to_7bit(bytes([0, 1, 255, 128])) == bytes([0, 0, 127, 64])


def test_16khz_mono_wav_reads_exactly(tmp_path):
    samples = RNG.integers(-32768, 32768, 1600).astype(np.int16)
    soundfile.write(tmp_path / "mono.wav", samples, SAMPLE_RATE, subtype="PCM_16")
    audio = read_audio(tmp_path / "mono.wav")
    assert np.array_equal(audio.samples, samples) and audio.notes == []


def test_stereo_and_other_rates_are_converted_and_said(tmp_path):
    seconds = 0.25
    t = np.arange(int(44_100 * seconds)) / 44_100
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)
    soundfile.write(tmp_path / "stereo.flac", np.stack([tone, tone], axis=1), 44_100)
    audio = load_audio(tmp_path / "stereo.flac")
    assert audio.samples.dtype == np.int16 and len(audio.samples) == int(SAMPLE_RATE * seconds)
    assert audio.notes == ["mixed 2 channels to mono", "resampled 44100 Hz to 16000 Hz (scipy resample_poly)"]
    assert abs(np.abs(audio.samples[500:-500]).max() / 32768 - 0.3) < 0.01  # a real resampler keeps the level


def test_bundled_speech():
    audio = load_audio("speech")
    assert audio.notes == [] and 0.85 < audio.seconds < 0.95 and "speech" in audio.source


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.wav", "neither a file nor one of the bundled recordings"),
        (lambda d: (d / "text.wav", (d / "text.wav").write_text("RIFF but not really"))[0], "cannot read"),
        (lambda d: (d / "image.flac", write_png(d / "image.flac", np.zeros((4, 4), np.uint8)))[0], "cannot read"),
    ],
    ids=["missing", "corrupt wav", "png named flac"],
)
def test_bad_audio_files_are_one_line_errors(tmp_path, make, message):
    with pytest.raises(GencompError, match=message) as error:
        load_audio(make(tmp_path))
    assert "\n" not in str(error.value)
