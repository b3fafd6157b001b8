"""How good a model is each compressor predictor, next to the compressor itself?

For held-out 2 KB chunks of text, image patches and audio, and for each predictor setting:
the cross-entropy in bits/byte of the predictor predicting each byte from the bytes before
it in its chunk, divided by the compressor's own rate on the same chunks (≤ 1.0: the
predictor is at least as good a model as the codec), and the bytes/s of the predictor.
The settings of one compressor run side by side, each position computed by all of them in
turn, so that the last two columns — cross-entropy and speed against the default setting
('', or the first one given) — hold on a shared, noisy machine.

The defaults were tuned on other text chunks (`--tuning`: Wikipedia chunks 1000, 1500,
2000 and 2037), so that the held-out figures are not fitted to.

The codec's own rate counts the container once, not per chunk: 8 × (len(compress(chunk)) −
len(compress(b""))) / len(chunk), with the codec the paper's method uses (zlib, zstd,
xz, bz2). Held out: text from the end of the corpus, patches of scikit-image's `coffee`,
the bundled speech recording.

    .venv/bin/python bench/compressor_xent.py                  # every compressor, text
    .venv/bin/python bench/compressor_xent.py --modality image --compressor gzip
    .venv/bin/python bench/compressor_xent.py --setting paper --setting horizon=16
    .venv/bin/python bench/compressor_xent.py --compressor gzip --setting shuffled_views=0 --setting '' --chunks 4 --stride 2
    .venv/bin/python bench/compressor_xent.py --tuning --compressor zstd --setting bonus=4
    .venv/bin/python bench/compressor_xent.py --compressor gzip --compressor zstd --setting '' --setting fast \
        --modality text --modality image --modality audio --chunks 4 --stride 16
"""

from __future__ import annotations

import argparse
import math
import time

import gencomp
from gencomp import coding, datasets, modalities
from gencomp.predictor import Predictor, crop

COMPRESSORS = ("gzip", "zstd", "lzma", "bz2")
SETTINGS = ("paper", "")  # spec suffixes; "" is the family's default spec
TUNING_CHUNKS = (1000, 1500, 2000, 2037)  # text chunks the defaults were chosen on


def tuning_chunks() -> list[bytes]:
    """The Wikipedia text chunks the defaults in gencomp/predictor.py were tuned on."""
    whole = list(coding.chunks(datasets.text_corpus().data))
    return [whole[i] for i in TUNING_CHUNKS]


def held_out_chunks(modality: str, count: int) -> list[bytes]:
    """``count`` full 2 KB chunks of real data that no default was tuned on."""
    if modality == "text":
        data = datasets.text_corpus().data
        whole = list(coding.chunks(data))[:-1]  # the last chunk may be short
        return whole[-count:]
    if modality == "image":
        gray = modalities.to_grayscale(datasets.bundled_image("coffee"))
        patches = modalities.image_patches(gray)
        step = max(1, len(patches) // count)
        return [patches[i * step].tobytes() for i in range(count)]
    if modality == "audio":
        audio = modalities.read_audio(datasets.bundled_speech())
        whole = [c for c in coding.chunks(modalities.audio_to_bytes(audio.samples)) if len(c) == coding.CHUNK_SIZE]
        return whole[:count]
    raise ValueError(f"unknown modality {modality!r}")


def own_bits(name: str, chunk: bytes) -> float:
    """The codec's own compressed size of ``chunk`` in bits, container counted once."""
    compress = gencomp.load_predictor(f"{name}:paper").compress  # type: ignore[attr-defined]
    return 8.0 * (len(compress(chunk)) - len(compress(b"")))


def side_by_side(predictors: list[Predictor], data: list[bytes], stride: int) -> list[tuple[float, float]]:
    """(bits/byte, seconds) of each predictor over every stride-th byte of the chunks,
    every position computed by all of them in turn (the first one rotating), so that the
    machine's load hits them alike and their speed ratios can be read off one run."""
    bits, seconds = [0.0] * len(predictors), [0.0] * len(predictors)
    positions = 0
    for chunk in data:
        for t in range(0, len(chunk), stride):
            for turn in range(len(predictors)):
                i = (turn + positions) % len(predictors)
                start = time.perf_counter()
                logprobs = predictors[i].logprobs(crop(chunk[:t], predictors[i].context_window))
                seconds[i] += time.perf_counter() - start
                bits[i] -= logprobs[chunk[t]] / math.log(2)
            positions += 1
    return [(b / positions, s) for b, s in zip(bits, seconds)]


def spec_of(name: str, setting: str) -> str:
    return f"{name}:{setting}" if setting else name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compressor", action="append", choices=COMPRESSORS)
    parser.add_argument("--modality", action="append", choices=("text", "image", "audio"))
    parser.add_argument("--setting", action="append", help="spec suffix, e.g. paper or horizon=16 ('' = default)")
    parser.add_argument("--chunks", type=int, default=2, help="chunks per modality")
    parser.add_argument("--stride", type=int, default=4, help="predict every stride-th byte (1: all)")
    parser.add_argument("--tuning", action="store_true", help="the text chunks the defaults were tuned on")
    args = parser.parse_args()
    if args.tuning and args.modality not in (None, ["text"]):
        parser.error("--tuning chunks are text only")
    settings = args.setting or list(SETTINGS)
    base = settings.index("") if "" in settings else 0  # the row the last two columns divide by
    print(f"ratios and ×base against {spec_of('NAME', settings[base])!r}, measured side by side")
    print(f"{'modality':8} {'spec':76} {'xent':>6} {'own':>6} {'ratio':>6} {'bytes/s':>8} {'×base':>6} {'speed':>6}")
    for modality in args.modality or ["text"]:
        data = tuning_chunks() if args.tuning else held_out_chunks(modality, args.chunks)
        size = sum(len(chunk) for chunk in data)
        for name in args.compressor or COMPRESSORS:
            own = sum(own_bits(name, chunk) for chunk in data) / size
            predictors = [gencomp.load_predictor(spec_of(name, setting)) for setting in settings]
            results = side_by_side(predictors, data, args.stride)
            positions = sum(len(range(0, len(chunk), args.stride)) for chunk in data)
            base_xent, base_seconds = results[base]
            for predictor, (xent, seconds) in zip(predictors, results):
                print(
                    f"{modality:8} {predictor.spec:76} {xent:6.3f} {own:6.3f} {xent / own:6.3f} "
                    f"{positions / seconds:8.1f} {xent / base_xent:6.3f} {base_seconds / seconds:6.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
