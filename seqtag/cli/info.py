"""`seqtag info`: print a model file's metadata, read without executing anything from the file."""

from __future__ import annotations

import json

import click

from seqtag.cli.common import model_option


@click.command()
@model_option("Model file to describe.")
@click.option("--json", "as_json", is_flag=True, help="Print the metadata as one JSON object.")
def info(model_file, as_json) -> None:
    """Print a model file's metadata: column, labels, configs, dev score, versions, and the
    segmenter for raw text (its settings, dev scores and how many multiword tokens it knows).

    Reads only the metadata, never executes anything from the file.

    \b
      seqtag info -m upos.model
      seqtag info -m upos.model --json | jq .dev_score
    """
    from seqtag.config import ADDED_LATER, ModelConfig, TrainConfig, field_names
    from seqtag.modelfile import read_metadata

    metadata = read_metadata(model_file)
    # A file from before an option existed trained without it: say so rather than leave the
    # reader to assume today's default (affixes are on now, they were not in 0.1.0).
    for key, kind in (("model_config", ModelConfig), ("train_config", TrainConfig)):
        if isinstance(metadata.get(key), dict):
            names = field_names(kind)
            for name, value in ADDED_LATER.items():  # in a fixed order, after the stored keys
                if name in names:
                    metadata[key].setdefault(name, value)
    vocabularies = metadata.pop("vocabularies", {})
    dictionary = vocabularies.pop("tag_dictionary", None)
    if isinstance(dictionary, dict):  # train --tag-dictionary kept one: how many words it holds
        metadata["tag_dictionary_words"] = len(dictionary.get("forms", {}))
    label_lists = [vocabularies.get("labels", []), *vocabularies.pop("more_labels", [])]
    sizes = {name: len(items) for name, items in vocabularies.items()}
    if len(label_lists) == 1:
        metadata["labels"] = label_lists[0]
    else:  # a model of several columns: labels by column
        names = str(metadata.get("column", "")).split(",")
        metadata["labels"] = dict(zip(names, label_lists, strict=True))
        del sizes["labels"]
        sizes |= {f"labels {name}": len(items) for name, items in metadata["labels"].items()}
    metadata["vocabulary_sizes"] = sizes
    metadata["segmenter"] = _segmenter_summary(metadata.get("segmenter"))
    if as_json:
        click.echo(json.dumps(metadata, ensure_ascii=False))
        return
    for key, value in metadata.items():
        if key == "labels" and isinstance(value, dict):
            for name, labels in value.items():
                click.echo(f"labels {name}: {' '.join(labels)}")
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list):
            value = " ".join(map(str, value))
        click.echo(f"{key}: {value}")


def _segmenter_summary(segmenter) -> dict | str:
    """The segmenter's metadata without its character and multiword tables (their sizes)."""
    if not isinstance(segmenter, dict):
        return "none: raw text gets the rule tokenizer (train on CoNLL-U, or train-tokenizer)"
    summary = dict(segmenter.get("config", {}))
    summary["characters"] = len(segmenter.get("characters", {}))
    summary["multiword_forms"] = len(segmenter.get("multiwords", {}))
    for key, value in segmenter.get("dev_scores", {}).items():
        summary[f"dev_{key}"] = round(value, 4)
    for key, value in segmenter.get("dev_sentence_f1", {}).items():  # who ends sentences
        summary[f"dev_sentence_f1_{key}"] = round(value, 4)
    for key in ("sentences", "best_epoch", "epochs_run", "train_characters", "training_seconds"):
        if key in segmenter:
            summary[key] = segmenter[key]
    return summary
