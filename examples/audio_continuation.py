"""The paper's audio continuations with any predictors: prompt with 0.5 s of speech
(16 kHz, 8-bit), generate 0.25 s more.

    python examples/audio_continuation.py [OUT_DIR] [--models gzip,zstd,llm] [--seed 0]

Writes OUT_DIR/audio_continuation.png (a spectrogram per model, the end of the prompt
dashed) and one 16-bit WAV per model and for the original.
"""

from __future__ import annotations

import time

from _shared import arguments, load_models

from gencomp.continuation import Sampling, continue_audio
from gencomp.modalities import load_audio
from gencomp.render import file_stem, spectrograms, wav_bytes

PROMPT_SECONDS, SECONDS = 0.5, 0.25


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    models = load_models(args.models)
    speech = load_audio("speech").samples
    signals = []
    for spec, predictor in models.items():
        start = time.perf_counter()
        result = continue_audio(predictor, speech, PROMPT_SECONDS, SECONDS, sampling=Sampling(seed=args.seed))
        print(f"{spec}: {time.perf_counter() - start:.1f} s")
        signals.append((spec, result.samples))
    signals.insert(0, ("original (8-bit)", result.original))
    for name, samples in signals:
        path = args.out_dir / f"audio_{file_stem(name)}.wav"
        path.write_bytes(wav_bytes(samples))
        print(f"wrote {path}")
    path = args.out_dir / "audio_continuation.png"
    path.write_bytes(spectrograms(signals, PROMPT_SECONDS))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
