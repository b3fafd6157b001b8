"""How good a model is each compressor predictor, next to the compressor itself?

For held-out 2 KB chunks of text, image patches and audio, and for each predictor setting:
the cross-entropy in bits/byte of the predictor predicting each byte from the bytes before
it in its chunk, divided by the compressor's own rate on the same chunks (≤ 1.0: the
predictor is at least as good a model as the codec), and the bytes/s of the predictor.

The defaults were tuned on other text chunks (`--tuning`: Wikipedia chunks 1000, 1500,
2000 and 2037), so that the held-out figures are not fitted to.

The codec's own rate counts the container once, not per chunk: 8 × (len(compress(chunk)) −
len(compress(b""))) / len(chunk), with the codec the paper's method uses (zlib, zstd,
xz, bz2). Held out: text from the end of the corpus, patches of scikit-image's `coffee`,
the bundled speech recording.

    .venv/bin/python bench/compressor_xent.py                  # every compressor, text
    .venv/bin/python bench/compressor_xent.py --modality image --compressor gzip
    .venv/bin/python bench/compressor_xent.py --setting paper --setting lookahead=16
    .venv/bin/python bench/compressor_xent.py --compressor gzip --setting primes=0 --setting '' --chunks 4 --stride 2
    .venv/bin/python bench/compressor_xent.py --tuning --compressor zstd --setting bonus=4
"""

from __future__ import annotations

import argparse
import math
import time

import gencomp
from gencomp import datasets, modalities
from gencomp.predictor import Predictor, crop

COMPRESSORS = ("gzip", "zstd", "lzma", "bz2")
SETTINGS = ("paper", "")  # spec suffixes; "" is the family's default spec
TUNING_CHUNKS = (1000, 1500, 2000, 2037)  # text chunks the defaults were chosen on


def tuning_chunks() -> list[bytes]:
    """The Wikipedia text chunks the defaults in gencomp/predictor.py were tuned on."""
    whole = list(datasets.chunks(datasets.text_corpus().data))
    return [whole[i] for i in TUNING_CHUNKS]


def held_out_chunks(modality: str, count: int) -> list[bytes]:
    """``count`` full 2 KB chunks of real data that no default was tuned on."""
    if modality == "text":
        data = datasets.text_corpus().data
        whole = list(datasets.chunks(data))[:-1]  # the last chunk may be short
        return whole[-count:]
    if modality == "image":
        gray = modalities.to_grayscale(datasets.bundled_image("coffee"))
        patches = modalities.image_patches(gray)
        step = max(1, len(patches) // count)
        return [patches[i * step].tobytes() for i in range(count)]
    if modality == "audio":
        audio = modalities.read_audio(datasets.bundled_speech())
        whole = [c for c in datasets.chunks(modalities.audio_to_bytes(audio.samples)) if len(c) == datasets.CHUNK_SIZE]
        return whole[:count]
    raise ValueError(f"unknown modality {modality!r}")


def own_bits(name: str, chunk: bytes) -> float:
    """The codec's own compressed size of ``chunk`` in bits, container counted once."""
    compress = gencomp.load_predictor(f"{name}:paper").compress  # type: ignore[attr-defined]
    return 8.0 * (len(compress(chunk)) - len(compress(b"")))


def cross_entropy_bits(predictor: Predictor, chunk: bytes, stride: int = 1) -> tuple[float, int]:
    """(Σ −log2 p(chunk[t] | chunk[:t]) over t = 0, stride, 2·stride, …, positions)."""
    total, positions = 0.0, 0
    for t in range(0, len(chunk), stride):
        logprobs = predictor.logprobs(crop(chunk[:t], predictor.context_window))
        total -= logprobs[chunk[t]] / math.log(2)
        positions += 1
    return total, positions


def spec_of(name: str, setting: str) -> str:
    return f"{name}:{setting}" if setting else name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compressor", action="append", choices=COMPRESSORS)
    parser.add_argument("--modality", action="append", choices=("text", "image", "audio"))
    parser.add_argument("--setting", action="append", help="spec suffix, e.g. paper or lookahead=16 ('' = default)")
    parser.add_argument("--chunks", type=int, default=2, help="chunks per modality")
    parser.add_argument("--stride", type=int, default=4, help="predict every stride-th byte (1: all)")
    parser.add_argument("--tuning", action="store_true", help="the text chunks the defaults were tuned on")
    args = parser.parse_args()
    if args.tuning and args.modality not in (None, ["text"]):
        parser.error("--tuning chunks are text only")
    print(f"{'modality':8} {'spec':70} {'xent':>6} {'own':>6} {'ratio':>6} {'bytes/s':>8}")
    for modality in args.modality or ["text"]:
        data = tuning_chunks() if args.tuning else held_out_chunks(modality, args.chunks)
        for name in args.compressor or COMPRESSORS:
            own = sum(own_bits(name, chunk) for chunk in data) / sum(len(chunk) for chunk in data)
            for setting in args.setting or SETTINGS:
                predictor = gencomp.load_predictor(spec_of(name, setting))
                start = time.perf_counter()
                results = [cross_entropy_bits(predictor, chunk, args.stride) for chunk in data]
                seconds = time.perf_counter() - start
                bits, positions = sum(r[0] for r in results), sum(r[1] for r in results)
                xent = bits / positions
                print(
                    f"{modality:8} {predictor.spec:70} {xent:6.3f} {own:6.3f} {xent / own:6.3f} {positions / seconds:8.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
