"""Chunks coded with any Predictor: the paper's "prediction is compression".

Data is cut into chunks (the paper's 2048 bytes), each coded on its own by the arithmetic
coder of :mod:`gencomp.arithmetic`, in worker processes or on a Ray cluster when there are
many. Encoder and decoder walk the same compute path: for a chunk ``c`` both call
``predictor.logprobs(c[:i])`` (cropped to the predictor's context window) for
i = 0 .. len(c) - 1 in order, and quantise the result with the same integer code.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from gencomp.arithmetic import Decoder, Encoder, quantize
from gencomp.predictor import Predictor
from gencomp.progress import Advance
from gencomp.workers import Pool, in_processes

CHUNK_SIZE = 2048  # bytes: the paper's chunk, coded independently of the others

@dataclass(frozen=True)
class CodedChunk:
    """One chunk's code and the ideal code length Σ -log2 p(byte) under the predictor."""

    data: bytes
    ideal_bits: float


def context(data: bytes | bytearray, i: int, window: int) -> bytes:
    """What the predictor sees before byte i: the last ``window`` bytes (all if 0). The
    same as ``crop(data[:i], window)`` without copying the whole prefix, which would make
    a long stream (chunk size 0) quadratic."""
    return bytes(data[max(0, i - window) if window else 0 : i])


def encode_chunk(predictor: Predictor, chunk: bytes, advance: Advance | None = None) -> CodedChunk:
    """Code a chunk on its own: the context starts empty and slides over the window."""
    encoder = Encoder()
    nats = 0.0
    for i, byte in enumerate(chunk):
        logprobs = predictor.logprobs(context(chunk, i, predictor.context_window))
        encoder.encode(quantize(logprobs), byte)
        nats -= float(logprobs[byte])
        if advance:
            advance(1)
    return CodedChunk(encoder.finish(), nats / math.log(2))


def decode_chunk(
    predictor: Predictor,
    code: bytes,
    length: int,
    advance: Advance | None = None,
    zeros_dropped: bool = False,
) -> bytes:
    """Inverse of :func:`encode_chunk`: ``length`` bytes from ``code``, same calls in order."""
    decoder = Decoder(code, zeros_dropped)
    out = bytearray()
    for i in range(length):
        logprobs = predictor.logprobs(context(out, i, predictor.context_window))
        out.append(decoder.decode(quantize(logprobs)))
        if advance:
            advance(1)
    return bytes(out)


def chunk_lengths(length: int, chunk_size: int = CHUNK_SIZE) -> list[int]:
    """Lengths of the chunks ``length`` bytes split into; chunk_size 0 is one stream."""
    if chunk_size < 0:
        raise ValueError(f"chunk size must be >= 0 (0: one stream), got {chunk_size}")
    size = chunk_size or max(length, 1)
    return [min(size, length - start) for start in range(0, length, size)]


def split_into(data: bytes, sizes: Sequence[int]) -> list[bytes]:
    """``data`` cut into consecutive pieces of ``sizes`` bytes (chunks, or their codes)."""
    pieces, start = [], 0
    for size in sizes:
        pieces.append(data[start : start + size])
        start += size
    return pieces


def chunks(data: bytes, chunk_size: int = CHUNK_SIZE) -> list[bytes]:
    """``data`` in consecutive chunks of ``chunk_size`` bytes (the last may be shorter;
    0: one chunk), as they are coded."""
    return split_into(data, chunk_lengths(len(data), chunk_size))


def encode(
    predictor: Predictor,
    data: bytes,
    chunk_size: int = CHUNK_SIZE,
    workers: int = 1,
    advance: Advance | None = None,
    pool: Pool | None = None,
) -> list[CodedChunk]:
    """Code ``data`` in independent chunks of ``chunk_size`` bytes (0: one stream whose
    context slides over the predictor's window), in ``workers`` processes (or ``pool``'s
    workers)."""
    return encode_chunks(predictor, chunks(data, chunk_size), workers, advance, pool)


def encode_chunks(
    predictor: Predictor,
    chunks: Sequence[bytes],
    workers: int = 1,
    advance: Advance | None = None,
    pool: Pool | None = None,
) -> list[CodedChunk]:
    """Code each chunk on its own (see :func:`encode_chunk`), in ``workers`` processes
    (or ``pool``'s workers)."""
    if _here(workers, len(chunks), pool):
        return [encode_chunk(predictor, chunk, advance) for chunk in chunks]
    tasks = ((chunk,) for chunk in chunks)
    return list(_in_order(predictor, workers, _encode_task, tasks, [len(c) for c in chunks], advance, pool))


def decode(
    predictor: Predictor,
    codes: Sequence[bytes],
    lengths: Sequence[int],
    workers: int = 1,
    advance: Advance | None = None,
    pool: Pool | None = None,
) -> bytes:
    """Inverse of :func:`encode`: the chunks' codes and original lengths -> the data."""
    return b"".join(decode_chunks(predictor, codes, lengths, workers, advance, pool))


def decode_chunks(
    predictor: Predictor,
    codes: Sequence[bytes],
    lengths: Sequence[int],
    workers: int = 1,
    advance: Advance | None = None,
    pool: Pool | None = None,
    zeros_dropped: bool = False,
) -> Iterator[bytes]:
    """The decoded chunks in order, each as soon as it and those before it are done, so a
    caller can write them out while holding a few chunks at most (about 2 per worker), in
    ``workers`` processes (or ``pool``'s workers)."""
    if len(codes) != len(lengths):
        raise ValueError(f"{len(codes)} codes for {len(lengths)} chunks")
    if _here(workers, len(codes), pool):
        for code, length in zip(codes, lengths):
            yield decode_chunk(predictor, code, length, advance, zeros_dropped)
        return
    tasks = ((code, length, None, zeros_dropped) for code, length in zip(codes, lengths))
    yield from _in_order(predictor, workers, _decode_task, tasks, lengths, advance, pool)


def _here(workers: int, items: int, pool: Pool | None) -> bool:
    """Whether to code in this process: one worker or one item, and no cluster asked for
    (asked for, the cluster codes even one chunk: the caller wants this machine spared)."""
    return items == 0 or (pool is None and (workers <= 1 or items <= 1))


# what encode_chunks and decode hand to the workers, called as task(predictor, *arguments)
_encode_task, _decode_task = encode_chunk, decode_chunk


def _in_order(
    predictor: Predictor,
    workers: int,
    task: Callable[..., Any],
    arguments: Iterable[tuple],
    sizes: Sequence[int],
    advance: Advance | None,
    pool: Pool | None,
) -> Iterator[Any]:
    """``task(predictor, *arguments[i])`` for each item, run in ``pool``'s workers (default:
    processes here) and yielded in order, each as soon as those before it are done."""
    done: dict[int, Any] = {}
    following = 0  # the next result to hand out
    mapped = (pool or in_processes)(predictor, task, arguments, min(workers, len(sizes)))
    with contextlib.closing(mapped) as finished:
        for i, result in finished:  # closing: a Ctrl-C here, not in the generator, still ends the workers
            done[i] = result
            if advance:
                advance(sizes[i])
            while following in done:
                yield done.pop(following)
                following += 1
