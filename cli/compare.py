"""`gencomp compare`: the same continuation from several predictors, side by side.

Every model gets the same input and the same seed; a seed is chosen (and shown) when none
is given, so that any comparison can be rerun.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Iterable, Optional

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from gencomp import comparison
from gencomp.errors import SpecError
from gencomp.render import ending, printable
from gencomp.spec import parse_spec
from gencomp_cli.common import atomic_output, bar, check_output, fail, open_in_browser, say, timed, user_errors
from gencomp_cli.inputs import read_prompt
from gencomp_cli import options as opt


def compare(
    ctx: typer.Context,
    models: Annotated[str, typer.Option("--models", "-m", help="Comma-separated predictor specs (see `gencomp models`).")] = "gzip,zstd,lzma,llm",
    modality: opt.ModalityOption = "image",
    out_dir: Annotated[Optional[Path], typer.Option("--out-dir", "-o", help="Folder for the results (created if missing; required for image and audio; one holding other files is refused without --force). Also index.html, one page with everything, where each continuation is scored by every compressor in --models: about the time of drawing it again, per compressor.")] = None,
    open_page: Annotated[bool, typer.Option("--open", help="Open --out-dir/index.html in your web browser, where there is one.")] = False,
    prompt: opt.PromptOption = None,
    prompt_file: opt.PromptFileOption = None,
    length: opt.LengthOption = 200,
    input: opt.InputOption = None,
    patch: opt.PatchOption = opt.DEFAULT_PATCH,
    at: opt.AtOption = None,
    mode: opt.ModeOption = "rows",
    keep_rows: opt.KeepRowsOption = None,
    scale: opt.ScaleOption = 4,
    prompt_seconds: opt.PromptSecondsOption = 0.5,
    seconds: opt.SecondsOption = 0.25,
    bits: opt.BitsOption = 8,
    temperature: opt.TemperatureOption = 1.0,
    top_k: opt.TopKOption = 0,
    top_p: opt.TopPOption = 1.0,
    seed: Annotated[Optional[int], typer.Option(help="Random seed given to every model (default: a random one, shown).", rich_help_panel="Sampling")] = None,
    force: opt.ForceOption = False,
    device: opt.DeviceOption = None,
    dtype: opt.DtypeOption = None,
) -> None:
    """Continue the same input with several predictors and show the results side by side.

    Every model's result also goes in --out-dir/index.html, a self-contained page with the settings, each model's time and bytes/s, and each continuation's bits/byte under every compressor in --models.

    image: one grid PNG (original, the context with the hidden part masked, one panel per model) in --out-dir/image_comparison.png. audio: one 16-bit WAV per model and for the original, and spectrograms.png with the prompt's end marked. text: rich panels side by side on stdout, and text_comparison.md when --out-dir is given.

    Bundled inputs and the options are those of `gencomp sample`.
    """
    opt.check_relevant(ctx, modality)
    sampling = opt.sampling_options(temperature, top_k, top_p, secrets.randbelow(2**31) if seed is None else seed)
    specs = model_specs(models, device, dtype)
    outputs = planned_outputs(modality, out_dir, specs, open_page, force)
    opt.check_modality_options(modality, length, prompt, prompt_file, patch, at, mode, keep_rows, scale, prompt_seconds, seconds, bits)
    predictors = {spec: opt.load(spec) for spec in specs}  # every spec checked before long work
    source = read_prompt(modality, prompt, prompt_file, length, input, patch, at, mode, keep_rows, prompt_seconds, seconds, bits)
    say(f"seed {sampling.seed}")
    with user_errors():
        drawn = comparison.draw(predictors, source, sampling, timed(bar, "{name}: {seconds:.1f} s"))
    if modality == "text":
        show_text(drawn)
    if out_dir is None:
        return
    with user_errors():
        files = comparison.outputs(drawn, predictors, scale, bar)
        out_dir.mkdir(parents=True, exist_ok=True)
    for key, path in outputs.items():
        with user_errors(), atomic_output(path) as sink:
            sink.write(files[key])
        say(f"wrote {path}", dim=False)
    if open_page:
        open_in_browser(outputs["page"])


def planned_outputs(modality: str, out_dir: Path | None, specs: list[str], open_page: bool, force: bool) -> dict[str, Path]:
    """Result name -> file, each written atomically in this order; refused before any work
    when there is no folder to write them to, or it is not fit for them."""
    if modality != "text" and out_dir is None:
        fail(f"name the folder for the {modality} results with --out-dir")
    if open_page and out_dir is None:
        fail("--open shows --out-dir/index.html; name the folder with --out-dir")
    if out_dir is None:
        return {}
    outputs = {key: out_dir / name for key, name in comparison.file_names(modality, specs).items()}
    check_out_dir(out_dir, outputs.values(), force)
    return outputs


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


def model_specs(models: str, device: str | None, dtype: str | None) -> list[str]:
    """The specs of --models, each with the flags its family takes; a flag none takes is refused."""
    specs = [model_options(spec, device=device, dtype=dtype) for spec in opt.spec_list(models, "--models")]
    for key, value in (("device", device), ("dtype", dtype)):
        if value is not None and not any(f"{key}=" in spec for spec in specs):
            fail(f"--{key} is for language models; none of --models {models} takes it")
    return specs


def model_options(spec: str, **options: str | None) -> str:
    """``spec`` with the flags (--device, --dtype) its family takes: in a comparison of gzip
    and llm, --device is meant for llm."""
    try:
        family = parse_spec(spec)[0]
    except SpecError:
        return spec  # loading it names what is wrong
    takes = {option.name for option in family.options}
    return opt.with_flags(spec, **{key: value for key, value in options.items() if key in takes})


def show_text(drawn: comparison.Drawn) -> None:
    """The end of the prompt, then one panel per model, side by side, on stdout."""
    context, sampling = drawn.continuations[0].context, drawn.sampling
    console = Console(highlight=False)
    console.print(Panel(Text(ending(printable(context)), style="dim"), title=f"prompt ({len(context):,} bytes)", title_align="left"))
    table = Table.grid(expand=True, padding=(0, 1))
    for _ in drawn.specs:
        table.add_column(ratio=1)
    table.add_row(*(Panel(Text(printable(c.text), overflow="fold"), title=spec, title_align="left") for spec, c in zip(drawn.specs, drawn.continuations)))
    console.print(table)
    console.print(f"seed {sampling.seed} · temperature {sampling.temperature:g} · top-k {sampling.top_k} · top-p {sampling.top_p:g}")
