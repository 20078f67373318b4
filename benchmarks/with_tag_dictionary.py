"""Copy a model file with the tag dictionary of its training file added, as if it had been
trained with `--tag-dictionary on`, so that `seqtag eval` and `seqtag eval --no-tag-dictionary`
measure the dictionary on models trained without one (the weights are not touched).

    python benchmarks/with_tag_dictionary.py MODEL TRAIN.conllu OUT.model
    seqtag eval -m OUT.model dev.conllu --json | jq .accuracy
    seqtag eval -m OUT.model dev.conllu --json --no-tag-dictionary | jq .accuracy

Give it the training file the model was trained on: a dictionary from other data would be
another experiment.
"""

from __future__ import annotations

import argparse
import dataclasses

from seqtag import modelfile
from seqtag.config import TrainConfig, as_recorded, field_names
from seqtag.read import Column, read_labeled

# Metadata that modelfile.save writes itself; the rest (dev score, epochs, ...) is copied.
WRITTEN_BY_SAVE = {
    "format",
    "format_version",
    "seqtag_version",
    "column",
    "model_config",
    "train_config",
    "vocabularies",
    "shared",
}


def add_tag_dictionary(model: str, train: list, out: str, source: str) -> int:
    """Save ``model`` again as ``out`` with the tag dictionary of ``train`` (sentences read
    from ``source``); the number of training words in the dictionary."""
    loaded = modelfile.load(model)
    vocabularies = loaded.vocabularies.with_tag_dictionary(train)
    recorded = as_recorded(loaded.metadata["train_config"])
    train_config = TrainConfig(
        **{k: v for k, v in recorded.items() if k in field_names(TrainConfig)}
    )
    train_config = dataclasses.replace(train_config, tag_dictionary="on")
    extra = {k: v for k, v in loaded.metadata.items() if k not in WRITTEN_BY_SAVE}
    extra["tag_dictionary_added_from"] = source
    modelfile.save(out, loaded.model, vocabularies, loaded.column, train_config, extra)
    return len(vocabularies.tag_dictionary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("train")
    parser.add_argument("out")
    args = parser.parse_args()
    column = Column.parse(modelfile.read_metadata(args.model)["column"])
    train, _ = read_labeled(args.train, column, "strict")
    words = add_tag_dictionary(args.model, train, args.out, args.train)
    print(f"{args.out}: {words} training words in its tag dictionary")


if __name__ == "__main__":
    main()
