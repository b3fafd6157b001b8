"""Image and audio continuations: the paper's "compressors as generative models" demos.

Every continuation is one byte sequence in which some bytes are given and the others are
drawn, in order, each conditioned on all the bytes before it (given or drawn), cropped to
the predictor's context window. What differs is which bytes are given:

- image ``rows`` (the paper's Figure 3): the first half of every row of a grayscale patch is
  given, the second half drawn. Row r therefore sees the rows above *as the output shows
  them* (given first halves, drawn second halves) and its own first half; it never sees a
  hidden pixel, so the masked context panel shows exactly what the model knew.
- image ``raster``: the top ``keep_rows`` rows are given; the rest is drawn in raster order.
- audio: the first ``prompt_seconds`` are given (8-bit or 16-bit bytes), ``seconds`` drawn.

The library never prints: ``advance(1)`` is called after every drawn byte.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
import numpy as np

from gencomp.coding import context
from gencomp.modalities import AUDIO_BITS, SAMPLE_RATE, audio_to_bytes, bytes_to_audio
from gencomp.errors import GencompError
from gencomp.predictor import Predictor
from gencomp.progress import Advance
from gencomp.spec import parse_spec
from gencomp.sampling import check_sampling, sample

IMAGE_MODES = ("rows", "raster")


@dataclass(frozen=True)
class Sampling:
    """The sampler's knobs (see :func:`gencomp.sample`); one seed makes the whole result
    reproducible, and the same seed is given to every model in a comparison."""

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        check_sampling(self.temperature, self.top_k, self.top_p)

    def knobs(self) -> dict[str, float]:
        """The keyword arguments :func:`gencomp.sample` takes besides the seed."""
        return {"temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p}


def fill(predictor: Predictor, data: bytes, known: np.ndarray, sampling: Sampling = Sampling(), advance: Advance | None = None) -> bytes:
    """``data`` with every byte where ``known`` is False drawn from ``predictor``, in order.

    Each run of hidden bytes is one call of the sampler, with its own seed spawned from
    ``sampling.seed`` (a run must not replay the random numbers of the run before).
    """
    known = np.asarray(known, dtype=bool).ravel()
    if known.size != len(data):
        raise ValueError(f"mask has {known.size} entries for {len(data)} bytes")
    edges = np.flatnonzero(np.diff(np.concatenate(([0], (~known).astype(np.int8), [0]))))
    runs = edges.reshape(-1, 2)
    seeds = np.random.SeedSequence(sampling.seed).spawn(len(runs))
    out = bytearray(data)
    for (start, stop), seed in zip(runs, seeds):
        drawn = sample(predictor, bytes(out[:start]), int(stop - start), seed=int(seed.generate_state(1)[0]), **sampling.knobs())
        for position, byte in enumerate(drawn, start):
            out[position] = byte
            if advance:
                advance(1)
    return bytes(out)


def drawn_bits(predictor: Predictor, data: bytes, known: np.ndarray, advance: Advance | None = None) -> float:
    """Bits per byte ``predictor`` spends on the bytes of ``data`` where ``known`` is False,
    each seen after everything before it, as :func:`fill` drew them: how surprising one
    model finds another's continuation. One ``logprobs`` call per drawn byte."""
    known = np.asarray(known, dtype=bool).ravel()
    if known.size != len(data):
        raise ValueError(f"mask has {known.size} entries for {len(data)} bytes")
    hidden = np.flatnonzero(~known)
    bits = 0.0
    for position in hidden:
        logprobs = predictor.logprobs(context(data, position, predictor.context_window))
        bits -= float(logprobs[data[position]]) / math.log(2)
        if advance:
            advance(1)
    return bits / max(len(hidden), 1)


def cheap_to_score(predictor: Predictor) -> bool:
    """Whether scoring another model's continuation with ``predictor`` (:func:`drawn_bits`)
    is cheap: a compressor's call costs milliseconds; a language model's, with the
    context jumping between runs, costs about as much as drawing the bytes again."""
    return parse_spec(predictor.spec)[0].name != "llm"


# ------------------------------------------------------------------------------ text


@dataclass(frozen=True)
class TextContinuation:
    """A prompt of bytes continued by one predictor."""

    context: bytes  # the prompt
    text: bytes  # the drawn bytes
    model: str

    @property
    def sequence(self) -> tuple[bytes, np.ndarray]:
        """The bytes as the predictor saw and drew them, and which were given."""
        return self.context + self.text, np.arange(len(self.context) + len(self.text)) < len(self.context)


def continue_text(predictor: Predictor, context: bytes, length: int, sampling: Sampling = Sampling(), advance: Advance | None = None) -> TextContinuation:
    """Draw ``length`` bytes after ``context``."""
    drawn = bytearray()
    for byte in sample(predictor, context, length, seed=sampling.seed, **sampling.knobs()):
        drawn.append(byte)
        if advance:
            advance(1)
    return TextContinuation(context, bytes(drawn), predictor.spec)


# ---------------------------------------------------------------------------- images


@dataclass(frozen=True)
class ImageContinuation:
    """A grayscale patch continued by one predictor."""

    original: np.ndarray  # the input patch, uint8
    known: np.ndarray  # True where the pixel was given to the predictor
    pixels: np.ndarray  # the given pixels where known, drawn ones elsewhere
    model: str  # the predictor's spec

    @property
    def sequence(self) -> tuple[bytes, np.ndarray]:
        """The bytes as the predictor saw and drew them, and which were given."""
        return self.pixels.tobytes(), self.known.ravel()


def image_mask(shape: tuple[int, int], mode: str = "rows", keep_rows: int | None = None) -> np.ndarray:
    """Where the pixels are given: the left half of each row (``rows``) or the top
    ``keep_rows`` rows (``raster``, default half the patch)."""
    rows, cols = shape
    known = np.zeros(shape, dtype=bool)
    if mode == "rows":
        if keep_rows is not None:
            raise GencompError("keep_rows is for raster mode; rows mode gives each row's first half")
        if cols < 2:
            raise GencompError(f"rows mode needs patches at least 2 pixels wide, got {cols}")
        known[:, : cols // 2] = True
    elif mode == "raster":
        keep = rows // 2 if keep_rows is None else keep_rows
        if not 0 <= keep < rows:
            raise GencompError(f"raster mode keeps 0 to {rows - 1} rows of a {rows}-row patch, not {keep}")
        known[:keep] = True
    else:
        raise GencompError(f"unknown image mode {mode!r}; use {' or '.join(IMAGE_MODES)}")
    return known


def continue_image(
    predictor: Predictor,
    patch: np.ndarray,
    mode: str = "rows",
    keep_rows: int | None = None,
    sampling: Sampling = Sampling(),
    advance: Advance | None = None,
) -> ImageContinuation:
    """Continue a uint8 grayscale patch (one byte per pixel, raster order)."""
    patch = np.ascontiguousarray(patch, dtype=np.uint8)
    if patch.ndim != 2:
        raise GencompError(f"expected a grayscale patch (2-D), got shape {patch.shape}")
    known = image_mask(patch.shape, mode, keep_rows)
    data = fill(predictor, patch.tobytes(), known, sampling, advance)
    pixels = np.frombuffer(data, dtype=np.uint8).reshape(patch.shape)
    return ImageContinuation(patch, known, pixels, predictor.spec)


# ----------------------------------------------------------------------------- audio


@dataclass(frozen=True)
class AudioContinuation:
    """A prompt of speech continued by one predictor; int16 at 16 kHz."""

    original: np.ndarray  # the input over the same span, through the same byte mapping
    samples: np.ndarray  # prompt + continuation, decoded from the predictor's bytes
    prompt_samples: int  # where the continuation starts
    bits: int  # 8: the paper's high byte + 128; 16: little-endian samples
    model: str

    @property
    def prompt_seconds(self) -> float:
        return self.prompt_samples / SAMPLE_RATE

    @property
    def sequence(self) -> tuple[bytes, np.ndarray]:
        """The bytes as the predictor saw and drew them, and which were given."""
        data = audio_to_bytes(self.samples, self.bits)
        return data, np.arange(len(data)) < self.prompt_samples * self.bits // 8


def continue_audio(
    predictor: Predictor,
    samples: np.ndarray,
    prompt_seconds: float = 0.5,
    seconds: float = 0.25,
    bits: int = 8,
    sampling: Sampling = Sampling(),
    advance: Advance | None = None,
) -> AudioContinuation:
    """Prompt with the first ``prompt_seconds`` of 16 kHz int16 ``samples``, draw ``seconds``
    more. Only the last ``context_window`` bytes of the prompt reach the predictor
    (2048 bytes: 0.128 s at 8 bits)."""
    if bits not in AUDIO_BITS:
        raise GencompError(f"audio bytes are 8 or 16 bits, not {bits}")
    if not prompt_seconds >= 0 or not seconds > 0:
        raise GencompError(f"need prompt seconds >= 0 and seconds > 0, got {prompt_seconds} and {seconds}")
    prompt = round(prompt_seconds * SAMPLE_RATE)
    drawn = round(seconds * SAMPLE_RATE)
    if len(samples) < prompt:
        raise GencompError(f"the audio lasts {len(samples) / SAMPLE_RATE:.2f} s, shorter than the {prompt_seconds:g} s prompt")
    width = bits // 8
    context = audio_to_bytes(samples[:prompt], bits)
    known = np.arange(len(context) + drawn * width) < len(context)
    data = fill(predictor, context + bytes(drawn * width), known, sampling, advance)
    original = bytes_to_audio(audio_to_bytes(samples[: prompt + drawn], bits), bits)
    return AudioContinuation(original, bytes_to_audio(data, bits), prompt, bits, predictor.spec)
