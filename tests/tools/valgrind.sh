#!/bin/sh
# The tools end to end under valgrind (memcheck, full leak check): the
# pipeline's steps on the tiny-word fixture model (eap-corrupt, eap-dump,
# eap-score from acts.h5 and by exact patching, eap-prune --sizes, eap-eval
# with a summary), eap-tokenize, a few eap-train steps, and error paths
# (a failing run must free what it allocated too).  Each run must report
# no error and no leak.  Skipped, with a message, without valgrind.  Run
# from the repository root after `make`.
set -u
if ! command -v valgrind > /dev/null 2>&1; then
	echo "valgrind.sh: valgrind not found, skipped (apt-get install valgrind)"
	echo "valgrind.sh: 0 passed, 0 failed"
	exit 0
fi
M=tests/fixtures/models/tiny-word
. tests/tools/lib/harness.sh
# One BLAS thread: OpenBLAS's thread pool is slow under valgrind.
export OPENBLAS_NUM_THREADS=1

# vg NAME WANT_EXIT CMD...: memcheck clean and the expected exit status
vg() {
	name=$1 want=$2
	shift 2
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible \
		--log-file="$T/vg.log" "$@" > "$T/out" 2> "$T/err" < "${VG_STDIN:-/dev/null}"
	rc=$?
	if [ "$rc" -eq "$want" ] && [ ! -s "$T/vg.log" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $name: exit $rc (expected $want)"
		head -40 "$T/vg.log"
		head -5 "$T/err"
	fi
}

cp tests/fixtures/pairs/tiny-word.csv "$T/p.csv"

vg "eap-corrupt --task" 0 bin/eap-corrupt --task data/tasks/ioi --split test -n 5 --seed 1 -o "$T/gen.csv"
vg "eap-dump" 0 bin/eap-dump --model $M --pairs "$T/p.csv" --batch 2 -o "$T/acts.h5"
vg "eap-score --acts eap-ig" 0 bin/eap-score --model $M --pairs "$T/p.csv" --acts "$T/acts.h5" \
	--method eap-ig --steps 3 --batch 2 -o "$T/s.h5"
vg "eap-score exact" 0 bin/eap-score --model $M --pairs "$T/p.csv" --method exact --metric kl -o "$T/x.h5"
vg "eap-prune --sizes" 0 bin/eap-prune --scores "$T/s.h5" --sizes 5,20,110 -o "$T/cs.h5"
vg "eap-prune --topn --json --dot" 0 bin/eap-prune --scores "$T/s.h5" --topn 10 -o "$T/c.h5" \
	--json "$T/c.json" --dot "$T/c.dot"
vg "eap-prune --from-json" 0 bin/eap-prune --from-json "$T/c.json" --greedy 5 -o "$T/cj.h5"
vg "eap-eval" 0 bin/eap-eval --model $M --pairs "$T/p.csv" --circuit "$T/cs.h5" --bootstrap 50 \
	--summary "$T/sum.csv" -o "$T/curve.csv"
vg "eap-eval --ablation mean" 0 bin/eap-eval --model $M --pairs "$T/p.csv" --circuit "$T/c.h5" \
	--ablation mean --bootstrap 20 -o "$T/mean.csv"
printf 'the cat sat\nwhen mary and john\n' > "$T/lines.txt"
vg "eap-tokenize" 0 bin/eap-tokenize --model $M --pieces "$T/lines.txt"
bin/eap-corrupt --corpus -n 50 --seed 1 -o "$T/corpus.txt" &&
	bin/eap-corrupt --vocab -o "$T/vocab.txt"
vg "eap-train" 0 bin/eap-train --corpus "$T/corpus.txt" --vocab "$T/vocab.txt" --layers 1 --heads 2 \
	--dim 8 --ctx 16 --steps 3 --batch 4 --threads 1 -o "$T/m"

# error paths: the message, exit 1, and nothing leaked
printf 'clean,corrupted,answers,foils\nthe cat sat,the cat sat on,mat,dog\n' > "$T/len.csv"
vg "eap-score on bad pairs" 1 bin/eap-score --model $M --pairs "$T/len.csv" --method eap -o "$T/bad.h5"
head -c 3000 "$T/c.h5" > "$T/trunc.h5"
vg "eap-eval on a truncated circuit" 1 bin/eap-eval --model $M --pairs "$T/p.csv" --circuit "$T/trunc.h5" -o "$T/bad.csv"
vg "eap-prune on a CSV" 1 bin/eap-prune --scores "$T/p.csv" --topn 5 -o "$T/bad2.h5"

finish
