"""Continuations back into things people look at and listen to: PNG, WAV, Markdown.

Every function returns the file's bytes (or an array) and writes nothing, so the caller
chooses where and how to write (the CLI writes atomically and refuses to overwrite).
"""

from __future__ import annotations

import io
import re
import unicodedata
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from gencomp.continuation import Sampling
from gencomp.modalities import SAMPLE_RATE

HIDDEN_COLOUR = (64, 96, 192)  # no grayscale pixel has it, so the mask cannot be mistaken
LABEL_SIZE = 14  # px
PAD = 8  # px between panels


# ---------------------------------------------------------------------------- images


def upscale(pixels: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so that every pixel of a small patch stays visible."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    return np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)


def png_bytes(pixels: np.ndarray) -> bytes:
    """PNG of a uint8 array: (H, W) grayscale or (H, W, 3) RGB."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def masked(pixels: np.ndarray, known: np.ndarray) -> np.ndarray:
    """RGB view of a grayscale patch with the hidden pixels painted in HIDDEN_COLOUR."""
    rgb = np.repeat(np.asarray(pixels, dtype=np.uint8)[:, :, None], 3, axis=2)
    rgb[~known] = HIDDEN_COLOUR
    return rgb


def image_comparison(original: np.ndarray, known: np.ndarray, results: Sequence[tuple[str, np.ndarray]], scale: int = 4, columns: int = 4) -> np.ndarray:
    """One RGB grid: the original, the context with the hidden part masked, then one
    panel per labelled result, each upscaled by ``scale`` and labelled above."""
    panels = [("original", original), ("context", masked(original, known)), *results]
    return grid(panels, scale, columns)


def grid(panels: Sequence[tuple[str, np.ndarray]], scale: int = 4, columns: int = 4) -> np.ndarray:
    """Labelled panels of equal size (grayscale or RGB), ``columns`` to a row, white gaps."""
    images = [upscale(_rgb(pixels), scale) for _, pixels in panels]
    height, width = images[0].shape[:2]
    if any(image.shape[:2] != (height, width) for image in images):
        raise ValueError("all panels must have the same size")
    font = ImageFont.load_default(size=LABEL_SIZE)
    label = LABEL_SIZE + 6
    columns = min(columns, len(panels))
    rows = -(-len(panels) // columns)
    canvas = Image.new("RGB", (PAD + columns * (width + PAD), PAD + rows * (label + height + PAD)), "white")
    draw = ImageDraw.Draw(canvas)
    for index, ((name, _), image) in enumerate(zip(panels, images)):
        x = PAD + (index % columns) * (width + PAD)
        y = PAD + (index // columns) * (label + height + PAD)
        draw.text((x, y), _fit(name, font, width), fill="black", font=font)
        canvas.paste(Image.fromarray(image), (x, y + label))
    return np.asarray(canvas)


def _rgb(pixels: np.ndarray) -> np.ndarray:
    pixels = np.asarray(pixels, dtype=np.uint8)
    return pixels if pixels.ndim == 3 else np.repeat(pixels[:, :, None], 3, axis=2)


def _fit(text: str, font: ImageFont.ImageFont, width: int) -> str:
    """``text`` cut with an ellipsis so that it is no wider than the panel."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


# ----------------------------------------------------------------------------- audio


def wav_bytes(samples: np.ndarray) -> bytes:
    """16-bit PCM WAV of 16 kHz int16 samples."""
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.asarray(samples, dtype=np.int16), SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def spectrograms(results: Sequence[tuple[str, np.ndarray]], prompt_seconds: float, dpi: int = 80) -> bytes:
    """PNG figure: one labelled spectrogram per int16 signal, stacked, on one shared dB
    scale, with a dashed line where the prompt ends and the continuation begins."""
    from matplotlib.figure import Figure
    from scipy.signal import spectrogram

    # 16 ms windows, 4 ms hop: the time resolution to see where the prompt ends
    computed = [spectrogram(np.asarray(x, dtype=np.float64) / 32768.0, fs=SAMPLE_RATE, nperseg=256, noverlap=192) for _, x in results]
    decibels = [10 * np.log10(power + 1e-12) for _, _, power in computed]
    top = max(float(d.max()) for d in decibels)
    figure = Figure(figsize=(7, 1.5 * len(results) + 0.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(results), 1, sharex=True, squeeze=False)[:, 0])
    for axis, (name, _), (freqs, times, _), power in zip(axes, results, computed, decibels):
        mesh = axis.pcolormesh(times, freqs / 1000, power, shading="auto", cmap="magma", vmin=top - 80, vmax=top)
        axis.axvline(prompt_seconds, color="white", linestyle="--", linewidth=1.5)
        axis.set_title(name, loc="left", fontsize=10)
        axis.set_ylabel("kHz")
    axes[-1].set_xlabel("seconds (dashed: end of the prompt)")
    figure.colorbar(mesh, ax=list(axes), label="dB", shrink=0.8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    # a colormap has 256 colours: a palette PNG holds the figure in about a third of the bytes
    with Image.open(buffer) as rendered:
        buffer = io.BytesIO()
        rendered.convert("RGB").quantize(256).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# ------------------------------------------------------------------------------ text


def file_stem(label: str) -> str:
    """A model spec or label as a safe file name: zstd:level=19 -> zstd_level-19."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label.replace("=", "-")).strip("_")


def printable(data: bytes) -> str:
    """Bytes as text that cannot upset a terminal or a Markdown file: invalid UTF-8 and
    control characters (other than newline and tab) become backslash escapes."""
    text = data.decode("utf-8", errors="backslashreplace")
    return "".join(map(printable_char, text))


def printable_char(char: str) -> str:
    """One character as :func:`printable` shows it (for streams decoded piece by piece)."""
    if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cs"):
        return char
    return f"\\x{ord(char):02x}" if ord(char) < 256 else f"\\u{ord(char):04x}"


def ending(text: str, shown: int = 300) -> str:
    """The last ``shown`` characters of a long prompt, marked as cut: what a model continues
    is its end."""
    return text if len(text) <= shown else "…" + text[-shown:]


def markdown_comparison(prompt: bytes, results: Sequence[tuple[str, bytes]], sampling: Sampling) -> str:
    """A Markdown page: the sampling settings (with the seed), the prompt, and each
    model's continuation in its own fenced block."""
    knobs = f"temperature {sampling.temperature:g}, top-k {sampling.top_k}, top-p {sampling.top_p:g}, seed {sampling.seed}"
    lines = ["# Text continuations", "", f"Sampling: {knobs}.", "", f"## Prompt ({len(prompt):,} bytes)", "", _fenced(printable(prompt))]
    for name, continuation in results:
        lines += ["", f"## {name} ({len(continuation):,} bytes)", "", _fenced(printable(continuation))]
    return "\n".join(lines) + "\n"


def _fenced(text: str) -> str:
    """A code block whose fence is longer than any run of backticks inside it."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return f"{fence}text\n{text}\n{fence}"
