"""train --rnn auto: an LSTM and a GRU tagger trained, the better on dev kept, both scores said
and recorded; a checkpointed run resumes with the same command."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import DATA, TINY_OPTIONS

from seqtag import modelfile
from seqtag.cli import main
from seqtag.config import ModelConfig

TRAIN = DATA / "en_ewt-excerpt-train.conllu"
DEV = DATA / "en_ewt-excerpt-dev.conllu"


def _train(*args):
    return CliRunner().invoke(main, ["train", *map(str, args), *TINY_OPTIONS[:-1]])


def test_rnn_auto_trains_both_keeps_the_better_and_records_both_scores(tmp_path):
    out, ckpt = tmp_path / "m.model", tmp_path / "ckpt"
    args = [DEV, "-o", out, "--rnn", "auto", "--no-progress", "--checkpoint", ckpt]
    result = _train(*args)
    assert result.exit_code == 0, result.output
    metadata = modelfile.read_metadata(out)
    choice = metadata["rnn_auto"]
    assert choice["kept"] in ("lstm", "gru")
    assert metadata["model_config"]["rnn"] == choice["kept"]
    assert (choice["kept"] == "gru") == (choice["gru"] > choice["lstm"])
    said = f"with LSTM layers, {choice['gru']:.4f} with GRU: kept the {choice['kept'].upper()}."
    assert said in result.stderr
    network_alone = metadata.get("tag_dictionary_dev", {}).get("without", metadata["dev_score"])
    assert network_alone == pytest.approx(choice[choice["kept"]])
    again = _train(*args, "--resume", ckpt)  # the original command, resumed
    assert again.exit_code == 0, again.output
    assert modelfile.read_metadata(out)["rnn_auto"] == choice
    tagged = CliRunner().invoke(main, ["tag", "-m", str(out)], input="The dog ran .\n")
    assert tagged.exit_code == 0


def test_rnn_auto_is_refused_beside_a_start_from_a_model(tmp_path, tiny_model):
    result = _train(DEV, "-o", tmp_path / "m.model", "--rnn", "auto", "--init", tiny_model)
    assert result.exit_code == 2 and "--rnn auto trains both kinds" in result.stderr


@pytest.mark.parametrize(("lstm", "gru", "kept"), [(0.8, 0.7, "lstm"), (0.7, 0.7, "lstm"),
                                                   (0.7, 0.8, "gru")])  # fmt: skip
def test_the_gru_is_kept_only_when_it_scores_higher(lstm, gru, kept):
    from seqtag.run import _rnn_chosen_on_dev

    class FakeMembers:
        def __init__(self, score):
            self.score = score

        def train(self, n_members, report, **how):
            assert how["save_checkpoint"] is None
            return ["g"] * n_members, None

        def final_model(self, results, config):
            assert config.rnn == ("gru" if results == ["g", "g"] else "lstm")
            return None, self.score

    class Say:
        def say(self, message):
            pass

    first, second = FakeMembers(lstm), FakeMembers(gru)
    chosen, results, interrupted, choice, trained = _rnn_chosen_on_dev(
        (first, second), ["l", "l"], ModelConfig(), Say(), {}
    )
    assert interrupted is None and choice == {"lstm": lstm, "gru": gru, "kept": kept}
    assert trained == ["g", "g"]  # the GRUs' time is added, kept or not
    assert (chosen, results) == ((second, ["g", "g"]) if kept == "gru" else (first, ["l", "l"]))
