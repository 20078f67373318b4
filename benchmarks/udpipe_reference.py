"""UDPipe 1, the reference tagger of benchmarks/speed.py (optional: `pip install ufal.udpipe`).

Two jobs, one per subcommand, so that the timed tagging run is a whole process:

    python benchmarks/udpipe_reference.py train TRAIN.conllu HELDOUT.conllu MODEL [ITERATIONS]
    python benchmarks/udpipe_reference.py tag MODEL < words.txt > tagged.conllu

`train` builds a tagger-only model (no tokenizer, no parser) with the options below, which are the
ones the speed issue names: UDPipe predicts UPOS, XPOS and FEATS at once. ITERATIONS (default 20)
changes only how long it trains, not what tagging a word costs: a model for speed alone may
take fewer (en_ewt's first iteration took several minutes on one core). `tag` reads pre-tokenized
text (one sentence per line, tokens separated by spaces) on stdin and writes CoNLL-U, exactly as
`Pipeline(model, "horizontal", Pipeline.DEFAULT, Pipeline.NONE, "conllu")`.
"""

from __future__ import annotations

import sys
from pathlib import Path

TAGGER_OPTIONS = (
    "models=1;templates=tagger;use_lemma=1;provide_lemma=0;use_xpostag=1;provide_xpostag=1;"
    "use_feats=1;provide_feats=1;guesser_suffix_rules=8;guesser_enrich_dictionary=6;"
    "guesser_prefixes_max=0;iterations=20;early_stopping=1"
)


def _udpipe():
    try:
        import ufal.udpipe
    except ImportError:
        sys.exit(
            "ufal.udpipe is not installed: pip install ufal.udpipe (a benchmark-only dependency)"
        )
    return ufal.udpipe


def _read_sentences(udpipe, path: Path):
    reader = udpipe.InputFormat.newConlluInputFormat()
    reader.setText(path.read_text(encoding="utf-8"))
    sentences = udpipe.Sentences()
    error = udpipe.ProcessingError()
    sentence = udpipe.Sentence()
    while reader.nextSentence(sentence, error):
        sentences.append(sentence)
        sentence = udpipe.Sentence()
    if error.occurred():
        sys.exit(f"{path}: {error.message}")
    return sentences


def train(train_path: Path, heldout_path: Path, model_path: Path, iterations: int = 20) -> None:
    udpipe = _udpipe()
    options = TAGGER_OPTIONS.replace("iterations=20", f"iterations={iterations}")
    error = udpipe.ProcessingError()
    model = udpipe.Trainer.train(
        "morphodita_parsito",
        _read_sentences(udpipe, train_path),
        _read_sentences(udpipe, heldout_path),
        "none",
        options,
        "none",
        error,
    )
    if error.occurred():
        sys.exit(f"training failed: {error.message}")
    model_path.write_bytes(model if isinstance(model, bytes) else model.encode("latin-1"))


def tag(model_path: Path) -> None:
    udpipe = _udpipe()
    model = udpipe.Model.load(str(model_path))
    if model is None:
        sys.exit(f"{model_path}: cannot load the UDPipe model")
    pipeline = udpipe.Pipeline(
        model, "horizontal", udpipe.Pipeline.DEFAULT, udpipe.Pipeline.NONE, "conllu"
    )
    error = udpipe.ProcessingError()
    output = pipeline.process(sys.stdin.read(), error)
    if error.occurred():
        sys.exit(f"tagging failed: {error.message}")
    sys.stdout.write(output)


def main(argv: list[str]) -> None:
    if len(argv) in (4, 5) and argv[0] == "train":
        train(Path(argv[1]), Path(argv[2]), Path(argv[3]), *(int(n) for n in argv[4:]))
    elif len(argv) == 2 and argv[0] == "tag":
        tag(Path(argv[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
