#!/usr/bin/env bash
# Same output before and after a change that must not change behaviour (issue 20's check).
#
#   benchmarks/identical_output.sh make CODE OUT    # with the seqtag in CODE (a checkout):
#                                                    # train the models, tag, write a checkpoint
#   benchmarks/identical_output.sh tag CODE MODELS OUT
#                                                    # with CODE: tag and resume with the models
#                                                    # and checkpoint MODELS holds (from `make`)
#   diff -r OUT_BEFORE/tagged OUT_AFTER/tagged       # byte for byte
#
# `make` trains, one thread each, small runs that reach every path tagging takes: en_ewt UPOS
# (one epoch of the built-in defaults), lt_hse with an ensemble of two and a tag dictionary,
# MasakhaNER wol entities (a CRF), and an lt_hse run stopped by SIGTERM after its first
# checkpoint. `tag` (also run by `make`) tags en_ewt test as CoNLL-U, as tokenized text and as
# raw text, lt_hse test, and wol test; scores them with `seqtag eval --json`; and resumes the
# checkpoint to a model whose lt_hse tags it writes too. Needs ../shared/data beside the checkout.
set -euo pipefail

mode=$1
code=$(cd "$2" && pwd)
shared=$(cd "$(dirname "$0")/../../shared/data" && pwd)
python=${PYTHON:-python}
# -P: the checkout named, not the working directory, provides seqtag.
seqtag() { PYTHONPATH="$code" OMP_NUM_THREADS=1 "$python" -P -m seqtag "$@"; }

ud=$shared/ud
ner=$shared/ner/masakhaner2/wol

train_models() {
  local models=$1
  mkdir -p "$models"
  seqtag train "$ud/en_ewt/train.conllu" --dev "$ud/en_ewt/dev.conllu" --max-epochs 1 \
    --threads 1 -q -o "$models/en_ewt.model"
  seqtag train "$ud/lt_hse/train.conllu" --dev "$ud/lt_hse/dev.conllu" --max-epochs 3 \
    --ensemble 2 --tag-dictionary on --threads 1 -q -o "$models/lt_hse-ensemble.model"
  seqtag train "$ner/train.txt" --dev "$ner/dev.txt" --max-epochs 3 --threads 1 -q \
    -o "$models/wol.model"
  # A run stopped by SIGTERM once its first checkpoint is written.
  rm -rf "$models/checkpoint"
  seqtag train "$ud/lt_hse/train.conllu" --dev "$ud/lt_hse/dev.conllu" --max-epochs 6 \
    --threads 1 -q -o "$models/interrupted.model" --checkpoint "$models/checkpoint" &
  local pid=$!
  until [ -f "$models/checkpoint/checkpoint.safetensors" ]; do sleep 0.2; done
  kill -TERM "$pid"
  wait "$pid" || true
}

tag_with() {
  local models=$1 out=$2
  mkdir -p "$out/tagged"
  local test=$ud/en_ewt/test.conllu
  seqtag tag -m "$models/en_ewt.model" -i conllu "$test" >"$out/tagged/en_ewt.conllu"
  grep '^# text = ' "$test" | sed 's/^# text = //' >"$out/en_ewt.txt"
  "$python" -P - "$test" >"$out/en_ewt.tokens" <<'EOF'
import sys
words = []
for line in open(sys.argv[1], encoding="utf-8"):
    fields = line.rstrip("\n").split("\t")
    if len(fields) == 10 and fields[0].isdigit():
        words.append(fields[1])
    elif not line.strip() and words:
        print(" ".join(words))
        words = []
EOF
  seqtag tag -m "$models/en_ewt.model" -i tokenized -f tsv "$out/en_ewt.tokens" \
    >"$out/tagged/en_ewt-tokenized.tsv"
  seqtag tag -m "$models/en_ewt.model" -i raw -f jsonl "$out/en_ewt.txt" \
    >"$out/tagged/en_ewt-raw.jsonl"
  seqtag tag -m "$models/lt_hse-ensemble.model" -i conllu "$ud/lt_hse/test.conllu" \
    >"$out/tagged/lt_hse-ensemble.conllu"
  seqtag tag -m "$models/lt_hse-ensemble.model" --no-tag-dictionary -i conllu \
    "$ud/lt_hse/test.conllu" >"$out/tagged/lt_hse-ensemble-no-dictionary.conllu"
  seqtag tag -m "$models/wol.model" -i columns "$ner/test.txt" >"$out/tagged/wol.txt"
  seqtag tag -m "$models/wol.model" -i columns -f jsonl "$ner/test.txt" >"$out/tagged/wol.jsonl"
  seqtag eval -m "$models/en_ewt.model" "$test" --json >"$out/tagged/en_ewt-eval.json"
  seqtag eval -m "$models/lt_hse-ensemble.model" "$ud/lt_hse/test.conllu" --json \
    >"$out/tagged/lt_hse-ensemble-eval.json"
  seqtag eval -m "$models/wol.model" "$ner/test.txt" --json >"$out/tagged/wol-eval.json"
  # The interrupted run, resumed from a copy of its checkpoint with this code; the resumed run
  # writes where the checkpoint says (its own -o), from where its model is taken.
  rm -rf "$out/checkpoint" && cp -r "$models/checkpoint" "$out/checkpoint"
  seqtag train --resume "$out/checkpoint" -q --threads 1 2>"$out/resume.stderr"
  local written
  written=$(PYTHONPATH="$code" "$python" -P -c \
    'import sys; from seqtag import checkpoint; print(checkpoint.load(sys.argv[1])["run"]["output"])' \
    "$out/checkpoint")
  mv "$written" "$out/resumed.model"
  seqtag tag -m "$out/resumed.model" -i conllu "$ud/lt_hse/test.conllu" \
    >"$out/tagged/lt_hse-resumed.conllu"
}

case $mode in
  make) train_models "$3/models" && tag_with "$3/models" "$3" ;;
  tag) tag_with "$3" "$4" ;;
  *) echo "usage: $0 make CODE OUT | tag CODE MODELS OUT" >&2 && exit 2 ;;
esac
