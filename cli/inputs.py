"""The inputs `gencomp sample` and `gencomp compare` continue, read from their options and
said on stderr: a text prompt, an image patch or a recording."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gencomp import datasets
from gencomp.modalities import SAMPLE_RATE, Audio, crop_patch, load_audio, load_image
from gencomp.prompts import AudioPrompt, ImagePrompt, Prompt, TextPrompt
from gencomp_cli.common import fail, read_input, say, user_errors
from gencomp_cli.options import parse_pair


def read_prompt(modality: str, prompt: str | None, prompt_file: Path | None, length: int, source: str | None, patch: str,
                at: str | None, mode: str, keep_rows: int | None, prompt_seconds: float, seconds: float, bits: int) -> Prompt:
    """What to continue, from the options of ``modality`` (checked already)."""
    if modality == "text":
        return TextPrompt(text_prompt(prompt, prompt_file), length)
    if modality == "image":
        return ImagePrompt(image_patch(source, patch, at), mode, keep_rows)
    return AudioPrompt(audio_input(source, prompt_seconds).samples, prompt_seconds, seconds, bits)


def text_prompt(prompt: str | None, prompt_file: Path | None) -> bytes:
    """The bytes to continue: --prompt, --prompt-file or the bundled default."""
    if prompt is not None:
        return prompt.encode()
    if prompt_file is not None:
        return read_input(prompt_file)
    with user_errors():
        default = datasets.default_prompt()
    say(f"prompt: {default.source}")
    return default.data


def image_patch(source: str | None, patch: str, at: str | None) -> np.ndarray:
    """The grayscale patch to continue, saying on stderr where it came from."""
    shape = parse_pair(patch, "x", "--patch", "ROWSxCOLS, e.g. 32x64")
    top, left = parse_pair(at, ",", "--at", "TOP,LEFT, e.g. 100,200") if at else (None, None)
    with user_errors():
        image = load_image(source)
        pixels = crop_patch(image.pixels, shape, top, left)
    notes(image.notes)
    where = f"at ({top}, {left})" if at else "from the middle"
    say(f"image: {image.source}, {image.pixels.shape[0]}×{image.pixels.shape[1]}; a {shape[0]}×{shape[1]} patch {where}")
    return pixels


def audio_input(source: str | None, prompt_seconds: float = 0.0) -> Audio:
    """The 16 kHz mono recording to continue, saying on stderr what it is; an error, alone
    on stderr, if it is shorter than the prompt."""
    with user_errors():
        audio = load_audio(source)
    if len(audio.samples) < round(prompt_seconds * SAMPLE_RATE):
        fail(f"{audio.source} lasts {audio.seconds:.2f} s, shorter than the {prompt_seconds:g} s prompt (--prompt-seconds)")
    notes(audio.notes)
    say(f"audio: {audio.source}, {audio.seconds:.2f} s")
    return audio


def notes(conversions: list[str]) -> None:
    for note in conversions:
        say(f"note: {note}", dim=False)
