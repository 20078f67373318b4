"""From raw text, as a user pipes it: tokens, sentences and words F1 (and UPOS F1) of
`seqtag tag -i raw` on each test set, with the model's learned segmenter and with the rules,
scored by the CoNLL 2018 shared task's evaluator (PyPI udtools, module udtools.udeval).

The raw text of a test file: each sentence's `# text`, the sentences of a paragraph joined by a
space on one line, a blank line at `# newpar` and `# newdoc` (a file that marks neither is one
paragraph). The system's CoNLL-U gets HEAD 0 for its first word and 1 for the others (the
evaluator wants a tree; no dependency score is read).

The model: `--models DIR` holding TREEBANK.model, else trained here with `seqtag train TRAIN
--dev DEV` and the options after `--`. With `--segmentation-only` the tagger is a placeholder
(e.g. `-- --preset pos --max-epochs 1`): its UPOS is not reported. Finished treebanks are skipped.

    python benchmarks/raw_text.py ta_ttb mt_mudt --out benchmarks/results/raw-text-segmenter \
        --segmentation-only -- --preset pos --max-epochs 1 --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_eval import UD, each_treebank, seqtag  # noqa: E402

# Words and sentences F1 (%) of UDPipe 1's tokenizer on the same test sets, from issue 21's
# table (trained on the same train files, dev as heldout; gl_treegal with train as heldout).
UDPIPE = {
    "en_ewt": (98.77, 84.39),
    "mt_mudt": (99.83, 82.84),
    "gl_treegal": (98.78, 85.71),
    "ta_ttb": (94.63, 93.88),
    "cy_ccg": (99.57, 97.84),
}
METRICS = ("Tokens", "Sentences", "Words", "UPOS")


def plain_text(conllu: Path) -> str:
    """The test file's raw text, as `seqtag eval --raw` builds it (rawscore.plain_text)."""
    from seqtag.lines import open_lines
    from seqtag.rawscore import plain_text as of_sentences
    from seqtag.read import read_conllu

    return of_sentences(list(read_conllu(open_lines(str(conllu)))))


def as_tree(conllu: str) -> str:
    """System CoNLL-U with a trivial tree, so the evaluator reads it."""
    out = []
    for line in conllu.splitlines():
        fields = line.split("\t")
        if len(fields) == 10 and fields[0].isdigit():
            fields[6], fields[7] = ("0", "root") if fields[0] == "1" else ("1", "dep")
            line = "\t".join(fields)
        out.append(line)
    return "\n".join(out) + "\n"


def evaluate(gold: Path, system: Path) -> dict:
    from udtools import udeval

    scores = udeval.evaluate(
        udeval.load_conllu_file(str(gold)), udeval.load_conllu_file(str(system))
    )
    return {m: {"precision": scores[m].precision, "recall": scores[m].recall, "f1": scores[m].f1}
            for m in METRICS}  # fmt: skip


def timed(args: list[str], stdin: Path, stdout: Path) -> float:
    """Seconds of CPU (user + system) of a whole seqtag process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with stdin.open("rb") as source, stdout.open("wb") as sink:
        subprocess.run(seqtag(*args), stdin=source, stdout=sink, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_one(treebank: str, out: Path, models: Path | None, extra: list[str], only: bool) -> dict:
    record_path = out / f"{treebank}.json"
    if record_path.exists():
        return json.loads(record_path.read_text())
    folder = UD / treebank
    model = (models or out) / f"{treebank}.model"
    train_seconds = None
    if not model.exists():
        dev = folder / "dev.conllu"
        start = time.perf_counter()
        with (out / f"{treebank}.log").open("w") as log:
            subprocess.run(
                seqtag("train", str(folder / "train.conllu"), "-o", str(model),
                       *(["--dev", str(dev)] if dev.exists() else []), *extra),
                check=True, stderr=log,
            )  # fmt: skip
        train_seconds = time.perf_counter() - start
    info = json.loads(
        subprocess.run(seqtag("info", "-m", str(model), "--json"), check=True,
                       capture_output=True, text=True).stdout
    )  # fmt: skip
    text = out / f"{treebank}-test.txt"
    text.write_text(plain_text(folder / "test.conllu"), encoding="utf-8")
    record = {
        "treebank": treebank,
        "train_args": extra,
        "segmentation_only": only,
        "segmenter": info["segmenter"],
        "train_seconds": train_seconds,
        "test_characters": len(text.read_text(encoding="utf-8")),
    }
    for tokenizer in ("model", "rules"):
        system = out / f"{treebank}-{tokenizer}.conllu"
        seconds = timed(
            ["tag", "-m", str(model), "-i", "raw", "--tokenizer", tokenizer], text, system
        )
        system.write_text(as_tree(system.read_text(encoding="utf-8")), encoding="utf-8")
        record[tokenizer] = {
            "scores": evaluate(folder / "test.conllu", system),
            "cpu_seconds": seconds,
        }
        system.unlink()
    gold_tagged = out / f"{treebank}-gold.conllu"
    record["pretokenized_cpu_seconds"] = timed(
        ["tag", "-m", str(model), "-i", "conllu"], folder / "test.conllu", gold_tagged
    )
    gold_tagged.unlink()
    text.unlink()
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def table(records: list[dict]) -> str:
    only = all(r["segmentation_only"] for r in records)
    head = ["treebank", "tokens F1", "sentences F1", "words F1", "words F1, rules",
            "sentences F1, rules", "words F1, UDPipe 1", "sentences F1, UDPipe 1"]  # fmt: skip
    if not only:
        head += ["UPOS F1", "UPOS F1, rules"]
    head += ["segmenter training", "raw / pre-tokenized tagging CPU"]
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in records:
        m, rules = r["model"]["scores"], r["rules"]["scores"]
        udpipe = UDPIPE.get(r["treebank"])
        cells = [
            r["treebank"], f"{100 * m['Tokens']['f1']:.2f}", f"{100 * m['Sentences']['f1']:.2f}",
            f"{100 * m['Words']['f1']:.2f}", f"{100 * rules['Words']['f1']:.2f}",
            f"{100 * rules['Sentences']['f1']:.2f}",
            f"{udpipe[0]:.2f}" if udpipe else "", f"{udpipe[1]:.2f}" if udpipe else "",
        ]  # fmt: skip
        if not only:
            cells += [f"{100 * m['UPOS']['f1']:.2f}", f"{100 * rules['UPOS']['f1']:.2f}"]
        seg = r["segmenter"]
        cells += [
            f"{seg.get('training_seconds', 0) / 60:.1f} min, {seg.get('epochs_run')} epochs",
            f"{r['model']['cpu_seconds']:.1f} s / {r['pretokenized_cpu_seconds']:.1f} s",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("treebanks", nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--models", type=Path, default=None)
    parser.add_argument("--segmentation-only", action="store_true")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    each_treebank(
        args.treebanks,
        args.out,
        lambda treebank: run_one(treebank, args.out, args.models, extra, args.segmentation_only),
        table,
    )


if __name__ == "__main__":
    main()
