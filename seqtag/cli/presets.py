"""`seqtag presets`: the presets that ship with seqtag, what each is for and what it costs."""

from __future__ import annotations

import click


@click.command("presets")
@click.option("--path", "path_of", metavar="NAME", help="Print only where this preset's file is.")
def presets(path_of: str | None) -> None:
    """List the presets for `seqtag train --preset NAME`: what each is for and what it costs.

    A preset is a TOML file of option values (keys are the long option names of `seqtag
    train`); to change one, copy it and pass the copy with --config. Without --preset,
    `seqtag train` chooses one from the training data and says which (listed last, as auto).

    \b
      seqtag presets
      seqtag train train.conllu --dev dev.conllu --preset pos-small -o upos.model
      cp "$(seqtag presets --path ner)" my-ner.toml
    """
    from seqtag.presets import AUTO, auto_rule, preset
    from seqtag.presets import presets as shipped

    if path_of is not None:
        click.echo(str(preset(path_of).path))
        return
    for each in shipped():
        click.echo(each.name)
        click.echo(f"    {each.summary}")
        if each.cost:
            click.echo(f"    Cost: {each.cost}")
    click.echo(f"{AUTO} (the default)")
    click.echo(f"    The preset {auto_rule()}")
