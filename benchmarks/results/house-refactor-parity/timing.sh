M=/tmp/parity/before/models/en_ewt.model
PY=/work/main/.venv/bin/python
run() { PYTHONPATH=$1 OMP_NUM_THREADS=1 taskset -c 1 $PY -P -m seqtag tag -m $M "${@:2}"; }
for code in /tmp/before /work/main; do run $code -i tokenized -f tsv /tmp/train.tokens | md5sum; done
for i in 1 2 3 4 5; do for code in /tmp/before /work/main; do
  s=$(date +%s.%N); echo "The cat sat ." | run $code > /dev/null; e=$(date +%s.%N); echo "cold $code $(echo "$e - $s" | bc)"; done; done
for i in 1 2 3; do for code in /tmp/before /work/main; do
  s=$(date +%s.%N); run $code -i tokenized -f tsv /tmp/train.tokens > /dev/null; e=$(date +%s.%N); echo "speed $code $(echo "$e - $s" | bc)"; done; done
