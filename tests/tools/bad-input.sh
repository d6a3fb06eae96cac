#!/bin/sh
# The bad-input matrix (SPEC §2, §11, §13): every tool on every class of
# bad input it can receive.  Each check asserts exit 1 (2 for a bad option
# value), exactly one line on stderr that starts with the tool's name and
# names the file (row, tensor) or option and the problem, and no output
# left behind (neither OUT nor OUT.tmp; for eap-train no DIR nor
# DIR.tmp-*).  Prints the matrix (cases x tools) at the end.  Run from the
# repository root after `make`.  EAP_BIN=DIR runs the tools of DIR instead
# of bin/ (`make check` also runs it on an ASan/UBSan build of the tools,
# tests/san-tools.mk, where a sanitizer report breaks the one-line rule).
set -u
B=${EAP_BIN:-bin}
M=tests/fixtures/models/tiny-word
U=tests/fixtures/models/tiny-untied
G=data/tokenizers/gpt2
. tests/tools/lib/harness.sh
RES=$T/results
: > "$RES"

# check CASE TOOL EXIT PATTERN OUT CMD... (OUT "-": the tool writes none)
check() {
	c=$1 tool=$2 want=$3 pat=$4 out=$5
	shift 5
	[ "$out" != - ] && rm -rf "$out" "$out.tmp" "$out".tmp-*
	"$@" > "$T/stdout" 2> "$T/stderr" < /dev/null
	rc=$?
	lines=$(awk 'END { print NR }' "$T/stderr")
	why=
	if [ "$rc" -ne "$want" ]; then
		why="exit $rc, expected $want"
	elif [ "$lines" -ne 1 ]; then
		why="$lines lines on stderr"
	elif ! head -1 "$T/stderr" | grep -q "^$tool: "; then
		why="stderr does not start with '$tool: '"
	elif ! grep -qF -- "$pat" "$T/stderr"; then
		why="stderr lacks '$pat'"
	elif [ "$out" != - ] && { [ -e "$out" ] || [ -e "$out.tmp" ] ||
		ls -d "$out".tmp-* > /dev/null 2>&1; }; then
		why="left an output file behind"
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1))
		echo "$c|$tool|ok" >> "$RES"
	else
		fail=$((fail + 1))
		echo "$c|$tool|FAIL" >> "$RES"
		echo "FAIL: $c / $tool: $why: $(head -c 300 "$T/stderr")"
	fi
}

O=$T/out.h5
C=$T/out.csv

# ---- good inputs ----------------------------------------------------------------
cp tests/fixtures/pairs/tiny-word.csv "$T/p.csv"
printf 'clean,corrupted,answers,foils\none two three,one two four,five,six\n' > "$T/pu.csv"
$B/eap-dump --model $M --pairs "$T/p.csv" -o "$T/acts.h5" &&
	$B/eap-score --model $M --pairs "$T/p.csv" --method eap -o "$T/s.h5" &&
	$B/eap-prune --scores "$T/s.h5" --topn 20 -o "$T/c.h5" --json "$T/c.json" &&
	$B/eap-dump --model $U --pairs "$T/pu.csv" -o "$T/acts-u.h5" &&
	$B/eap-score --model $U --pairs "$T/pu.csv" --method eap -o "$T/s-u.h5" &&
	$B/eap-prune --scores "$T/s-u.h5" --topn 10 -o "$T/c-u.h5" ||
	{ echo "bad-input.sh: cannot make the good inputs"; exit 1; }

# ---- bad files ----------------------------------------------------------------
: > "$T/empty"
mkmodel() { # NAME: a copy of tiny-word to spoil
	rm -rf "$T/$1" && mkdir "$T/$1" && cp $M/* "$T/$1/"
}
mkmodel noweights && rm "$T/noweights/model.safetensors"
mkmodel emptyweights && : > "$T/emptyweights/model.safetensors"
mkmodel truncweights && head -c 5000 $M/model.safetensors > "$T/truncweights/model.safetensors"
mkmodel badheader && printf '\040\000\000\000\000\000\000\000{"wte.weight": [1, 2, 3] ,     }' > "$T/badheader/model.safetensors"
mkmodel shape && sed 's/"n_embd": *32/"n_embd": 64/' $M/config.json > "$T/shape/config.json"
mkmodel nan
hlen=$(od -An -tu8 -N8 $M/model.safetensors | tr -d ' ')
printf '\000\000\300\177' | dd of="$T/nan/model.safetensors" bs=1 seek=$((8 + hlen + 64)) conv=notrunc 2> /dev/null
mkmodel emptyconfig && : > "$T/emptyconfig/config.json"
mkmodel bigvocab && { cat $M/vocab.txt; printf 'w%s\n' 1 2 3 4 5 6 7 8 9 10; } > "$T/bigvocab/vocab.txt"
mkmodel badbos && sed 's/"bos_token_id": *0/"bos_token_id": 99/' $M/config.json > "$T/badbos/config.json"
mkdir "$T/emptyvocab" && : > "$T/emptyvocab/vocab.txt"
mkdir "$T/truncbpe" && head -c 3000 $G/encoder.json > "$T/truncbpe/encoder.json" && cp $G/vocab.bpe "$T/truncbpe/"
mkdir "$T/badmerges" && cp $G/encoder.json "$T/badmerges/" && printf '#version: 0.2\n\304\240 t\nnot-a-merge\n' > "$T/badmerges/vocab.bpe"
# tokenizer.json: an unknown model type, a merge naming an unknown token,
# a malformed (cut) file
mkdir "$T/hf-type" "$T/hf-merge" "$T/hf-trunc"
printf '{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}\n' > "$T/hf-type/tokenizer.json"
printf '{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2},\n "merges": ["a b", "a c"]}}\n' > "$T/hf-merge/tokenizer.json"
printf '{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2},\n "merges": ["a b"' > "$T/hf-trunc/tokenizer.json"

printf 'clean,corrupted,answers,foils\n"the cat sat,the dog' > "$T/trunc.csv"
printf 'clean,corrupt,answers,foils\nthe cat sat,the dog sat,on,to\n' > "$T/header.csv"
printf 'clean,corrupted,answers,foils\nthe cat sat,the dog sat,on\n' > "$T/fields.csv"
printf 'clean,corrupted,answers,foils\nthe cat sat on the mat and the dog sat on the mat and the cat ran to the store,the dog sat on the mat and the dog sat on the mat and the cat ran to the store,with,to\n' > "$T/long.csv"
printf 'clean,corrupted,answers,foils\nthe zebra sat,the dog sat,on,to\n' > "$T/unknown.csv"
printf 'clean,corrupted,answers,foils\nthe cat sat,the dog sat,on the,to\n' > "$T/multi.csv"
head -c 250 tests/fixtures/paper-data/ioi/gpt2.csv > "$T/trunc-ioi.csv"
printf 'clean,corrupted\n"When Mary and John",When Mary and Bob\n' > "$T/header-ioi.csv"
head -c 3000 "$T/s.h5" > "$T/trunc.h5"
head -c 3000 "$T/acts.h5" > "$T/trunc-acts.h5"
head -c 3000 "$T/c.h5" > "$T/trunc-c.h5"
sed 's/"score": [-0-9.e]*/"score": NaN/' "$T/c.json" > "$T/nan.json"
sed 's/"n_layers": 2/"n_layers": 1/' "$T/c.json" > "$T/shape.json"
mkdir "$T/task-empty" && : > "$T/task-empty/task.txt"
mkdir "$T/task-header" && printf 'list names names.txt\nfrobnicate names\n' > "$T/task-header/task.txt" &&
	printf 'mary\njohn\n' > "$T/task-header/names.txt"
cp -r data/tasks/ioi "$T/task-trunc" && head -c 200 data/tasks/ioi/task.txt > "$T/task-trunc/task.txt"
mkdir "$T/task-shape" && printf 'list names names.txt name gender\nvar a = names\n' > "$T/task-shape/task.txt" &&
	printf 'mary f\njohn\n' > "$T/task-shape/names.txt"
printf 'the cat sat\n' > "$T/corpus.txt"
printf 'the zebra sat\n' > "$T/corpus-unknown.txt"
grep -v '^<bos>$' $M/vocab.txt > "$T/vocab-nobos.txt"

# ---- the matrix ------------------------------------------------------------------
tk() { check "$1" eap-tokenize "$2" "$3" - $B/eap-tokenize "$@"; }
# missing file
check "missing file" eap-tokenize 1 "nodir" - $B/eap-tokenize --model "$T/nodir"
check "missing file" eap-corrupt 1 "nodir" $C $B/eap-corrupt --task "$T/nodir" --split train -n 2 -o $C
check "missing file" eap-corrupt 1 "nope.csv" $C $B/eap-corrupt --import ioi --model $G "$T/nope.csv" -o $C
check "missing file" eap-dump 1 "nope.csv" $O $B/eap-dump --model $M --pairs "$T/nope.csv" -o $O
check "missing file" eap-dump 1 "model.safetensors" $O $B/eap-dump --model "$T/noweights" --pairs "$T/p.csv" -o $O
check "missing file" eap-score 1 "nope.csv" $O $B/eap-score --model $M --pairs "$T/nope.csv" --method eap -o $O
check "missing file" eap-score 1 "nope.h5" $O $B/eap-score --model $M --pairs "$T/p.csv" --acts "$T/nope.h5" --method eap -o $O
check "missing file" eap-prune 1 "nope.h5" $O $B/eap-prune --scores "$T/nope.h5" --topn 5 -o $O
check "missing file" eap-prune 1 "nope.json" $O $B/eap-prune --from-json "$T/nope.json" --topn 5 -o $O
check "missing file" eap-eval 1 "nope.h5" $C $B/eap-eval --model $M --pairs "$T/p.csv" --circuit "$T/nope.h5" -o $C
check "missing file" eap-eval 1 "nodir" $C $B/eap-eval --model "$T/nodir" --pairs "$T/p.csv" --circuit "$T/c.h5" -o $C
check "missing file" eap-train 1 "nope.txt" "$T/mdir" $B/eap-train --corpus "$T/nope.txt" --vocab $M/vocab.txt --steps 1 -o "$T/mdir"
check "missing file" eap-train 1 "nope.txt" "$T/mdir" $B/eap-train --corpus "$T/corpus.txt" --vocab "$T/nope.txt" --steps 1 -o "$T/mdir"

# empty file
check "empty file" eap-tokenize 1 "vocab.txt" - $B/eap-tokenize --model "$T/emptyvocab"
check "empty file" eap-corrupt 1 "task.txt" $C $B/eap-corrupt --task "$T/task-empty" --split train -n 2 -o $C
check "empty file" eap-corrupt 1 "empty" $C $B/eap-corrupt --import ioi --model $G "$T/empty" -o $C
check "empty file" eap-dump 1 "empty" $O $B/eap-dump --model $M --pairs "$T/empty" -o $O
check "empty file" eap-dump 1 "model.safetensors" $O $B/eap-dump --model "$T/emptyweights" --pairs "$T/p.csv" -o $O
check "empty file" eap-score 1 "empty" $O $B/eap-score --model $M --pairs "$T/empty" --method eap -o $O
check "empty file" eap-score 1 "config.json" $O $B/eap-score --model "$T/emptyconfig" --pairs "$T/p.csv" --method eap -o $O
check "empty file" eap-score 1 "empty" $O $B/eap-score --model $M --pairs "$T/p.csv" --acts "$T/empty" --method eap -o $O
check "empty file" eap-prune 1 "empty" $O $B/eap-prune --scores "$T/empty" --topn 5 -o $O
check "empty file" eap-prune 1 "empty" $O $B/eap-prune --from-json "$T/empty" --topn 5 -o $O
check "empty file" eap-eval 1 "empty" $C $B/eap-eval --model $M --pairs "$T/p.csv" --circuit "$T/empty" -o $C
check "empty file" eap-eval 1 "empty" $C $B/eap-eval --model $M --pairs "$T/empty" --circuit "$T/c.h5" -o $C
check "empty file" eap-train 1 "empty" "$T/mdir" $B/eap-train --corpus "$T/empty" --vocab $M/vocab.txt --steps 1 -o "$T/mdir"
check "empty file" eap-train 1 "empty" "$T/mdir" $B/eap-train --corpus "$T/corpus.txt" --vocab "$T/empty" --steps 1 -o "$T/mdir"

# truncated file
check "truncated file" eap-tokenize 1 "encoder.json" - $B/eap-tokenize --tokenizer "$T/truncbpe"
check "truncated file" eap-tokenize 1 "hf-trunc/tokenizer.json:2: invalid JSON" - $B/eap-tokenize --tokenizer "$T/hf-trunc"
check "truncated file" eap-corrupt 1 "task.txt" $C $B/eap-corrupt --task "$T/task-trunc" --split train -n 2 -o $C
check "truncated file" eap-corrupt 1 "trunc-ioi.csv" $C $B/eap-corrupt --import ioi --model $G "$T/trunc-ioi.csv" -o $C
check "truncated file" eap-dump 1 "trunc.csv:2" $O $B/eap-dump --model $M --pairs "$T/trunc.csv" -o $O
check "truncated file" eap-dump 1 "model.safetensors" $O $B/eap-dump --model "$T/truncweights" --pairs "$T/p.csv" -o $O
check "truncated file" eap-score 1 "model.safetensors" $O $B/eap-score --model "$T/truncweights" --pairs "$T/p.csv" --method eap -o $O
check "truncated file" eap-score 1 "trunc-acts.h5" $O $B/eap-score --model $M --pairs "$T/p.csv" --acts "$T/trunc-acts.h5" --method eap -o $O
check "truncated file" eap-prune 1 "trunc.h5" $O $B/eap-prune --scores "$T/trunc.h5" --topn 5 -o $O
check "truncated file" eap-eval 1 "trunc-c.h5" $C $B/eap-eval --model $M --pairs "$T/p.csv" --circuit "$T/trunc-c.h5" -o $C
check "truncated file" eap-eval 1 "model.safetensors" $C $B/eap-eval --model "$T/truncweights" --pairs "$T/p.csv" --circuit "$T/c.h5" -o $C

# wrong header
check "wrong header" eap-tokenize 1 "vocab.bpe:3" - $B/eap-tokenize --tokenizer "$T/badmerges"
check "wrong header" eap-tokenize 1 "tokenizer.json: unsupported model type \"Unigram\"" - $B/eap-tokenize --tokenizer "$T/hf-type"
check "wrong header" eap-tokenize 1 "tokenizer.json: merges[1] names \"c\", which is not in the vocab" - $B/eap-tokenize --tokenizer "$T/hf-merge"
check "wrong header" eap-corrupt 1 "task.txt:2" $C $B/eap-corrupt --task "$T/task-header" --split train -n 2 -o $C
check "wrong header" eap-corrupt 1 "header-ioi.csv:1" $C $B/eap-corrupt --import ioi --model $G "$T/header-ioi.csv" -o $C
check "wrong header" eap-dump 1 "header.csv:1" $O $B/eap-dump --model $M --pairs "$T/header.csv" -o $O
check "wrong header" eap-dump 1 "model.safetensors" $O $B/eap-dump --model "$T/badheader" --pairs "$T/p.csv" -o $O
check "wrong header" eap-score 1 "header.csv:1" $O $B/eap-score --model $M --pairs "$T/header.csv" --method eap -o $O
check "wrong header" eap-score 1 "model.safetensors" $O $B/eap-score --model "$T/badheader" --pairs "$T/p.csv" --method eap -o $O
check "wrong header" eap-score 1 "s.h5" $O $B/eap-score --model $M --pairs "$T/p.csv" --acts "$T/s.h5" --method eap -o $O
check "wrong header" eap-prune 1 "p.csv" $O $B/eap-prune --scores "$T/p.csv" --topn 5 -o $O
check "wrong header" eap-prune 1 "acts.h5" $O $B/eap-prune --scores "$T/acts.h5" --topn 5 -o $O
check "wrong header" eap-eval 1 "s.h5" $C $B/eap-eval --model $M --pairs "$T/p.csv" --circuit "$T/s.h5" -o $C
check "wrong header" eap-eval 1 "header.csv:1" $C $B/eap-eval --model $M --pairs "$T/header.csv" --circuit "$T/c.h5" -o $C
check "wrong header" eap-train 1 "vocab-nobos.txt" "$T/mdir" $B/eap-train --corpus "$T/corpus.txt" --vocab "$T/vocab-nobos.txt" --steps 1 -o "$T/mdir"

# wrong shape
check "wrong shape" eap-corrupt 1 "names.txt:2" $C $B/eap-corrupt --task "$T/task-shape" --split train -n 2 -o $C
check "wrong shape" eap-dump 1 "fields.csv:2" $O $B/eap-dump --model $M --pairs "$T/fields.csv" -o $O
check "wrong shape" eap-dump 1 'tensor "wte.weight"' $O $B/eap-dump --model "$T/shape" --pairs "$T/p.csv" -o $O
check "wrong shape" eap-score 1 'tensor "wte.weight"' $O $B/eap-score --model "$T/shape" --pairs "$T/p.csv" --method eap -o $O
head -3 "$T/p.csv" > "$T/p2.csv"
check "wrong shape" eap-score 1 "acts.h5" $O $B/eap-score --model $M --pairs "$T/p2.csv" --acts "$T/acts.h5" --method eap -o $O
check "wrong shape" eap-prune 1 "shape.json" $O $B/eap-prune --from-json "$T/shape.json" --topn 5 -o $O
check "wrong shape" eap-eval 1 'tensor "wte.weight"' $C $B/eap-eval --model "$T/shape" --pairs "$T/p.csv" --circuit "$T/c.h5" -o $C

# mismatched model
check "mismatched model" eap-tokenize 1 "bos_token_id" - $B/eap-tokenize --model "$T/badbos"
check "mismatched model" eap-corrupt 1 "gpt2.csv:2" $C $B/eap-corrupt --import ioi --model $M tests/fixtures/paper-data/ioi/gpt2.csv -o $C
check "mismatched model" eap-dump 1 "vocab_size is 40" $O $B/eap-dump --model "$T/bigvocab" --pairs "$T/p.csv" -o $O
check "mismatched model" eap-score 1 "acts-u.h5" $O $B/eap-score --model $M --pairs "$T/p.csv" --acts "$T/acts-u.h5" --method eap -o $O
check "mismatched model" eap-score 1 "vocab_size is 40" $O $B/eap-score --model "$T/bigvocab" --pairs "$T/p.csv" --method eap -o $O
check "mismatched model" eap-prune 1 "expected 3 x 2" $O $B/eap-prune --from-json "$T/c.json" --model $U --topn 5 -o $O
check "mismatched model" eap-eval 1 "c-u.h5" $C $B/eap-eval --model $M --pairs "$T/p.csv" --circuit "$T/c-u.h5" -o $C

# NaN weights (and NaN scores)
check "NaN weights" eap-dump 1 "non-finite" $O $B/eap-dump --model "$T/nan" --pairs "$T/p.csv" -o $O
check "NaN weights" eap-score 1 "non-finite" $O $B/eap-score --model "$T/nan" --pairs "$T/p.csv" --method exact -o $O
check "NaN weights" eap-prune 1 "nan.json" $O $B/eap-prune --from-json "$T/nan.json" --topn 5 -o $O
check "NaN weights" eap-eval 1 "non-finite" $C $B/eap-eval --model "$T/nan" --pairs "$T/p.csv" --circuit "$T/c.h5" -o $C

# prompts longer than n_positions
check "prompt > n_positions" eap-dump 1 "long.csv:2" $O $B/eap-dump --model $M --pairs "$T/long.csv" -o $O
check "prompt > n_positions" eap-score 1 "long.csv:2" $O $B/eap-score --model $M --pairs "$T/long.csv" --method eap-ig -o $O
check "prompt > n_positions" eap-eval 1 "long.csv:2" $C $B/eap-eval --model $M --pairs "$T/long.csv" --circuit "$T/c.h5" -o $C

# unknown words
printf 'the cat\nthe zebra\n' > "$T/lines.txt"
check "unknown words" eap-tokenize 1 "lines.txt:2" - $B/eap-tokenize --model $M "$T/lines.txt"
check "unknown words" eap-dump 1 "unknown.csv:2" $O $B/eap-dump --model $M --pairs "$T/unknown.csv" -o $O
check "unknown words" eap-score 1 "unknown.csv:2" $O $B/eap-score --model $M --pairs "$T/unknown.csv" --method eap -o $O
check "unknown words" eap-eval 1 "unknown.csv:2" $C $B/eap-eval --model $M --pairs "$T/unknown.csv" --circuit "$T/c.h5" -o $C
sed 's/"input->a0.h0<q>"/"input->a0.h9<q>"/' "$T/c.json" > "$T/unknown.json"
check "unknown words" eap-prune 1 "unknown.json" $O $B/eap-prune --from-json "$T/unknown.json" --topn 5 -o $O
mkdir "$T/task-slot" && printf 'list names names.txt\nvar a = names\nvar b = names except a\ntemplate t.txt\nanswer a\nfoil b\nholdout 0.5 a\n' > "$T/task-slot/task.txt" &&
	printf 'mary\njohn\nkate\n' > "$T/task-slot/names.txt" && printf '{a} saw {place} and {b}\n' > "$T/task-slot/t.txt"
check "unknown words" eap-corrupt 1 "t.txt:1" $C $B/eap-corrupt --task "$T/task-slot" --split train -n 2 -o $C
check "unknown words" eap-train 1 "corpus-unknown.txt:1" "$T/mdir" $B/eap-train --corpus "$T/corpus-unknown.txt" --vocab $M/vocab.txt --steps 1 -o "$T/mdir"

# answers that are not one token
printf 'the cat\n' > "$T/two.txt"
check "multi-token answer" eap-tokenize 1 "two.txt:1" - $B/eap-tokenize --model $M --single "$T/two.txt"
check "multi-token answer" eap-dump 1 "multi.csv:2" $O $B/eap-dump --model $M --pairs "$T/multi.csv" -o $O
check "multi-token answer" eap-score 1 "multi.csv:2" $O $B/eap-score --model $M --pairs "$T/multi.csv" --method eap -o $O
check "multi-token answer" eap-eval 1 "multi.csv:2" $C $B/eap-eval --model $M --pairs "$T/multi.csv" --circuit "$T/c.h5" -o $C

# bad option values: exit 2, one line naming the option
check "bad option value" eap-tokenize 2 "--model" - $B/eap-tokenize --model $M --tokenizer $M
check "bad option value" eap-corrupt 2 "-n" $C $B/eap-corrupt --task data/tasks/ioi --split train -n 0 -o $C
check "bad option value" eap-corrupt 2 "--split" $C $B/eap-corrupt --task data/tasks/ioi --split dev -n 2 -o $C
check "bad option value" eap-corrupt 2 "--seed" $C $B/eap-corrupt --task data/tasks/ioi --split train -n 2 --seed x -o $C
check "bad option value" eap-dump 2 "--batch" $O $B/eap-dump --model $M --pairs "$T/p.csv" --batch 0 -o $O
check "bad option value" eap-dump 2 "--metric" $O $B/eap-dump --model $M --pairs "$T/p.csv" --metric nope -o $O
check "bad option value" eap-score 2 "--method" $O $B/eap-score --model $M --pairs "$T/p.csv" --method nope -o $O
check "bad option value" eap-score 2 "--steps" $O $B/eap-score --model $M --pairs "$T/p.csv" --method eap-ig --steps -1 -o $O
check "bad option value" eap-score 2 "--batch" $O $B/eap-score --model $M --pairs "$T/p.csv" --method eap --batch 1x -o $O
check "bad option value" eap-prune 2 "--topn" $O $B/eap-prune --scores "$T/s.h5" --topn -1 -o $O
check "bad option value" eap-prune 2 "--sizes" $O $B/eap-prune --scores "$T/s.h5" --sizes 10,x -o $O
check "bad option value" eap-prune 2 "--threshold" $O $B/eap-prune --scores "$T/s.h5" --threshold nan -o $O
check "bad option value" eap-eval 2 "--ablation" $C $B/eap-eval --model $M --pairs "$T/p.csv" --circuit "$T/c.h5" --ablation none -o $C
check "bad option value" eap-eval 2 "--bootstrap" $C $B/eap-eval --model $M --pairs "$T/p.csv" --circuit "$T/c.h5" --bootstrap -5 -o $C
check "bad option value" eap-eval 2 "--metric" $C $B/eap-eval --model $M --pairs "$T/p.csv" --circuit "$T/c.h5" --metric nope -o $C
check "bad option value" eap-train 2 "--dim" "$T/mdir" $B/eap-train --corpus "$T/corpus.txt" --vocab $M/vocab.txt --dim 30 --heads 4 -o "$T/mdir"
check "bad option value" eap-train 2 "--steps" "$T/mdir" $B/eap-train --corpus "$T/corpus.txt" --vocab $M/vocab.txt --steps 0 -o "$T/mdir"
check "bad option value" eap-train 2 "--lr" "$T/mdir" $B/eap-train --corpus "$T/corpus.txt" --vocab $M/vocab.txt --lr -1 -o "$T/mdir"

# ---- the table: ok = every check of the cell passed, n = their number ---------
echo
awk -F'|' '
	{ k = $1 SUBSEP $2; n[k]++; if ($3 != "ok") bad[k]++
	  if (!($1 in seen)) { seen[$1] = 1; rows[++nr] = $1 } }
	END {
		split("eap-tokenize eap-corrupt eap-dump eap-score eap-prune eap-eval eap-train", tools, " ")
		printf "%-22s", "case"
		for (t = 1; t <= 7; t++) { s = tools[t]; sub(/^eap-/, "", s); printf " %-9s", s }
		printf "\n"
		for (r = 1; r <= nr; r++) {
			printf "%-22s", rows[r]
			for (t = 1; t <= 7; t++) {
				k = rows[r] SUBSEP tools[t]
				if (!(k in n)) cell = "-"
				else if (k in bad) cell = "FAIL " bad[k] "/" n[k]
				else cell = "ok " n[k]
				printf " %-9s", cell
			}
			printf "\n"
		}
	}' "$RES"
finish
