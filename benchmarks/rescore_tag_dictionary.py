"""Score the runs of a `train_eval.py` folder again with the tag dictionary that today's
seqtag builds, on the same weights, and write records that `train_eval.py --report` reads.

The dictionary acts only when decoding, so a change to how it is built (as when the lowercase
fallback was added) can be measured on models already trained, without training again. Each
run's model gets the dictionary of its training data (for a treebank without a dev file: the
part of train that `seqtag train` kept, the rest being its dev), is scored on dev in-process
and on test by `seqtag eval`, and its record is copied to OUT with those scores. The scores
without a dictionary (`without_tag_dictionary`) are copied from the run as they were.

    PYTHONPATH=. python benchmarks/rescore_tag_dictionary.py RUNS OUT mr_ufal lt_hse --seeds 1 2 3
    python benchmarks/train_eval.py mr_ufal lt_hse --seeds 1 2 3 --out OUT --report --tag-dictionary auto
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from checkout import require_this_checkout
from train_eval import UD, seqtag
from with_tag_dictionary import add_tag_dictionary

from seqtag.engine import load_tagger
from seqtag.evaluate import accuracy
from seqtag.modelfile import read_metadata
from seqtag.read import Column, read_labeled
from seqtag.train import split_dev


def rescore(record: dict, model: Path, out: Path) -> dict:
    treebank = record["treebank"]
    folder = UD / treebank
    column = Column.parse(read_metadata(model)["column"])
    train, _ = read_labeled(folder / "train.conllu", column, "strict")
    if (folder / "dev.conllu").exists():
        dev, _ = read_labeled(folder / "dev.conllu", column, "strict")
    else:
        recorded = read_metadata(model)["train_config"]
        train, dev = split_dev(train, recorded["dev_fraction"], recorded["seed"])
    with tempfile.TemporaryDirectory(dir=out) as scratch:
        rescored = Path(scratch) / model.name
        words = add_tag_dictionary(str(model), train, str(rescored), str(folder / "train.conllu"))
        tag = load_tagger(rescored, "cpu")
        dev_score = accuracy([s.tags for s in dev], tag(dev))
        done = subprocess.run(
            seqtag("eval", "-m", str(rescored), str(folder / "test.conllu"), "--json"),
            check=True,
            capture_output=True,
            text=True,
        )
        scores = json.loads(done.stdout)
    return {
        **record,
        "dev_score": dev_score,
        "accuracy": scores["accuracy"],
        "known_accuracy": scores["known_accuracy"],
        "unknown_accuracy": scores["unknown_accuracy"],
        "tag_dictionary_words": words,
        "tag_dictionary_dev": {
            "with": dev_score,
            "without": record["tag_dictionary_dev"]["without"],
        },
        "rescored_from": str(model),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, help="a train_eval.py --out folder with its models")
    parser.add_argument("out", type=Path)
    parser.add_argument("treebanks", nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    args = parser.parse_args()
    require_this_checkout()
    args.out.mkdir(parents=True, exist_ok=True)
    for treebank in args.treebanks:
        for seed in args.seeds:
            name = f"{treebank}-seed{seed}"
            target = args.out / f"{name}.json"
            if target.exists():
                continue
            source = args.runs / f"{name}.json"
            if not source.exists() or "without_tag_dictionary" not in json.loads(
                source.read_text()
            ):
                sys.exit(f"{source}: no run trained with --tag-dictionary on")
            record = rescore(json.loads(source.read_text()), args.runs / f"{name}.model", args.out)
            target.write_text(json.dumps(record, indent=2) + "\n")
            print(f"{name}: dev {record['dev_score']:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
