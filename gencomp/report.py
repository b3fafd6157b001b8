"""HTML pages people open in a browser: a comparison's continuations and an evaluation's rates.

Each page is one self-contained file: images and sounds are embedded as data URIs, the
styling is inline CSS, and nothing is fetched from the network, so a page can be moved or
mailed on its own. Plain HTML and CSS from Jinja2 templates (``gencomp/templates``), no
JavaScript; readable on a phone (one column) and a laptop, usable with a keyboard.

Every function returns the page as a string and writes nothing: the CLI writes it
atomically, as it does every output.
"""

from __future__ import annotations

import base64
import functools
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from gencomp.continuation import AudioContinuation, ImageContinuation, Sampling
from gencomp.evaluate import PAPER, Result
from gencomp.modalities import SAMPLE_RATE
from gencomp.render import ending, masked, png_bytes, printable, wav_bytes

@dataclass(frozen=True)
class Run:
    """How one predictor's continuation was made, and how others score it."""

    spec: str
    seconds: float
    drawn: int  # bytes drawn
    bits: dict[str, float] = field(default_factory=dict)  # scorer's spec -> bits per drawn byte

    @property
    def speed(self) -> float:
        """Drawn bytes per second."""
        return self.drawn / self.seconds if self.seconds > 0 else math.inf


@dataclass(frozen=True)
class Panel:
    """One thing the comparison page shows: the original, the context, or a continuation."""

    label: str
    image: bytes | None = None  # PNG
    size: tuple[int, int] = (0, 0)  # the image's height and width, in pixels
    audio: bytes | None = None  # WAV
    text: str | None = None  # printable (see :func:`gencomp.render.printable`)
    run: Run | None = None  # None for the original and the context
    note: str = ""  # what the panel is, for people who cannot see it

    @property
    def image_uri(self) -> str | None:
        return None if self.image is None else data_uri("image/png", self.image)

    @property
    def audio_uri(self) -> str | None:
        return None if self.audio is None else data_uri("audio/wav", self.audio)


def data_uri(mime: str, data: bytes) -> str:
    """``data`` inline in a page: no file beside it to lose."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


# ------------------------------------------------------------------------ panels


def image_panels(images: Sequence[ImageContinuation], runs: Sequence[Run]) -> list[Panel]:
    """The original patch, the context with the hidden part masked, then one panel per model."""
    first = images[0]
    size = first.original.shape
    hidden = int((~first.known).sum())
    return [
        Panel("original", png_bytes(first.original), size, note=f"the input patch, {size[0]}×{size[1]} pixels"),
        Panel("context", png_bytes(masked(first.original, first.known)), size, note=f"what every model saw; the {hidden} hidden pixels in blue"),
        *(Panel(run.spec, png_bytes(image.pixels), size, run=run, note=f"continued by {run.spec}") for image, run in zip(images, runs)),
    ]


def audio_panels(sounds: Sequence[AudioContinuation], runs: Sequence[Run]) -> list[Panel]:
    """The original over the same span, then one player per model."""
    first = sounds[0]
    seconds = len(first.original) / SAMPLE_RATE
    return [
        Panel("original", audio=wav_bytes(first.original), note=f"the input, {seconds:.2f} s at {first.bits} bits"),
        *(Panel(run.spec, audio=wav_bytes(sound.samples), run=run, note=f"prompt then {run.spec}'s continuation") for sound, run in zip(sounds, runs)),
    ]


def text_panels(prompt: bytes, texts: Sequence[bytes], runs: Sequence[Run]) -> list[Panel]:
    """The prompt's end, then one continuation per model (invalid bytes as escapes)."""
    return [
        Panel(f"prompt ({len(prompt):,} bytes)", text=ending(printable(prompt)), note="the end of the prompt every model continued"),
        *(Panel(run.spec, text=printable(text), run=run) for text, run in zip(texts, runs)),
    ]


# ------------------------------------------------------------------------- pages


def compare_page(modality: str, panels: Sequence[Panel], sampling: Sampling, figure: bytes | None = None) -> str:
    """The comparison page: the panels, the bits/byte each scorer gives each continuation,
    and the settings that rerun it (the seed included). ``figure``: a PNG shown under the
    panels (the spectrograms). Images are stored at their size and enlarged by the
    browser to the panel's width, pixels kept sharp."""
    runs = [panel.run for panel in panels if panel.run is not None]
    scorers = sorted({spec for run in runs for spec in run.bits}, key=[run.spec for run in runs].index)
    settings = {
        "modality": modality,
        "models": ", ".join(run.spec for run in runs),
        "seed": str(sampling.seed),
        "temperature": f"{sampling.temperature:g}",
        "top-k": f"{sampling.top_k}" + (" (off)" if sampling.top_k == 0 else ""),
        "top-p": f"{sampling.top_p:g}",
    }
    return _render("compare.html", title=f"gencomp compare: {modality}", panels=panels, runs=runs, scorers=scorers,
                   settings=settings, figure=figure and data_uri("image/png", figure))


def evaluate_page(results: Sequence[Result], data: dict[str, dict[str, Any]], settings: dict[str, str]) -> str:
    """The evaluation page: the rate table with intervals, a bar chart per modality with
    the paper's Table 1 rows beside ours, and the settings. ``data``: modality -> its
    source, chunks and bytes."""
    names = list(data)
    return _render("evaluate.html", title="gencomp evaluate: compression rates", names=names, table=rate_rows(results),
                   paper={label: {name: f"{rate:.1f}" for name, rate in rates.items()} for label, rates in paper_rows().items()},
                   charts=[chart(name, results) for name in names], data=data, settings=settings,
                   paper_data=PAPER["data"])


@dataclass(frozen=True)
class Bar:
    """One bar of a chart; positions in percent of the chart's width."""

    label: str
    rate: float
    low: float | None
    high: float | None
    paper: bool
    width: float
    whisker: tuple[float, float] | None  # left and width of the interval


def chart(modality: str, results: Sequence[Result]) -> dict[str, Any]:
    """Our rates on ``modality`` (not the adjusted ones: they dwarf the rest) and the
    paper's, best first, on one axis from 0 to the largest rate (at least 100%); an
    interval past it is cut there (two chunks' can reach 500%, which would squash the rest)."""
    ours = [(row_label(r), r.rate, r.rate_low, r.rate_high, False) for r in results if r.modality == modality and np.isfinite(r.rate)]
    paper = [(label, rates[modality], None, None, True) for label, rates in paper_rows().items() if modality in rates]
    rows = sorted(ours + paper, key=lambda row: row[1])
    top = max([100.0, *(rate for _, rate, _, _, _ in rows)])
    bars = [Bar(label, rate, low, high, is_paper, 100 * rate / top,
                None if low is None else (100 * max(low, 0) / top, 100 * (min(high, top) - max(low, 0)) / top))
            for label, rate, low, high, is_paper in rows]
    return {"modality": modality, "bars": bars, "top": top}


def rate_rows(results: Sequence[Result]) -> dict[str, dict[str, str]]:
    """Row label -> modality -> rate as shown ('45.7 ±1.2'), with an adjusted row after
    each model's (its parameters counted at 2 bytes each)."""
    rows: dict[str, dict[str, str]] = {}
    for result in results:
        rows.setdefault(row_label(result), {})[result.modality] = rate_text(result)
        if result.parameters:
            rows.setdefault(f"{row_label(result)} adjusted", {})[result.modality] = f"{result.adjusted_rate:,.0f}"
    return rows


def paper_rows() -> dict[str, dict[str, float]]:
    """The paper's figures as rows labelled with their source: 'paper, Table 1: gzip
    (chunked)', 'paper, abstract: Chinchilla 70B' -> modality -> rate in %."""
    rows = {}
    for kind, entries in PAPER.items():
        for method, rates in entries.items():
            if kind in ("chunked", "unchunked"):
                rows[f"paper, Table 1: {method} ({kind})"] = rates
            elif kind == "abstract":
                rows[f"paper, abstract: {method}"] = rates
    return rows


def row_label(result: Result) -> str:
    """A row's name in tables: the 7-bit mapping is named, since its rate is scaled by 8/7."""
    return result.row if result.mapping == "8-bit" else f"{result.row} [7-bit, ×8/7]"


def rate_text(result: Result) -> str:
    """'45.7 ±1.2', or '45.7' where there is no interval (one chunk, or unchunked)."""
    if result.rate_high is None:
        return f"{result.rate:.1f}"
    return f"{result.rate:.1f} ±{result.rate_high - result.rate:.1f}"


@functools.cache
def _environment() -> Any:
    """The templates' Jinja environment, built on the first page (every command imports
    this module; only pages need jinja2)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("gencomp", "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True
    )


def _render(template: str, **values: Any) -> str:
    return _environment().get_template(template).render(**values)
