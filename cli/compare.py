"""`gencomp compare`: the same continuation from several predictors, side by side.

Every model gets the same input and the same seed; a seed is chosen (and shown) when none
is given, so that any comparison can be rerun.
"""

from __future__ import annotations

import secrets
import time
from functools import partial
from pathlib import Path
from typing import Annotated, Callable, Iterable, Optional

import numpy as np
import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from gencomp import report
from gencomp.continuation import Sampling, cheap_to_score, continue_audio, continue_image, drawn_bits
from gencomp.predictor import Predictor
from gencomp.spec import families
from gencomp.render import ending, file_stem, image_comparison, markdown_comparison, png_bytes, printable, spectrograms, wav_bytes
from gencomp.sampling import sample as draw_continuation
from gencomp_cli.common import atomic_output, check_output, fail, open_in_browser, user_errors
from gencomp_cli.sample import (
    DEFAULT_PATCH,
    AtOption,
    BitsOption,
    DeviceOption,
    DtypeOption,
    ForceOption,
    InputOption,
    KeepRowsOption,
    LengthOption,
    ModalityOption,
    ModeOption,
    PatchOption,
    PromptFileOption,
    PromptOption,
    PromptSecondsOption,
    ScaleOption,
    SecondsOption,
    TemperatureOption,
    TopKOption,
    TopPOption,
    audio_input,
    check_audio_options,
    check_image_options,
    check_relevant,
    check_text_options,
    image_patch,
    load,
    progress_callback,
    sampling_options,
    say,
    text_prompt,
    with_options,
)

PAGE = "index.html"


def compare(
    ctx: typer.Context,
    models: Annotated[str, typer.Option("--models", "-m", help="Comma-separated predictor specs (see `gencomp models`).")] = "gzip,zstd,lzma,llm",
    modality: ModalityOption = "image",
    out_dir: Annotated[Optional[Path], typer.Option("--out-dir", "-o", help="Folder for the results (created if missing; required for image and audio; one holding other files is refused without --force). Also index.html, one page with everything, where each continuation is scored by every compressor in --models: about the time of drawing it again, per compressor.")] = None,
    open_page: Annotated[bool, typer.Option("--open", help="Open --out-dir/index.html in your web browser, where there is one.")] = False,
    prompt: PromptOption = None,
    prompt_file: PromptFileOption = None,
    length: LengthOption = 200,
    input: InputOption = None,
    patch: PatchOption = DEFAULT_PATCH,
    at: AtOption = None,
    mode: ModeOption = "rows",
    keep_rows: KeepRowsOption = None,
    scale: ScaleOption = 4,
    prompt_seconds: PromptSecondsOption = 0.5,
    seconds: SecondsOption = 0.25,
    bits: BitsOption = 8,
    temperature: TemperatureOption = 1.0,
    top_k: TopKOption = 0,
    top_p: TopPOption = 1.0,
    seed: Annotated[Optional[int], typer.Option(help="Random seed given to every model (default: a random one, shown).", rich_help_panel="Sampling")] = None,
    force: ForceOption = False,
    device: DeviceOption = None,
    dtype: DtypeOption = None,
) -> None:
    """Continue the same input with several predictors and show the results side by side.

    Every model's result also goes in --out-dir/index.html, a self-contained page with the settings, each model's time and bytes/s, and each continuation's bits/byte under every compressor in --models.

    image: one grid PNG (original, the context with the hidden part masked, one panel per model) in --out-dir/image_comparison.png. audio: one 16-bit WAV per model and for the original, and spectrograms.png with the prompt's end marked. text: rich panels side by side on stdout, and text_comparison.md when --out-dir is given.

    Bundled inputs and the options are those of `gencomp sample`.
    """
    check_relevant(ctx, modality)
    sampling = sampling_options(temperature, top_k, top_p, secrets.randbelow(2**31) if seed is None else seed)
    specs = [model_options(spec, device=device, dtype=dtype) for spec in model_list(models)]
    for key, value in (("device", device), ("dtype", dtype)):
        if value is not None and not any(f"{key}=" in spec for spec in specs):
            fail(f"--{key} is for language models; none of --models {models} takes it")
    if modality != "text" and out_dir is None:
        fail(f"name the folder for the {modality} results with --out-dir")
    if open_page and out_dir is None:
        fail("--open shows --out-dir/index.html; name the folder with --out-dir")
    outputs = planned_outputs(modality, out_dir, specs)
    if out_dir is not None:
        check_out_dir(out_dir, outputs.values(), force)
    if modality == "text":
        check_text_options(length, prompt, prompt_file)
    elif modality == "image":
        check_image_options(patch, at, mode, keep_rows, scale)
    else:
        check_audio_options(prompt_seconds, seconds, bits)
    predictors = {spec: load(spec) for spec in specs}  # every spec checked before long work
    if modality == "text":
        context = text_prompt(prompt, prompt_file)
    elif modality == "image":
        pixels = image_patch(input, patch, at)
    else:
        audio = audio_input(input, prompt_seconds)
    say(f"seed {sampling.seed}")

    elapsed: list[float] = []

    def each(run: Callable[[Predictor, Callable], object]) -> list:
        results = []
        for spec, predictor in predictors.items():
            start = time.perf_counter()
            with progress_callback(spec) as advance, user_errors():
                results.append(run(predictor, advance))
            elapsed.append(time.perf_counter() - start)
            say(f"{spec}: {elapsed[-1]:.1f} s")
        return results

    files: dict[str, bytes] = {}
    if modality == "image":
        images = each(lambda p, advance: continue_image(p, pixels, mode, keep_rows, sampling, advance))
        grid = image_comparison(pixels, images[0].known, [(spec, c.pixels) for spec, c in zip(specs, images)], scale)
        files["grid"] = png_bytes(grid)
        sequences, panels = [c.sequence for c in images], partial(report.image_panels, images)
    elif modality == "audio":
        sounds = each(lambda p, advance: continue_audio(p, audio.samples, prompt_seconds, seconds, bits, sampling, advance))
        signals = [("original", sounds[0].original), *[(spec, c.samples) for spec, c in zip(specs, sounds)]]
        files.update({name: wav_bytes(samples) for name, samples in signals})
        files["spectrograms"] = spectrograms(signals, sounds[0].prompt_seconds)
        sequences, panels = [c.sequence for c in sounds], partial(report.audio_panels, sounds)
    else:
        texts = each(lambda p, advance: text_continuation(p, context, length, sampling, advance))
        show_text(context, list(zip(specs, texts)), sampling)
        files["markdown"] = markdown_comparison(context, list(zip(specs, texts)), sampling).encode()
        sequences, panels = [text_sequence(context, text) for text in texts], partial(report.text_panels, context, texts)
    if out_dir is None:
        return
    runs = scored_runs(predictors, sequences, elapsed)  # only for the page: it takes a while
    files["page"] = report.compare_page(modality, panels(runs), sampling, files.get("spectrograms")).encode()
    with user_errors():
        out_dir.mkdir(parents=True, exist_ok=True)
    for key, path in outputs.items():
        with user_errors(), atomic_output(path) as sink:
            sink.write(files[key])
        say(f"wrote {path}", dim=False)
    if open_page:
        open_in_browser(outputs["page"])


def check_out_dir(out_dir: Path, outputs: Iterable[Path], force: bool) -> None:
    """Refuse, before any work, a folder that cannot be made, files that would be
    overwritten, or a folder holding other files (a user's), unless --force."""
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"{out_dir} is a file; --out-dir names a folder")
    above = next(p for p in (out_dir, *out_dir.absolute().parents) if p.exists())
    if not above.is_dir():
        fail(f"cannot make {out_dir}: {above} is a file")
    for path in outputs:
        if path.parent.exists():  # a folder still to be made holds nothing to overwrite
            check_output(path, force)
    others = sorted(p.name for p in out_dir.iterdir()) if out_dir.is_dir() else []
    if others and not force:
        shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
        fail(f"{out_dir} holds other files ({shown}); name a new or empty folder, or pass --force to write beside them")


def model_list(models: str) -> list[str]:
    """Split --models at the commas that start a new spec: in gzip,zstd:level=1,context_window=512
    the last comma belongs to zstd's options (a piece that names no model family)."""
    known = {family.name for family in families()}
    specs: list[str] = []
    for piece in filter(None, (part.strip() for part in models.split(","))):
        if specs and piece.partition(":")[0].lower() not in known:
            specs[-1] += "," + piece
        else:
            specs.append(piece)
    if not specs:
        fail("--models needs at least one predictor spec, e.g. gzip,zstd")
    repeated = {spec for spec in specs if specs.count(spec) > 1}
    if repeated:
        fail(f"--models names {', '.join(sorted(repeated))} more than once")
    return specs


def model_options(spec: str, **options: str | None) -> str:
    """``spec`` with the flags (--device, --dtype) its family takes: in a comparison of gzip
    and llm, --device is meant for llm. A flag no model in --models takes is refused."""
    family = {f.name: f for f in families()}.get(spec.partition(":")[0].strip().lower())
    if family is None:
        return spec  # loading it names the unknown model
    takes = {option.name for option in family.options}
    return with_options(spec, **{key: value for key, value in options.items() if key in takes})


def planned_outputs(modality: str, out_dir: Path | None, specs: list[str]) -> dict[str, Path]:
    """Result name -> file, known before any work so that nothing is overwritten late.
    Written in this order, each atomically."""
    if out_dir is None:
        return {}
    if modality == "image":
        files = {"grid": out_dir / "image_comparison.png"}
    elif modality == "audio":
        names = ["original", *specs]
        files = {**{name: out_dir / f"{file_stem(name)}.wav" for name in names}, "spectrograms": out_dir / "spectrograms.png"}
    else:
        files = {"markdown": out_dir / "text_comparison.md"}
    return files | {"page": out_dir / PAGE}  # the page last: written only when the rest is


def scored_runs(predictors: dict[str, Predictor], sequences: list[tuple[bytes, np.ndarray]], elapsed: list[float]) -> list[report.Run]:
    """Each model's run, its continuation scored by every compressor among the models (a
    language model would take as long as drawing it again)."""
    scorers = {spec: predictor for spec, predictor in predictors.items() if cheap_to_score(predictor)}
    runs = []
    for spec, (data, known), seconds in zip(predictors, sequences, elapsed):
        bits = {}
        for name, scorer in scorers.items():
            with progress_callback(f"{name} scores {spec}") as advance, user_errors():
                bits[name] = drawn_bits(scorer, data, known, advance)
        runs.append(report.Run(spec, seconds, int((~known).sum()), bits))
    return runs


def text_sequence(context: bytes, text: bytes) -> tuple[bytes, np.ndarray]:
    """The bytes a text continuation was drawn in, and which of them were given."""
    return context + text, np.arange(len(context) + len(text)) < len(context)


def text_continuation(predictor: Predictor, context: bytes, length: int, sampling: Sampling, advance: Callable[[int, int], None]) -> bytes:
    drawn = bytearray()
    for byte in draw_continuation(predictor, context, length, seed=sampling.seed, **sampling.knobs()):
        drawn.append(byte)
        advance(len(drawn), length)
    return bytes(drawn)


def show_text(context: bytes, results: list[tuple[str, bytes]], sampling: Sampling) -> None:
    """The end of the prompt, then one panel per model, side by side, on stdout."""
    console = Console(highlight=False)
    console.print(Panel(Text(ending(printable(context)), style="dim"), title=f"prompt ({len(context):,} bytes)", title_align="left"))
    table = Table.grid(expand=True, padding=(0, 1))
    for _ in results:
        table.add_column(ratio=1)
    table.add_row(*(Panel(Text(printable(text), overflow="fold"), title=spec, title_align="left") for spec, text in results))
    console.print(table)
    console.print(f"seed {sampling.seed} · temperature {sampling.temperature:g} · top-k {sampling.top_k} · top-p {sampling.top_p:g}")
