#!/bin/sh
# eap-prune.sh - end-to-end tests of bin/eap-prune (SPEC §2, §8, §11): the
# reference's JSON imported to scores.h5, topn/greedy/threshold circuits,
# curves, JSON and DOT output, h5dump of the attributes, exit codes 0/1/2
# with one-line errors, and no output left behind on failure.
# Run from the repository root after `make` (as `make tool-tests` does).

BIN=bin/eap-prune
IOI=tests/fixtures/reference-graphs/ioi-eap-ig.json
MODEL=tests/fixtures/models/tiny-word
. tests/tools/lib/harness.sh

expect_err() { expect_tool_err "$1" "$2" eap-prune "$3"; }

# attr FILE NAME: the value of a root attribute, as h5dump prints it
attr() {
	h5dump -a "/$2" "$1" | sed -n 's/^ *(0): //p'
}

# data FILE DATASET: the values of a small dataset, comma-separated
data() {
	h5dump -d "$2" "$1" | awk '/DATA \{/ { f = 1; next } f && /\}/ { exit } f' |
		sed 's/^ *([0-9,]*): //' | tr -d ' \n'
}

[ -x "$BIN" ] || { echo "eap-prune.sh: $BIN not built"; exit 1; }

# ---- help and usage errors: exit 0 / 2 ----
run "$BIN" --help
if [ "$rc" -eq 0 ] && head -n 1 "$tmp/out" | grep -q '^Usage: eap-prune (--scores FILE' &&
	grep -q -- '--threshold T' "$tmp/out" && grep -q -- '--sizes LIST' "$tmp/out" &&
	[ ! -s "$tmp/err" ]; then ok; else bad "--help"; fi

run "$BIN"
expect_err "no arguments" 2 "give one of --scores FILE and --from-json FILE"
run "$BIN" --scores a.h5 --from-json b.json --topn 5 -o c.h5
expect_err "two sources" 2 "give one of --scores FILE and --from-json FILE"
run "$BIN" --scores a.h5 --topn 5
expect_err "no -o" 2 "-o FILE is required"
run "$BIN" --scores a.h5 --topn five -o c.h5
expect_err "--topn not a number" 2 "--topn wants a whole number"
run "$BIN" --scores a.h5 --greedy -3 -o c.h5
expect_err "--greedy negative" 2 "--greedy wants a whole number"
run "$BIN" --scores a.h5 --topn 5 --greedy 5 -o c.h5
expect_err "two selections" 2 "give one of --topn, --greedy and --threshold"
run "$BIN" --scores a.h5 --threshold nan -o c.h5
expect_err "--threshold nan" 2 "--threshold wants a finite number"
run "$BIN" --scores a.h5 -o c.h5
expect_err "no selection" 2 "give --topn N, --greedy N, --threshold T or --sizes LIST"
run "$BIN" --scores a.h5 --sizes 10,,20 -o c.h5
expect_err "--sizes malformed" 2 "want whole numbers, 'default', 'dense' or 'mib'"
run "$BIN" --scores a.h5 --sizes 10,mob -o c.h5
expect_err "--sizes unknown word" 2 "'mob' is not a whole number, 'default', 'dense' or 'mib'"
run "$BIN" --scores a.h5 --sizes default --threshold 0.1 -o c.h5
expect_err "--sizes with --threshold" 2 "not --threshold"
run "$BIN" --scores a.h5 --sizes default -o c.h5 --json c.json
expect_err "--json with --sizes" 2 "--json and --dot write a single circuit"
run "$BIN" --scores a.h5 --as-is -o c.h5
expect_err "--as-is with --scores" 2 "--as-is goes with --from-json alone"
run "$BIN" --scores a.h5 --topn 5 --model "$MODEL" -o c.h5
expect_err "--model with --scores" 2 "--model goes with --from-json"
run "$BIN" --scores a.h5 --topn 5 -o c.h5 --d-model 768
expect_err "--d-model without --json" 2 "--d-model only applies to --json"
run "$BIN" --scores a.h5 --topn 5 -o c.h5 extra
expect_err "extra argument" 2 "unexpected argument 'extra'"
run "$BIN" --scores a.h5 --topn 5 -o c.h5 --frobnicate
expect_err "unknown option" 2 "unknown option '--frobnicate'"
run "$BIN" --scores a.h5 --topn
expect_err "missing argument" 2 "requires an argument"
run "$BIN" --scores a.h5 --topn 5 -o /dev/null
expect_err "-o not a regular file" 2 "/dev/null: output must be a regular file"
run "$BIN" --scores a.h5 --topn 5 -o c.h5 --dot /dev/null
expect_err "--dot not a regular file" 2 "/dev/null: output must be a regular file"
check "usage errors write nothing" absent c.h5 c.json

# ---- import the reference's JSON as scores.h5 ----
S=$tmp/scores.h5
run "$BIN" --from-json "$IOI" -o "$S"
expect_silent "import JSON"
check "scores.h5 tool" test "$(attr "$S" tool)" = '"eap-prune"'
check "scores.h5 shape" test "$(attr "$S" n_layer)-$(attr "$S" n_head)" = "12-12"
check "scores.h5 /scores is 157 x 445" \
	sh -c "h5dump -H -d /scores '$S' | grep -q 'SIMPLE { ( 157, 445 )'"
# a score in our sign: the reference's input->a0.h1<q> is -0.0375733636
check "score sign" sh -c "h5dump -d '/scores[0,1;;1,1]' '$S' | grep -q '(0,1): 0.0375734'"

# ---- topn: the reference's circuit is topn 800, pruned to 756 edges ----
C=$tmp/circuit.h5
run "$BIN" --scores "$S" --topn 800 -o "$C" --json "$tmp/c.json" --dot "$tmp/c.dot" --d-model 768
expect_silent "topn 800"
check "n_edges_requested" test "$(attr "$C" n_edges_requested)" = 800
check "n_edges after pruning" test "$(attr "$C" n_edges)" = 756
check "selection" test "$(attr "$C" selection)" = '"topn 800"'
check "circuit.h5 tool" test "$(attr "$C" tool)" = '"eap-prune"'
check "nodes_in_graph: 80 forward nodes" \
	test "$(data "$C" /nodes_in_graph | tr ',' '\n' | grep -c 1)" = 80
# 756 edges + 80 forward nodes + logits
check "JSON flags" test "$(grep -o '"in_graph": true' "$tmp/c.json" | wc -l)" = 837
check "JSON cfg" grep -q '^{"cfg": {"n_layers": 12, "n_heads": 12, "parallel_attn_mlp": false, "d_model": 768}' "$tmp/c.json"
# the file's own circuit, exported: byte-identical to our topn 800
run "$BIN" --from-json "$IOI" --as-is -o "$tmp/asis.h5" --json "$tmp/asis.json"
expect_silent "--as-is"
check "as-is JSON = topn 800 JSON" cmp -s "$tmp/asis.json" "$tmp/c.json"
check "as-is n_edges" test "$(attr "$tmp/asis.h5" n_edges)" = 756
check "as-is records the model-less import" test "$(attr "$tmp/asis.h5" model_path)" = '""'
# DOT: one line per kept edge, rendered by Graphviz when installed
check "DOT edges" test "$(grep -c ' -> ' "$tmp/c.dot")" = 756
if command -v dot >/dev/null 2>&1; then
	run dot -Tsvg "$tmp/c.dot" -o "$tmp/c.svg"
	check "dot -Tsvg" sh -c "[ $rc -eq 0 ] && grep -q '<svg' '$tmp/c.svg'"
else
	echo "eap-prune.sh: graphviz not installed, DOT not rendered"
fi

# ---- greedy, threshold, signed ----
run "$BIN" --scores "$S" --greedy 300 -o "$tmp/g.h5"
expect_silent "greedy 300"
check "greedy selection" test "$(attr "$tmp/g.h5" selection)" = '"greedy 300"'
n=$(attr "$tmp/g.h5" n_edges)
check "greedy prunes to at most 300" test "$n" -le 300 -a "$n" -gt 0
run "$BIN" --scores "$S" --threshold 0.01 --signed -o "$tmp/t.h5"
expect_silent "threshold signed"
check "threshold selection" test "$(attr "$tmp/t.h5" selection)" = '"threshold 0.01 signed"'
run "$BIN" --scores "$S" --threshold 1e9 -o "$tmp/t0.h5"
expect_silent "threshold above every score"
check "empty circuit" test "$(attr "$tmp/t0.h5" n_edges)-$(attr "$tmp/t0.h5" n_edges_requested)" = "0-0"

# ---- curves ----
CS=$tmp/circuits.h5
run "$BIN" --scores "$S" --sizes default -o "$CS"
expect_silent "--sizes default"
req=$(data "$CS" /edges_requested)
check "default sizes" test "$req" = "10,20,30,40,50,60,70,80,90,100,200,300,400,500,600,700,800,900,1000,2000,5000,10000,20000,32491"
check "curve edges at 800 and at all" \
	test "$(data "$CS" /edges | cut -d, -f17,24)" = "756,32491"
run "$BIN" --scores "$S" --sizes dense -o "$tmp/dense.h5"
expect_silent "--sizes dense"
check "dense sizes (SPEC 9's original list)" test "$(data "$tmp/dense.h5" /edges_requested)" = "10,20,30,40,50,60,70,80,90,100,200,300,400,500,600,700,800,900,1000,2000,3000,4000,5000,6000,7000,8000,9000,10000,11000,12000,13000,14000,15000,16000,17000,18000,19000,20000,21000,22000,23000,24000,25000,26000,27000,28000,29000,30000,31000,32000,32491"
check "curve /in_graph is 24 x 157 x 445" \
	sh -c "h5dump -H -d /in_graph '$CS' | grep -q 'SIMPLE { ( 24, 157, 445 )'"
run "$BIN" --scores "$S" --sizes 100,800 --greedy -o "$tmp/cg.h5"
expect_silent "--sizes with --greedy"
check "greedy curve selection" test "$(attr "$tmp/cg.h5" selection)" = '"greedy 100,800"'
check "greedy curve sizes" \
	test "$(data "$tmp/cg.h5" /edges_requested)" = "100,800"
# MIB's grid: round(f * 32491) for f = 0.001 .. 1
run "$BIN" --scores "$S" --sizes mib -o "$tmp/mib.h5"
expect_silent "--sizes mib"
check "mib sizes" test "$(data "$tmp/mib.h5" /edges_requested)" = \
	"32,65,162,325,650,1625,3249,6498,16246,32491"
run "$BIN" --scores "$S" --sizes 800,mib,default,800 -o "$tmp/both.h5"
expect_silent "--sizes 800,mib,default,800"
req=$(data "$tmp/both.h5" /edges_requested)
check "ascending, each size once" sh -c "echo '$req' | tr , '\\n' | sort -n -u -c"
check "the union, ascending, each size once: 24 + 9" \
	test "$(echo "$req" | tr , '\n' | wc -l)-$(echo "$req" | tr , '\n' | sort -n | uniq | wc -l)-$(echo "$req" | cut -d, -f1-4)" = "33-33-10,20,30,32"

# ---- scores from eap-score: provenance kept, d_model from the model ----
if [ -x bin/eap-score ]; then
	cat >"$tmp/pairs.csv" <<'CSV'
clean,corrupted,answers,foils
when mary and john went to the store john gave a drink to,when mary and john went to the store he gave a drink to,mary,john
the king saw a bird in the park,the queen saw a bird in the park,he,she
CSV
	run bin/eap-score --model "$MODEL" --pairs "$tmp/pairs.csv" --method eap -o "$tmp/w.h5"
	check "eap-score on $MODEL" test "$rc" -eq 0
	run "$BIN" --scores "$tmp/w.h5" --greedy 20 -o "$tmp/wc.h5" --json "$tmp/wc.json"
	expect_silent "greedy 20 with --json from eap-score scores"
	check "JSON cfg from the model" grep -q '^{"cfg": {"n_layers": 2, "n_heads": 4, "parallel_attn_mlp": false, "d_model": 32}' "$tmp/wc.json"
	check "method carried over" test "$(attr "$tmp/wc.h5" method)" = '"eap"'
	check "model carried over" test "$(attr "$tmp/wc.h5" model_path)" = "\"$MODEL\""
	# and back: the JSON, checked against the model, as scores.h5
	run "$BIN" --from-json "$tmp/wc.json" --model "$MODEL" -o "$tmp/w2.h5"
	expect_silent "--from-json --model"
	check "JSON round trip keeps the scores" h5diff -q "$tmp/w.h5" "$tmp/w2.h5" /scores /scores
	check "import records the model" test "$(attr "$tmp/w2.h5" model_sha256)" = "$(attr "$tmp/w.h5" model_sha256)"
	run "$BIN" --from-json "$tmp/wc.json" --as-is -o "$tmp/wc2.h5"
	expect_silent "--as-is of our own JSON"
	check "as-is circuit = the circuit" h5diff -q "$tmp/wc.h5" "$tmp/wc2.h5" /in_graph /in_graph
else
	echo "eap-prune.sh: bin/eap-score not built, scores from the fixture only"
fi

# ---- bad input: exit 1, one line, nothing written ----
run "$BIN" --scores "$S" --sizes 10,40000 -o "$tmp/big.h5"
expect_err "size beyond the edge count" 1 "40000 edges requested, but the graph (12 x 12) has only 32491"
check "nothing written for a bad size" absent "$tmp/big.h5"
run "$BIN" --scores "$S" --topn 32492 -o "$tmp/big.h5"
expect_err "topn beyond the edge count" 1 "has only 32491"
run "$BIN" --scores "$tmp/missing.h5" --topn 5 -o "$tmp/m.h5"
expect_err "missing scores file" 1 "eap-prune: $tmp/missing.h5"
check "nothing written for a missing file" absent "$tmp/m.h5"
run "$BIN" --scores "$C" --topn 5 -o "$tmp/m.h5"
expect_err "a circuit is not a scores file" 1 "/scores"
# a scores file whose /scores has another graph's shape
cp "$C" "$tmp/shape.h5"
printf '1 2 3 4 5 6\n' >"$tmp/d.txt"
printf 'PATH scores\nINPUT-CLASS TEXTFP\nRANK 2\nDIMENSION-SIZES 2 3\nOUTPUT-CLASS FP\nOUTPUT-SIZE 32\n' >"$tmp/d.cfg"
if h5import "$tmp/d.txt" -c "$tmp/d.cfg" -o "$tmp/shape.h5" >/dev/null 2>&1; then
	run "$BIN" --scores "$tmp/shape.h5" --topn 5 -o "$tmp/m.h5"
	expect_err "scores of another shape" 1 "/scores has shape [2, 3], expected [157, 445]"
else
	bad "h5import could not build the bad-shape file"
fi
check "nothing written for bad scores" absent "$tmp/m.h5"
# --json needs d_model, which an imported scores.h5 does not record
run "$BIN" --scores "$S" --topn 10 -o "$tmp/n.h5" --json "$tmp/n.json"
expect_err "--json without d_model" 1 "pass --d-model"
check "nothing written without d_model" absent "$tmp/n.h5" "$tmp/n.json"
# a later output failing removes the earlier ones
run "$BIN" --scores "$S" --topn 10 -o "$tmp/n.h5" --json "$tmp/n.json" \
	--dot "$tmp/no-such-dir/n.dot" --d-model 768
expect_err "unwritable --dot" 1 "no-such-dir/n.dot"
check "no output left after a failed --dot" absent "$tmp/n.h5" "$tmp/n.json"
run "$BIN" --scores "$S" --topn 10 -o "$tmp/no-such-dir/n.h5"
expect_err "unwritable -o" 1 "no-such-dir/n.h5"

# ---- bad JSON ----
head -c 1000 "$IOI" >"$tmp/trunc.json"
run "$BIN" --from-json "$tmp/trunc.json" -o "$tmp/j.h5"
expect_err "truncated JSON" 1 "$tmp/trunc.json:1:1000: malformed JSON"
sed 's/"a3\.h0->logits"/"a3.h12->logits"/' "$IOI" >"$tmp/unknown.json"
run "$BIN" --from-json "$tmp/unknown.json" -o "$tmp/j.h5"
expect_err "unknown node" 1 'unknown node "a3.h12" in edge "a3.h12->logits"'
sed 's/"m3->m4"/"m4->m3"/' "$IOI" >"$tmp/notedge.json"
run "$BIN" --from-json "$tmp/notedge.json" -o "$tmp/j.h5"
expect_err "not an edge" 1 '"m4->m3" is not an edge of the 12 x 12 graph'
sed 's/"parallel_attn_mlp": false/"parallel_attn_mlp": true/' "$IOI" >"$tmp/par.json"
run "$BIN" --from-json "$tmp/par.json" -o "$tmp/j.h5"
expect_err "parallel_attn_mlp" 1 "parallel_attn_mlp"
run "$BIN" --from-json "$IOI" --model "$MODEL" -o "$tmp/j.h5"
expect_err "cfg disagrees with the model" 1 "cfg is 12 x 12 (n_layers x n_heads), expected 2 x 4"
run "$BIN" --from-json "$tmp/missing.json" -o "$tmp/j.h5"
expect_err "missing JSON" 1 "$tmp/missing.json: cannot open"
check "nothing written for bad JSON" absent "$tmp/j.h5"

finish
