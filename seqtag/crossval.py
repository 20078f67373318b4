"""Cross-validation: how good a tagger trained on a small corpus is, without a test set to spare,
and where the corpus's annotation may be wrong.

The corpus is split into K folds: by document where the file marks documents (``# newdoc`` in
CoNLL-U, when there are at least K of them), else by sentence; seeded, and balanced by tokens.
Each fold is tagged by a model trained on the other folds, with a tenth of those (seeded) held
out as dev for early stopping, exactly as `seqtag train` would train on them. The out-of-fold
predictions cover every sentence once; scored per fold they give mean and spread, and the
tokens where a model disagrees with the gold tag most confidently are the first places a
reviewer should look (``suspects``).
"""

from __future__ import annotations

import dataclasses
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from seqtag.errors import SeqtagError
from seqtag.read import Sentence

DEV_SHARE = 0.1  # of the training folds, held out for early stopping


@dataclass
class Fold:
    number: int  # from 1
    scores: dict  # evaluate.score of the fold's sentences
    train_sentences: int
    dev_sentences: int
    seconds: float


@dataclass
class Suspect:
    """A token whose gold tag the out-of-fold model contradicts, and how sure it was."""

    sentence: int  # index in the corpus
    token: int
    line: int  # in the corpus file, 1-based
    word: str
    gold: str
    predicted: str
    confidence: float


def documents(sentences: Sequence[Sentence]) -> list[list[int]]:
    """The corpus's sentences grouped by document (a CoNLL-U ``# newdoc`` comment starts one);
    one group of all of them when no document is marked."""
    groups: list[list[int]] = []
    for i, sentence in enumerate(sentences):
        comments = [line for line in sentence.lines or [] if line.startswith("#")]
        if not groups or any(line.startswith("# newdoc") for line in comments):
            groups.append([])
        groups[-1].append(i)
    return groups


def split_folds(sentences: Sequence[Sentence], k: int, seed: int) -> tuple[list[list[int]], str]:
    """K folds of sentence indices, balanced by tokens, and what was split ("documents" or
    "sentences"): whole documents where there are at least K, else single sentences."""
    if len(sentences) < k:
        raise SeqtagError(f"{k} folds need at least {k} sentences; the corpus has {len(sentences)}")
    groups = documents(sentences)
    unit = "documents"
    if len(groups) < k:
        groups, unit = [[i] for i in range(len(sentences))], "sentences"
    random.Random(seed).shuffle(groups)
    folds: list[list[int]] = [[] for _ in range(k)]
    sizes = [0] * k
    # Largest first into the lightest fold: folds within a group's size of each other.
    for group in sorted(groups, key=lambda g: -sum(len(sentences[i].words) for i in g)):
        lightest = min(range(k), key=lambda f: (sizes[f], f))
        folds[lightest].extend(group)
        sizes[lightest] += sum(len(sentences[i].words) for i in group)
    return [sorted(fold) for fold in folds], unit


def write_sentences(path: Path, sentences: Sequence[Sentence], file_format: str, column) -> None:
    """Sentences back into a file of their own format (the lines they were read from)."""
    from seqtag.write import column_lines, conllu_lines

    with path.open("w", encoding="utf-8") as out:
        for sentence in sentences:
            if file_format == "conllu":
                lines = conllu_lines(sentence, sentence.tags, column)
            else:
                lines = column_lines(sentence, sentence.tags)
            out.write("\n".join(lines) + "\n\n")


def cross_validate(request, sentences: Sequence[Sentence], file_format: str, k: int, report):
    """Train and tag each fold (``request``: a run.TrainRequest whose files are replaced per
    fold); returns the folds' results and the out-of-fold predictions (predict.Confident) of
    every sentence, in corpus order, and what the folds split ("documents" or "sentences")."""
    from seqtag.engine import load_tagger
    from seqtag.evaluate import score
    from seqtag.read import Column
    from seqtag.run import train_run
    from seqtag.train import split_dev

    column = Column.parse(request.column or "upos")
    seed = request.training.seed
    folds, unit = split_folds(sentences, k, seed)
    report.say(f"{k} folds of {unit}, seed {seed}: {', '.join(str(len(f)) for f in folds)} "
               "sentences.")  # fmt: skip
    predictions: list = [None] * len(sentences)
    results = []
    suffix = ".conllu" if file_format == "conllu" else ".txt"
    with tempfile.TemporaryDirectory(prefix="seqtag-cv-") as work:
        work = Path(work)
        for number, held in enumerate(folds, start=1):
            start = time.perf_counter()
            held_set = set(held)
            rest = [sentences[i] for i in range(len(sentences)) if i not in held_set]
            train_part, dev_part = split_dev(rest, DEV_SHARE, seed + number)
            paths = {name: work / f"{name}{suffix}" for name in ("train", "dev")}
            write_sentences(paths["train"], train_part, file_format, column)
            write_sentences(paths["dev"], dev_part, file_format, column)
            model = work / "fold.model"
            fold_request = dataclasses.replace(
                request, train_file=str(paths["train"]), dev_file=str(paths["dev"]),
                output=str(model), input_format=file_format, tag_column=None,
            )  # fmt: skip
            report.on_fold(number, k)
            outcome = train_run(fold_request, report)
            if not outcome.saved or outcome.interrupted is not None:
                raise KeyboardInterrupt
            tagger = load_tagger(model, "cpu")
            gold = [sentences[i] for i in held]
            confident = tagger.with_confidence(gold)
            for i, tagged in zip(held, confident, strict=True):
                predictions[i] = tagged
            words, lowercase = tagger.vocabularies.words, tagger.model_config.lowercase

            def is_known(word: str, words=words, lowercase=lowercase) -> bool:
                return (word.lower() if lowercase else word) in words  # as seqtag eval counts

            labels = tagger.vocabularies.labels.to_list()
            scores = score(gold, [c.tags for c in confident], is_known, labels)
            results.append(Fold(number, scores, len(train_part), len(dev_part),
                                time.perf_counter() - start))  # fmt: skip
    return results, predictions, unit


def summary(folds: Sequence[Fold], metric: str) -> dict:
    """Mean and standard deviation over folds of the metric and the known/unseen accuracy."""
    found = {}
    for key in dict.fromkeys([metric, "accuracy", "known_accuracy", "unknown_accuracy"]):
        values = [f.scores[key] for f in folds if f.scores.get(key) is not None]
        if values:
            found[key] = {
                "mean": statistics.mean(values),
                "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            }
    return found


def suspects(sentences: Sequence[Sentence], predictions: Sequence, n: int) -> list[Suspect]:
    """The ``n`` tokens where the out-of-fold model contradicts gold most confidently."""
    found = []
    for index, (sentence, tagged) in enumerate(zip(sentences, predictions, strict=True)):
        for t, (gold, predicted, p) in enumerate(
            zip(sentence.tags, tagged.tags, tagged.confidence, strict=True)
        ):
            if gold != predicted:
                if isinstance(p, tuple):
                    p = min(p)
                line = sentence.line + (sentence.word_lines[t] if sentence.word_lines else t)
                found.append(Suspect(index, t, line, sentence.words[t], gold, predicted, p))
    found.sort(key=lambda s: (-s.confidence, s.sentence, s.token))
    return found[:n]
