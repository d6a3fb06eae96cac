#!/bin/sh
# Reproducibility and provenance (SPEC §11, STYLE "no globals"): the same
# command twice gives the same bytes: HDF5 files differ only in their
# `created` attribute (h5diff finds no other difference, the files have the
# same size and differ in at most a few bytes: the timestamp and the
# checksum over it), CSV, JSON and DOT files are identical.  For
# eap-corrupt, eap-dump, eap-score (each method, with and without acts.h5),
# eap-prune and eap-eval.  And the recorded provenance is right: tool,
# version, model path and SHA-256 (of model.safetensors), pairs path and
# SHA-256, method, metric, steps, n_examples, graph shape, and a UTC
# creation time.  Run from the repository root after `make`.
set -u
M=tests/fixtures/models/tiny-word
. tests/tools/lib/harness.sh

VERSION=$(sed -n 's/^#define EAP_VERSION "\(.*\)"/\1/p' include/eap/inputs.h)
MODEL_SHA=$(sha256sum $M/model.safetensors | cut -d' ' -f1)

# same_h5 NAME A B: identical but for /created
same_h5() {
	h5diff -v "$2" "$3" > "$T/diff" 2>&1
	rc=$?
	if [ $rc -gt 1 ]; then
		bad "$1: h5diff failed: $(tail -2 "$T/diff")"
		return
	fi
	other=$(awk '/^(attribute|dataset|group)/ { what = $0 }
		/^[1-9][0-9]* differences? found/ && what !~ /^attribute: <created of <\/>>/ { print what }
		/^Not comparable|not comparable/ { print }' "$T/diff")
	nbytes=$(cmp -l "$2" "$3" | wc -l)
	if [ -n "$other" ]; then
		bad "$1: differs in $other"
	elif [ "$(wc -c < "$2")" -ne "$(wc -c < "$3")" ] || [ "$nbytes" -gt 24 ]; then
		bad "$1: $nbytes bytes differ (sizes $(wc -c < "$2"), $(wc -c < "$3"))"
	else
		ok
	fi
}
same_file() { cmp -s "$2" "$3" && ok || bad "$1: $2 and $3 differ"; }
# twice NAME OUT CMD... (CMD writes OUT): runs CMD, renames OUT to OUT.1,
# for HDF5 sleeps past a second (so `created` differs), runs CMD again
twice() {
	name=$1 out=$2
	shift 2
	"$@" > /dev/null 2> "$T/err" || { bad "$name: run 1 failed: $(cat "$T/err")"; return 1; }
	mv "$out" "$out.1"
	case $out in *.h5) sleep 1 ;; esac
	"$@" > /dev/null 2> "$T/err" || { bad "$name: run 2 failed: $(cat "$T/err")"; return 1; }
}
attr() { h5dump -a "/$1" "$2" 2> /dev/null | sed -n 's/^ *(0): //p' | tr -d '"'; }
# meta FILE TOOL MODEL PAIRS METHOD METRIC STEPS N: the provenance attributes
meta() {
	f=$1
	[ "$(attr tool "$f")" = "$2" ] && ok || bad "$f: tool is '$(attr tool "$f")', expected $2"
	[ "$(attr version "$f")" = "$VERSION" ] && ok || bad "$f: version is '$(attr version "$f")', expected $VERSION"
	[ "$(attr model_path "$f")" = "$3" ] && ok || bad "$f: model_path is '$(attr model_path "$f")'"
	[ "$(attr model_sha256 "$f")" = "$MODEL_SHA" ] && ok || bad "$f: model_sha256 is not sha256sum of $M/model.safetensors"
	[ "$(attr pairs_path "$f")" = "$4" ] && ok || bad "$f: pairs_path is '$(attr pairs_path "$f")'"
	[ "$(attr pairs_sha256 "$f")" = "$(sha256sum "$4" | cut -d' ' -f1)" ] && ok || bad "$f: pairs_sha256 is not sha256sum of $4"
	[ "$(attr method "$f")" = "$5" ] && ok || bad "$f: method is '$(attr method "$f")', expected '$5'"
	[ "$(attr metric "$f")" = "$6" ] && ok || bad "$f: metric is '$(attr metric "$f")', expected $6"
	[ "$(attr steps "$f")" = "$7" ] && ok || bad "$f: steps is '$(attr steps "$f")', expected $7"
	[ "$(attr n_examples "$f")" = "$8" ] && ok || bad "$f: n_examples is '$(attr n_examples "$f")', expected $8"
	[ "$(attr n_layer "$f")" = 2 ] && [ "$(attr n_head "$f")" = 4 ] && ok || bad "$f: graph shape"
	attr created "$f" | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' && ok || bad "$f: created is '$(attr created "$f")'"
}

# ---- eap-corrupt ---------------------------------------------------------------
twice "eap-corrupt --task" "$T/gen.csv" bin/eap-corrupt --task data/tasks/ioi --split train -n 40 --seed 7 -o "$T/gen.csv" &&
	same_file "eap-corrupt --task" "$T/gen.csv.1" "$T/gen.csv"
twice "eap-corrupt --import" "$T/imp.csv" bin/eap-corrupt --import ioi --model data/tokenizers/gpt2 -n 30 \
	tests/fixtures/paper-data/ioi/gpt2.csv -o "$T/imp.csv" &&
	same_file "eap-corrupt --import" "$T/imp.csv.1" "$T/imp.csv"
twice "eap-corrupt --corpus" "$T/corpus.txt" bin/eap-corrupt --corpus -n 200 --seed 3 -o "$T/corpus.txt" &&
	same_file "eap-corrupt --corpus" "$T/corpus.txt.1" "$T/corpus.txt"

P=$T/p.csv
{ cat tests/fixtures/pairs/tiny-word.csv; cat <<'CSV'; } > "$P"
a big red house,a small red house,with,of|in
the queen saw a cat,the king saw a cat,she,he
CSV

# ---- eap-dump ------------------------------------------------------------------
twice "eap-dump" "$T/acts.h5" bin/eap-dump --model $M --pairs "$P" --batch 2 -o "$T/acts.h5" &&
	same_h5 "eap-dump" "$T/acts.h5.1" "$T/acts.h5"
meta "$T/acts.h5" eap-dump $M "$P" "" logit_diff 0 5

# ---- eap-score -----------------------------------------------------------------
for m in eap eap-ig clean-corrupted exact; do
	twice "eap-score $m" "$T/s-$m.h5" bin/eap-score --model $M --pairs "$P" --method $m --metric prob_diff \
		--steps 3 --batch 2 -o "$T/s-$m.h5" &&
		same_h5 "eap-score $m" "$T/s-$m.h5.1" "$T/s-$m.h5"
	steps=0
	[ $m = eap-ig ] && steps=3
	meta "$T/s-$m.h5" eap-score $M "$P" $m prob_diff $steps 5
done
twice "eap-score --acts" "$T/sa.h5" bin/eap-score --model $M --pairs "$P" --acts "$T/acts.h5" --method eap-ig \
	--metric kl -o "$T/sa.h5" && same_h5 "eap-score --acts" "$T/sa.h5.1" "$T/sa.h5"
meta "$T/sa.h5" eap-score $M "$P" eap-ig kl 5 5

# ---- eap-prune -----------------------------------------------------------------
S=$T/s-eap-ig.h5
twice "eap-prune --topn" "$T/c.h5" bin/eap-prune --scores "$S" --topn 25 -o "$T/c.h5" &&
	same_h5 "eap-prune --topn" "$T/c.h5.1" "$T/c.h5"
meta "$T/c.h5" eap-prune $M "$P" eap-ig prob_diff 3 5
twice "eap-prune --sizes" "$T/cs.h5" bin/eap-prune --scores "$S" --sizes 5,10,40,110 -o "$T/cs.h5" &&
	same_h5 "eap-prune --sizes" "$T/cs.h5.1" "$T/cs.h5"
twice "eap-prune --greedy --json" "$T/g.json" bin/eap-prune --scores "$S" --greedy 12 -o "$T/g.h5" \
	--json "$T/g.json" --dot "$T/g.dot" && same_file "eap-prune --json" "$T/g.json.1" "$T/g.json"
mv "$T/g.dot" "$T/g.dot.1"
bin/eap-prune --scores "$S" --greedy 12 -o "$T/g2.h5" --dot "$T/g.dot" && same_file "eap-prune --dot" "$T/g.dot.1" "$T/g.dot"

# ---- eap-eval ------------------------------------------------------------------
twice "eap-eval" "$T/curve.csv" bin/eap-eval --model $M --pairs "$P" --metric prob_diff --circuit "$T/cs.h5" \
	--bootstrap 200 --seed 5 --summary "$T/sum.csv" -o "$T/curve.csv" &&
	same_file "eap-eval curve" "$T/curve.csv.1" "$T/curve.csv"
mv "$T/sum.csv" "$T/sum.csv.1"
bin/eap-eval --model $M --pairs "$P" --metric prob_diff --circuit "$T/cs.h5" --bootstrap 200 --seed 5 \
	--summary "$T/sum.csv" -o "$T/curve2.csv" && same_file "eap-eval summary" "$T/sum.csv.1" "$T/sum.csv"
twice "eap-eval --ablation mean" "$T/mean.csv" bin/eap-eval --model $M --pairs "$P" --circuit "$T/c.h5" \
	--ablation mean -o "$T/mean.csv" && same_file "eap-eval mean" "$T/mean.csv.1" "$T/mean.csv"
if bin/eap-eval --help | grep -q -- '--h5'; then
	twice "eap-eval --h5" "$T/curve.h5" bin/eap-eval --model $M --pairs "$P" --metric prob_diff \
		--circuit "$T/cs.h5" --bootstrap 200 --seed 5 --h5 "$T/curve.h5" -o "$T/curve4.csv" &&
		same_h5 "eap-eval --h5" "$T/curve.h5.1" "$T/curve.h5"
	[ "$(attr tool "$T/curve.h5")" = eap-eval ] && [ "$(attr model_sha256 "$T/curve.h5")" = "$MODEL_SHA" ] &&
		[ "$(attr pairs_sha256 "$T/curve.h5")" = "$(sha256sum "$P" | cut -d' ' -f1)" ] && ok ||
		bad "eap-eval --h5: provenance"
fi
# a different bootstrap seed changes the interval (the check can fail)
bin/eap-eval --model $M --pairs "$P" --metric prob_diff --circuit "$T/cs.h5" --bootstrap 200 --seed 6 \
	-o "$T/curve3.csv" && ! cmp -s "$T/curve.csv" "$T/curve3.csv" && ok || bad "eap-eval: --seed does not matter"

finish
