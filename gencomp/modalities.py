"""Images and audio <-> bytes, the way the paper feeds them to predictors.

- Images: grayscale (Pillow's "L"), one byte per pixel, non-overlapping 32×64 patches read
  row-major.
- Audio: 16 kHz mono; 16-bit samples become unsigned 8-bit by taking the high byte and
  adding 128 (the paper's mapping), or stay 16-bit little-endian.
- The paper fed LLMs 7-bit data (every byte shifted right by one) and scaled rates by 8/7.

Inputs are a file path or the name of bundled data (:data:`BUNDLED_AUDIO`, and
``datasets.BUNDLED_IMAGES``); conversions on the way (colour to gray, stereo to mono,
resampling) are returned as notes for the caller to show, never printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import gcd
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from gencomp import datasets
from gencomp.errors import GencompError

PATCH_SHAPE = (32, 64)  # rows, columns: 2048 bytes, one paper chunk
SAMPLE_RATE = 16_000
AUDIO_BITS = (8, 16)
BUNDLED_AUDIO = ("speech",)  # amfm_decompy's 0.9 s recording
DEFAULT_IMAGE = datasets.BUNDLED_IMAGES[0]
DEFAULT_AUDIO = BUNDLED_AUDIO[0]


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
            if mode.startswith("I"):  # 16/32-bit gray: Pillow's "L" would clip it at 255
                gray = (np.clip(np.asarray(image, dtype=np.int64), 0, 65535) >> 8).astype(np.uint8)
            else:
                gray = np.asarray(image.convert("L"))
    except FileNotFoundError:
        raise GencompError(f"{path} does not exist") from None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as error:
        raise GencompError(f"cannot read {path} as an image: {error}") from None
    if mode == "L":
        return gray, None
    if mode.startswith("I"):
        return gray, f"reduced {mode} grayscale to 8 bits (the high byte)"
    return gray, f"converted {mode} image to grayscale"


@dataclass
class GrayImage:
    """uint8 grayscale pixels, where they came from, and what was done to get them."""

    pixels: np.ndarray
    source: str
    notes: list[str] = field(default_factory=list)


def load_image(source: str | Path | None = None) -> GrayImage:
    """A file Pillow reads, or a bundled photograph by name (default: the cameraman)."""
    source = DEFAULT_IMAGE if source is None else source
    if Path(source).is_file() or str(source) not in datasets.BUNDLED_IMAGES:
        _check_file(Path(source), "bundled images", datasets.BUNDLED_IMAGES)
        gray, note = read_image(Path(source))
        return GrayImage(gray, str(source), [note] if note else [])
    pixels = datasets.bundled_image(str(source))
    notes = [] if pixels.ndim == 2 else [f"converted the colour photograph {source} to grayscale"]
    return GrayImage(to_grayscale(pixels), f"scikit-image's {source}", notes)


def _check_file(path: Path, kind: str, names: tuple[str, ...]) -> None:
    """A path that is not a file is most likely a misspelt bundled name: say both."""
    if not path.exists():
        raise GencompError(f"{path} is neither a file nor one of the {kind}: {', '.join(names)}")
    if path.is_dir():
        raise GencompError(f"{path} is a folder, not a file")


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
    if rows < 1 or cols < 1:
        raise GencompError(f"a patch needs at least one row and one column, got {rows}×{cols}")
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
    source: str = ""

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
    return Audio(samples, notes, str(path))


def load_audio(source: str | Path | None = None) -> Audio:
    """A file libsndfile reads, or the bundled speech recording (``speech``, the default)."""
    source = DEFAULT_AUDIO if source is None else source
    if Path(source).is_file() or str(source) not in BUNDLED_AUDIO:
        _check_file(Path(source), "bundled recordings", BUNDLED_AUDIO)
        return read_audio(Path(source))
    audio = read_audio(datasets.bundled_speech())
    audio.source = "the bundled speech recording (amfm_decompy, 0.9 s)"
    return audio


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
