"""Tag on the CPU with numpy alone: the network of ``model.Tagger``, evaluated without torch.

Importing torch takes about two seconds, most of what tagging one line from a cold start costs;
numpy imports in a tenth of that. `seqtag tag` uses this on the CPU and torch on a GPU. The
values are torch's up to float rounding (tests compare the two on every configuration): the same
word embeddings, character BiLSTM, sentence BiLSTM or BiGRU, output layer and decoding (argmax,
Viterbi under the tag scheme, or the CRF's Viterbi).

Each recurrent layer runs its two directions together, time-major and stacked: one matrix
product per time step serves both. The LSTM's and GRU's sigmoid gates are computed with the
same tanh as the rest, sigmoid(x) = (1 + tanh(x / 2)) / 2, the halving folded into the weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqtag import SeqtagError
from seqtag.batch import MAX_BATCH_TOKENS, Batcher, inference_order
from seqtag.config import ModelConfig
from seqtag.decode import FormVectors
from seqtag.modelfile import ModelArrays
from seqtag.read import Sentence
from seqtag.scheme import FORBIDDEN, Allowed, allowed_transitions
from seqtag.vocab import Vocabularies

CHAR_BATCH_FORMS = 256  # forms per character-encoder run, sorted by length: little padding


class Recurrence:
    """Both directions of one LSTM or GRU layer, run together over time-major input.

    ``forward`` and ``backward`` are torch's weights of a one-way layer (``weight_ih_l0``,
    ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``). The caller feeds the backward direction
    its input already reversed.
    """

    def __init__(self, kind: str, forward: dict[str, np.ndarray], backward: dict[str, np.ndarray]):
        self.kind = kind
        self.hidden = H = forward["weight_hh_l0"].shape[1]
        if kind == "lstm":
            # torch's gate order is i, f, g, o; put the three sigmoid gates first: i, f, o, g.
            order = np.r_[0 : 2 * H, 3 * H : 4 * H, 2 * H : 3 * H]
            sigmoid_rows = 3 * H
        else:
            order = np.arange(3 * H)  # r, z, n: r and z are sigmoids
            sigmoid_rows = 2 * H
        scale = np.ones(len(order), dtype=np.float32)
        scale[:sigmoid_rows] = 0.5
        self.sigmoid_rows = sigmoid_rows

        def prepared(weights: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
            w_ih = weights["weight_ih_l0"][order].T * scale  # (D, G)
            w_hh = weights["weight_hh_l0"][order].T * scale  # (H, G)
            b_ih, b_hh = weights["bias_ih_l0"][order], weights["bias_hh_l0"][order]
            if kind == "lstm":
                return w_ih, w_hh, (b_ih + b_hh) * scale, np.zeros(0, np.float32)
            # GRU: the candidate's hidden bias sits inside r * (W_hn h + b_hn), so it stays apart.
            bias = np.concatenate([(b_ih + b_hh)[: 2 * H], b_ih[2 * H :]]) * scale
            return w_ih, w_hh, bias, b_hh[2 * H :]

        parts = zip(prepared(forward), prepared(backward), strict=True)
        self.w_ih, self.w_hh, self.bias, self.hidden_bias = (
            np.ascontiguousarray(np.stack(pair), dtype=np.float32) for pair in parts
        )

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """inputs (2, T, B, D): the forward direction's, then the backward one's -> (2, T, B, H)."""
        _, T, B, D = inputs.shape
        H, G = self.hidden, self.w_hh.shape[2]
        from_inputs = np.matmul(inputs.reshape(2, T * B, D), self.w_ih).reshape(2, T, B, G)
        from_inputs += self.bias[:, None, None, :]
        out = np.empty((2, T, B, H), dtype=np.float32)
        state = np.zeros((2, B, H), dtype=np.float32)
        gates = np.empty((2, B, G), dtype=np.float32)
        scratch = np.empty((2, B, H), dtype=np.float32)
        step = self._lstm_step if self.kind == "lstm" else self._gru_step
        for t in range(T):
            previous = out[:, t - 1] if t > 0 else state
            step(from_inputs[:, t], previous, gates, state, scratch, out[:, t])
        return out

    def _lstm_step(self, from_input, h, gates, cell, scratch, h_out) -> None:
        H = self.hidden
        np.matmul(h, self.w_hh, out=gates)
        gates += from_input
        np.tanh(gates, out=gates)
        sigmoids = gates[..., : 3 * H]
        sigmoids *= 0.5
        sigmoids += 0.5
        cell *= gates[..., H : 2 * H]  # forget
        np.multiply(gates[..., :H], gates[..., 3 * H :], out=scratch)  # input * candidate
        cell += scratch
        np.tanh(cell, out=scratch)
        np.multiply(gates[..., 2 * H : 3 * H], scratch, out=h_out)  # output gate

    def _gru_step(self, from_input, h, gates, _state, scratch, h_out) -> None:
        H = self.hidden
        np.matmul(h, self.w_hh, out=gates)
        reset_update = gates[..., : 2 * H]
        reset_update += from_input[..., : 2 * H]
        np.tanh(reset_update, out=reset_update)
        reset_update *= 0.5
        reset_update += 0.5
        candidate = gates[..., 2 * H :]
        candidate += self.hidden_bias[:, None, :]
        candidate *= gates[..., :H]  # reset
        candidate += from_input[..., 2 * H :]
        np.tanh(candidate, out=candidate)
        np.subtract(h, candidate, out=scratch)  # h' = n + z * (h - n)
        scratch *= gates[..., H : 2 * H]
        np.add(candidate, scratch, out=h_out)


def reversal_rows(lengths: np.ndarray, steps: int) -> np.ndarray:
    """Row numbers into a time-major (T, B, D) array viewed as (T * B, D) that reverse each
    sequence's first ``length`` steps and leave its padding in place (its own inverse)."""
    step = np.arange(steps)[:, None]  # (T, 1)
    within = np.where(step < lengths[None, :], lengths[None, :] - 1 - step, step)  # (T, B)
    return (within * len(lengths) + np.arange(len(lengths))[None, :]).reshape(-1)


def reversed_within(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    T, B = x.shape[:2]
    return x.reshape(T * B, -1)[rows].reshape(T, B, -1)


def both_directions(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(T, B, D) -> (2, T, B, D): the input as it is, and reversed within each length."""
    stacked = np.empty((2, *x.shape), dtype=np.float32)
    stacked[0] = x
    stacked[1] = reversed_within(x, rows)
    return stacked


def viterbi(
    emissions: np.ndarray,
    lengths: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    transitions: np.ndarray,
) -> list[list[int]]:
    """crf.viterbi in numpy: the best tag path of each sentence. emissions (B, T, K)."""
    B, T, K = emissions.shape
    score = start + emissions[:, 0]  # (B, K)
    backpointers = np.empty((max(T - 1, 0), B, K), dtype=np.int64)
    itself = np.broadcast_to(np.arange(K), (B, K))
    for t in range(1, T):
        candidates = score[:, :, None] + transitions  # (B, K_from, K_to)
        previous = candidates.argmax(axis=1)  # (B, K_to)
        best = np.take_along_axis(candidates, previous[:, None, :], axis=1)[:, 0]
        live = (t < lengths)[:, None]
        score = np.where(live, best + emissions[:, t], score)
        # Finished rows point each tag at itself, so following pointers back is a no-op.
        backpointers[t - 1] = np.where(live, previous, itself)
    path = np.empty((B, T), dtype=np.int64)
    path[:, T - 1] = (score + end).argmax(axis=1)
    for t in range(T - 2, -1, -1):
        path[:, t] = np.take_along_axis(backpointers[t], path[:, t + 1, None], axis=1)[:, 0]
    return [row[:n] for row, n in zip(path.tolist(), lengths.tolist(), strict=True)]


def penalties(allowed: Allowed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """0 where the scheme permits, FORBIDDEN where not: start (K,), end (K,), transitions."""

    def penalty(permitted) -> np.ndarray:
        return np.where(np.asarray(permitted, dtype=bool), 0.0, FORBIDDEN).astype(np.float32)

    return penalty(allowed.start), penalty(allowed.end), penalty(allowed.transitions)


def log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class NumpyTagger:
    """Tags sentences with a model file's weights; the same interface as decode.Predictor."""

    def __init__(
        self, arrays: ModelArrays, source: str = "model", max_tokens: int = MAX_BATCH_TOKENS
    ):
        """``source``: the model file's name, for error messages."""
        self.config = config = arrays.model_config
        self.batcher = Batcher(arrays.vocabularies)
        self.labels = arrays.vocabularies.labels
        self.max_tokens = max_tokens
        weights = _checked(arrays, source)
        self.word_embed = weights["word_embed.weight"]
        self.form_vectors = None
        if config.char:
            self.char_embed = weights["char_encoder.embed.weight"]
            prefix = "char_encoder.rnn."
            self.char_rnn = Recurrence(
                "lstm",
                _layer(weights, prefix, ""),
                _layer(weights, prefix, "_reverse"),
            )
            width = 2 * config.char_hidden
            self.form_vectors = FormVectors(
                self._encode_forms, lambda rows: np.empty((rows, width), dtype=np.float32)
            )
        self.layers = [
            Recurrence(
                config.rnn,
                _layer(weights, f"rnn.forward_layers.{depth}.", ""),
                _layer(weights, f"rnn.backward_layers.{depth}.", ""),
            )
            for depth in range(config.layers)
        ]
        self.output_weight = np.ascontiguousarray(weights["output.weight"].T)  # (2H, K)
        self.output_bias = weights["output.bias"]
        self.decoding = None  # (start, end, transitions) for Viterbi; None: argmax
        self.log_probabilities = False
        allowed = None
        if config.scheme is not None:
            allowed = allowed_transitions(self.labels.to_list(), config.scheme)
        if config.crf:
            start, end, transitions = penalties(allowed or Allowed.everything(len(self.labels)))
            self.decoding = (
                weights["crf.start"] + start,
                weights["crf.end"] + end,
                weights["crf.transitions"] + transitions,
            )
        elif allowed is not None:  # a softmax tagger, constrained to the scheme when decoding
            self.decoding = penalties(allowed)
            self.log_probabilities = True

    @classmethod
    def load(cls, path: str) -> NumpyTagger:
        from seqtag.modelfile import read_model

        return cls(read_model(path), str(path))

    def _encode_forms(self, forms: Sequence[str]) -> np.ndarray:
        """Character vectors (U, 2C) of word forms: the final states of both directions."""
        vectors = np.empty((len(forms), 2 * self.config.char_hidden), dtype=np.float32)
        chars, lengths = self.batcher.spell_arrays(forms)
        order = np.argsort(lengths, kind="stable")
        for first in range(0, len(forms), CHAR_BATCH_FORMS):
            picked = order[first : first + CHAR_BATCH_FORMS]
            picked_lengths = lengths[picked]
            steps = int(picked_lengths.max())
            ids = chars[picked, :steps].T  # (L, U), time-major
            rows = reversal_rows(picked_lengths, steps)
            inputs = np.empty((2, steps, len(picked), self.char_embed.shape[1]), np.float32)
            inputs[0] = self.char_embed[ids]
            inputs[1] = self.char_embed[ids.reshape(-1)[rows].reshape(ids.shape)]
            out = self.char_rnn(inputs)  # (2, L, U, C)
            last = picked_lengths - 1
            columns = np.arange(len(picked))
            vectors[picked] = np.concatenate([out[0, last, columns], out[1, last, columns]], -1)
        return vectors

    def emissions(self, sentences: Sequence[Sentence]) -> tuple[np.ndarray, np.ndarray]:
        """Label scores (B, T, K) of non-empty sentences, and their lengths (B,)."""
        encoded = self.batcher.encode(sentences)
        words, forms = encoded.words.T, encoded.forms.T  # (T, B), time-major
        x = self.word_embed[words]
        if self.form_vectors is not None:
            spelled = self.form_vectors(encoded.spellings)  # (U, 2C)
            x = np.concatenate([x, spelled[forms]], axis=-1)
        rows = reversal_rows(encoded.lengths, words.shape[0])
        for layer in self.layers:
            out = layer(both_directions(x, rows))  # (2, T, B, H); backward still reversed
            x = np.concatenate([out[0], reversed_within(out[1], rows)], axis=-1)
        scores = x @ self.output_weight + self.output_bias  # (T, B, K)
        return scores.transpose(1, 0, 2), encoded.lengths

    def decode(self, scores: np.ndarray, lengths: np.ndarray) -> list[list[int]]:
        if self.decoding is None:
            best = scores.argmax(axis=-1).tolist()
            return [row[:n] for row, n in zip(best, lengths.tolist(), strict=True)]
        if self.log_probabilities:
            scores = log_softmax(scores)
        return viterbi(scores, lengths, *self.decoding)

    def __call__(self, sentences: Sequence[Sentence]) -> list[list[str]]:
        predictions: list[list[str]] = [[] for _ in sentences]
        decode_label = self.labels.decode
        for indices in inference_order(sentences, self.max_tokens):
            best = self.decode(*self.emissions([sentences[i] for i in indices]))
            for i, ids in zip(indices, best, strict=True):
                predictions[i] = [decode_label(label_id) for label_id in ids]
        return predictions


LAYER_WEIGHTS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def _layer(weights: dict[str, np.ndarray], prefix: str, suffix: str) -> dict[str, np.ndarray]:
    return {name: weights[f"{prefix}{name}{suffix}"] for name in LAYER_WEIGHTS}


def expected_shapes(config: ModelConfig, vocabularies: Vocabularies) -> dict[str, tuple]:
    """The name and shape of every weight a model with this configuration has."""
    n_labels = len(vocabularies.labels)

    def layer(prefix: str, suffix: str, gates: int, inputs: int, hidden: int) -> dict:
        shapes = ((gates * hidden, inputs), (gates * hidden, hidden), (gates * hidden,)) + (
            (gates * hidden,),
        )
        return {f"{prefix}{n}{suffix}": s for n, s in zip(LAYER_WEIGHTS, shapes, strict=True)}

    shapes: dict[str, tuple] = {"word_embed.weight": (len(vocabularies.words), config.word_dim)}
    inputs = config.word_dim
    if config.char:
        C = config.char_hidden
        shapes["char_encoder.embed.weight"] = (len(vocabularies.chars), config.char_dim)
        for suffix in ("", "_reverse"):
            shapes |= layer("char_encoder.rnn.", suffix, 4, config.char_dim, C)
        inputs += 2 * C
    gates = 4 if config.rnn == "lstm" else 3
    for depth in range(config.layers):
        for direction in ("forward", "backward"):
            prefix = f"rnn.{direction}_layers.{depth}."
            shapes |= layer(prefix, "", gates, inputs, config.hidden)
        inputs = 2 * config.hidden
    shapes["output.weight"] = (n_labels, 2 * config.hidden)
    shapes["output.bias"] = (n_labels,)
    if config.crf:
        shapes |= {"crf.start": (n_labels,), "crf.end": (n_labels,)}
        shapes["crf.transitions"] = (n_labels, n_labels)
    return shapes


def _checked(arrays: ModelArrays, source: str) -> dict[str, np.ndarray]:
    """The weights as float32, after checking each name and shape against the configuration
    (what torch's load_state_dict checks), so a damaged file fails here and not mid-stream."""
    weights = arrays.weights
    for key, shape in expected_shapes(arrays.model_config, arrays.vocabularies).items():
        if key not in weights:
            raise SeqtagError(f"damaged seqtag model file: weight {key} missing", source)
        if tuple(weights[key].shape) != shape:
            raise SeqtagError(
                f"damaged seqtag model file: weight {key} has shape "
                f"{tuple(weights[key].shape)}, its configuration needs {shape}",
                source,
            )
    return {key: np.asarray(value, dtype=np.float32) for key, value in weights.items()}
