"""The options `gencomp sample` and `gencomp compare` share: their typer types, the checks
that refuse a bad combination before anything is loaded, and the flags mapped onto specs."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer
from rich.text import Text

from gencomp import datasets
from gencomp.continuation import Sampling
from gencomp.errors import SpecError
from gencomp.modalities import AUDIO_BITS, BUNDLED_AUDIO, PATCH_SHAPE
from gencomp.predictor import Predictor
from gencomp.spec import load_predictor, parse_spec, split_specs, with_options
from gencomp_cli.common import fail, stderr, user_errors

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
TemperatureOption = Annotated[float, typer.Option(help="Scale log-probabilities by 1/T; 0 is greedy. The knobs act on a language model's tokens (as in generate()), on a compressor's bytes.", rich_help_panel=SAMPLING)]
TopKOption = Annotated[int, typer.Option("--top-k", help="Keep the k most likely bytes or tokens (0 keeps all).", rich_help_panel=SAMPLING)]
TopPOption = Annotated[float, typer.Option("--top-p", help="Keep the smallest set of bytes or tokens with this much mass.", rich_help_panel=SAMPLING)]
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


def with_flags(spec: str, **flags: str | None) -> str:
    """``spec`` with the options given as flags (--device, --dtype); one the spec already
    names is refused, naming the flag."""
    if all(value is None for value in flags.values()):
        return spec
    with user_errors():
        named = parse_spec(spec)[1]
        for key, value in flags.items():
            if value is not None and key in named:
                fail(f"--{key} is given twice: as --{key} {value} and inside the spec {spec}; give it once")
        return with_options(spec, **flags)


def spec_list(text: str, flag: str) -> list[str]:
    """The specs of a comma-separated flag such as --models, its problems named by the flag."""
    try:
        return split_specs(text)
    except SpecError as error:
        repeated = re.fullmatch(r"(.*) named more than once", str(error))
        fail(f"{flag} names {repeated[1]} more than once" if repeated else f"{flag} needs at least one predictor spec, e.g. gzip,zstd")


def load(spec: str) -> Predictor:
    """Build a predictor, telling the user when that takes a while (language models)."""
    with user_errors(), stderr.status(Text(f"loading {spec}…"), spinner="dots"):
        return load_predictor(spec)


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


def check_modality_options(modality: str, length: int, prompt: str | None, prompt_file: Path | None, patch: str, at: str | None,
                           mode: str, keep_rows: int | None, scale: int, prompt_seconds: float, seconds: float, bits: int) -> None:
    """The checks of ``modality``'s options."""
    if modality == "text":
        check_text_options(length, prompt, prompt_file)
    elif modality == "image":
        check_image_options(patch, at, mode, keep_rows, scale)
    else:
        check_audio_options(prompt_seconds, seconds, bits)


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


def parse_pair(text: str, separator: str, flag: str, form: str) -> tuple[int, int]:
    first, sep, second = text.partition(separator)
    try:
        if not sep:
            raise ValueError(text)
        return int(first), int(second)
    except ValueError:
        fail(f"{flag} takes {form}, not {text!r}")


