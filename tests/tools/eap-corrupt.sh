#!/bin/sh
# eap-corrupt.sh - end-to-end tests of bin/eap-corrupt (SPEC §2, §10):
# exit codes 0/1/2, one-line errors naming file and line, byte-identical
# output per seed, disjoint splits, the import of all six paper CSVs (row
# counts printed), corpus and vocabulary, atomic output.
# Run from the repository root after `make` (as `make tool-tests` does).

BIN=bin/eap-corrupt
GPT2=data/tokenizers/gpt2
PAPER=tests/fixtures/paper-data
TASKS="ioi greater-than gender sva capital hypernymy"
. tests/tools/lib/harness.sh

# expect_ok NAME: exit 0, nothing on stderr
expect_ok() {
	if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ]; then ok; else bad "$1"; fi
}

[ -x "$BIN" ] || { echo "eap-corrupt.sh: $BIN not built"; exit 1; }

# ---- help and usage errors: exit 0 / 2 ----
run "$BIN" --help
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] &&
	grep -qF 'eap-corrupt --task DIR --split train|test -n N --seed S -o FILE' "$tmp/out" &&
	grep -qF 'eap-corrupt --import TASK --model DIR' "$tmp/out" &&
	grep -qF -- '--corpus' "$tmp/out" && grep -qF -- '--vocab' "$tmp/out"
then ok; else bad "--help"; fi

run "$BIN"
expect_err_has "no mode" 2 "one of --task, --import, --corpus and --vocab is required"
run "$BIN" --task data/tasks/ioi
expect_err_has "no -o" 2 "-o FILE is required"
run "$BIN" --task data/tasks/ioi --split dev -o "$tmp/p.csv"
expect_err_has "bad split" 2 "--split must be train or test, not 'dev'"
run "$BIN" --task data/tasks/ioi -n 0 -o "$tmp/p.csv"
expect_err_has "-n 0" 2 "-n must be a positive integer, not '0'"
run "$BIN" --task data/tasks/ioi --seed -3 -o "$tmp/p.csv"
expect_err_has "bad seed" 2 "--seed must be a non-negative integer"
run "$BIN" --task data/tasks/ioi --import ioi -o "$tmp/p.csv"
expect_err_has "two modes" 2 "give one of --task, --import, --corpus and --vocab"
run "$BIN" --bogus
expect_err_has "unknown option" 2 "unknown option '--bogus'"
run "$BIN" --task
expect_err_has "missing value" 2 "option '--task' requires a value"
run "$BIN" --import ioi "$PAPER/ioi/gpt2.csv" -o "$tmp/p.csv"
expect_err_has "import without model" 2 "--import needs --model DIR"
run "$BIN" --corpus -o "$tmp/c.txt"
expect_err_has "corpus without -n" 2 "--corpus needs -n SENTENCES"
run "$BIN" --vocab --split test -o "$tmp/v.txt"
expect_err_has "split with vocab" 2 "--split goes with --task"
run "$BIN" --task data/tasks/ioi -o "$tmp/p.csv" extra.csv
expect_err_has "stray argument" 2 "unexpected argument 'extra.csv'"
check "usage errors write nothing" test ! -e "$tmp/p.csv"

# ---- generate from the task folders ----
for t in $TASKS; do
	for split in train test; do
		run "$BIN" --task "data/tasks/$t" --split "$split" -n 300 --seed 7 -o "$tmp/$t-$split.csv"
		expect_ok "$t $split"
		check "$t $split: header and 300 rows" \
			test "$(head -n 1 "$tmp/$t-$split.csv")" = "clean,corrupted,answers,foils" -a \
			"$(wc -l <"$tmp/$t-$split.csv")" -eq 301
	done
	# same seed, same bytes; another seed, other bytes
	run "$BIN" --task "data/tasks/$t" --split test -n 300 --seed 7 -o "$tmp/again.csv"
	check "$t: same seed, same bytes" cmp -s "$tmp/$t-test.csv" "$tmp/again.csv"
	run "$BIN" --task "data/tasks/$t" --split test -n 300 --seed 8 -o "$tmp/other.csv"
	check "$t: other seed, other bytes" test -n "$(cmp "$tmp/$t-test.csv" "$tmp/other.csv" 2>&1)"
	# train and test share no clean prompt
	csv_fields 1 "$tmp/$t-train.csv" | sort -u >"$tmp/train.txt"
	csv_fields 1 "$tmp/$t-test.csv" | sort -u >"$tmp/test.txt"
	check "$t: train and test share no prompt" \
		test "$(comm -12 "$tmp/train.txt" "$tmp/test.txt" | wc -l)" -eq 0 -a -s "$tmp/test.txt"
	# clean and corrupted have the same number of words
	csv_fields 1 "$tmp/$t-test.csv" | awk '{print NF}' >"$tmp/n1"
	csv_fields 2 "$tmp/$t-test.csv" | awk '{print NF}' >"$tmp/n2"
	check "$t: equal word counts" cmp -s "$tmp/n1" "$tmp/n2"
done
run "$BIN" --task data/tasks/ioi --split test -n 5 --seed 7 -o -
check "-o - writes to stdout" test "$rc" -eq 0 -a "$(wc -l <"$tmp/out")" -eq 6

# ---- bad task folders: exit 1, one line naming file and line, no output ----
run "$BIN" --task data/tasks/filler -o "$tmp/p.csv"
expect_err_has "filler has no prompts" 1 "data/tasks/filler/task.txt: no template"
run "$BIN" --task "$tmp/nowhere" -o "$tmp/p.csv"
expect_err_has "missing folder" 1 "$tmp/nowhere/task.txt: No such file or directory"
mkdir -p "$tmp/badtask"
cp data/tasks/ioi/*.txt "$tmp/badtask/"
printf '%s\n' 'when {io} and {s} went to the {place} , {s>c} gave a {object} to' \
	'when {io} and {s} went to the {room} , {s>c} gave a {object} to' >"$tmp/badtask/templates.txt"
run "$BIN" --task "$tmp/badtask" -o "$tmp/p.csv"
expect_err_has "unknown slot" 1 "eap-corrupt: $tmp/badtask/templates.txt:2: unknown slot {room}"
rm "$tmp/badtask/templates.txt"
run "$BIN" --task "$tmp/badtask" -o "$tmp/p.csv"
expect_err_has "missing template file" 1 "$tmp/badtask/task.txt:"
cp data/tasks/ioi/templates.txt "$tmp/badtask/"
rm "$tmp/badtask/places.txt"
run "$BIN" --task "$tmp/badtask" -o "$tmp/p.csv"
expect_err_has "missing list file" 1 "$tmp/badtask/task.txt:9: cannot open $tmp/badtask/places.txt"
check "failures leave no output" test ! -e "$tmp/p.csv" -a ! -e "$tmp/p.csv.tmp"
# devices are written in place, never renamed over
run "$BIN" --task data/tasks/ioi -n 3 -o /dev/null
check "-o /dev/null" test "$rc" -eq 0 -a -c /dev/null
if [ -c /dev/full ]; then
	run "$BIN" --task data/tasks/ioi -n 2000 -o /dev/full
	expect_err_has "-o /dev/full" 1 "/dev/full: write error"
	check "/dev/full is still a device" test -c /dev/full
fi
run "$BIN" --task data/tasks/ioi -o "$tmp/no/such/dir/p.csv"
expect_err_has "unwritable output" 1 "$tmp/no/such/dir/p.csv.tmp: No such file or directory"

# ---- import the six paper CSVs with the GPT-2 tokenizer ----
counts=""
for spec in ioi:1000 greater-than:1000 sva:12400 gender-bias:986 \
	fact-retrieval-comma:190 hypernymy-comma:198; do
	t=${spec%%:*}
	want=${spec#*:}
	run "$BIN" --import "$t" --model "$GPT2" "$PAPER/$t/gpt2.csv" -o "$tmp/imp-$t.csv"
	expect_ok "import $t"
	rows=$(($(wc -l <"$tmp/imp-$t.csv") - 1))
	counts="$counts $t=$rows"
	check "import $t: $want rows (got $rows)" test "$rows" -eq "$want"
	check "import $t: header" test "$(head -c 29 "$tmp/imp-$t.csv")" = "clean,corrupted,answers,foils"
done
echo "eap-corrupt.sh: import rows:$counts"
# IOI's answers are the CSV's correct_idx, its foils incorrect_idx
csv_fields 3 "$tmp/imp-ioi.csv" >"$tmp/a"
csv_fields 7 "$tmp/imp-ioi.csv" | sed 's/^/#/' >"$tmp/b"
check "ioi answers = #correct_idx" cmp -s "$tmp/a" "$tmp/b"
csv_fields 4 "$tmp/imp-ioi.csv" >"$tmp/a"
csv_fields 8 "$tmp/imp-ioi.csv" | sed 's/^/#/' >"$tmp/b"
check "ioi foils = #incorrect_idx" cmp -s "$tmp/a" "$tmp/b"
check "ioi columns" test "$(head -n 1 "$tmp/imp-ioi.csv")" = \
	"clean,corrupted,answers,foils,index,corrupted_hard,correct_idx,incorrect_idx"
# greater-than: 99 - YY answers and YY + 1 foils, 100 in all
csv_fields 3 "$tmp/imp-greater-than.csv" | awk -F'|' '{print NF}' >"$tmp/a"
csv_fields 4 "$tmp/imp-greater-than.csv" | awk -F'|' '{print NF}' >"$tmp/b"
csv_fields 5 "$tmp/imp-greater-than.csv" >"$tmp/yy"
check "greater-than set sizes" test "$(paste -d ' ' "$tmp/a" "$tmp/b" "$tmp/yy" |
	awk '$1 != 99 - $3 || $2 != $3 + 1 || $1 + $2 != 100' | wc -l)" -eq 0
run "$BIN" --import ioi --model "$GPT2" -n 10 "$PAPER/ioi/gpt2.csv" -o "$tmp/head.csv"
check "import -n 10" test "$rc" -eq 0 -a "$(wc -l <"$tmp/head.csv")" -eq 11
cp "$PAPER/sva/combined_verb_list.csv" "$tmp/verbs.csv"
head -n 3 "$PAPER/sva/gpt2.csv" >"$tmp/sva.csv"
run "$BIN" --import sva --model "$GPT2" --verbs "$tmp/verbs.csv" "$tmp/sva.csv" -o "$tmp/s.csv"
check "import sva --verbs" test "$rc" -eq 0 -a "$(wc -l <"$tmp/s.csv")" -eq 3
run "$BIN" --import sva --model "$GPT2" "$tmp/sva.csv" -o "$tmp/s2.csv"
expect_err_has "sva without its verb list" 1 "$tmp/combined_verb_list.csv: No such file or directory"
{
	head -n 2 "$PAPER/ioi/gpt2.csv"
	printf '%s\n' '1,"When Amy and Laura went, Laura gave it to","When Amy and Laura went, Bob gave it to",x,99999,1'
} >"$tmp/ioi-bad.csv"
run "$BIN" --import ioi --model "$GPT2" "$tmp/ioi-bad.csv" -o "$tmp/p.csv"
expect_err_has "import: id out of range" 1 "eap-corrupt: $tmp/ioi-bad.csv:3: correct_idx 99999 is out of range (vocabulary of 50257)"
check "failed import leaves no output" test ! -e "$tmp/p.csv" -a ! -e "$tmp/p.csv.tmp"
run "$BIN" --import ioi-hard --model "$GPT2" "$PAPER/ioi/gpt2.csv" -o "$tmp/p.csv"
expect_err_has "import: unknown task" 1 "unknown task \"ioi-hard\""

# ---- import with other tokenizers: re-tokenized, rows dropped by reason ----
# tests/fixtures/tokenizer/hf/import.txt holds what each import must keep
# and drop, worked out with transformers.js (tests/reference/hf_tokenize.js)
HF=build/fixtures/tokenizer/hf
reasons="clean and corrupted prompts tokenize to different lengths|the answer is not one token|the foil is not one token|answer and foil are the same token"
grep -v "^#" tests/fixtures/tokenizer/hf/import.txt >"$tmp/import.txt"
while read -r name t file rows len ans foil same kept; do
	ids=
	[ "$file" = gpt2.csv ] && ids="--ids-from $GPT2"
	# shellcheck disable=SC2086
	run "$BIN" --import "$t" --model "$HF/$name" $ids "$PAPER/$t/$file" -o "$tmp/hf.csv"
	if [ "$rows" = error ]; then
		expect_err_has "import $name $t $file: years not single tokens" 1 'year token: "00" is'
		continue
	fi
	got=$(($(wc -l <"$tmp/hf.csv") - 1))
	check "import $name $t $file: $kept rows kept (got $got)" test "$got" -eq "$kept"
	i=0
	for want in $len $ans $foil $same; do
		i=$((i + 1))
		r=$(echo "$reasons" | cut -d'|' -f$i)
		n=$(grep -F ": dropped " "$tmp/err" | grep -F "$r" | sed 's/.*: dropped \([0-9]*\) of \([0-9]*\) rows: .*/\1 \2/')
		[ -z "$n" ] && n="0 $rows"
		check "import $name $t $file: dropped $want of $rows: $r (got $n)" test "$n" = "$want $rows"
	done
	check "import $name $t $file: one stderr line per reason" test \
		"$(wc -l <"$tmp/err")" -eq "$( (for x in $len $ans $foil $same; do [ "$x" -gt 0 ] && echo; done) | wc -l)"
done <"$tmp/import.txt"
run "$BIN" --task data/tasks/ioi --ids-from "$GPT2" -o "$tmp/p.csv"
expect_err_has "--ids-from without --import" 2 "--model, --ids-from and --verbs go with --import"

# ---- corpus and vocabulary ----
run "$BIN" --vocab -o "$tmp/vocab.txt"
expect_ok "vocab"
check "vocab starts with <bos>" test "$(head -n 1 "$tmp/vocab.txt")" = "<bos>"
check "vocab sorted and unique" sh -c "tail -n +2 '$tmp/vocab.txt' | LC_ALL=C sort -c -u"
run "$BIN" --corpus -n 3000 --seed 2 -o "$tmp/corpus.txt"
expect_ok "corpus"
check "corpus has 3000 lines" test "$(wc -l <"$tmp/corpus.txt")" -eq 3000
run "$BIN" --corpus -n 3000 --seed 2 -o "$tmp/corpus2.txt"
check "corpus: same seed, same bytes" cmp -s "$tmp/corpus.txt" "$tmp/corpus2.txt"
check "corpus words are in the vocabulary" test "$(awk 'NR == FNR { v[$1] = 1; next }
	{ for (i = 1; i <= NF; i++) if (!($i in v)) n++ } END { print n + 0 }' \
	"$tmp/vocab.txt" "$tmp/corpus.txt")" -eq 0
# no corpus line starts with a test prompt
csv_fields 1 "$tmp/ioi-test.csv" | sed 's/$/ /' | sort -u >"$tmp/tp"
check "corpus holds no ioi test prompt" test "$(awk 'NR == FNR { p[$0] = 1; next }
	{ s = ""; for (i = 1; i < NF; i++) { s = s $i " "; if (s in p) n++ } }
	END { print n + 0 }' "$tmp/tp" "$tmp/corpus.txt")" -eq 0
printf 'ioi 1\nnope 2\n' >"$tmp/mix.txt"
run "$BIN" --corpus --mix "$tmp/mix.txt" -n 10 -o "$tmp/c.txt"
expect_err_has "mix names no folder" 1 "$tmp/mix.txt:2: no task folder \"nope\""

finish
