"""Train the segmenter: a character BiLSTM/BiGRU that labels each character of running text
(inside a token, token end, sentence end), with dev for early stopping.

Each epoch cuts every training text into windows at a random offset (so no boundary always
falls at a window's edge), shuffles them, and learns from batches of them; dev is segmented
window by window exactly as tagging does (``segment``) and scored by the F1 of token and
sentence boundaries. The best epoch's weights are kept.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from seqtag.rnn import BiRNN
from seqtag.segmenter import (
    CATEGORIES,
    MAX_EPOCHS,
    N_LABELS,
    Characters,
    SegmenterConfig,
    Span,
    decode,
    windows,
)
from seqtag.segmenter.examples import Text

BATCH = 32
# Fewer sentence ends than this inside the training file's paragraphs, and sentences are split
# by the rules (tokenize.ends_sentence) over the segmenter's tokens.
MIN_INNER_SENTENCE_ENDS = 20
EPOCH_BATCHES = 50  # least batches per epoch: a small treebank is passed over several times
LEARNING_RATE = 0.002


class SegmenterNetwork(nn.Module):
    def __init__(self, config: SegmenterConfig, n_chars: int):
        super().__init__()
        self.config = config
        self.char_embed = nn.Embedding(n_chars, config.char_dim, padding_idx=0)
        self.category_embed = nn.Embedding(len(CATEGORIES) + 1, config.category_dim)
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = BiRNN(config.layers_of(), config.dropout)
        self.output = nn.Linear(2 * config.hidden, N_LABELS)

    def forward(self, chars: torch.Tensor, categories: torch.Tensor, lengths: torch.Tensor):
        """chars, categories (B, T) -> label scores (B, T, N_LABELS)."""
        x = torch.cat([self.char_embed(chars), self.category_embed(categories)], dim=-1)
        return self.output(self.dropout(self.rnn(self.dropout(x), lengths)))


@dataclass
class SegmenterResult:
    network: SegmenterNetwork
    characters: Characters
    dev_scores: dict  # of the best epoch: token_f1, sentence_f1, score
    best_epoch: int
    epochs_run: int
    seconds: float


def _batch(pieces: Sequence[tuple[list[int], list[int], list[int]]]):
    """Padded (chars, categories, labels, lengths); labels are -100 at padding."""
    T = max(len(p[0]) for p in pieces)
    chars = torch.zeros(len(pieces), T, dtype=torch.long)
    categories = torch.zeros(len(pieces), T, dtype=torch.long)
    labels = torch.full((len(pieces), T), -100, dtype=torch.long)
    for row, (c, k, y) in enumerate(pieces):
        chars[row, : len(c)] = torch.tensor(c)
        categories[row, : len(k)] = torch.tensor(k)
        labels[row, : len(y)] = torch.tensor(y)
    return chars, categories, labels, torch.tensor([len(p[0]) for p in pieces])


def segment(network: SegmenterNetwork, characters: Characters, texts: Sequence[str]):
    """Each text's tokens (segmenter.Span), from the network in eval mode, window by window."""
    config = network.config
    pieces, where = [], []
    for t, text in enumerate(texts):
        chars, categories = characters.encode(text)
        for start, end, core, core_end in windows(len(text), config.window, config.context):
            pieces.append((chars[start:end], categories[start:end], []))
            where.append((t, start, core, core_end))
    labels = [[0] * len(text) for text in texts]
    network.eval()
    with torch.no_grad():
        for first in range(0, len(pieces), 256):
            chars, categories, _, lengths = _batch(pieces[first : first + 256])
            predicted = network(chars, categories, lengths).argmax(-1).tolist()
            for row, (t, start, core, core_end) in zip(
                predicted, where[first : first + 256], strict=True
            ):
                labels[t][core:core_end] = row[core - start : core_end - start]
    return [decode(text, y) for text, y in zip(texts, labels, strict=True)]


def boundary_scores(gold: Sequence[Text], predicted: Sequence[Sequence[Span]]) -> dict:
    """F1 of token ends, of sentence ends and of multiword tokens (by their character offsets),
    over all texts; ``score``, what early stopping looks at, is their mean (multiword tokens
    left out where gold has none)."""
    kinds = {
        "token": lambda s: True,
        "sentence": lambda s: s.sentence_end,
        "multiword": lambda s: s.multiword,
    }
    counts = {kind: [0, 0, 0] for kind in kinds}  # true, predicted, both
    for text, spans in zip(gold, predicted, strict=True):
        true = decode(text.text, text.labels)
        for kind, pick in kinds.items():
            want = {s.end for s in true if pick(s)}
            got = {s.end for s in spans if pick(s)}
            counts[kind][0] += len(want)
            counts[kind][1] += len(got)
            counts[kind][2] += len(want & got)
    scores = {}
    for kind, (true, found, both) in counts.items():
        scores[f"{kind}_f1"] = 2 * both / (true + found) if true + found else 1.0
    parts = ["token_f1", "sentence_f1"] + (["multiword_f1"] if counts["multiword"][0] else [])
    scores["score"] = sum(scores[p] for p in parts) / len(parts)
    return scores


def train_segmenter(
    train: Sequence[Text],
    dev: Sequence[Text],
    config: SegmenterConfig,
    seed: int,
    max_epochs: int = MAX_EPOCHS,
    patience: int = 3,
    on_epoch: Callable[[int, dict, float], None] | None = None,
) -> SegmenterResult:
    """Train on ``train``'s windows (an epoch: every text once, or more often until it makes
    EPOCH_BATCHES batches); keep the epoch that segments ``dev`` best."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    characters = Characters.build(t.text for t in train)
    network = SegmenterNetwork(config, len(characters))
    optimizer = torch.optim.Adam(network.parameters(), lr=LEARNING_RATE)
    loss_function = nn.CrossEntropyLoss(ignore_index=-100)
    encoded = [(*characters.encode(t.text), t.labels) for t in train]
    best, best_state, best_epoch, epoch, start = None, None, 0, 0, time.perf_counter()
    for epoch in range(1, max_epochs + 1):
        network.train()
        pieces = []
        span = config.window + 2 * config.context
        while len(pieces) < EPOCH_BATCHES * BATCH:
            for chars, categories, labels in encoded:
                for first in range(-rng.randrange(span), len(chars), span):
                    first = max(0, first)
                    pieces.append(
                        (chars[first : first + span], categories[first : first + span],
                         labels[first : first + span])
                    )  # fmt: skip
        rng.shuffle(pieces)
        for first in range(0, len(pieces), BATCH):
            chars, categories, labels, lengths = _batch(pieces[first : first + BATCH])
            scores = network(chars, categories, lengths)
            loss = loss_function(scores.reshape(-1, N_LABELS), labels.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(network.parameters(), 5.0)
            optimizer.step()
        scores = boundary_scores(dev, segment(network, characters, [t.text for t in dev]))
        if on_epoch is not None:
            on_epoch(epoch, scores, time.perf_counter() - start)
        if best is None or scores["score"] > best["score"]:
            best, best_epoch = scores, epoch
            best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
        elif epoch - best_epoch >= patience:
            break
    network.load_state_dict(best_state)
    network.eval()
    return SegmenterResult(
        network, characters, best, best_epoch, epoch, time.perf_counter() - start
    )


def _sentence_ends(result: SegmenterResult, dev: Sequence[Text], inner: int) -> tuple[str, dict]:
    """Who ends sentences, "learned" (the segmenter) or "rules" (tokenize.ends_sentence over
    the segmenter's tokens), and both one's dev sentence F1: the rules where training shows
    too few sentence ends inside paragraphs to learn from, or where they score higher on dev
    (as --tag-dictionary auto decides; the segmenter must not split worse than the rules)."""
    from seqtag.segmenter.engine import rule_sentence_ends

    texts = [t.text for t in dev]
    spans = segment(result.network, result.characters, texts)
    ruled = [rule_sentence_ends(text, found) for text, found in zip(texts, spans, strict=True)]
    compared = {
        "learned": boundary_scores(dev, spans)["sentence_f1"],
        "rules": boundary_scores(dev, ruled)["sentence_f1"],
    }
    by_rules = inner < MIN_INNER_SENTENCE_ENDS or compared["rules"] > compared["learned"]
    return ("rules" if by_rules else "learned"), compared


def train_into(
    model_path: str,
    train_sentences: Sequence,
    dev_sentences: Sequence,
    seed: int,
    say: Callable[[str], None],
    config: SegmenterConfig | None = None,
    max_epochs: int = MAX_EPOCHS,
) -> dict:
    """Train a segmenter on CoNLL-U sentences (read.Sentence with their lines), early stopping
    on the dev sentences, and store it in the model file; returns what is stored about it."""
    from seqtag.modelfile import add_segmenter
    from seqtag.segmenter.examples import (
        inner_sentence_ends,
        multiword_dictionary,
        multiword_rules,
        running_texts,
    )

    config = config or SegmenterConfig()
    train, dev = running_texts(train_sentences), running_texts(dev_sentences)
    characters = sum(len(t.text) for t in train)
    say(
        f"Segmenter for raw text: a character Bi{config.rnn.upper()} on {characters:,} "
        f"characters of training text, dev {sum(len(t.text) for t in dev):,}."
    )

    def on_epoch(epoch: int, scores: dict, seconds: float) -> None:
        say(
            f"segmenter epoch {epoch:>2}  dev token F1 {scores['token_f1']:.4f}  "
            f"sentence F1 {scores['sentence_f1']:.4f}  multiword F1 "
            f"{scores['multiword_f1']:.4f}  {seconds:.0f}s"
        )

    result = train_segmenter(train, dev, config, seed, max_epochs=max_epochs, on_epoch=on_epoch)
    multiwords = multiword_dictionary(train_sentences)
    rules = multiword_rules(train_sentences)
    inner = inner_sentence_ends(train)
    sentences, compared = _sentence_ends(result, dev, inner)
    if inner < MIN_INNER_SENTENCE_ENDS:
        say(
            f"Sentence ends: the training file shows {inner} inside a paragraph (its sentences "
            "are paragraphs of their own), too few to learn from; raw text is split into "
            "sentences by seqtag's rules, into words by the segmenter."
        )
    else:
        kept = "the segmenter's" if sentences == "learned" else "the rules' (over its words)"
        say(
            f"Sentence ends on dev: F1 {compared['learned']:.4f} the segmenter's, "
            f"{compared['rules']:.4f} seqtag's rules over its words: keeping {kept}."
        )
    about = {
        "config": config.to_dict(),
        "characters": result.characters.ids,
        "multiwords": multiwords,
        "multiword_rules": rules,
        "sentences": sentences,
        "dev_sentence_f1": compared,
        "dev_scores": result.dev_scores,
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "train_characters": characters,
        "training_seconds": round(result.seconds, 1),
    }
    add_segmenter(model_path, result.network.state_dict(), about)
    multiword = ""
    if multiwords:
        multiword = (
            f", multiword tokens F1 {result.dev_scores['multiword_f1']:.4f} ({len(multiwords):,} "
            f"forms and {len(rules):,} suffix rules from train)"
        )
    say(
        f"Segmenter: dev token F1 {result.dev_scores['token_f1']:.4f}, sentence F1 "
        f"{result.dev_scores['sentence_f1']:.4f}{multiword} at epoch {result.best_epoch}."
    )
    return about
