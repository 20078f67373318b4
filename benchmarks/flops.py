"""What the arithmetic allows: a model's floating-point operations per word, and this machine's
single-threaded sgemm speed, so that a measured words/s can be put as a fraction of the limit.

FLOPs per word (multiply-adds counted as 2), from the model file's architecture:
  - the sentence encoder: per recurrent layer, both directions, the input and the recurrent
    products (gates x (input + hidden) x 2 each);
  - the output layer (labels x encoder width x 2);
  - the character encoder, per character of a word form (gates x (char_dim + char_hidden) x 2,
    both directions), counted per word as if no form were cached; the numpy engine computes each
    distinct form once per stream, so this is an upper bound, reported apart.
sgemm: numpy's float32 matmul on one thread (OPENBLAS_NUM_THREADS=1 set before numpy loads),
on a large square product (the machine's peak) and on the shape the tagger's recurrence runs (a
batch of 64 rows times the stacked gate matrix), best of several repetitions.

    OPENBLAS_NUM_THREADS=1 python benchmarks/flops.py MODEL [--words-per-second N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from seqtag.architecture import GATES, Architecture  # noqa: E402
from seqtag.modelfile import read_model  # noqa: E402

AVERAGE_CHARACTERS = 4.3  # en_ewt train: characters per word, boundaries not counted


def flops_per_word(model: str) -> dict:
    arrays = read_model(model)
    architecture = Architecture.of(arrays.model_config, arrays.vocabularies)
    members = max(1, arrays.model_config.ensemble)
    sentence = 0
    for layer in architecture.sentence_layers:
        gates = layer.gates * layer.hidden
        sentence += 2 * 2 * gates * (layer.input_dim + layer.hidden)  # 2 directions, 2 FLOPs
    output = 2 * architecture.outputs * architecture.encoder_dim
    characters = 0
    char = architecture.char_encoder
    if char is not None:
        per_character = 2 * 2 * char.gates * char.hidden * (char.input_dim + char.hidden)
        characters = round(per_character * (AVERAGE_CHARACTERS + 2))  # + start and end marks
    return {
        "model": model,
        "members": members,
        "sentence_encoder": members * sentence,
        "output_layer": members * output,
        "character_encoder_uncached": members * characters,
        "per_word_without_characters": members * (sentence + output),
        "per_word_uncached": members * (sentence + output + characters),
    }


def sgemm_gflops(m: int, k: int, n: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=out)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * m * k * n / best / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--words-per-second", type=float, help="a measured tagging speed")
    parser.add_argument("--out")
    args = parser.parse_args()
    counted = flops_per_word(args.model)
    arrays = read_model(args.model)
    hidden = arrays.model_config.hidden
    gates = GATES[arrays.model_config.rnn] * hidden
    record = {
        "flops": counted,
        "sgemm_gflops_one_thread": {
            "2048 x 2048 x 2048": round(sgemm_gflops(2048, 2048, 2048, 5), 1),
            f"64 x {hidden} x {2 * gates} (recurrent step, both directions)": round(
                sgemm_gflops(64, hidden, 2 * gates, 2000), 1
            ),
        },
        "numpy": np.__version__,
    }
    if args.words_per_second:
        peak = record["sgemm_gflops_one_thread"]["2048 x 2048 x 2048"] * 1e9
        for key in ("per_word_without_characters", "per_word_uncached"):
            used = args.words_per_second * counted[key]
            record[f"fraction_of_peak_{key}"] = round(used / peak, 4)
        record["words_per_second"] = args.words_per_second
    print(json.dumps(record, indent=2))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
