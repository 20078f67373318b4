# ruff: noqa: I001  (imports the pre-refactor modules decode and numpy_tagger; see below)
"""Issue 20: tag on the CPU with the torch network exported to ONNX and run by onnxruntime,
against seqtag's hand-written numpy engine (numpy_tagger.py) and torch itself.

A benchmark, not part of the package (no test imports it). It measured the code before the
house refactor of issue 20 and runs against that code only (seqtag.decode, seqtag.numpy_tagger):
    git worktree add /tmp/before fbbfdc2 && PYTHONPATH=/tmp/before python benchmarks/onnx_engine.py ...
The decision it informed (keep the numpy engine, driven by seqtag/architecture.py) removed the
need to port it; benchmarks/results/inference-engine/README.md has the figures. torch is imported only where the
network is exported or run, so ``OnnxTagger`` alone is what a torch-free `seqtag tag` would load.

What is compared, on one model file (softmax output layer; no CRF, ensemble or several columns):
  (i)   tags on a test file: torch (decode.predict) vs numpy vs onnxruntime, differing tokens;
  (ii)  words/s tagging the pre-tokenized sentences of a training file, one thread, median of
        alternating runs (numpy, onnxruntime, torch);
  (iii) cold start: wall time of a fresh process that imports what an engine needs, loads the
        model and tags one sentence (median of alternating runs);
  (iv)  probes of what loading an ONNX graph does with a custom operator and external data.

Two graphs are exported with the legacy (TorchScript) exporter, dynamo=False:
  * chars (U, L), lengths (U,) -> character vectors (U, 2C). The packed-sequence CharEncoder
    does not export (torch 2.13's ONNX peephole pass fails on pack_padded_sequence with
    enforce_sorted=False), so the graph is a padded equivalent: the forward and backward
    halves of the char BiLSTM as two one-way LSTMs over the padded characters, the backward one
    fed each form reversed within its length, and each half's output at step length - 1 taken.
  * words (B, T), forms (B, T), lengths (B,), spelled (U, 2C), affixes (U, 2N) -> emissions
    (B, T, K): Tagger.inputs and output unchanged; BiRNN.forward re-stated with a reversal
    index built from lengths.size(0) instead of len(lengths), which the tracer freezes to the
    example's batch size.
Character vectors are cached per form (decode.FormVectors), as both other engines do.

Run (from the repository root; PYTHONPATH names the seqtag checkout to measure):
  PYTHONPATH=/tmp/before OMP_NUM_THREADS=1 taskset -c 1 /tmp/onnxvenv/bin/python \
      benchmarks/onnx_engine.py --model MODEL --test test.conllu --train train.conllu
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from seqtag.batch import MAX_BATCH_TOKENS, Batcher
from seqtag.config import model_config_from_file
from seqtag.decode import FormVectors
from seqtag.lines import open_lines
from seqtag.modelfile import read_metadata
from seqtag.numpy_tagger import log_softmax, penalties, tag_sentences, viterbi
from seqtag.read import Sentence, read_conllu
from seqtag.scheme import allowed_transitions
from seqtag.vocab import Vocabularies

CHAR_GRAPH = "chars.onnx"
SENTENCE_GRAPH = "sentences.onnx"
CHAR_CHUNK = 512  # forms per run of the character graph, sorted by length (little padding)


def session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxTagger:
    """Tags sentences with the two exported graphs; the interface of numpy_tagger.NumpyTagger
    (``emissions``, ``decode``, called by numpy_tagger.tag_sentences)."""

    def __init__(self, vocabularies: Vocabularies, config, graphs: Path):
        if config.crf or config.ensemble > 1 or len(vocabularies.label_sets) > 1:
            raise NotImplementedError("this benchmark exports softmax taggers of one column")
        self.config = config
        self.vocabularies = vocabularies
        self.batcher = Batcher(vocabularies, config)
        self.sentences = session(graphs / SENTENCE_GRAPH)
        self.form_vectors = None
        if config.char:
            self.chars = session(graphs / CHAR_GRAPH)
            width = 2 * config.char_hidden
            self.form_vectors = FormVectors(
                self._encode_forms, lambda rows: np.empty((rows, width), dtype=np.float32)
            )
        self.decoding = None
        if config.scheme is not None:
            allowed = allowed_transitions(vocabularies.labels.to_list(), config.scheme)
            self.decoding = penalties(allowed)

    @classmethod
    def from_files(cls, model_path: str | Path, graphs: str | Path) -> OnnxTagger:
        """Vocabularies and configuration from the model file's metadata (its weights are
        not read: they are in the graphs)."""
        metadata = read_metadata(model_path)
        config = model_config_from_file(metadata["model_config"])
        return cls(Vocabularies.from_dict(metadata["vocabularies"]), config, Path(graphs))

    def _encode_forms(self, forms: Sequence[str]) -> np.ndarray:
        chars, lengths = self.batcher.spell_arrays(forms)
        order = np.argsort(-lengths, kind="stable")
        vectors = np.empty((len(forms), 2 * self.config.char_hidden), dtype=np.float32)
        for start in range(0, len(order), CHAR_CHUNK):
            rows = order[start : start + CHAR_CHUNK]
            width = int(lengths[rows[0]])
            feed = {"chars": chars[rows, :width], "lengths": lengths[rows]}
            vectors[rows] = self.chars.run(None, feed)[0]
        return vectors

    def emissions(self, sentences: Sequence[Sentence]) -> tuple[np.ndarray, np.ndarray]:
        encoded = self.batcher.encode(sentences)
        feed = {"words": encoded.words, "forms": encoded.forms, "lengths": encoded.lengths}
        if self.form_vectors is not None:
            feed["spelled"] = self.form_vectors(encoded.spellings)
        if self.config.affixes:
            feed["affixes"] = encoded.affixes
        return self.sentences.run(None, feed)[0], encoded.lengths

    def decode(self, scores: np.ndarray, lengths: np.ndarray) -> list[list[int]]:
        if self.decoding is None:
            best = scores.argmax(axis=-1).tolist()
            return [row[:n] for row, n in zip(best, lengths.tolist(), strict=True)]
        return viterbi(log_softmax(scores), lengths, *self.decoding)

    def __call__(self, sentences: Sequence[Sentence]) -> list[list[str]]:
        return tag_sentences(self, self.vocabularies, sentences, MAX_BATCH_TOKENS)


# ---------------------------------------------------------------- export (needs torch)


def export(model_path: str, graphs: Path) -> dict:
    """Export the model file's network as the two graphs; returns notes on the export."""
    import torch
    from torch import nn

    from seqtag.batch import Batch
    from seqtag.modelfile import load

    def reversal_index(lengths: torch.Tensor, steps) -> torch.Tensor:
        # rnn.reversal_index with lengths.size(0) for len(lengths), which tracing would freeze.
        step = torch.arange(steps)[None, :]
        length = lengths[:, None]
        within = torch.where(step < length, length - 1 - step, step)
        return (within + steps * torch.arange(lengths.size(0))[:, None]).reshape(-1)

    def reverse(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return x.reshape(-1, x.size(2)).index_select(0, index).reshape(x.shape)

    class PaddedCharEncoder(nn.Module):
        """model.CharEncoder without a packed sequence: the same weights, the same vectors."""

        def __init__(self, encoder):
            super().__init__()
            self.embed = encoder.embed
            rnn = encoder.rnn
            self.ahead = nn.LSTM(rnn.input_size, rnn.hidden_size, batch_first=True)
            self.behind = nn.LSTM(rnn.input_size, rnn.hidden_size, batch_first=True)
            for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                getattr(self.ahead, name).data.copy_(getattr(rnn, name))
                getattr(self.behind, name).data.copy_(getattr(rnn, name + "_reverse"))

        def forward(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
            x = self.embed(chars)  # (U, L, C)
            index = reversal_index(lengths, x.size(1))
            ahead, _ = self.ahead(x)
            behind, _ = self.behind(reverse(x, index))
            rows, last = torch.arange(lengths.size(0)), lengths - 1
            return torch.cat([ahead[rows, last], behind[rows, last]], dim=-1)

    class SentenceNetwork(nn.Module):
        def __init__(self, tagger):
            super().__init__()
            self.tagger = tagger

        def forward(self, words, forms, lengths, spelled=None, affixes=None):
            tagger = self.tagger
            batch = Batch(words, [], None, None, forms, lengths, None, None, None, affixes)
            x = tagger.inputs(batch, spelled)
            index = reversal_index(lengths, x.size(1))
            for ahead, behind in zip(
                tagger.rnn.forward_layers, tagger.rnn.backward_layers, strict=True
            ):
                read_ahead, _ = ahead(x)
                read_behind, _ = behind(reverse(x, index))
                x = torch.cat([read_ahead, reverse(read_behind, index)], dim=-1)
            return tagger.output(x)

    torch.set_num_threads(1)
    started = time.perf_counter()
    loaded = load(model_path)
    tagger, config = loaded.model, loaded.model_config
    graphs.mkdir(parents=True, exist_ok=True)
    # Example shapes all different from each other and from the model's sizes, so no axis is
    # mistaken for another.
    B, T, U, L = 5, 11, 37, 9
    lengths = torch.tensor([11, 8, 6, 3, 1])
    words = torch.randint(1, 50, (B, T))
    forms = torch.randint(0, U, (B, T))
    names, example = ["words", "forms", "lengths"], [words, forms, lengths]
    axes = {"words": {0: "B", 1: "T"}, "forms": {0: "B", 1: "T"}, "lengths": {0: "B"}}
    if config.char:
        names.append("spelled")
        example.append(torch.randn(U, 2 * config.char_hidden))
        axes["spelled"] = {0: "U"}
    if config.affixes:
        names.append("affixes")
        example.append(torch.randint(1, 50, (U, 2 * config.affixes)))
        axes["affixes"] = {0: "U"}
    axes["emissions"] = {0: "B", 1: "T"}
    with torch.no_grad():
        torch.onnx.export(
            SentenceNetwork(tagger).eval(),
            tuple(example),
            str(graphs / SENTENCE_GRAPH),
            dynamo=False,
            input_names=names,
            output_names=["emissions"],
            dynamic_axes=axes,
            opset_version=17,
        )
        if config.char:
            char_lengths = torch.tensor([9, 7, 7, 5, 4, 2, 1])
            chars = torch.randint(2, 30, (len(char_lengths), L))
            chars[torch.arange(L)[None, :] >= char_lengths[:, None]] = 0
            torch.onnx.export(
                PaddedCharEncoder(tagger.char_encoder).eval(),
                (chars, char_lengths),
                str(graphs / CHAR_GRAPH),
                dynamo=False,
                input_names=["chars", "lengths"],
                output_names=["vectors"],
                dynamic_axes={"chars": {0: "U", 1: "L"}, "lengths": {0: "U"}, "vectors": {0: "U"}},
                opset_version=17,
            )
    import onnx

    operators = {}
    sizes = {}
    for name in (SENTENCE_GRAPH, CHAR_GRAPH):
        path = graphs / name
        if path.exists():
            graph = onnx.load(str(path))
            operators[name] = sorted({node.op_type for node in graph.graph.node})
            sizes[name] = path.stat().st_size
    return {
        "exporter": "torch.onnx.export(dynamo=False), opset 17",
        "seconds": round(time.perf_counter() - started, 1),
        "operators": operators,
        "graph_bytes": sizes,
    }


# ---------------------------------------------------------------- measurements


def read_words(path: str) -> list[Sentence]:
    return [Sentence(sentence.words) for sentence in read_conllu(open_lines(path))]


def numpy_engine(model_path: str):
    from seqtag.modelfile import read_model
    from seqtag.numpy_tagger import numpy_predictor

    return numpy_predictor(read_model(model_path), model_path)


def torch_engine(loaded):
    import torch

    from seqtag.decode import Predictor

    return Predictor(
        loaded.model, Batcher(loaded.vocabularies, loaded.model_config), torch.device("cpu")
    )


def compare_tags(reference: list[list[str]], other: list[list[str]]) -> dict:
    tokens = sum(len(tags) for tags in reference)
    differing = sum(
        a != b
        for ref, oth in zip(reference, other, strict=True)
        for a, b in zip(ref, oth, strict=True)
    )
    sentences = sum(ref != oth for ref, oth in zip(reference, other, strict=True))
    return {"tokens": tokens, "differing_tokens": differing, "differing_sentences": sentences}


def emission_differences(model_path: str, loaded, onnx_tagger: OnnxTagger, sentences) -> dict:
    """Largest |emission difference| from torch's, over the real tokens of the first batches."""
    import torch

    from seqtag.batch import inference_order

    numpy_tagger = numpy_engine(model_path)
    batcher = Batcher(loaded.vocabularies, loaded.model_config)
    worst = {"numpy": 0.0, "onnxruntime": 0.0}
    for n, indices in enumerate(inference_order(sentences, MAX_BATCH_TOKENS)):
        if n >= 5:
            break
        chosen = [sentences[i] for i in indices]
        with torch.inference_mode():
            reference = loaded.model(batcher.batch(chosen)).numpy()
        mask = batcher.encode(chosen).mask
        for name, engine in (("numpy", numpy_tagger), ("onnxruntime", onnx_tagger)):
            scores, _ = engine.emissions(chosen)
            worst[name] = max(worst[name], float(np.abs(scores - reference)[mask].max()))
    return worst


def words_per_second(engines: dict, sentences, rounds: int) -> dict:
    words = sum(len(s.words) for s in sentences)
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    for round_ in range(rounds):
        names = list(engines) if round_ % 2 == 0 else list(reversed(engines))
        for name in names:
            engine = engines[name]()  # fresh: an empty form cache each run
            started = time.perf_counter()
            engine(sentences)
            seconds[name].append(time.perf_counter() - started)
    return {
        name: {
            "seconds": [round(s, 3) for s in runs],
            "median_seconds": round(statistics.median(runs), 3),
            "words_per_second": round(words / statistics.median(runs)),
        }
        for name, runs in seconds.items()
    } | {"words": words}


COLD_SNIPPETS = {
    "python -c pass": "pass",
    "import numpy": "import numpy",
    "import onnxruntime": "import onnxruntime",
    "import torch": "import torch",
    "numpy engine": (
        "from seqtag.decode import load_predictor\n"
        "from seqtag.read import Sentence\n"
        "_, tag = load_predictor(MODEL, 'cpu')\n"
        "print(tag([Sentence('The cat sat .'.split())]))"
    ),
    "onnxruntime engine": (
        "import sys\n"
        "sys.path.insert(0, BENCHMARKS)\n"
        "from onnx_engine import OnnxTagger\n"
        "from seqtag.read import Sentence\n"
        "tag = OnnxTagger.from_files(MODEL, GRAPHS)\n"
        "print(tag([Sentence('The cat sat .'.split())]))"
    ),
    "torch engine": (
        "import torch\n"
        "torch.set_num_threads(1)\n"
        "from seqtag.batch import Batcher\n"
        "from seqtag.decode import predict\n"
        "from seqtag.modelfile import load\n"
        "from seqtag.read import Sentence\n"
        "m = load(MODEL)\n"
        "print(predict(m.model, Batcher(m.vocabularies, m.model_config),"
        " [Sentence('The cat sat .'.split())], torch.device('cpu')))"
    ),
}


def cold_starts(model_path: str, graphs: Path, rounds: int) -> dict:
    prelude = (
        f"MODEL = {str(model_path)!r}\nGRAPHS = {str(graphs)!r}\n"
        f"BENCHMARKS = {str(Path(__file__).resolve().parent)!r}\n"
    )
    commands = {
        name: [sys.executable, "-c", prelude + code] for name, code in COLD_SNIPPETS.items()
    }
    commands["seqtag tag (numpy, CLI)"] = [
        sys.executable,
        "-m",
        "seqtag",
        "tag",
        "-m",
        str(model_path),
    ]
    outputs: dict[str, str] = {}
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    neutral = tempfile.mkdtemp(prefix="seqtag-cold-")
    for round_ in range(rounds):
        names = list(commands) if round_ % 2 == 0 else list(reversed(commands))
        for name in names:
            started = time.perf_counter()
            done = subprocess.run(
                commands[name],
                input=b"The cat sat .\n",
                capture_output=True,
                check=False,
                cwd=neutral,  # not the repository root, whose seqtag/ would shadow PYTHONPATH's
            )
            seconds[name].append(time.perf_counter() - started)
            if done.returncode != 0:
                raise RuntimeError(f"{name}: {done.stderr.decode()[-2000:]}")
            outputs[name] = done.stdout.decode().strip()
    return {
        name: {
            "seconds": [round(s, 3) for s in runs],
            "median_seconds": round(statistics.median(runs), 3),
            "output": outputs[name][-200:],
        }
        for name, runs in seconds.items()
    }


def loading_probes(directory: Path) -> dict:
    """What onnxruntime does when a graph names an operator nobody registered, and when an
    initializer's data is 'external' at an absolute path or outside the graph's folder."""
    import onnx
    from onnx import TensorProto, helper

    results = {}
    node = helper.make_node("Exec", ["x"], ["y"], domain="com.example.evil")
    graph = helper.make_graph(
        [node],
        "custom",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example.evil", 1)],
    )
    path = directory / "custom_op.onnx"
    onnx.save(model, str(path))
    try:
        session(path)
        results["unregistered custom operator"] = "loaded"
    except Exception as error:  # noqa: BLE001 - the message is the result
        results["unregistered custom operator"] = f"refused: {str(error)[:300]}"

    secret = directory.parent / f"{directory.name}-outside.bin"
    secret.write_bytes(np.arange(4, dtype=np.float32).tobytes())
    for label, location in (
        ("external data, absolute path", str(secret)),
        ("external data, ../ path", f"../{secret.name}"),
    ):
        tensor = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4])
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", "0"), ("length", "16")):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        add = helper.make_node("Add", ["x", "w"], ["y"])
        graph = helper.make_graph(
            [add],
            "external",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])],
            initializer=[tensor],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        path = directory / "external.onnx"
        path.write_bytes(model.SerializeToString())
        try:
            out = session(path).run(None, {"x": np.zeros(4, dtype=np.float32)})[0]
            results[label] = f"loaded; the file outside was read: {out.tolist()}"
        except Exception as error:  # noqa: BLE001
            results[label] = f"refused: {str(error)[:300]}"
    secret.unlink()
    return results


def code_lines(path: Path, names: Sequence[str]) -> int:
    """Lines of the top-level definitions (and methods, as Class.method) named."""
    tree = ast.parse(path.read_text())
    total = 0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in names:
            total += node.end_lineno - node.lineno + 1
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and f"{node.name}.{item.name}" in names:
                    total += item.end_lineno - item.lineno + 1
    return total


def line_counts() -> dict:
    import seqtag.numpy_tagger as numpy_tagger

    path = Path(numpy_tagger.__file__)
    # What the ONNX graphs would replace: the recurrences, the form-wise first layer, the
    # weight-shape checks (onnxruntime checks a graph's shapes itself).
    replaced = [
        "Recurrence",
        "reversal_rows",
        "reversed_within",
        "both_directions",
        "NumpyTagger.__init__",
        "NumpyTagger._encode_forms",
        "NumpyTagger.emissions",
        "LAYER_WEIGHTS",
        "_layer",
        "expected_shapes",
        "_checked",
    ]
    here = Path(__file__)
    return {
        "numpy_tagger.py lines": len(path.read_text().splitlines()),
        "numpy_tagger.py lines in the network's code (would go with ONNX)": code_lines(
            path, replaced
        ),
        "this script: OnnxTagger + session lines": code_lines(here, ["OnnxTagger", "session"]),
        "this script: export lines": code_lines(here, ["export"]),
    }


def versions() -> dict:
    import importlib.metadata as metadata

    found = {}
    for package in (
        "torch",
        "numpy",
        "onnxruntime",
        "onnx",
        "onnxscript",
        "protobuf",
        "flatbuffers",
    ):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found | {"python": platform.python_version()}


def installed_sizes() -> dict:
    site = Path(ort.__file__).resolve().parent.parent

    def size(*names: str) -> int:
        total = 0
        for name in names:
            for file in (site / name).rglob("*"):
                if file.is_file():
                    total += file.stat().st_size
        return total

    return {
        "onnxruntime": size("onnxruntime"),
        "onnxruntime + runtime deps (protobuf, flatbuffers)": size(
            "onnxruntime", "google", "flatbuffers"
        ),
        "onnx (export only)": size("onnx"),
        "onnxscript + onnx_ir (export only)": size("onnxscript", "onnx_ir"),
        "torch": size("torch"),
        "numpy": size("numpy", "numpy.libs"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--train", required=True)
    parser.add_argument("--rounds", type=int, default=3, help="speed runs per engine")
    parser.add_argument("--cold-rounds", type=int, default=5)
    parser.add_argument("--graphs", default=None, help="folder for the .onnx files")
    parser.add_argument("--out", default="benchmarks/results/inference-engine/onnx-vs-numpy.json")
    args = parser.parse_args()

    import torch

    from seqtag.decode import predict
    from seqtag.modelfile import load

    torch.set_num_threads(1)
    graphs = Path(args.graphs or tempfile.mkdtemp(prefix="seqtag-onnx-"))
    report: dict = {
        "model": args.model,
        "seqtag": str(Path(sys.modules["seqtag"].__file__).parent),
        "machine": {"cpu": cpu_name(), "affinity": sorted(os.sched_getaffinity(0))},
        "threads": {
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            "torch": torch.get_num_threads(),
            "onnxruntime": "intra_op 1, inter_op 1, sequential",
        },
        "versions": versions(),
        "installed_bytes": installed_sizes(),
    }
    report["export"] = export(args.model, graphs)
    loaded = load(args.model)
    onnx_tagger = OnnxTagger.from_files(args.model, graphs)

    test = read_words(args.test)
    batcher = Batcher(loaded.vocabularies, loaded.model_config)
    torch_tags = predict(loaded.model, batcher, test, torch.device("cpu"))
    report["parity_test"] = {
        "numpy vs torch": compare_tags(torch_tags, numpy_engine(args.model)(test)),
        "onnxruntime vs torch": compare_tags(torch_tags, onnx_tagger(test)),
        "max |emission - torch's| (first 5 batches)": emission_differences(
            args.model, loaded, onnx_tagger, test
        ),
    }

    train = read_words(args.train)
    engines = {
        "numpy": lambda: numpy_engine(args.model),
        "onnxruntime": lambda: OnnxTagger.from_files(args.model, graphs),
        "torch": lambda: torch_engine(loaded),
    }
    speed = words_per_second(engines, train, args.rounds)
    speed["onnxruntime / numpy"] = round(
        speed["onnxruntime"]["words_per_second"] / speed["numpy"]["words_per_second"], 3
    )
    speed["torch / numpy"] = round(
        speed["torch"]["words_per_second"] / speed["numpy"]["words_per_second"], 3
    )
    report["speed_train"] = speed
    report["cold_start"] = cold_starts(args.model, graphs, args.cold_rounds)
    with tempfile.TemporaryDirectory() as probes:
        report["loading_probes"] = loading_probes(Path(probes))
    report["lines"] = line_counts()

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print_table(report)


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def print_table(report: dict) -> None:
    parity, speed, cold = report["parity_test"], report["speed_train"], report["cold_start"]
    rows = [("measure", "numpy", "onnxruntime", "torch")]
    n = parity["numpy vs torch"]
    o = parity["onnxruntime vs torch"]
    rows.append(
        (
            "test tokens differing from torch",
            f"{n['differing_tokens']} / {n['tokens']}",
            f"{o['differing_tokens']} / {o['tokens']}",
            "-",
        )
    )
    worst = parity["max |emission - torch's| (first 5 batches)"]
    rows.append(
        (
            "max |emission diff| vs torch",
            f"{worst['numpy']:.2e}",
            f"{worst['onnxruntime']:.2e}",
            "-",
        )
    )
    rows.append(
        (
            f"words/s, train ({speed['words']} words), median",
            str(speed["numpy"]["words_per_second"]),
            str(speed["onnxruntime"]["words_per_second"]),
            str(speed["torch"]["words_per_second"]),
        )
    )
    rows.append(
        (
            "  ratio to numpy",
            "1.000",
            str(speed["onnxruntime / numpy"]),
            str(speed["torch / numpy"]),
        )
    )
    rows.append(
        (
            "cold start, one sentence (s), median",
            str(cold["numpy engine"]["median_seconds"]),
            str(cold["onnxruntime engine"]["median_seconds"]),
            str(cold["torch engine"]["median_seconds"]),
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print()
    for name, figures in cold.items():
        print(f"cold start {name}: {figures['median_seconds']} s")
    for name, size in report["installed_bytes"].items():
        print(f"installed {name}: {size / 2**20:.1f} MiB")
    for name, result in report["loading_probes"].items():
        print(f"probe {name}: {result}")
    for name, count in report["lines"].items():
        print(f"{name}: {count}")


if __name__ == "__main__":
    main()
