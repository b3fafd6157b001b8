"""The .gcz file: arithmetic-coded chunks plus everything needed to decode them safely.

Layout (integers little-endian)::

    magic     8 bytes   b"\\x89GCZ\\r\\n\\x1a\\n" (as PNG's: catches text-mode transfers)
    version   1 byte    2 (1: codes without their trailing zero bytes; still read)
    size      4 bytes   size of the header that follows
    header    JSON (one line), b"\\n", then each chunk's code size as an unsigned LEB128
    crc       4 bytes   CRC-32 of version, size and header
    payload   the chunks' codes, one after another

The JSON names the predictor (its spec and fingerprint: codec library version or model
weights hash), the original length and CRC-32, the chunk size (0: one stream) and the
payload's CRC-32. Decoding checks the header before it loads any model and the payload
before it decodes any byte, so damage is reported at once, never decoded into garbage;
the original's CRC-32 then catches a model that computes differently from the encoder's.
A header whose lengths do not add up, or declare more bytes than their codes can hold
(:func:`arithmetic.max_length`), is refused before any decoding, so a hand-made header cannot
set the decoder running without bound.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from gencomp import arithmetic, coding
from gencomp.coding import CHUNK_SIZE
from gencomp.errors import GencompError
from gencomp.predictor import Predictor
from gencomp.progress import Advance
from gencomp.spec import load_predictor, stored_spec
from gencomp.workers import Pool

MAGIC = b"\x89GCZ\r\n\x1a\n"
VERSION = 2
READABLE = (1, 2)
_PREFIX = struct.Struct("<BI")  # version, header size
_CRC = struct.Struct("<I")


class ContainerError(GencompError):
    """A file that cannot be decompressed; the message says why."""


class NotAContainer(ContainerError):
    pass


class UnknownVersion(ContainerError):
    pass


class Truncated(ContainerError):
    pass


class Corrupted(ContainerError):
    pass


class ModelMismatch(ContainerError):
    """The model the file needs is missing here, or computes differently."""


@dataclass(frozen=True)
class Header:
    """What a decoder needs to know, and check, before it decodes a byte."""

    spec: str  # rebuilds the predictor (load_predictor)
    fingerprint: str  # must equal the rebuilt predictor's
    length: int  # bytes of the original
    crc32: int  # of the original
    chunk_size: int  # 0: one stream with a sliding window
    code_sizes: list[int]  # bytes of each chunk's code; as many as chunk_lengths()
    payload_crc32: int
    version: int = VERSION  # of the container format the header came in

    def chunk_lengths(self) -> list[int]:
        """The original length of each chunk, in order."""
        return coding.chunk_lengths(self.length, self.chunk_size)


@dataclass(frozen=True)
class Compressed:
    """A container's bytes and what went into them."""

    data: bytes
    payload_size: int  # bytes of arithmetic code, the container's header excluded
    ideal_bits: float  # Σ -log2 p over the original under the predictor
    chunks: int


def compress(
    predictor: Predictor,
    data: bytes,
    chunk_size: int = CHUNK_SIZE,
    workers: int = 1,
    advance: Advance | None = None,
    pool: Pool | None = None,
) -> Compressed:
    """Arithmetic-code ``data`` with ``predictor`` into a container (in ``pool``'s workers
    if given: the same bytes as here)."""
    coded = coding.encode(predictor, data, chunk_size, workers, advance, pool)
    payload = b"".join(chunk.data for chunk in coded)
    header = Header(
        spec=predictor.spec,
        fingerprint=predictor.fingerprint,
        length=len(data),
        crc32=zlib.crc32(data),
        chunk_size=chunk_size,
        code_sizes=[len(chunk.data) for chunk in coded],
        payload_crc32=zlib.crc32(payload),
    )
    ideal = sum(chunk.ideal_bits for chunk in coded)
    return Compressed(pack(header, payload), len(payload), ideal, len(coded))


def decompress(blob: bytes, workers: int = 1, advance: Advance | None = None) -> bytes:
    """The original bytes of a container; ContainerError for anything wrong with it."""
    header, payload = unpack(blob)
    out = io.BytesIO()
    decode(header, payload, predictor_for(header), out, workers, advance)
    return out.getvalue()


def decode(
    header: Header,
    payload: bytes,
    predictor: Predictor,
    sink: BinaryIO,
    workers: int = 1,
    advance: Advance | None = None,
    pool: Pool | None = None,
) -> None:
    """Write the original bytes of a checked header and payload (see :func:`unpack`) to
    ``sink`` chunk by chunk, decoded with the predictor :func:`predictor_for` gave (in
    ``pool``'s workers where given); ModelMismatch if they fail the original's CRC (the
    sink then holds garbage: the caller discards it)."""
    codes = coding.split_into(payload, header.code_sizes)
    chunks = coding.decode_chunks(predictor, codes, header.chunk_lengths(), workers, advance, pool, header.version == 1)
    crc = 0
    try:
        for chunk in chunks:
            sink.write(chunk)
            crc = zlib.crc32(chunk, crc)
    except arithmetic.CorruptStream:
        crc = None
    if crc != header.crc32:
        raise ModelMismatch(
            f"decoding with {header.spec} did not give back the original (CRC-32 differs): "
            "the model computed other probabilities than when the file was written"
        )


def predictor_for(header: Header) -> Predictor:
    """The predictor a header names, refused if it would decode differently."""
    try:
        predictor = load_predictor(stored_spec(header.spec))
    except (GencompError, ImportError, ValueError) as error:
        raise ModelMismatch(f"the file needs model {header.spec!r}, which cannot be loaded here: {error}") from None
    if predictor.fingerprint != header.fingerprint:
        raise ModelMismatch(
            f"the file was written with {header.fingerprint!r} but {header.spec} here is "
            f"{predictor.fingerprint!r}; decode it where that version is installed"
        )
    return predictor


# ------------------------------------------------------------------ byte layout


def pack(header: Header, payload: bytes) -> bytes:
    """Container bytes for a header and the payload it describes."""
    fields = {
        "spec": header.spec,
        "fingerprint": header.fingerprint,
        "length": header.length,
        "crc32": header.crc32,
        "chunk_size": header.chunk_size,
        "chunks": len(header.code_sizes),
        "payload_crc32": header.payload_crc32,
    }
    body = json.dumps(fields, separators=(",", ":")).encode() + b"\n" + _leb128(header.code_sizes)
    checked = _PREFIX.pack(VERSION, len(body)) + body
    return MAGIC + checked + _CRC.pack(zlib.crc32(checked)) + payload


def unpack(blob: bytes) -> tuple[Header, bytes]:
    """(header, payload) of container bytes, every check passed; ContainerError if not."""
    if not blob.startswith(MAGIC):
        if blob and MAGIC.startswith(blob):
            raise Truncated(f"the file is truncated ({len(blob)} bytes)")
        raise NotAContainer("not a gencomp file (it does not start with the .gcz magic bytes)")
    start = len(MAGIC)
    if len(blob) < start + _PREFIX.size:
        raise Truncated(f"the file is truncated ({len(blob)} bytes)")
    version, size = _PREFIX.unpack_from(blob, start)
    if version not in READABLE:
        raise UnknownVersion(
            f"unknown container version {version} (this gencomp reads versions "
            f"{', '.join(map(str, READABLE))}); decompress it with the gencomp that wrote it"
        )
    end = start + _PREFIX.size + size
    if len(blob) < end + _CRC.size:
        raise Truncated(f"the file is truncated: its header needs {end + _CRC.size} bytes, there are {len(blob)}")
    if zlib.crc32(blob[start:end]) != _CRC.unpack_from(blob, end)[0]:
        raise Corrupted("the file's header is corrupted (CRC-32 mismatch)")
    header = _parse_header(blob[start + _PREFIX.size : end], version)
    payload = blob[end + _CRC.size :]
    expected = sum(header.code_sizes)
    if len(payload) < expected:
        raise Truncated(f"the file is truncated: {len(payload)} of {expected} payload bytes")
    if len(payload) > expected:
        raise Corrupted(f"the file has {len(payload) - expected} unexpected bytes after its payload")
    if zlib.crc32(payload) != header.payload_crc32:
        raise Corrupted("the file's payload is corrupted (CRC-32 mismatch)")
    return header, payload


def _parse_header(body: bytes, version: int) -> Header:
    """Header fields, checked for consistency (the CRC passed, so this catches only files
    written by something else)."""
    text, _, sizes = body.partition(b"\n")
    try:
        fields = json.loads(text)
        header = Header(
            spec=str(fields["spec"]),
            fingerprint=str(fields["fingerprint"]),
            length=int(fields["length"]),
            crc32=int(fields["crc32"]),
            chunk_size=int(fields["chunk_size"]),
            code_sizes=_unleb128(sizes),
            payload_crc32=int(fields["payload_crc32"]),
            version=version,
        )
        consistent = int(fields["chunks"]) == len(header.code_sizes) and _adds_up(header)
    except (ValueError, KeyError, TypeError):
        consistent = False
    if not consistent:
        raise Corrupted("the file's header is malformed")
    if version > 1 and any(
        length > arithmetic.max_length(size) for length, size in zip(header.chunk_lengths(), header.code_sizes)
    ):
        raise Corrupted("the file's header declares more bytes than its code can hold")
    return header


def _adds_up(header: Header) -> bool:
    """Whether the declared length, chunk size and code sizes describe one another, by
    arithmetic alone: a declared length of 10**12 must not build a list of its chunks."""
    if header.length < 0 or header.chunk_size < 0:  # code sizes are LEB128: never negative
        return False
    size = header.chunk_size or max(header.length, 1)
    return len(header.code_sizes) == -(-header.length // size)


def _leb128(values: list[int]) -> bytes:
    """Unsigned LEB128: 7 bits a byte, low bits first, high bit set on all but the last."""
    out = bytearray()
    for value in values:
        while value >= 0x80:
            out.append(0x80 | (value & 0x7F))
            value >>= 7
        out.append(value)
    return bytes(out)


def _unleb128(data: bytes) -> list[int]:
    values, value, shift = [], 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            values.append(value)
            value, shift = 0, 0
    if shift:
        raise ValueError("unterminated LEB128 value")
    return values
