#!/bin/sh
# eap-tokenize.sh - end-to-end tests of bin/eap-tokenize (SPEC §2): exit
# codes 0/1/2, one-line errors naming file and line, ids and pieces.
# Run from the repository root after `make` (as `make tool-tests` does).

BIN=bin/eap-tokenize
GPT2=data/tokenizers/gpt2
WORD=tests/fixtures/tokenizer/word
. tests/tools/lib/harness.sh

# run INPUT CMD...: run CMD with INPUT (printf format) on stdin; sets rc
run() {
	# shellcheck disable=SC2059 # the input is a printf format on purpose
	printf "$1" >"$tmp/in"
	shift
	"$@" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	ran=1
}

# expect NAME RC STDOUT: exact exit code and stdout (lines; "" for no
# output at all), empty stderr
expect() {
	if [ -n "$3" ]; then printf '%s\n' "$3"; fi >"$tmp/want"
	if [ "$rc" -eq "$2" ] && cmp -s "$tmp/out" "$tmp/want" &&
		[ ! -s "$tmp/err" ]; then ok; else bad "$1"; fi
}

[ -x "$BIN" ] || { echo "eap-tokenize.sh: $BIN not built"; exit 1; }

# ---- help and usage errors: exit 0 / 2 ----
run '' "$BIN" --help
if [ "$rc" -eq 0 ] && head -n 1 "$tmp/out" | grep -q '^Usage: eap-tokenize (--model DIR | --tokenizer DIR)' &&
	grep -q -- '--no-bos' "$tmp/out" && grep -q -- '--pieces' "$tmp/out" &&
	[ ! -s "$tmp/err" ]; then ok; else bad "--help"; fi
run '' "$BIN"
expect_err_has "no directory" 2 "eap-tokenize: --model DIR or --tokenizer DIR is required"
run '' "$BIN" --tokenizer "$GPT2" --frobnicate
expect_err_has "unknown option" 2 "'--frobnicate'"
run '' "$BIN" --model
expect_err_has "missing argument" 2 "eap-tokenize: option '--model' requires DIR"
run '' "$BIN" --model "$GPT2" --pieces=yes
expect_err_has "argument to a flag" 2 "option '--pieces=yes' takes no argument"
run '' "$BIN" --model "$GPT2" --tokenizer "$GPT2"
expect_err_has "two directories" 2 "eap-tokenize: give one of --model and --tokenizer"
run '' "$BIN" -x --model "$GPT2"
expect_err_has "unknown short option" 2 "'-x'"

# ---- GPT-2 ids ----
run 'When Mary and John went to the store, John gave a drink to\n' "$BIN" --model "$GPT2"
expect "ioi prompt" 0 "50256 2215 5335 290 1757 1816 284 262 3650 11 1757 2921 257 4144 284"
run 'The war lasted from the year 1732 to the year 17\n\nHello world' "$BIN" --tokenizer "$GPT2" --no-bos
expect "three lines, --no-bos, no final newline" 0 "464 1175 15436 422 262 614 1596 2624 284 262 614 1596

15496 995"
run '\n' "$BIN" --tokenizer "$GPT2"
expect "empty line is BOS alone" 0 "50256"
run '' "$BIN" --tokenizer "$GPT2"
expect "no input, no output" 0 ""
run ' Mary\n' "$BIN" --tokenizer "$GPT2" --pieces
expect "pieces" 0 '50256:"<|endoftext|>" 5335:" Mary"'
run 'a "b"\\ \t\n' "$BIN" --tokenizer "$GPT2" --pieces --no-bos
expect "pieces are escaped" 0 '64:"a" 366:" \"" 65:"b" 1:"\"" 59:"\\" 220:" " 197:"\t"'
run 'caf\303\251 \360\237\230\200\n' "$BIN" --tokenizer "$GPT2" --pieces --no-bos
expect "pieces: UTF-8 kept, partial bytes as \\xHH" 0 '66:"c" 1878:"af" 2634:"é" 30325:" \xf0\x9f\x98" 222:"\x80"'
run ' Mary\n 12\n' "$BIN" --tokenizer "$GPT2" --single
expect "single" 0 "5335
1105"
run ' Mary\n Mary Ann\n' "$BIN" --tokenizer "$GPT2" --single
expect_err_line "single: two tokens" 1 'eap-tokenize: <stdin>:2: " Mary Ann" is 2 tokens, not one'
if [ "$(cat "$tmp/out")" = "5335" ]; then ok; else bad "single: lines before the error are printed"; fi

# ---- bad input: exit 1, one line with file:line ----
run 'fine\nab\377cd\n' "$BIN" --tokenizer "$GPT2"
expect_err_line "invalid UTF-8" 1 "eap-tokenize: <stdin>:2: invalid UTF-8 at byte 3"
run '' "$BIN" --tokenizer tests/fixtures/no-such-dir
expect_err_line "missing tokenizer" 1 "eap-tokenize: tests/fixtures/no-such-dir: no tokenizer files (looked for tokenizer.json, encoder.json + vocab.bpe, vocab.json + merges.txt, vocab.txt)"
mkdir "$tmp/half" && cp "$GPT2/encoder.json" "$tmp/half/"
run '' "$BIN" --tokenizer "$tmp/half"
expect_err_line "half a pair" 1 "eap-tokenize: $tmp/half/vocab.bpe: missing (encoder.json needs it)"
mkdir "$tmp/badvocab" && printf 'a\nb\na\n' >"$tmp/badvocab/vocab.txt"
run '' "$BIN" --tokenizer "$tmp/badvocab"
expect_err_line "duplicate vocab token" 1 "eap-tokenize: $tmp/badvocab/vocab.txt:3: duplicate token \"a\" (first on line 1)"
mkdir "$tmp/badjson" && printf '{"a": 0,\n "b" 1}\n' >"$tmp/badjson/vocab.json" && printf 'a b\n' >"$tmp/badjson/merges.txt"
run '' "$BIN" --tokenizer "$tmp/badjson"
expect_err_line "malformed vocab.json" 1 "eap-tokenize: $tmp/badjson/vocab.json:2: invalid JSON"

# ---- word level ----
run 'When Mary and John\n Then  John gave Mary a drink .\n' "$BIN" --model "$WORD"
expect "word ids" 0 "0 1 2 3 4
0 13 4 10 2 11 12 14"
run 'When Mary\nWhen mary\n' "$BIN" --model "$WORD" --pieces
expect_err_line "unknown word" 1 'eap-tokenize: <stdin>:2: unknown word "mary"'
if [ "$(cat "$tmp/out")" = '0:"<bos>" 1:"When" 2:"Mary"' ]; then ok; else bad "word pieces"; fi

# ---- tokenizer.json folders (cut files, see tests/reference/hf_tokenize.js) ----
# the ids transformers.js gave for the same string (hf/<name>.ids, same line)
HF=build/fixtures/tokenizer/hf
line=$(grep -n -x -F '" When Mary and John went to the store, John gave a drink to"' "$HF/strings.jsonl" | cut -d: -f1)
for name in llama3 qwen3 gemma3 llama2; do
	run ' When Mary and John went to the store, John gave a drink to\n' "$BIN" --tokenizer "$HF/$name" --special
	expect "tokenizer.json $name" 0 "$(sed -n "${line}p" "$HF/$name.ids")"
done
run ' Mary\n' "$BIN" --model "$HF/gemma3" --single --pieces
expect "SentencePiece piece decoded" 0 '8712:" Mary"'
run 'x\n' "$BIN" --tokenizer "$HF/gemma3" --special --no-bos
expect_err_line "--special with --no-bos" 2 "eap-tokenize: give one of --no-bos and --special (see --help)"

# ---- FILE operands ----
printf 'Mary\nJohn went\n' >"$tmp/answers.txt"
run '' "$BIN" --tokenizer "$WORD" --single "$tmp/answers.txt"
expect_err_line "file operand named in errors" 1 "eap-tokenize: $tmp/answers.txt:2: \"John went\" is 2 tokens, not one"
run '' "$BIN" --tokenizer "$WORD" "$tmp/nope.txt"
expect_err_line "missing input file" 1 "eap-tokenize: $tmp/nope.txt: No such file or directory"
printf 'Mary\n' >"$tmp/a.txt"
run '' "$BIN" --tokenizer "$WORD" --no-bos "$tmp/a.txt" "$tmp/a.txt"
expect "two file operands" 0 "2
2"

finish
