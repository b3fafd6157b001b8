"""Compression rates in the paper's protocol (its Table 1), on bundled or the user's data.

Every row is measured on chunks of 2048 bytes per modality:
- classical compressors applied directly (gzip, LZMA2, zstd, bzip2, PNG, FLAC), once to all
  chunks together (unchunked) and once to each chunk, the container's fixed cost counted
  once (chunked: Σ size(chunk) − (n − 1) · header); where they see more chunks than the
  predictors (every one, cheaply), chunked again on the predictors' own;
- predictors through arithmetic coding, each chunk on its own (:func:`code_chunk`);
  for a language model on images and audio both the full bytes and the paper's 7-bit
  mapping (each byte shifted right by one, rate scaled by 8/7), labelled.
Rate = compressed bytes / raw bytes, with a 95% interval over chunks (:func:`rate_margin`)
where there are several. The adjusted rate adds the model's size at 2 bytes a parameter
(0 for compressors).

Chunks are read when they are coded (:mod:`gencomp.eval_data`), so memory follows the
workers, not the data. Each predictor chunk's result can be appended to a results file as
it finishes, and a run resumed from it (:mod:`gencomp.results_log`). Nothing here
prints; the CLI shows the results.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import math
import time
from dataclasses import asdict, dataclass
from typing import Callable, Container, Iterable, Iterator, Mapping, Sequence

import numpy as np
import zstandard

from gencomp import coding, modalities
from gencomp.eval_data import DataSet
from gencomp.predictor import Predictor
from gencomp.progress import Advance, Track, untracked
from gencomp.spec import parse_spec
from gencomp.workers import Pool, in_processes
from gencomp.results_log import ChunkResult, ResultsLog

IMAGE_WIDTH = modalities.PATCH_SHAPE[1]  # PNG sees any bytes as rows of this many pixels
CONFIDENCE = 0.95  # of the rate intervals

# The paper's figures (raw rate %), for comparison only, by source: its Table 1 (chunks
# of 2048 bytes; these values could not be traced to a version of the paper here) and its
# abstract's headline (every version: Chinchilla 70B against PNG and FLAC).
PAPER = {
    "data": {"text": "enwik9", "image": "ImageNet", "audio": "LibriSpeech", "random": "random"},
    "chunked": {
        "gzip": {"text": 48.1, "image": 68.6, "audio": 38.5, "random": 100.1},
        "lzma": {"text": 50.0, "image": 62.4, "audio": 38.2, "random": 100.0},
        "png": {"text": 80.6, "image": 61.7, "audio": 37.6, "random": 103.2},
        "flac": {"text": 88.9, "image": 60.9, "audio": 30.3, "random": 107.2},
        "Llama 2 7B": {"text": 8.9, "image": 53.4, "audio": 23.1, "random": 103.2},
        "Chinchilla 70B": {"text": 8.3, "image": 48.0, "audio": 21.0, "random": 100.8},
    },
    "unchunked": {
        "gzip": {"text": 32.3, "image": 70.7, "audio": 36.4},
        "lzma": {"text": 23.0, "image": 57.9, "audio": 29.9},
        "png": {"text": 42.9, "image": 58.5, "audio": 32.2},
        "flac": {"text": 89.5, "image": 61.9, "audio": 30.9},
    },
    "abstract": {
        "Chinchilla 70B": {"image": 43.4, "audio": 16.4},
        "png": {"image": 58.5},
        "flac": {"audio": 30.3},
    },
}


# ------------------------------------------------------------------ classical codecs


def _png(data: bytes) -> bytes:
    """Any bytes as a grayscale image IMAGE_WIDTH pixels wide (a short last row is padded
    with zeros), written by Pillow at its strongest setting."""
    from PIL import Image

    width = min(IMAGE_WIDTH, max(len(data), 1))
    rows = -(-max(len(data), 1) // width)
    pixels = np.zeros(rows * width, dtype=np.uint8)
    pixels[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels.reshape(rows, width), mode="L").save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _flac(data: bytes) -> bytes:
    """Any bytes as unsigned 8-bit mono samples at 16 kHz, written by libsndfile."""
    import soundfile

    samples = modalities.bytes_to_audio(data, bits=8)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, modalities.SAMPLE_RATE, format="FLAC", subtype="PCM_S8")
    return buffer.getvalue()


CODECS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip -9 (Python's gzip)", lambda data: gzip.compress(data, compresslevel=9, mtime=0)),
    "lzma": ("LZMA2 in .xz, preset 6 (Python's lzma)", lambda data: lzma.compress(data, preset=6)),
    "zstd": ("Zstandard level 19", lambda data: zstandard.ZstdCompressor(level=19).compress(data)),
    "bz2": ("bzip2 -9 (Python's bz2)", lambda data: bz2.compress(data, 9)),
    "png": ("PNG via Pillow (bytes as 64-pixel rows)", _png),
    "flac": ("FLAC via soundfile (bytes as 8-bit samples)", _flac),
}


def header_bytes(codec: str) -> int:
    """A codec's fixed cost: the size of one byte compressed, less that byte."""
    return len(CODECS[codec][1](b"\0")) - 1


def classical_sizes(codec: str, chunks: Sequence[bytes]) -> tuple[int, list[int]]:
    """(size of the chunks compressed together, size of each chunk compressed on its own)."""
    compress = CODECS[codec][1]
    return len(compress(b"".join(chunks))), [len(compress(chunk)) for chunk in chunks]


# ------------------------------------------------------------------------ intervals


def rate_margin(raw: Sequence[int], compressed: Sequence[float], confidence: float = CONFIDENCE) -> float | None:
    """Half-width of a ``confidence`` interval for the pooled rate R = Σcompressed / Σraw
    (as a fraction of the raw size), the n chunks taken as a sample of the data's chunks.

    R is a ratio estimator, so its standard error comes from the residuals
    dᵢ = compressedᵢ − R · rawᵢ: se = sqrt(Σdᵢ² / (n − 1) / n) / mean(raw) (Cochran,
    *Sampling Techniques*, §6.3), and the half-width is Student's t with n − 1 degrees of
    freedom times se. A t interval, not a bootstrap: it needs no seed, and it stays honest
    (wide) at the few chunks a language-model row has, where a bootstrap is too narrow.
    With chunks of equal size it is the usual t interval of the per-chunk rates' mean.
    None for fewer than two chunks: one chunk shows no spread."""
    n = len(raw)
    if n < 2:
        return None
    from scipy.stats import t

    raw_, compressed_ = np.asarray(raw, dtype=np.float64), np.asarray(compressed, dtype=np.float64)
    residuals = compressed_ - compressed_.sum() / raw_.sum() * raw_
    error = math.sqrt(residuals @ residuals / (n - 1) / n) / raw_.mean()
    return float(t.ppf((1 + confidence) / 2, n - 1) * error)


# ------------------------------------------------------------------------- results


@dataclass
class Result:
    """One cell of the table: a method on one modality."""

    row: str  # e.g. "gzip", "gzip (chunked)", "predictor gzip:level=9,…"
    method: str  # what was run
    mapping: str  # "8-bit" or "7-bit" (the paper's LLM input; rate scaled by 8/7)
    modality: str
    raw_bytes: int
    compressed_bytes: int
    chunks: int
    parameters: int = 0  # of the model behind a predictor
    ideal_bits: float | None = None  # Σ -log2 p for predictors
    seconds: float = 0.0  # for predictors: each chunk's coding time, summed
    margin: float | None = None  # of the rate's interval, a fraction of raw size; None: no interval

    @property
    def scale(self) -> float:
        return 8 / 7 if self.mapping == "7-bit" else 1.0

    @property
    def rate(self) -> float:
        """Compressed / raw size, in percent."""
        return 100 * self.scale * self.compressed_bytes / self.raw_bytes if self.raw_bytes else float("nan")

    @property
    def rate_low(self) -> float | None:
        """The lower end of the rate's 95% interval over chunks (see :func:`rate_margin`)."""
        return None if self.margin is None else self.rate - 100 * self.scale * self.margin

    @property
    def rate_high(self) -> float | None:
        return None if self.margin is None else self.rate + 100 * self.scale * self.margin

    @property
    def adjusted_rate(self) -> float:
        """The rate with the model counted in: 2 bytes per parameter."""
        if not self.raw_bytes:
            return float("nan")
        return 100 * self.scale * (self.compressed_bytes + 2 * self.parameters) / self.raw_bytes

    def as_dict(self) -> dict:
        values = {k: v for k, v in asdict(self).items() if k != "margin"}
        return values | {"rate": self.rate, "rate_low": self.rate_low, "rate_high": self.rate_high, "adjusted_rate": self.adjusted_rate}


CODED_CHUNKS = " [coded chunks]"  # ends the names of classical rows on the predictors' chunks


def evaluate_classical(data: list[DataSet], codecs: Iterable[str] = CODECS, alongside: Iterable[DataSet] = ()) -> list[Result]:
    """Every codec, unchunked and chunked, on every modality (each read once); then each
    chunked on ``alongside``, a selection of ``data``'s chunks (the predictors'), from the
    sizes already measured (rows ``… (chunked) [coded chunks]``, side by side with the
    predictors' on the same bytes)."""
    results = []
    measured: dict[tuple[str, str], tuple[dict[int, int], float]] = {}  # (modality, codec) -> size by chunk number, seconds
    for modality in data:
        chunks = list(modality.chunks)
        for codec in codecs:
            start = time.perf_counter()
            unchunked, sizes = classical_sizes(codec, chunks)
            seconds = time.perf_counter() - start
            measured[modality.name, codec] = dict(zip(modality.chunks.numbers.tolist(), sizes)), seconds
            results.append(Result(codec, CODECS[codec][0], "8-bit", modality.name, modality.size, unchunked, len(chunks), seconds=seconds))
            results.append(_chunked_result(codec, modality, sizes, seconds))
    for modality in alongside:
        for (name, codec), (by_number, seconds) in measured.items():
            if name == modality.name:
                numbers = modality.chunks.numbers.tolist()
                share = seconds * len(numbers) / len(by_number)  # of the pass over every chunk
                results.append(_chunked_result(codec, modality, [by_number[n] for n in numbers], share, CODED_CHUNKS))
    return results


def _chunked_result(codec: str, modality: DataSet, sizes: list[int], seconds: float, suffix: str = "") -> Result:
    """A codec's chunked row: each chunk compressed on its own, the header counted once."""
    header, n = header_bytes(codec), len(sizes)
    return Result(f"{codec} (chunked){suffix}", f"{CODECS[codec][0]}, each chunk, header once ({header} B)", "8-bit", modality.name,
                  modality.size, sum(sizes) - (n - 1) * header, n, seconds=seconds,
                  margin=rate_margin(modality.chunks.lengths, [size - header for size in sizes]))  # the header's one copy is no spread


def is_language_model(predictor: Predictor) -> bool:
    return parse_spec(predictor.spec)[0].name == "llm"


def parameter_count(predictor: Predictor) -> int:
    """Parameters of the model behind a predictor; 0 for compressors; a mixture's, its
    components' together."""
    components = getattr(predictor, "components", None)
    if components:
        return sum(parameter_count(component) for component in components)
    model = getattr(predictor, "model", None)
    return int(model.num_parameters()) if hasattr(model, "num_parameters") else 0


def mappings(predictor: Predictor, modality: str) -> list[str]:
    """Full bytes always; for a language model on images and audio also the paper's 7 bits."""
    return ["8-bit", "7-bit"] if is_language_model(predictor) and modality in ("image", "audio") else ["8-bit"]

def code_chunk(predictor: Predictor, chunk: bytes, advance: Advance | None = None) -> coding.CodedChunk:
    """Arithmetic-code one chunk for its rate. Every predictor chunk of the table is coded
    here, in this process and in the workers, so a faster scorer for a kind of predictor
    has one place to go: a language model scores the known bytes in batched passes where
    its beam stays narrow (the same code as step by step, faster)."""
    if is_language_model(predictor):
        from gencomp.llm import scoring as llm_scoring  # imports torch

        return llm_scoring.encode_chunk(predictor, chunk, advance)  # type: ignore[arg-type]
    return coding.encode_chunk(predictor, chunk, advance)


def _timed_chunk(predictor: Predictor, chunk: bytes, advance: Advance | None = None) -> tuple[coding.CodedChunk, float]:
    """:func:`code_chunk` and its seconds, timed where it runs (in a worker: its own clock)."""
    start = time.perf_counter()
    return code_chunk(predictor, chunk, advance), time.perf_counter() - start


Row = tuple[DataSet, str]  # a modality and its mapping: one row's cell of the table


def code_chunks(
    predictor: Predictor,
    plan: Sequence[Row],
    workers: int = 1,
    skip: Mapping[tuple[str, str], Container[int]] | None = None,
    label: str | None = None,
    advance: Advance | None = None,
    pool: Pool | None = None,
) -> Iterator[ChunkResult]:
    """Each chunk of each row in ``plan`` whose number is not in ``skip[modality name,
    mapping]``, coded on its own, yielded as it finishes (in any order with several
    workers); chunks are read as workers free up. One pool codes the whole plan: a worker
    loads the model once (a language model's workers take 8-17 s to start) and no row waits
    for the slowest chunk of the row before it (bench/evaluate_pools.py). ``pool`` (e.g.
    :func:`gencomp.ray_pool.in_ray`) replaces the local processes."""
    todo = [
        (modality, mapping, int(n), int(size))
        for modality, mapping in plan
        for n, size in zip(modality.chunks.numbers, modality.chunks.lengths)
        if int(n) not in (skip or {}).get((modality.name, mapping), ())
    ]

    def data(modality: DataSet, mapping: str, number: int) -> bytes:
        chunk = modality.chunks.read(number)
        return modalities.to_7bit(chunk) if mapping == "7-bit" else chunk

    def result(modality: DataSet, mapping: str, number: int, size: int, coded: coding.CodedChunk, seconds: float) -> ChunkResult:
        return ChunkResult(label or predictor.spec, predictor.spec, mapping, modality.name, number, size, len(coded.data), coded.ideal_bits, seconds)

    if not todo or (pool is None and (workers <= 1 or len(todo) <= 1)):
        for modality, mapping, number, size in todo:
            yield result(modality, mapping, number, size, *_timed_chunk(predictor, data(modality, mapping, number), advance))
        return
    arguments = ((data(modality, mapping, number),) for modality, mapping, number, _ in todo)
    mapped = (pool or in_processes)(predictor, _timed_chunk, arguments, min(workers, len(todo)))
    with contextlib.closing(mapped) as finished:
        for i, (coded, seconds) in finished:
            if advance:
                advance(todo[i][3])
            yield result(*todo[i], coded, seconds)


def evaluate_rows(
    predictor: Predictor,
    plan: Sequence[Row],
    workers: int = 1,
    advance: Advance | None = None,
    label: str | None = None,
    log: ResultsLog | None = None,
    pool: Pool | None = None,
) -> list[Result]:
    """Arithmetic-code each chunk of each row on its own; a row's rate counts its codes'
    bytes. Rows are called ``label`` (default: the predictor's full spec). Chunks ``log``
    already holds are not coded again; the others are appended to it as they finish.
    ``pool`` replaces the local worker processes (see :func:`code_chunks`)."""
    done = {(m.name, mapping): _logged(log, predictor, m, mapping) for m, mapping in plan}
    chunks = {key: list(finished.values()) for key, finished in done.items()}
    # closing: a Ctrl-C while a line is written ends the workers now, not when collected
    with contextlib.closing(code_chunks(predictor, plan, workers, done, label, advance, pool)) as coded:
        for chunk in coded:
            if log:
                log.append(chunk)
            chunks[chunk.modality, chunk.mapping].append(chunk)
    return [_row_result(predictor, label, m, mapping, chunks[m.name, mapping]) for m, mapping in plan]


def evaluate_predictor(predictor: Predictor, modality: DataSet, mapping: str = "8-bit", workers: int = 1, advance: Advance | None = None,
                       label: str | None = None, log: ResultsLog | None = None, pool: Pool | None = None) -> Result:
    """One row of :func:`evaluate_rows`."""
    return evaluate_rows(predictor, [(modality, mapping)], workers, advance, label, log, pool)[0]


def _logged(log: ResultsLog | None, predictor: Predictor, modality: DataSet, mapping: str) -> dict[int, ChunkResult]:
    """The row's chunks ``log`` holds, of those selected."""
    wanted = set(modality.chunks.numbers.tolist())
    return {n: r for n, r in (log.finished(predictor.spec, mapping, modality.name) if log else {}).items() if n in wanted}


def _row_result(predictor: Predictor, label: str | None, modality: DataSet, mapping: str, chunks: list[ChunkResult]) -> Result:
    chunks = sorted(chunks, key=lambda c: c.chunk)  # sums in one order, however the workers finished
    raw, compressed = [c.raw_bytes for c in chunks], [c.compressed_bytes for c in chunks]
    return Result(
        row=label or predictor.spec,
        method=f"arithmetic coding with {predictor.spec}, each chunk on its own",
        mapping=mapping,
        modality=modality.name,
        raw_bytes=sum(raw),
        compressed_bytes=sum(compressed),
        chunks=len(chunks),
        parameters=parameter_count(predictor),
        ideal_bits=sum(c.ideal_bits for c in chunks),
        seconds=sum(c.seconds for c in chunks),
        margin=rate_margin(raw, compressed),
    )


def evaluate_predictors(
    predictors: dict[str, Predictor],
    data: list[DataSet],
    workers: Callable[[Predictor], int] = lambda predictor: 1,
    track: Track = untracked,
    log: ResultsLog | None = None,
    pool: Pool | None = None,
) -> list[Result]:
    """Every predictor's rows (each modality, each of its mappings; see
    :func:`evaluate_rows`), the rows called by the keys of ``predictors``. Each
    predictor is one tracked piece of work, counted in raw bytes, the chunks ``log``
    already holds counted done; ``workers`` gives the processes (or Ray slots) for each."""
    rows = []
    for spec, predictor in predictors.items():
        plan = [(modality, mapping) for modality in data for mapping in mappings(predictor, modality.name)]
        done = sum(r.raw_bytes for m, mapping in plan for r in _logged(log, predictor, m, mapping).values())
        with track(predictor.spec, sum(m.size for m, _ in plan), done) as advance:
            rows += evaluate_rows(predictor, plan, workers(predictor), advance, f"{spec} → coder", log, pool)
    return rows
