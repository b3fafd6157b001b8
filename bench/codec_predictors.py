"""The png, flac and ppmd predictors against their own codecs, on the data they are for.

For held-out 2 KB chunks (patches of scikit-image's `coffee` for png, the bundled speech
at 8 and 16 bits for flac, Wikipedia text from the end of the corpus for ppmd): the
predictor's cross-entropy in bits/byte, the codec's own chunked rate on the same chunks
(its fixed cost counted once: 8 × (len(codec(chunk)) − (len(codec(one byte)) − 1))), their
ratio (≤ 1.0: the predictor is at least as good a model as the codec) and the predictor's
bytes/s. Every stride-th byte is predicted; over 16-bit audio an even stride is made odd,
since it would see only the samples' low bytes. The settings of one family run side by side (each position computed by all of
them in turn), so that the last two columns — cross-entropy and speed against the first
setting — hold on a shared, noisy machine.

    .venv/bin/python bench/codec_predictors.py                       # every family, defaults
    .venv/bin/python bench/codec_predictors.py --family png --setting '' --setting smooth=0 --chunks 4 --stride 2
    .venv/bin/python bench/codec_predictors.py --family png --image astronaut --chunks 8
    .venv/bin/python bench/codec_predictors.py --family flac --setting '' --setting order=0
    .venv/bin/python bench/codec_predictors.py --family ppmd --setting '' --setting paper --stride 32
"""

from __future__ import annotations

import argparse
import io
from typing import Callable

import pyppmd
import soundfile

import gencomp
from compressor_xent import held_out_chunks, side_by_side, spec_of
from gencomp import datasets, modalities
from gencomp.evaluate import _flac, _png
from gencomp.compressors.ppmd import MEMORY, VARIANT


def _flac16(data: bytes) -> bytes:
    """libsndfile's FLAC of 16-bit little-endian samples."""
    buffer = io.BytesIO()
    soundfile.write(buffer, modalities.bytes_to_audio(data, 16), modalities.SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def _ppmd(data: bytes) -> bytes:
    return pyppmd.compress(data, max_order=6, mem_size=MEMORY, variant=VARIANT)


def _patches(name: str, count: int) -> list[bytes]:
    """``count`` 32×64 patches spread over the bundled image ``name``."""
    patches = modalities.image_patches(modalities.to_grayscale(datasets.bundled_image(name)))
    step = max(1, len(patches) // count)
    return [patches[i * step].tobytes() for i in range(count)]


def _audio16(count: int) -> list[bytes]:
    audio = modalities.read_audio(datasets.bundled_speech())
    whole = [c for c in datasets.chunks(modalities.audio_to_bytes(audio.samples, bits=16)) if len(c) == datasets.CHUNK_SIZE]
    return whole[1 : 1 + count]  # the first chunk is the recording's silent start


# family: [(data name, the family's spec prefix, chunks, the codec and its name)]
CASES: dict[str, list[tuple[str, str, Callable[[int], list[bytes]], Callable[[bytes], bytes], str]]] = {
    "png": [("image", "png", lambda n: held_out_chunks("image", n), _png, "Pillow PNG, optimize")],  # --image: another
    "flac": [
        ("audio 8-bit", "flac", lambda n: held_out_chunks("audio", n), _flac, "libsndfile FLAC, PCM_S8"),
        ("audio 16-bit", "flac:bits=16", _audio16, _flac16, "libsndfile FLAC, PCM_16"),
    ],
    "ppmd": [("text", "ppmd", lambda n: held_out_chunks("text", n), _ppmd, "pyppmd order 6, var. I")],
}


def own_bits(codec: Callable[[bytes], bytes], chunk: bytes) -> float:
    """The codec's size of ``chunk`` in bits, its fixed cost counted once (not per chunk)."""
    return 8.0 * (len(codec(chunk)) - (len(codec(b"\0")) - 1))


def with_setting(prefix: str, setting: str) -> str:
    """``flac:bits=16`` + ``order=0`` -> ``flac:bits=16,order=0``."""
    if not setting:
        return prefix
    return f"{prefix},{setting}" if ":" in prefix else spec_of(prefix, setting)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", action="append", choices=tuple(CASES))
    parser.add_argument("--setting", action="append", help="spec suffix, e.g. paper or smooth=0 ('' = default)")
    parser.add_argument("--chunks", type=int, default=2, help="chunks per data set")
    parser.add_argument("--stride", type=int, default=4, help="predict every stride-th byte (1: all)")
    parser.add_argument("--image", choices=datasets.BUNDLED_IMAGES, help="png's patches from this photograph (default: coffee)")
    args = parser.parse_args()
    settings = args.setting or [""]
    print("ratio = xent / codec; ×first and speed against the first setting, measured side by side")
    print(f"{'data':20} {'codec':24} {'spec':60} {'xent':>6} {'codec':>6} {'ratio':>6} {'bytes/s':>8} {'×first':>6} {'speed':>6}")
    for family in args.family or list(CASES):
        for name, prefix, chunks, codec, codec_name in CASES[family]:
            data = _patches(args.image, args.chunks) if family == "png" and args.image else chunks(args.chunks)
            name = f"{name} ({args.image})" if family == "png" and args.image else name
            own = sum(own_bits(codec, chunk) for chunk in data) / sum(len(chunk) for chunk in data)
            predictors = [gencomp.load_predictor(with_setting(prefix, setting)) for setting in settings]
            # an even stride over 16-bit samples would see only their low bytes
            stride = args.stride + 1 if "16" in prefix and args.stride % 2 == 0 else args.stride
            results = side_by_side(predictors, data, stride)
            positions = sum(len(range(0, len(chunk), stride)) for chunk in data)
            first_xent, first_seconds = results[0]
            for setting, (xent, seconds) in zip(settings, results):
                print(
                    f"{name:20} {codec_name:24} {with_setting(prefix, setting):60} {xent:6.3f} {own:6.3f} {xent / own:6.3f} "
                    f"{positions / seconds:8.1f} {xent / first_xent:6.3f} {first_seconds / seconds:6.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
