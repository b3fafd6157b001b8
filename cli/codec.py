"""`gencomp compress` / `gencomp decompress`: lossless files through any predictor."""

from __future__ import annotations

import contextlib
import sys
import time
from functools import partial
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer
from rich.text import Text

from gencomp import container
from gencomp.workers import available_cores
from gencomp.coding import CHUNK_SIZE
from gencomp_cli.common import RayAddress, atomic_output, check_output, cluster, fail, progress, read_input, say, stderr, to_terminal, user_errors, worker_count
from gencomp_cli.options import load

Input = Annotated[Path, typer.Argument(help="File to read, '-' for stdin.", show_default=False)]
Output = Annotated[Path, typer.Argument(help="File to write, '-' for stdout.", show_default=False)]
Force = Annotated[bool, typer.Option(help="Overwrite OUTPUT if it exists.")]
Workers = Annotated[
    Optional[int],
    typer.Option(help="Code chunks in this many processes (each loads the model); default: all cores (with --ray: the cluster's).", show_default=False),
]
ALL_CORES = available_cores()


def compress(
    input: Input,
    output: Output,
    model: Annotated[str, typer.Option("--model", "-m", help="Predictor spec, e.g. gzip, zstd:level=19, llm (see `gencomp models`).")] = "gzip",
    chunk_size: Annotated[int, typer.Option(help="Code independent chunks of this many bytes (the paper's 2048), so they can be coded in parallel.")] = CHUNK_SIZE,
    stream: Annotated[bool, typer.Option("--stream", help="Code one long stream instead, each byte predicted from the model's context window before it.")] = False,
    workers: Workers = None,
    ray: RayAddress = None,
    force: Force = False,
) -> None:
    """Compress a file losslessly by arithmetic coding with a predictor's next-byte probabilities.

    The output (.gcz) names the model and its version or weights hash, so `gencomp decompress` needs no --model and refuses a model that would decode differently.
    """
    if chunk_size < 1:
        fail(f"--chunk-size must be at least 1, got {chunk_size} (use --stream for one stream)")
    if workers is not None and workers < 1:
        fail(f"--workers must be at least 1, got {workers}")
    if to_terminal(output):
        fail("compressed data would go to the terminal; redirect stdout or name an output file")
    check_output(output, force)
    data = read_input(input)
    predictor = load(model)
    start = time.perf_counter()
    with cluster(ray) as pool, user_errors(), progress() as bar:
        advance = partial(bar.advance, bar.add_task(f"compressing with {predictor.spec}", total=len(data)))
        count = worker_count(workers, pool, predictor, ALL_CORES)
        result = container.compress(predictor, data, 0 if stream else chunk_size, count, advance, pool)
        with atomic_output(output) as sink:
            sink.write(result.data)
    seconds = time.perf_counter() - start
    ideal = result.ideal_bits / 8
    over = f"{100 * (result.payload_size / ideal - 1):+.2f}%" if ideal else "n/a"
    rate = f"{100 * len(result.data) / len(data):.1f}%" if data else "n/a"
    say(
        f"{len(data):,} -> {len(result.data):,} bytes ({rate}); code {result.payload_size:,} bytes, "
        f"ideal {ideal:,.1f} ({over}), header {len(result.data) - result.payload_size:,}; "
        f"{result.chunks} chunk(s) in {seconds:.1f} s"
    )


def decompress(
    input: Input,
    output: Output,
    workers: Workers = None,
    ray: RayAddress = None,
    force: Force = False,
) -> None:
    """Decompress a .gcz file; the model comes from its header."""
    if workers is not None and workers < 1:
        fail(f"--workers must be at least 1, got {workers}")
    if str(input) == "-" and sys.stdin.isatty():
        fail("compressed data would come from the terminal; pipe a .gcz file in or name it")
    check_output(output, force)
    blob = read_input(input)
    with _naming(input):
        header, payload = container.unpack(blob)
        with stderr.status(Text(f"loading {header.spec}…"), spinner="dots"):
            predictor = container.predictor_for(header)
    start = time.perf_counter()
    with cluster(ray) as pool, _naming(input), progress() as bar:
        advance = partial(bar.advance, bar.add_task(f"decompressing with {header.spec}", total=header.length))
        count = worker_count(workers, pool, predictor, ALL_CORES)
        with atomic_output(output) as sink:  # written chunk by chunk; removed if anything fails
            container.decode(header, payload, predictor, sink, count, advance, pool)
    say(f"{len(blob):,} -> {header.length:,} bytes with {header.spec} in {time.perf_counter() - start:.1f} s")


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """One-line errors, naming the file when the fault is the file's."""
    with user_errors():
        try:
            yield
        except container.ContainerError as error:
            fail(f"{'stdin' if str(path) == '-' else path}: {error}")
