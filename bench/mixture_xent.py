"""How much does a mixture gain over its components, and over the codec gzip?

For held-out 2 KB chunks (the same as bench/compressor_xent.py's: the end of the Wikipedia
text, patches of scikit-image's `coffee`, the first chunks of the bundled speech; the
mixer's constants were chosen on other chunks: Wikipedia chunks 1000 and 1500, `camera`
patches, the last speech chunks), each mixture walks every chunk as the coder does. Its
components' distributions are recorded on the way, so each component's cross-entropy is
measured on the very same calls, side by side. Printed per modality: bits/byte of the
mixture and of each component, the mixture against its best component, and against
gzip's own chunked rate (8 × (len(zlib.compress(chunk, 9)) − len(zlib.compress(b"", 9)))).

    .venv/bin/python bench/mixture_xent.py                                   # text, image, audio; 2 chunks
    .venv/bin/python bench/mixture_xent.py --modality text --chunks 1 --mix 'mix:llm+(gzip:fast)+ngram:order=3'
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from compressor_xent import held_out_chunks, own_bits
from gencomp.mixture import Mixture, component_specs, split_components
from gencomp.predictor import Predictor
from gencomp.spec import load_predictor

MIXES = (
    "mix:(gzip:fast)+ngram:order=2",
    "mix:(gzip:fast)+ngram:order=1+ngram:order=3",
    "mix:(gzip:fast)+(zstd:fast)+ngram:order=1+ngram:order=2+ngram:order=3",
)


class Recorder:
    """A component passed through, keeping the distribution it gave last."""

    def __init__(self, inner: Predictor) -> None:
        self.inner = inner
        self.spec, self.context_window, self.fingerprint = inner.spec, inner.context_window, inner.fingerprint
        self.last = np.zeros(256)

    def logprobs(self, context: bytes) -> np.ndarray:
        self.last = self.inner.logprobs(context)
        return self.last


def measure(spec: str, chunks: list[bytes]) -> tuple[float, list[float], float]:
    """(mixture bits/byte, each component's bits/byte, seconds), over every byte of ``chunks``."""
    loaded = load_predictor(spec)
    assert isinstance(loaded, Mixture), f"{spec} is not a mixture"
    recorders = [Recorder(c) for c in loaded.components]
    mixture = Mixture(recorders, loaded.weights, loaded.rate, loaded.share)  # type: ignore[arg-type]
    nats, parts = 0.0, np.zeros(len(recorders))
    start = time.perf_counter()
    for chunk in chunks:
        for i, byte in enumerate(chunk):
            nats -= float(mixture.logprobs(chunk[:i])[byte])
            parts -= [r.last[byte] for r in recorders]
    size = sum(len(c) for c in chunks) * math.log(2)
    return nats / size, list(parts / size), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modality", action="append", choices=("text", "image", "audio"))
    parser.add_argument("--mix", action="append", help="mixture spec (repeatable; default: three compressor mixtures)")
    parser.add_argument("--chunks", type=int, default=2)
    args = parser.parse_args()
    for modality in args.modality or ("text", "image", "audio"):
        chunks = held_out_chunks(modality, args.chunks)
        gzip = sum(own_bits("gzip", c) for c in chunks) / sum(len(c) for c in chunks)
        print(f"\n{modality}: {len(chunks)} held-out chunks of 2048 bytes; gzip's own rate {gzip:.3f} bits/byte", flush=True)
        for spec in args.mix or MIXES:
            mixed, parts, seconds = measure(spec, chunks)
            names = component_specs(split_components(spec.partition(":")[2])[0])
            best = min(parts)
            print(f"  {spec}: {mixed:.3f} bits/byte = {mixed / best:.3f}× its best component, "
                  f"{mixed / gzip:.3f}× gzip's rate ({seconds:.0f} s)")
            print("    components: " + ", ".join(f"{n} {b:.3f}" for n, b in zip(names, parts)), flush=True)


if __name__ == "__main__":
    main()
