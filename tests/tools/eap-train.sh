#!/bin/sh
# eap-train.sh - end-to-end tests of bin/eap-train (SPEC §2, §3): a short
# run writes a complete model directory, runs reproduce byte for byte,
# bad input exits 1 and bad usage 2 with one line, and a failed run leaves
# no output directory behind.
# Run from the repository root after `make` (as `make tool-tests` does).

BIN=bin/eap-train
. tests/tools/lib/harness.sh

# expect_usage NAME: exit 2 with one line ending in "(see --help)"
expect_usage() {
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
		grep -q '^eap-train: .*(see --help)$' "$tmp/err"; then ok; else bad "$1"; fi
}

# no_output NAME DIR: neither DIR nor a temporary DIR.tmp-* exists
no_output() {
	if [ ! -e "$2" ] && [ -z "$(ls -d "$2".tmp-* 2>/dev/null)" ]; then ok; else bad "$1"; fi
}

[ -x "$BIN" ] || { echo "eap-train.sh: $BIN not built"; exit 1; }

# ---- a tiny corpus ----
printf '<bos>\nthe\ncat\ndog\nsat\nran\non\nmat\nto\npark\n.\n' >"$tmp/vocab.txt"
i=0
while [ $i -lt 30 ]; do
	echo "the cat sat on the mat ."
	echo "the dog ran to the park ."
	echo ""
	i=$((i + 1))
done >"$tmp/corpus.txt"
SMALL="--layers 2 --heads 2 --dim 16 --ctx 8 --batch 8 --steps 20 --warmup 2 --lr 1e-2 --threads 2"

# ---- help ----
run "$BIN" --help
if [ "$rc" -eq 0 ] && head -n 1 "$tmp/out" | grep -q '^Usage: eap-train --corpus FILE --vocab FILE' &&
	grep -q -- '--threads' "$tmp/out" && [ ! -s "$tmp/err" ]; then ok; else bad "--help"; fi

# ---- a 20-step run writes a complete, loadable model directory ----
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt" $SMALL --seed 5 -o "$tmp/m1"
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && [ ! -s "$tmp/out" ] &&
	[ -f "$tmp/m1/model.safetensors" ] && [ -f "$tmp/m1/config.json" ] &&
	cmp -s "$tmp/m1/vocab.txt" "$tmp/vocab.txt"; then ok; else bad "20-step run"; fi
if grep -q '"bos_token_id":[[:space:]]*0' "$tmp/m1/config.json" &&
	grep -q '"n_layer":[[:space:]]*2' "$tmp/m1/config.json" &&
	grep -q '"vocab_size":[[:space:]]*11' "$tmp/m1/config.json" &&
	grep -q '"n_positions":[[:space:]]*8' "$tmp/m1/config.json"; then ok; else bad "config.json"; fi
# every tensor of the HF GPT-2 naming is in the header, tied (no lm_head)
hdr=$(head -c 4000 "$tmp/m1/model.safetensors" | tr -c '[:print:]' ' ')
okh=1
for t in wte.weight wpe.weight h.0.ln_1.weight h.1.attn.c_attn.weight \
	h.1.attn.c_proj.bias h.1.mlp.c_fc.weight h.1.mlp.c_proj.weight ln_f.bias; do
	case "$hdr" in *"\"$t\""*) ;; *) okh=0 ;; esac
done
case "$hdr" in *lm_head*) okh=0 ;; esac
if [ $okh -eq 1 ]; then ok; else bad "safetensors header"; fi
# the model directory is what the tools load: its tokenizer works
run sh -c "echo 'the cat sat' | bin/eap-tokenize --model '$tmp/m1'"
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "0 1 2 4" ]; then ok; else bad "eap-tokenize --model"; fi
# train-log.csv: header and one row per step, and the loss went down
if [ "$(head -n 1 "$tmp/m1/train-log.csv")" = "step,loss,lr,grad_norm" ] &&
	[ "$(wc -l <"$tmp/m1/train-log.csv")" -eq 21 ] &&
	awk -F, 'NR == 2 { a = $2 } END { exit !($2 < 0.7 * a) }' "$tmp/m1/train-log.csv"; then
	ok; else bad "train-log.csv"; fi

# ---- determinism: same seed and threads, same bytes; another seed differs ----
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt" $SMALL --seed 5 -o "$tmp/m2"
if [ "$rc" -eq 0 ] && cmp -s "$tmp/m1/model.safetensors" "$tmp/m2/model.safetensors" &&
	cmp -s "$tmp/m1/train-log.csv" "$tmp/m2/train-log.csv"; then ok; else bad "same seed, same bytes"; fi
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt" $SMALL --seed 6 -o "$tmp/m3"
if [ "$rc" -eq 0 ] && ! cmp -s "$tmp/m1/model.safetensors" "$tmp/m3/model.safetensors"; then
	ok; else bad "another seed differs"; fi

# ---- --progress reports on stderr (eap/progress.h), nothing without it ----
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt" $SMALL --steps 3 --progress -o "$tmp/m4"
if [ "$rc" -eq 0 ] && tail -1 "$tmp/err" | grep -q "^eap-train: wrote" &&
	grep -q "^eap-train $tmp/m4: 3/3 steps (100%), [0-9]*s elapsed, done, loss [0-9.]*, lr [0-9.e+-]*, [0-9]* tokens/s$" "$tmp/err"; then
	ok; else bad "--progress"; fi
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt" $SMALL --steps 3 -o "$tmp/m5"
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ]; then ok; else bad "no --progress, not a terminal: stderr not empty"; fi

# ---- bad input: exit 1, one line naming file and line, nothing written ----
printf 'the cat sat\nthe fox sat\n' >"$tmp/badword.txt"
run "$BIN" --corpus "$tmp/badword.txt" --vocab "$tmp/vocab.txt" $SMALL -o "$tmp/bad1"
expect_err_line "unknown word" 1 "eap-train: $tmp/badword.txt:2: unknown word \"fox\""
no_output "no output after unknown word" "$tmp/bad1"
printf 'the\ncat\n' >"$tmp/nobos.txt"
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/nobos.txt" $SMALL -o "$tmp/bad2"
expect_err_line "vocabulary without <bos>" 1 "eap-train: $tmp/nobos.txt: no <bos> or <|endoftext|> token"
no_output "no output after a bad vocabulary" "$tmp/bad2"
run "$BIN" --corpus "$tmp/missing.txt" --vocab "$tmp/vocab.txt" $SMALL -o "$tmp/bad3"
expect_err_line "missing corpus" 1 "eap-train: $tmp/missing.txt: No such file or directory"
no_output "no output after a missing corpus" "$tmp/bad3"
printf 'the cat\n' >"$tmp/short.txt"
run "$BIN" --corpus "$tmp/short.txt" --vocab "$tmp/vocab.txt" $SMALL -o "$tmp/bad4"
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'too few' "$tmp/err"; then
	ok; else bad "corpus shorter than a row"; fi
no_output "no output after a short corpus" "$tmp/bad4"
# an existing, non-empty output directory is left alone
cp "$tmp/m1/config.json" "$tmp/keep.json"
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt" $SMALL -o "$tmp/m1"
expect_err_line "existing output" 1 "eap-train: $tmp/m1: already exists and is not empty"
if cmp -s "$tmp/m1/config.json" "$tmp/keep.json" && [ -z "$(ls -d "$tmp"/m1.tmp-* 2>/dev/null)" ]; then
	ok; else bad "existing output untouched"; fi
# ... while an empty one is filled
mkdir "$tmp/empty"
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt" $SMALL --steps 2 -o "$tmp/empty"
if [ "$rc" -eq 0 ] && [ -f "$tmp/empty/model.safetensors" ]; then ok; else bad "empty output dir"; fi

# ---- usage errors: exit 2, one line ----
run "$BIN" --vocab "$tmp/vocab.txt" -o "$tmp/u"
expect_usage "missing --corpus"
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt"
expect_usage "missing -o"
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt" --steps 0 -o "$tmp/u"
expect_err_line "--steps 0" 2 'eap-train: --steps: invalid value "0" (see --help)'
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt" --lr nan -o "$tmp/u"
expect_usage "--lr nan"
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt" --dim 10 --heads 4 -o "$tmp/u"
expect_err_line "--dim not a multiple of --heads" 2 'eap-train: --dim 10 is not a multiple of --heads 4 (see --help)'
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt" --layers -o "$tmp/u"
expect_usage "--layers without a number"
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt" --frobnicate -o "$tmp/u"
expect_usage "unknown option"
run "$BIN" --corpus "$tmp/corpus.txt" --vocab "$tmp/vocab.txt" -o "$tmp/u" extra
expect_usage "extra argument"
no_output "no output after usage errors" "$tmp/u"

finish
