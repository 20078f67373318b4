import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqtag.architecture import Recurrent
from seqtag.modelfile import from_bidirectional_names
from seqtag.rnn import BiRNN, reversal_index, reverse


def test_reversal_reverses_each_row_within_its_length_and_undoes_itself():
    x = torch.arange(8.0).reshape(2, 4, 1)
    index = reversal_index(torch.tensor([4, 2]), 4, torch.device("cpu"))
    assert reverse(x, index).squeeze(-1).tolist() == [[3, 2, 1, 0], [5, 4, 6, 7]]
    assert torch.equal(reverse(reverse(x, index), index), x)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_birnn_computes_what_a_packed_bidirectional_rnn_computes(kind):
    torch.manual_seed(0)
    reference = {"lstm": nn.LSTM, "gru": nn.GRU}[kind](
        6, 5, num_layers=2, batch_first=True, bidirectional=True
    )
    layers = [Recurrent(kind, 6, 5, ("", ""), ("", "")), Recurrent(kind, 10, 5, ("", ""), ("", ""))]
    ours = BiRNN(layers, dropout=0.5)
    renamed = from_bidirectional_names(
        {f"rnn.{k}": v for k, v in reference.state_dict().items()}, "rnn"
    )
    ours.load_state_dict({k.removeprefix("rnn."): v for k, v in renamed.items()}, strict=True)
    reference.eval(), ours.eval()
    lengths = torch.tensor([3, 7, 1, 5])
    x = torch.randn(4, 7, 6)
    expected, _ = reference(
        pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    )
    expected, _ = pad_packed_sequence(expected, batch_first=True)
    got = ours(x, lengths)
    mask = torch.arange(7)[None, :] < lengths[:, None]
    assert got.shape == (4, 7, 10)
    assert torch.allclose(got[mask], expected[mask], atol=1e-6)
    # Whatever sits in the padding never reaches the real tokens.
    noisy = x.clone()
    noisy[~mask] = 100.0
    assert torch.allclose(ours(noisy, lengths)[mask], got[mask], atol=1e-6)


def test_renaming_leaves_other_weights_alone():
    state = {
        "rnn.weight_ih_l1_reverse": 1,
        "rnn.bias_hh_l0": 2,
        "output.weight": 3,
        "char_encoder.rnn.weight_ih_l0": 4,
    }
    assert from_bidirectional_names(state, "rnn") == {
        "rnn.backward_layers.1.weight_ih_l0": 1,
        "rnn.forward_layers.0.bias_hh_l0": 2,
        "output.weight": 3,
        "char_encoder.rnn.weight_ih_l0": 4,
    }
