"""Images and audio <-> bytes, the way the paper feeds them to predictors.

- Images: grayscale (Pillow's "L"), one byte per pixel, non-overlapping 32×64 patches read
  row-major.
- Audio: 16 kHz mono; 16-bit samples become unsigned 8-bit by taking the high byte and
  adding 128 (the paper's mapping), or stay 16-bit little-endian.
- The paper fed LLMs 7-bit data (every byte shifted right by one) and scaled rates by 8/7.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import gcd
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from gencomp.predictor import GencompError

PATCH_SHAPE = (32, 64)  # rows, columns: 2048 bytes, one paper chunk
SAMPLE_RATE = 16_000


# ---------------------------------------------------------------------------- images


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """uint8 grayscale, as Pillow's "L" conversion computes it (ITU-R 601-2 luma)."""
    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.ndim == 2 and image.dtype == np.uint8:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    return np.asarray(Image.fromarray(image.astype(np.uint8)).convert("L"))


def read_image(path: Path) -> tuple[np.ndarray, str | None]:
    """(grayscale uint8 pixels, what was converted or None) of any image Pillow reads."""
    try:
        with Image.open(path) as image:
            mode = image.mode
            gray = np.asarray(image.convert("L"))
    except FileNotFoundError:
        raise GencompError(f"{path} does not exist") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise GencompError(f"cannot read {path} as an image: {error}") from None
    note = None if mode == "L" else f"converted {mode} image to grayscale"
    return gray, note


def image_patches(gray: np.ndarray, shape: tuple[int, int] = PATCH_SHAPE) -> list[np.ndarray]:
    """Non-overlapping patches of ``shape``, left to right then top to bottom; the
    right and bottom edges that do not fill a whole patch are dropped."""
    rows, cols = shape
    height, width = gray.shape
    return [
        gray[top : top + rows, left : left + cols]
        for top in range(0, height - rows + 1, rows)
        for left in range(0, width - cols + 1, cols)
    ]


def crop_patch(gray: np.ndarray, shape: tuple[int, int] = PATCH_SHAPE, top: int | None = None, left: int | None = None) -> np.ndarray:
    """One patch of ``shape`` at (top, left); centred where a coordinate is not given."""
    rows, cols = shape
    height, width = gray.shape
    if rows > height or cols > width:
        raise GencompError(f"a {rows}×{cols} patch does not fit in a {height}×{width} image")
    top = (height - rows) // 2 if top is None else top
    left = (width - cols) // 2 if left is None else left
    if not (0 <= top <= height - rows and 0 <= left <= width - cols):
        raise GencompError(f"a {rows}×{cols} patch at ({top}, {left}) leaves the {height}×{width} image")
    return gray[top : top + rows, left : left + cols]


# ----------------------------------------------------------------------------- audio


@dataclass
class Audio:
    """16 kHz mono int16 samples, and what was done to get them."""

    samples: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def read_audio(path: Path) -> Audio:
    """Any file libsndfile reads, as 16 kHz mono int16; stereo is averaged and other
    rates are resampled with scipy's polyphase filter (``resample_poly``)."""
    import soundfile

    try:
        data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    except FileNotFoundError:
        raise GencompError(f"{path} does not exist") from None
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        raise GencompError(f"cannot read {path} as audio: {error}") from None
    notes = []
    if data.shape[1] > 1:
        notes.append(f"mixed {data.shape[1]} channels to mono")
    mono = data.mean(axis=1)
    if rate != SAMPLE_RATE:
        from scipy.signal import resample_poly

        divisor = gcd(int(rate), SAMPLE_RATE)
        mono = resample_poly(mono, SAMPLE_RATE // divisor, int(rate) // divisor)
        notes.append(f"resampled {rate} Hz to {SAMPLE_RATE} Hz (scipy resample_poly)")
    samples = np.clip(np.round(mono * 32768.0), -32768, 32767).astype(np.int16)
    return Audio(samples, notes)


def audio_to_bytes(samples: np.ndarray, bits: int = 8) -> bytes:
    """int16 samples -> bytes: 8 bits = high byte + 128 (the paper's), or 16-bit LE."""
    samples = np.asarray(samples, dtype=np.int16)
    if bits == 8:
        return ((samples.astype(np.int32) >> 8) + 128).astype(np.uint8).tobytes()
    if bits == 16:
        return samples.astype("<i2").tobytes()
    raise ValueError(f"audio bytes are 8 or 16 bits, got {bits}")


def bytes_to_audio(data: bytes, bits: int = 8) -> np.ndarray:
    """Inverse of :func:`audio_to_bytes` (8-bit loses the low byte: it comes back as 0)."""
    if bits == 8:
        return ((np.frombuffer(data, dtype=np.uint8).astype(np.int32) - 128) << 8).astype(np.int16)
    if bits == 16:
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.int16)
    raise ValueError(f"audio bytes are 8 or 16 bits, got {bits}")


def to_7bit(data: bytes) -> bytes:
    """The paper's LLM input for images and audio: every byte shifted right by one."""
    return (np.frombuffer(data, dtype=np.uint8) >> 1).astype(np.uint8).tobytes()
