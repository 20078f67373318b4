"""Dev accuracy of one model under variants of the tag dictionary, from one pass of the network.

The dictionary acts only when decoding, so its variants can be compared on the same weights:
the network's label scores for dev are computed once, and each variant adds its own penalties
before the same decoding `seqtag eval` uses. Variants: none (the network alone), every
training word as written, only words seen at least k times as written, and every training
word with the lowercase fallback (a form not seen as written is looked up lowercased: what
`--tag-dictionary on` stores since it was chosen this way).

    PYTHONPATH=. python benchmarks/tag_dictionary_variants.py MODEL TRAIN.conllu [--dev DEV.conllu] [--json]

Without --dev the model's own held-out share of train is rebuilt (the split `seqtag train`
made from its seed and dev fraction), as for treebanks without a dev file. Dev only: this is
for choosing, never for test.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from checkout import require_this_checkout

from seqtag.batch import inference_order
from seqtag.engine import load_tagger
from seqtag.read import Column, Sentence, read_labeled
from seqtag.tagdict import TagDictionary
from seqtag.train import split_dev

Penalties = Callable[[Sequence[Sentence], int], np.ndarray]


def exact_forms(dictionary: TagDictionary, keep: Callable[[str], bool]) -> TagDictionary:
    """The same dictionary without its lowercase fallback, keeping only the forms ``keep``
    accepts."""
    forms = {form: i for form, i in dictionary.forms.items() if keep(form)}
    return TagDictionary(dictionary.n_labels, dictionary.tag_sets, forms)


def variants(train: Sequence[Sentence], labels) -> dict[str, Penalties | None]:
    """The names below are those of the records in
    benchmarks/results/pos-suite-ensemble-tagdict/variants/, measured before the lowercase
    fallback was built into TagDictionary."""
    counts = Counter(word for sentence in train for word in sentence.words)
    full = TagDictionary.build(train, labels)
    chosen: dict[str, Penalties | None] = {
        "none": None,
        "all words": exact_forms(full, lambda w: True).penalties,
    }
    for k in (2, 3, 5):
        chosen[f"seen >= {k}"] = exact_forms(full, lambda w, k=k: counts[w] >= k).penalties
    chosen["lowercase fallback"] = full.penalties  # what --tag-dictionary stores today
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("train")
    parser.add_argument("--dev")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    require_this_checkout()
    arrays = load_tagger(args.model, device="cpu", tag_dictionary=False)
    engine = arrays.engine
    column = Column.parse(arrays.column)
    train, _ = read_labeled(args.train, column, "strict")
    if args.dev:
        dev, _ = read_labeled(args.dev, column, "strict")
    else:
        recorded = arrays.metadata["train_config"]
        train, dev = split_dev(train, recorded["dev_fraction"], recorded["seed"])
    vocabularies = arrays.vocabularies
    labels = vocabularies.labels
    chosen = variants(train, labels)
    correct = dict.fromkeys(chosen, 0)
    tokens = 0
    for indices in inference_order(dev, engine.max_tokens):
        batch = [dev[i] for i in indices]
        scores, lengths = engine.emissions(batch)
        tokens += sum(len(s.words) for s in batch)
        for name, penalties in chosen.items():
            adjusted = scores if penalties is None else scores + penalties(batch, scores.shape[1])
            for sentence, ids in zip(batch, engine.decode(adjusted, lengths), strict=True):
                predicted = vocabularies.decode_tags(ids)
                correct[name] += sum(p == g for p, g in zip(predicted, sentence.tags, strict=True))
    accuracy = {name: n / tokens for name, n in correct.items()}
    if args.json:
        print(json.dumps({"model": args.model, "dev_tokens": tokens, "accuracy": accuracy}))
    else:
        for name, value in accuracy.items():
            print(f"{name:20} {100 * value:6.2f}  ({correct[name] - correct['none']:+d} tokens)")


if __name__ == "__main__":
    main()
