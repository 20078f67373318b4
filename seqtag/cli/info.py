"""`seqtag info`: print a model file's metadata, read without executing anything from the file."""

from __future__ import annotations

import json

import click

from seqtag.cli.common import model_option


@click.command()
@model_option("Model file to describe.")
@click.option("--json", "as_json", is_flag=True, help="Print the metadata as one JSON object.")
def info(model_file, as_json) -> None:
    """Print a model file's metadata: column, labels, configs, dev score, versions.

    Reads only the metadata, never executes anything from the file.

    \b
      seqtag info -m upos.model
      seqtag info -m upos.model --json | jq .dev_score
    """
    from seqtag.modelfile import read_metadata

    metadata = read_metadata(model_file)
    vocabularies = metadata.pop("vocabularies", {})
    metadata["labels"] = vocabularies.get("labels", [])
    metadata["vocabulary_sizes"] = {name: len(items) for name, items in vocabularies.items()}
    if as_json:
        click.echo(json.dumps(metadata, ensure_ascii=False))
        return
    for key, value in metadata.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list):
            value = " ".join(map(str, value))
        click.echo(f"{key}: {value}")
