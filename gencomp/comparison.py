"""A comparison: one prompt continued by several predictors with the same seed, the files
that show the continuations side by side, and a page where each continuation is scored by
every compressor among the predictors. Nothing here prints or writes: the caller shows
progress through a :class:`~gencomp.progress.Track` and writes the files."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

from gencomp import report
from gencomp.continuation import Sampling, cheap_to_score, drawn_bits
from gencomp.predictor import Predictor
from gencomp.progress import Track, untracked
from gencomp.prompts import Continuation, Prompt
from gencomp.render import file_stem, image_comparison, markdown_comparison, png_bytes, spectrograms, wav_bytes

PAGE = "index.html"


@dataclass(frozen=True)
class Drawn:
    """Every predictor's continuation of one prompt, and the seconds each took."""

    prompt: Prompt
    sampling: Sampling
    specs: list[str]
    continuations: list[Continuation]
    seconds: list[float]


def draw(predictors: dict[str, Predictor], prompt: Prompt, sampling: Sampling, track: Track = untracked) -> Drawn:
    """Each predictor's continuation of ``prompt``, in order, one tracked piece each."""
    continuations, seconds = [], []
    for spec, predictor in predictors.items():
        start = time.perf_counter()
        with track(spec, prompt.hidden) as advance:
            continuations.append(prompt.continue_with(predictor, sampling, advance))
        seconds.append(time.perf_counter() - start)
    return Drawn(prompt, sampling, list(predictors), continuations, seconds)


def file_names(modality: str, specs: Sequence[str]) -> dict[str, str]:
    """Output name -> file name, known before any work (so that nothing is overwritten
    late), in the order they are written: the page last, written only when the rest is."""
    if modality == "image":
        names = {"grid": "image_comparison.png"}
    elif modality == "audio":
        names = {name: f"{file_stem(name)}.wav" for name in ["original", *specs]} | {"spectrograms": "spectrograms.png"}
    else:
        names = {"markdown": "text_comparison.md"}
    return names | {"page": PAGE}


def outputs(drawn: Drawn, predictors: dict[str, Predictor], scale: int = 4, track: Track = untracked) -> dict[str, bytes]:
    """The bytes of every file :func:`file_names` names. The page's scores take a while:
    each continuation is read again by every compressor among the predictors."""
    files = _figures(drawn, scale)
    runs = scored_runs(drawn, predictors, track)
    panels = _panels(drawn, runs)
    files["page"] = report.compare_page(drawn.prompt.modality, panels, drawn.sampling, files.get("spectrograms")).encode()
    return files


def scored_runs(drawn: Drawn, predictors: dict[str, Predictor], track: Track = untracked) -> list[report.Run]:
    """Each predictor's run, its continuation scored by every compressor among the
    predictors (a language model would take as long as drawing it again)."""
    scorers = {spec: predictor for spec, predictor in predictors.items() if cheap_to_score(predictor)}
    runs = []
    for spec, continuation, seconds in zip(drawn.specs, drawn.continuations, drawn.seconds):
        data, known = continuation.sequence
        hidden = int((~known).sum())
        bits = {}
        for name, scorer in scorers.items():
            with track(f"{name} scores {spec}", hidden) as advance:
                bits[name] = drawn_bits(scorer, data, known, advance)
        runs.append(report.Run(spec, seconds, hidden, bits))
    return runs


def _figures(drawn: Drawn, scale: int) -> dict[str, bytes]:
    """The files besides the page: the image grid, the sounds and their spectrograms, or
    the texts as Markdown."""
    results = drawn.continuations
    if drawn.prompt.modality == "image":
        panels = [(spec, c.pixels) for spec, c in zip(drawn.specs, results)]
        return {"grid": png_bytes(image_comparison(results[0].original, results[0].known, panels, scale))}
    if drawn.prompt.modality == "audio":
        signals = [("original", results[0].original), *[(spec, c.samples) for spec, c in zip(drawn.specs, results)]]
        return {name: wav_bytes(samples) for name, samples in signals} | {"spectrograms": spectrograms(signals, results[0].prompt_seconds)}
    texts = [(spec, c.text) for spec, c in zip(drawn.specs, results)]
    return {"markdown": markdown_comparison(results[0].context, texts, drawn.sampling).encode()}


def _panels(drawn: Drawn, runs: list[report.Run]) -> list[report.Panel]:
    if drawn.prompt.modality == "image":
        return report.image_panels(drawn.continuations, runs)
    if drawn.prompt.modality == "audio":
        return report.audio_panels(drawn.continuations, runs)
    return report.text_panels(drawn.continuations[0].context, [c.text for c in drawn.continuations], runs)
