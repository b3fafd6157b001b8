"""What to continue, per modality, with its settings: one object a comparison (or a single
sample) hands every predictor, so that each draws the same bytes' continuation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, Union

import numpy as np

from gencomp.continuation import (
    AudioContinuation,
    ImageContinuation,
    Sampling,
    TextContinuation,
    continue_audio,
    continue_image,
    continue_text,
    image_mask,
)
from gencomp.modalities import SAMPLE_RATE
from gencomp.predictor import Predictor
from gencomp.progress import Advance

Continuation = Union[TextContinuation, ImageContinuation, AudioContinuation]


class Prompt(Protocol):
    modality: ClassVar[str]

    @property
    def hidden(self) -> int:
        """Bytes each predictor draws: the total of its progress."""

    def continue_with(self, predictor: Predictor, sampling: Sampling, advance: Advance | None = None) -> Continuation:
        """The continuation ``predictor`` draws, calling ``advance`` after each byte."""


@dataclass(frozen=True)
class TextPrompt:
    """Bytes to continue by ``length`` more."""

    modality: ClassVar[str] = "text"
    context: bytes
    length: int

    @property
    def hidden(self) -> int:
        return self.length

    def continue_with(self, predictor: Predictor, sampling: Sampling, advance: Advance | None = None) -> TextContinuation:
        return continue_text(predictor, self.context, self.length, sampling, advance)


@dataclass(frozen=True)
class ImagePrompt:
    """A grayscale patch, part of it hidden as ``mode`` and ``keep_rows`` say (see
    :func:`gencomp.continuation.image_mask`)."""

    modality: ClassVar[str] = "image"
    pixels: np.ndarray
    mode: str = "rows"
    keep_rows: int | None = None

    @property
    def hidden(self) -> int:
        return int((~image_mask(self.pixels.shape, self.mode, self.keep_rows)).sum())

    def continue_with(self, predictor: Predictor, sampling: Sampling, advance: Advance | None = None) -> ImageContinuation:
        return continue_image(predictor, self.pixels, self.mode, self.keep_rows, sampling, advance)


@dataclass(frozen=True)
class AudioPrompt:
    """16 kHz int16 samples: the first ``prompt_seconds`` given, ``seconds`` more drawn."""

    modality: ClassVar[str] = "audio"
    samples: np.ndarray
    prompt_seconds: float = 0.5
    seconds: float = 0.25
    bits: int = 8

    @property
    def hidden(self) -> int:
        return round(self.seconds * SAMPLE_RATE) * self.bits // 8

    def continue_with(self, predictor: Predictor, sampling: Sampling, advance: Advance | None = None) -> AudioContinuation:
        return continue_audio(predictor, self.samples, self.prompt_seconds, self.seconds, self.bits, sampling, advance)
