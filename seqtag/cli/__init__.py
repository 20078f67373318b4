"""Command line: train, eval, tag, select, cv, curve, tokenize, train-tokenizer, info and presets. The
only package that prints.

stdout carries data only; progress, summaries and warnings go to stderr. Expected failures are
``SeqtagError`` and end as ``Error: FILE:LINE: message`` with exit 1; usage errors exit 2.
torch is imported inside the commands, so ``seqtag --help`` starts fast.

This module holds the ``seqtag`` group and its error handling; each command lives in a module of
its own (``train``, ``evaluate``, ``tag``, ``select``, ``cv``, ``curve``, ``tokenize``, ``info``,
``presets``), and what they share in ``common``.
"""

from __future__ import annotations

import os
import sys

import click

from seqtag.cli import curve, cv, evaluate, info, presets, select, tag, tokenize, train
from seqtag.errors import SeqtagError
from seqtag.version import __version__


class SeqtagGroup(click.Group):
    """Turns expected errors into one line on stderr, and a closed stdout into a quiet exit."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SeqtagError as error:
            click.echo(f"Error: {error}", err=True)
            ctx.exit(1)
        except tag.Terminated:
            click.echo("Terminated: output ends after the last whole sentence.", err=True)
            ctx.exit(143)
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, and keep Python from complaining
            # about the unflushable stdout at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)


@click.group(cls=SeqtagGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seqtag")
def main() -> None:
    """Train and run BiLSTM/BiGRU sequence taggers (POS, NER) for small training sets.

    \b
      seqtag train train.conllu --dev dev.conllu -o upos.model
      seqtag eval -m upos.model test.conllu
      cat text.txt | seqtag tag -m upos.model --format tsv
      seqtag train ner-train.txt --dev ner-dev.txt -o ner.model
    """


main.add_command(train.train)
main.add_command(evaluate.evaluate)
main.add_command(tag.tag)
main.add_command(info.info)
main.add_command(presets.presets)
main.add_command(select.select)
main.add_command(cv.cv)
main.add_command(curve.curve)
main.add_command(tokenize.tokenize)
main.add_command(tokenize.train_tokenizer)
