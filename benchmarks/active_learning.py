"""Active-learning simulation: does `seqtag select` choose training sentences better than chance?

The training file of a UD treebank (UPOS) or a MasakhaNER language plays the pool, its gold tags
the annotator. Start from `--start` random training sentences (the same for every strategy of a
seed); each round trains on what is annotated so far (dev for early stopping), scores test,
then adds about `--round-tokens` tokens of pool sentences chosen by `seqtag select
--budget-tokens` with the strategy (or `--strategy random`, the baseline), their gold tags
taken from the pool. One JSON record per strategy and seed, with the test score after each
round against the tokens annotated; finished records are skipped, so it resumes.

    python benchmarks/active_learning.py lt_hse --strategies least-confidence random \
        --seeds 1 2 3 --rounds 6 --out OUT -- --threads 1 --preset pos
    python benchmarks/active_learning.py --report --out OUT

Arguments after `--` go to `seqtag train` (the same for every strategy: `--preset pos` keeps a
round to one network). `--report` writes a table per data set: the score of each strategy
after each round, and the tokens each strategy needed to reach random selection's final score
(interpolated between rounds).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from train_eval import ROOT, UD, json_of, seqtag

MASAKHANER = ROOT.parent / "shared" / "data" / "ner" / "masakhaner2"


def data_files(name: str) -> tuple[Path, Path, Path, str]:
    """train, dev, test of a UD treebank or a MasakhaNER language, and its file kind."""
    if (UD / name).is_dir():
        folder = UD / name
        return folder / "train.conllu", folder / "dev.conllu", folder / "test.conllu", "conllu"
    folder = MASAKHANER / name
    return folder / "train.txt", folder / "dev.txt", folder / "test.txt", "columns"


def blocks(path: Path, kind: str) -> list[str]:
    """The sentences of a CoNLL-U or column file as text blocks (comments kept), only those
    with tokens: `seqtag select` numbers the pool's sentences in this order."""
    text = path.read_text(encoding="utf-8")
    found = [b.strip("\n") for b in re.split(r"\n[ \t]*\n", text) if b.strip()]
    return [b for b in found if tokens_of(b, kind)]


def tokens_of(block: str, kind: str) -> int:
    lines = [line for line in block.split("\n") if line and not line.startswith("#")]
    if kind == "conllu":
        return sum(1 for line in lines if re.match(r"^\d+\t", line))
    return sum(1 for line in lines if not line.startswith("-DOCSTART-"))


def score_of(scores: dict) -> float:
    return scores["f1"] if "f1" in scores else scores["accuracy"]


def simulate(name: str, strategy: str, seed: int, args, extra: list[str]) -> dict:
    train, dev, test, kind = data_files(name)
    pool = blocks(train, kind)
    order = list(range(len(pool)))
    random.Random(seed).shuffle(order)
    annotated = order[: args.start]
    rounds = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        for round_ in range(args.rounds + 1):
            labeled = work / f"train.{'conllu' if kind == 'conllu' else 'txt'}"
            labeled.write_text("\n\n".join(pool[i] for i in annotated) + "\n\n", "utf-8")
            model = work / "round.model"
            subprocess.run(
                seqtag("train", str(labeled), "--dev", str(dev), "-o", str(model),
                       "--seed", str(seed), "-q", *extra),
                check=True,
            )  # fmt: skip
            scores = json_of("eval", "-m", str(model), str(test), "--json")
            tokens = sum(tokens_of(pool[i], kind) for i in annotated)
            rounds.append({"round": round_, "sentences": len(annotated), "tokens": tokens,
                           "score": score_of(scores)})  # fmt: skip
            print(f"{name} {strategy} seed {seed} round {round_}: {tokens} tokens, "
                  f"{score_of(scores):.4f}", file=sys.stderr)  # fmt: skip
            if round_ == args.rounds:
                break
            taken = set(annotated)
            rest = [i for i in range(len(pool)) if i not in taken]
            candidates = work / f"pool.{'conllu' if kind == 'conllu' else 'txt'}"
            candidates.write_text("\n\n".join(pool[i] for i in rest) + "\n\n", "utf-8")
            done = subprocess.run(
                seqtag("select", "-m", str(model), str(candidates), "--budget-tokens",
                       str(args.round_tokens), "--strategy", strategy, "--seed",
                       str(seed * 1000 + round_), "-i", kind),
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            # "pool sentence N" in each comment: the N-th sentence of the candidates file.
            chosen = [int(n) - 1 for n in re.findall(r"pool sentence (\d+)", done.stdout)]
            annotated += [rest[n] for n in chosen]
    return {"data": name, "strategy": strategy, "seed": seed, "start": args.start,
            "round_tokens": args.round_tokens, "train_args": extra, "rounds": rounds}  # fmt: skip


def tokens_to_reach(rounds: list[dict], target: float) -> float | None:
    """Tokens at which the score first reaches ``target``, interpolated between rounds."""
    for before, after in zip(rounds, rounds[1:], strict=False):
        if before["score"] >= target:
            return before["tokens"]
        if after["score"] >= target:
            share = (target - before["score"]) / (after["score"] - before["score"])
            return before["tokens"] + share * (after["tokens"] - before["tokens"])
    return rounds[0]["tokens"] if rounds and rounds[0]["score"] >= target else None


def report(out: Path) -> str:
    records = [json.loads(p.read_text()) for p in sorted(out.glob("*-seed*.json"))]
    lines = []
    for name in dict.fromkeys(r["data"] for r in records):
        mine = [r for r in records if r["data"] == name]
        strategies = list(dict.fromkeys(r["strategy"] for r in mine))
        n_rounds = min(len(r["rounds"]) for r in mine)
        lines += [f"## {name}", "", "| round | " + " | ".join(
            f"{s}: tokens, score" for s in strategies) + " |",
            "| --- |" + " --- |" * len(strategies)]  # fmt: skip
        for k in range(n_rounds):
            cells = []
            for s in strategies:
                runs = [r["rounds"][k] for r in mine if r["strategy"] == s]
                cells.append(f"{statistics.mean(x['tokens'] for x in runs):.0f}, "
                             f"{100 * statistics.mean(x['score'] for x in runs):.2f}")  # fmt: skip
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
        if "random" in strategies:
            for s in strategies:
                needed = []
                for seed in sorted({r["seed"] for r in mine}):
                    base = [r for r in mine if r["strategy"] == "random" and r["seed"] == seed]
                    run = [r for r in mine if r["strategy"] == s and r["seed"] == seed]
                    if not base or not run:
                        continue
                    target = base[0]["rounds"][n_rounds - 1]["score"]
                    reached = tokens_to_reach(run[0]["rounds"][:n_rounds], target)
                    final = base[0]["rounds"][n_rounds - 1]["tokens"]
                    needed.append(None if reached is None else reached / final)
                shown = ", ".join("not reached" if x is None else f"{x:.2f}" for x in needed)
                lines.append(f"\n{s}: tokens to reach random's final score, as a share of "
                             f"random's (per seed): {shown}")  # fmt: skip
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="*", help="UD treebank or MasakhaNER language names")
    parser.add_argument("--strategies", nargs="+", default=["least-confidence", "random"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--start", type=int, default=100, help="random sentences to start from")
    parser.add_argument("--round-tokens", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.report:
        for name in args.data:
            for seed in args.seeds:
                for strategy in args.strategies:
                    path = args.out / f"{name}-{strategy}-seed{seed}.json"
                    if path.exists():
                        continue
                    record = simulate(name, strategy, seed, args, extra)
                    path.write_text(json.dumps(record, indent=2) + "\n")
    text = report(args.out)
    (args.out / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
