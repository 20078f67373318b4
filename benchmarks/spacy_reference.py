"""spaCy 3.8, a reference tagger of benchmarks/speed.py (optional: `pip install spacy`).

Two jobs, one per subcommand, so that the timed tagging run is a whole process:

    python benchmarks/spacy_reference.py train TRAIN.conllu DEV.conllu OUTDIR [--max-steps N]
    python benchmarks/spacy_reference.py tag OUTDIR < words.txt > tagged.tsv

`train` trains spaCy's tagger from scratch on the UPOS column, with the pipeline `spacy init
config --lang en --pipeline tagger --optimize efficiency` writes (a hash-embedding CNN, no
pretrained vectors), and saves it in OUTDIR (its `model-last`). `tag` reads pre-tokenized text
(one sentence a line, tokens separated by spaces) on stdin, makes a `Doc` of each line's words
and tags them through `nlp.pipe`, writing `token<TAB>tag` lines and a blank line after each
sentence, as `seqtag tag -i tokenized -f tsv` does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _spacy():
    try:
        import spacy
    except ImportError:
        sys.exit("spaCy is not installed: pip install spacy (a benchmark-only dependency)")
    return spacy


def _conllu(path: Path):
    """(words, UPOS tags) of each sentence; multiword ranges and empty nodes left out."""
    words, tags = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if words:
                yield words, tags
            words, tags = [], []
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if fields[0].isdigit():
            words.append(fields[1])
            tags.append(fields[3])
    if words:
        yield words, tags


def _doc_bin(spacy, path: Path, out: Path) -> None:
    from spacy.tokens import Doc, DocBin

    nlp = spacy.blank("en")
    docs = DocBin(attrs=["TAG"])
    for words, tags in _conllu(path):
        docs.add(Doc(nlp.vocab, words=words, tags=tags))
    docs.to_disk(out)


def train(args) -> None:
    spacy = _spacy()
    from spacy.cli.init_config import init_config
    from spacy.cli.train import train as spacy_train

    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    _doc_bin(spacy, Path(args.train), out / "train.spacy")
    _doc_bin(spacy, Path(args.dev), out / "dev.spacy")
    config = init_config(lang="en", pipeline=["tagger"], optimize="efficiency", gpu=False)
    config_path = out / "config.cfg"
    config.to_disk(config_path)
    overrides = {
        "paths.train": str(out / "train.spacy"),
        "paths.dev": str(out / "dev.spacy"),
        "training.max_steps": args.max_steps,
    }
    spacy_train(config_path, out / "trained", overrides=overrides)


def tag(args) -> None:
    spacy = _spacy()
    from spacy.tokens import Doc

    nlp = spacy.load(Path(args.outdir) / "trained" / "model-last")
    lines = (line.rstrip("\n") for line in sys.stdin)
    docs = (Doc(nlp.vocab, words=line.split(" ")) if line else Doc(nlp.vocab) for line in lines)
    out = sys.stdout
    for doc in nlp.pipe(docs, batch_size=256):
        out.write("".join(f"{token.text}\t{token.tag_}\n" for token in doc) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    trainer = commands.add_parser("train")
    trainer.add_argument("train")
    trainer.add_argument("dev")
    trainer.add_argument("outdir")
    trainer.add_argument("--max-steps", type=int, default=20000, help="spaCy's default: 20000")
    tagger = commands.add_parser("tag")
    tagger.add_argument("outdir")
    args = parser.parse_args()
    {"train": train, "tag": tag}[args.command](args)


if __name__ == "__main__":
    main()
