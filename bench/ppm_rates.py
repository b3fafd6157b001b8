"""The ppm predictor against the codecs, on held-out 2 KB chunks of text, image and audio.

For each modality: ppm's cross-entropy in bits/byte (every stride-th byte predicted,
settings side by side so their speeds compare on a shared machine), and the codecs' own
chunked rates on the same chunks, their fixed cost counted once: gzip -9, zstd -3, LZMA,
pyppmd (PPMd var. I, order 6: the `ppmd` family's codec), and the modality's own codec
(Pillow's PNG for image patches, libsndfile's FLAC for 8-bit audio). ×ppmd and ×best
divide ppm's rate by pyppmd's and by the best codec's.

    .venv/bin/python bench/ppm_rates.py
    .venv/bin/python bench/ppm_rates.py --modality text --setting '' --setting order=3 --chunks 8
"""

from __future__ import annotations

import argparse

import gencomp
from codec_predictors import _ppmd, own_bits
from compressor_xent import held_out_chunks, own_bits as compressor_bits, side_by_side, spec_of
from gencomp.evaluate import _flac, _png

OWN_CODECS = {"image": ("PNG", _png), "audio": ("FLAC", _flac)}


def codec_rates(modality: str, data: list[bytes]) -> dict[str, float]:
    """Each codec's bits/byte over ``data``, its fixed cost counted once."""
    size = sum(len(chunk) for chunk in data)
    rates = {name: sum(compressor_bits(name, chunk) for chunk in data) / size for name in ("gzip", "zstd", "lzma")}
    codecs = [("pyppmd", _ppmd)] + ([OWN_CODECS[modality]] if modality in OWN_CODECS else [])
    return rates | {name: sum(own_bits(codec, chunk) for chunk in data) / size for name, codec in codecs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modality", action="append", choices=("text", "image", "audio"))
    parser.add_argument("--setting", action="append", help="ppm spec suffix, e.g. order=3 ('' = default)")
    parser.add_argument("--chunks", type=int, default=4, help="chunks per modality")
    parser.add_argument("--stride", type=int, default=1, help="predict every stride-th byte (1: all)")
    args = parser.parse_args()
    settings = args.setting or [""]
    print("bits/byte; codecs' fixed cost counted once; bytes/s of settings measured side by side")
    print(f"{'modality':8} {'spec':36} {'ppm':>6} {'codecs':56} {'×ppmd':>6} {'×best':>6} {'bytes/s':>8}")
    for modality in args.modality or ["text", "image", "audio"]:
        data = held_out_chunks(modality, args.chunks)
        rates = codec_rates(modality, data)
        codecs = " ".join(f"{name} {rate:.3f}" for name, rate in rates.items())
        predictors = [gencomp.load_predictor(spec_of("ppm", setting)) for setting in settings]
        positions = sum(len(range(0, len(chunk), args.stride)) for chunk in data)
        for setting, (xent, seconds) in zip(settings, side_by_side(predictors, data, args.stride)):
            print(
                f"{modality:8} {spec_of('ppm', setting):36} {xent:6.3f} {codecs:56} "
                f"{xent / rates['pyppmd']:6.3f} {xent / min(rates.values()):6.3f} {positions / seconds:8.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
