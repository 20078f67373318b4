"""Numpy engine: tag on the CPU with numpy alone, the network of ``model.Network`` without torch.

Importing torch takes about two seconds, most of what tagging one line from a cold start costs;
numpy imports in a tenth of that. `seqtag tag` uses this on the CPU and torch on a GPU. The
values are torch's up to float rounding (tests compare the two on every configuration): the same
word embeddings, character BiLSTM, affix embeddings, sentence BiLSTM or BiGRU, output layer
and decoding (argmax, Viterbi under the tag scheme, or the CRF's Viterbi). Which layers there
are, their sizes and their weights' names come from architecture.Architecture, as the torch
network's do; the tagging loop is predict.tag_sentences, shared with the torch engine.

Each recurrent layer runs its two directions together, time-major and stacked: one matrix
product per time step serves both. The LSTM's and GRU's sigmoid gates are computed with the
same tanh as the rest, sigmoid(x) = (1 + tanh(x / 2)) / 2, the halving folded into the weights.
Work that depends on a word form alone is done once per form: its character vector (cached
across batches, as torch_engine.TorchEngine does) and the first layer's input term (once per batch).
The character encoder runs as a packed sequence would: longest form first, each step on the
forms still going, so no step is spent on padding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from seqtag.architecture import Architecture, Recurrent
from seqtag.batch import MAX_BATCH_TOKENS, Batcher, Encoded
from seqtag.errors import SeqtagError
from seqtag.formcache import FormVectors
from seqtag.marginals import Chain, column_softmax, log_softmax
from seqtag.modelfile import ModelArrays
from seqtag.predict import Confident, tag_sentences, tag_with_confidence
from seqtag.read import Sentence
from seqtag.scheme import FORBIDDEN, Allowed, allowed_transitions


class Recurrence:
    """Both directions of one LSTM or GRU layer, run together over time-major input.

    ``layer`` says which weights of the model are its directions' (torch's ``weight_ih_l0``,
    ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0`` of a one-way layer). The caller feeds the
    backward direction its input already reversed.
    """

    def __init__(self, layer: Recurrent, weights: dict[str, np.ndarray]):
        self.kind = kind = layer.kind
        self.hidden = H = layer.hidden
        if kind == "lstm":
            # torch's gate order is i, f, g, o; put the three sigmoid gates first: i, f, o, g.
            order = np.r_[0 : 2 * H, 3 * H : 4 * H, 2 * H : 3 * H]
            sigmoid_rows = 3 * H
        else:
            order = np.arange(3 * H)  # r, z, n: r and z are sigmoids
            sigmoid_rows = 2 * H
        scale = np.ones(len(order), dtype=np.float32)
        scale[:sigmoid_rows] = 0.5

        def prepared(weights: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
            w_ih = weights["weight_ih_l0"][order].T * scale  # (D, G)
            w_hh = weights["weight_hh_l0"][order].T * scale  # (H, G)
            b_ih, b_hh = weights["bias_ih_l0"][order], weights["bias_hh_l0"][order]
            if kind == "lstm":
                return w_ih, w_hh, (b_ih + b_hh) * scale, np.zeros(0, np.float32)
            # GRU: the candidate's hidden bias sits inside r * (W_hn h + b_hn), so it stays apart.
            bias = np.concatenate([(b_ih + b_hh)[: 2 * H], b_ih[2 * H :]]) * scale
            return w_ih, w_hh, bias, b_hh[2 * H :]

        forward, backward = (
            {name: weights[key] for name, key in layer.names(direction).items()}
            for direction in (layer.forward, layer.backward)
        )
        parts = zip(prepared(forward), prepared(backward), strict=True)
        self.w_ih, self.w_hh, self.bias, self.hidden_bias = (
            np.ascontiguousarray(np.stack(pair), dtype=np.float32) for pair in parts
        )

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """inputs (2, T, B, D): the forward direction's, then the backward one's -> (2, T, B, H)."""
        _, T, B, D = inputs.shape
        projected = np.matmul(inputs.reshape(2, T * B, D), self.w_ih)
        projected += self.bias[:, None, :]
        return self.run(projected.reshape(2, T, B, -1))

    def project(self, vectors: np.ndarray) -> np.ndarray:
        """vectors (N, D) -> (2, N, G): each vector's input term for both directions, which
        ``run`` takes instead of the inputs (computed once per distinct input)."""
        projected = np.matmul(vectors, self.w_ih)
        projected += self.bias[:, None, :]
        return projected

    def run(self, from_inputs: np.ndarray) -> np.ndarray:
        """from_inputs (2, T, B, G), the projected inputs -> the hidden states (2, T, B, H)."""
        _, T, B, G = from_inputs.shape
        H = self.hidden
        out = np.empty((2, T, B, H), dtype=np.float32)
        state = np.zeros((2, B, H), dtype=np.float32)
        gates = np.empty((2, B, G), dtype=np.float32)
        scratch = np.empty((2, B, H), dtype=np.float32)
        step = self._lstm_step if self.kind == "lstm" else self._gru_step
        for t in range(T):
            previous = out[:, t - 1] if t > 0 else state
            step(from_inputs[:, t], previous, gates, state, scratch, out[:, t])
        return out

    def final_states(self, inputs: np.ndarray, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The hidden state (2, B, H) after each sequence's last step, for sequences of ids
        (2, T, B) (each direction's) whose input terms are rows of ``inputs`` (2, V, G), the
        ``project`` of an embedding table. Sorted longest first: step t updates only the rows
        still going, as a packed sequence does, so no step is spent on padding."""
        _, T, B = ids.shape
        H, G = self.hidden, inputs.shape[2]
        hidden = np.zeros((2, B, H), dtype=np.float32)
        state = np.zeros((2, B, H), dtype=np.float32)
        from_input = np.empty((2, B, G), dtype=np.float32)
        gates = np.empty((2, B, G), dtype=np.float32)
        scratch = np.empty((2, B, H), dtype=np.float32)
        step = self._lstm_step if self.kind == "lstm" else self._gru_step
        going = np.searchsorted(-lengths, -np.arange(T), side="left")  # rows with length > t
        for t in range(T):
            n = int(going[t])
            for direction in (0, 1):
                np.take(
                    inputs[direction], ids[direction, t, :n], axis=0, out=from_input[direction, :n]
                )
            h = hidden[:, :n]
            step(from_input[:, :n], h, gates[:, :n], state[:, :n], scratch[:, :n], h)
        return hidden

    # One time step: the new hidden state goes to h_out, which may be h itself.
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


class _Tagging:
    """What both numpy engines do with their scores: the shared loops of seqtag.predict."""

    def __call__(self, sentences: Sequence[Sentence]) -> list[list[str]]:
        return tag_sentences(self, sentences)

    def with_confidence(
        self,
        sentences: Sequence[Sentence],
        top: int = 0,
        calibration=None,
        spans: bool = False,
        distributions: bool = False,
    ) -> list[Confident]:
        return tag_with_confidence(self, sentences, top, calibration, spans, distributions)


class NumpyEngine(_Tagging):
    """Tags sentences with a model file's weights (the predict.Engine interface)."""

    def __init__(
        self, arrays: ModelArrays, source: str = "model", max_tokens: int = MAX_BATCH_TOKENS
    ):
        """``source``: the model file's name, for error messages."""
        self.config = config = arrays.model_config
        try:
            architecture = Architecture.of(config, arrays.vocabularies)
        except SeqtagError as error:
            raise SeqtagError(error.message, source) from None
        weights = _checked(arrays, architecture, source)
        self.batcher = Batcher(arrays.vocabularies, config)
        self.vocabularies = arrays.vocabularies
        self.labels = arrays.vocabularies.labels
        # Where each column's scores end in the output row (a model of several columns).
        self.column_ends = np.cumsum([len(labels) for labels in self.vocabularies.label_sets])
        self.max_tokens = max_tokens
        self.word_embed = weights["word_embed.weight"]
        self.pretrained = weights["pretrained_vectors"] if config.pretrained_dim else None
        self.affix_embed = weights["affix_embed.weight"] if config.affixes else None
        self.form_vectors = None
        if architecture.char_encoder is not None:
            self.char_rnn = Recurrence(architecture.char_encoder, weights)
            # The input term of every character, for both directions: (2, n_chars, 4C).
            self.char_inputs = self.char_rnn.project(weights["char_encoder.embed.weight"])
            width = architecture.char_vector_dim
            self.form_vectors = FormVectors(
                self._encode_forms, lambda rows: np.empty((rows, width), dtype=np.float32)
            )
        self.layers = [Recurrence(layer, weights) for layer in architecture.sentence_layers]
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

    def _encode_forms(self, forms: Sequence[str]) -> np.ndarray:
        """Character vectors (U, 2C) of word forms: the final states of both directions."""
        chars, lengths = self.batcher.spell_arrays(forms)
        order = np.argsort(-lengths, kind="stable")  # longest first
        chars, lengths = chars[order].T, lengths[order]  # (L, U), time-major
        rows = reversal_rows(lengths, chars.shape[0])
        ids = np.stack([chars, chars.reshape(-1)[rows].reshape(chars.shape)])  # (2, L, U)
        final = self.char_rnn.final_states(self.char_inputs, ids, lengths)  # (2, U, C)
        vectors = np.empty((len(forms), 2 * self.char_rnn.hidden), dtype=np.float32)
        vectors[order] = np.concatenate([final[0], final[1]], axis=-1)
        return vectors

    def emissions(
        self, sentences: Sequence[Sentence], encoded: Encoded | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Label scores (B, T, K) of non-empty sentences, and their lengths (B,); ``encoded``:
        their id arrays when the caller has them (an ensemble's members share one)."""
        if encoded is None:
            encoded = self.batcher.encode(sentences)
        forms = encoded.forms.T  # (T, B), time-major: each token's row in encoded.spellings
        rows = reversal_rows(encoded.lengths, forms.shape[0])
        # The first layer's input term depends on the word form alone: computed once for each
        # distinct form of the batch (about half as many as tokens), then spread to the tokens.
        form_words = np.empty(len(encoded.spellings), dtype=np.int64)
        form_words[encoded.forms[encoded.mask]] = encoded.words[encoded.mask]
        vectors = self.word_embed[form_words]  # (U, W)
        if self.pretrained is not None:
            form_pretrained = np.empty(len(encoded.spellings), dtype=np.int64)
            form_pretrained[encoded.forms[encoded.mask]] = encoded.pretrained[encoded.mask]
            vectors = np.concatenate([vectors, self.pretrained[form_pretrained]], axis=-1)
        if self.form_vectors is not None:
            spelled = self.form_vectors(encoded.spellings)  # (U, 2C)
            vectors = np.concatenate([vectors, spelled], axis=-1)
        if self.affix_embed is not None:
            affixed = self.affix_embed[encoded.affixes]  # (U, 2N, A)
            vectors = np.concatenate([vectors, affixed.reshape(len(affixed), -1)], axis=-1)
        projected = self.layers[0].project(vectors)  # (2, U, G)
        from_inputs = np.empty((2, *forms.shape, projected.shape[2]), dtype=np.float32)
        from_inputs[0] = projected[0][forms]
        from_inputs[1] = projected[1][forms.reshape(-1)[rows].reshape(forms.shape)]
        out = self.layers[0].run(from_inputs)  # (2, T, B, H); backward still reversed
        x = np.concatenate([out[0], reversed_within(out[1], rows)], axis=-1)
        for layer in self.layers[1:]:
            out = layer(both_directions(x, rows))
            x = np.concatenate([out[0], reversed_within(out[1], rows)], axis=-1)
        scores = x @ self.output_weight + self.output_bias  # (T, B, K)
        return scores.transpose(1, 0, 2), encoded.lengths

    def decode(
        self, scores: np.ndarray, lengths: np.ndarray, penalties: np.ndarray | None = None
    ) -> list[list]:
        if penalties is not None:
            scores = scores + penalties
        if len(self.column_ends) > 1:  # one argmax per column
            split = np.split(scores, self.column_ends[:-1], axis=-1)
            best = np.stack([part.argmax(axis=-1) for part in split], axis=-1).tolist()
            rows = zip(best, lengths.tolist(), strict=True)
            return [[tuple(ids) for ids in row[:n]] for row, n in rows]
        if self.decoding is None:
            best = scores.argmax(axis=-1).tolist()
            return [row[:n] for row, n in zip(best, lengths.tolist(), strict=True)]
        if self.log_probabilities:
            scores = log_softmax(scores)
        return viterbi(scores, lengths, *self.decoding)

    @property
    def scheme(self) -> str | None:
        return self.config.scheme

    def chain(
        self, scores: np.ndarray, lengths: np.ndarray, penalties=None, temperature=None
    ) -> Chain | None:
        if self.decoding is None or len(self.column_ends) > 1:
            return None
        if penalties is not None:
            scores = scores + penalties
        return Chain.tempered(
            scores, lengths, *self.decoding, temperature, log_softmax_first=self.log_probabilities
        )

    def softmax(
        self, scores: np.ndarray, lengths: np.ndarray, penalties=None, temperature=None
    ) -> np.ndarray:
        if penalties is not None:
            scores = scores + penalties
        return column_softmax(scores, self.column_ends, temperature)


class NumpyEnsemble(_Tagging):
    """An ensemble's members (model.Ensemble) tagging together on numpy: per column, the mean
    of their label probabilities, or with CRFs the mean of their scores and transitions."""

    def __init__(self, members: Sequence[NumpyEngine], max_tokens: int = MAX_BATCH_TOKENS):
        """``members``: engines of one configuration and the same vocabularies."""
        self.members = list(members)
        self.lead = self.members[0]
        self.vocabularies = self.lead.vocabularies
        self.max_tokens = max_tokens
        if self.lead.config.crf:
            self.decoding = tuple(
                np.mean(parts, axis=0)
                for parts in zip(*(m.decoding for m in self.members), strict=True)
            )

    @classmethod
    def from_arrays(
        cls, arrays: ModelArrays, source: str = "model", max_tokens: int = MAX_BATCH_TOKENS
    ) -> NumpyEnsemble:
        """The ensemble of a model file saved with --ensemble: members' weights under
        ``members.{i}.``."""
        member_config = dataclasses.replace(arrays.model_config, ensemble=1)
        members = []
        for i in range(arrays.model_config.ensemble):
            prefix = f"members.{i}."
            weights = {
                k[len(prefix) :]: v for k, v in arrays.weights.items() if k.startswith(prefix)
            }
            member = dataclasses.replace(arrays, weights=weights, model_config=member_config)
            members.append(NumpyEngine(member, source, max_tokens))
        return cls(members, max_tokens)

    def emissions(self, sentences: Sequence[Sentence]) -> tuple[np.ndarray, np.ndarray]:
        # The members share vocabularies and inputs: the id arrays are built once.
        encoded = self.lead.batcher.encode(sentences)
        scores = []
        for member in self.members:
            member_scores, lengths = member.emissions(sentences, encoded)
            scores.append(member_scores)
        stacked = np.stack(scores)  # (N, B, T, K)
        if self.lead.config.crf:
            return stacked.mean(axis=0), lengths
        blocks = np.split(stacked, self.lead.column_ends[:-1], axis=-1)
        # Per column, the log of the mean probabilities, as a log-sum-exp that never takes the
        # log of a probability that underflowed to 0.
        combined = []
        for block in blocks:
            log_probabilities = log_softmax(block)  # (N, B, T, K)
            top = log_probabilities.max(axis=0)
            spread = np.exp(log_probabilities - top).sum(axis=0)  # >= 1: the top term is 1
            combined.append(top + np.log(spread / len(self.members)))
        return np.concatenate(combined, axis=-1), lengths

    def decode(
        self, scores: np.ndarray, lengths: np.ndarray, penalties: np.ndarray | None = None
    ) -> list[list]:
        if self.lead.config.crf:
            if penalties is not None:
                scores = scores + penalties
            return viterbi(scores, lengths, *self.decoding)
        # Log-probabilities: the lead's argmax or constrained Viterbi applies.
        return self.lead.decode(scores, lengths, penalties)

    @property
    def scheme(self) -> str | None:
        return self.lead.config.scheme

    def chain(
        self, scores: np.ndarray, lengths: np.ndarray, penalties=None, temperature=None
    ) -> Chain | None:
        if self.lead.config.crf:  # the members' mean CRF
            if penalties is not None:
                scores = scores + penalties
            return Chain.tempered(scores, lengths, *self.decoding, temperature)
        # Of the mean probabilities, which is what the scores are the log of.
        return self.lead.chain(scores, lengths, penalties, temperature)

    def softmax(
        self, scores: np.ndarray, lengths: np.ndarray, penalties=None, temperature=None
    ) -> np.ndarray:
        return self.lead.softmax(scores, lengths, penalties, temperature)


def numpy_engine(arrays: ModelArrays, source: str = "model") -> NumpyEngine | NumpyEnsemble:
    """The numpy engine of a model file: a NumpyEngine, or a NumpyEnsemble."""
    if arrays.model_config.ensemble > 1:
        return NumpyEnsemble.from_arrays(arrays, source)
    return NumpyEngine(arrays, source)


def _checked(arrays: ModelArrays, architecture: Architecture, source: str) -> dict[str, np.ndarray]:
    """The weights as float32, after checking each name and shape against the architecture
    (what torch's load_state_dict checks), so a damaged file fails here and not mid-stream."""
    weights = arrays.weights
    for key, shape in architecture.weight_shapes().items():
        if key not in weights:
            raise SeqtagError(f"damaged seqtag model file: weight {key} missing", source)
        if tuple(weights[key].shape) != shape:
            raise SeqtagError(
                f"damaged seqtag model file: weight {key} has shape "
                f"{tuple(weights[key].shape)}, its configuration needs {shape}",
                source,
            )
    return {key: np.asarray(value, dtype=np.float32) for key, value in weights.items()}
