#!/bin/sh
# eap-viewer.sh - the circuit viewer (issue #17) on a small task folder of
# the organism (ioi, 6 train and 6 test pairs; eap, eap-ig and exact, SIZES
# default,mib):
#  - the file: well-formed HTML (xmllint --html says nothing), no external
#    URL or resource (no "://", src=, href=, url(, @import), the same bytes
#    on a second build, from an absolute --dir and from another directory
#    (no paths, no time inside);
#  - the embedded data equals the artifacts: per method the sizes and pruned
#    edge counts of circuits-*.h5 (h5dump), every circuit's count recounted
#    from the per-edge data, the ten top edges and their scores against a
#    ranking of scores-*.h5 by |score| (h5dump, sort), the curve points
#    (F, interval) and summary of the CSVs; --max-edges keeps only the sizes
#    up to it and the edges they can hold;
#  - bad input: one error line, exit 1, no output;
#  - in headless Chromium (the Debian package; SKIP, not a pass, without
#    it), driven over the DevTools pipe by build/tests/cdp-run: the slider at
#    three sizes shows eap-prune --topn's pruned edge counts and the curve
#    CSV's F and interval; the method switch; compare mode shows
#    eap-compare's shared edges and IoU; a clicked node lists the outgoing
#    edges circuit.h5 has; a URL fragment restores the view; the exported
#    SVG file parses, one path per drawn edge; the canvas drawing of big
#    circuits; no console error (and a page that logs one is caught).
#    Screenshots go to results/viewer-test/ for a person to look at.
# Run from the repository root after `make` (and build/tests/cdp-run,
# build/tests/viewer-json: `make check` builds them).
set -u
. tests/tools/lib/harness.sh

V=bin/eap-viewer
J=build/tests/viewer-json
M=data/models/organism
D=$T/organism/ioi
mkdir -p "$D"
METHODS="eap eap-ig exact"

# ---- a small task folder, made by the tools as the pipeline makes it ----
bin/eap-corrupt --task data/tasks/ioi --split train -n 6 --seed 1 -o "$D/pairs-train.csv" &&
	bin/eap-corrupt --task data/tasks/ioi --split test -n 6 --seed 1 -o "$D/pairs-test.csv" &&
	bin/eap-dump --model $M --pairs "$D/pairs-train.csv" --metric logit_diff --threads 1 -o "$D/acts.h5" ||
	{ bad "making the fixture"; finish; }
for me in $METHODS; do
	s=$me-logit_diff
	bin/eap-score --model $M --pairs "$D/pairs-train.csv" --acts "$D/acts.h5" --method $me \
		--metric logit_diff --steps 2 --threads 1 -o "$D/scores-$s.h5" &&
		bin/eap-prune --scores "$D/scores-$s.h5" --sizes default,mib -o "$D/circuits-$s.h5" &&
		bin/eap-eval --model $M --pairs "$D/pairs-test.csv" --metric logit_diff --method $me \
			--circuit "$D/circuits-$s.h5" --threads 1 --summary "$D/summary-$s.csv" \
			-o "$D/curve-$s.csv" || { bad "making the fixture: $me"; finish; }
done
STEMS="eap-logit_diff eap-ig-logit_diff exact-logit_diff"
H=$D/circuits.html

# values of an HDF5 dataset, one a line
h5vals() {
	h5dump -d "$1" -y -w 0 -m '%.9g' -o "$T/h5.txt" "$2" > /dev/null &&
		tr -s ', \n' '\n\n\n' < "$T/h5.txt" | grep -v '^$'
}
# same numbers, float32 tolerance, same count
same_nums() {
	awk 'NR == FNR { a[FNR] = $1; n = FNR; next }
	{ m = FNR; d = $1 - a[FNR]; if (d < 0) d = -d; s = a[FNR] < 0 ? -a[FNR] : a[FNR]
	  if (d > 1e-6 * s + 1e-12) exit 1 }
	END { exit (n != m) }' "$1" "$2"
}

# ---- build, well-formed, offline, reproducible ----
run $V --dir "$D" -o "$H" $STEMS
expect_silent "eap-viewer exits 0 silently"
check "the file exists" test -s "$H"
xmllint --html --noout "$H" > "$T/xmllint" 2>&1
check "xmllint --html finds nothing: $(head -c 300 "$T/xmllint")" test ! -s "$T/xmllint"
check "no external URL (://)" sh -c "! grep -q '://' '$H'"
check "no tag with src= or href=" sh -c "! grep -Eiq '<[a-z]+[^>]*[[:space:]](src|href)=' '$H'"
sed -n '/^<style>$/,/^<\/style>$/p' "$H" > "$T/css"
check "a style block with no url( or @import" sh -c "[ -s '$T/css' ] && ! grep -Eiq 'url\\(|@import' '$T/css'"
check "one embedded script of data, one of code, one style" \
	test "$(grep -c '<script' "$H")" -eq 2 -a "$(grep -c '<style>' "$H")" -eq 1
grep 'id="eap-data">' "$H" | sed 's/^<script[^>]*>//; s/<\/script>$//' > "$T/json"
check "JSON data on one line, no raw '<' in it" sh -c "[ \$(wc -l < '$T/json') -eq 1 ] && ! grep -q '<' '$T/json'"
sleep 1
$V --dir "$D" -o "$T/again.html" $STEMS
check "same bytes on a second build" cmp -s "$H" "$T/again.html"
(cd "$T" && "$OLDPWD/$V" --dir "$D" -o "$T/abs.html" $STEMS)
check "same bytes from an absolute --dir and another working directory" cmp -s "$H" "$T/abs.html"
$V --dir "$D" -o "$T/all.html"
check "no STEM: every circuits-*.h5, C order (eap, eap-ig, exact)" \
	test "$($J "$T/all.html" methods.#)" = 3 -a "$($J "$T/all.html" methods.0.stem)" = eap-ig-logit_diff
check "title from the folder" test "$($J "$H" title)" = "organism / ioi"
check "graph: 1519 edges, 4 x 8" test "$($J "$H" n_edges)" = 1519 -a "$($J "$H" n_layer)" = 4 -a "$($J "$H" n_head)" = 8

# ---- the embedded data equals the artifacts ----
for me in $METHODS; do
	s=$me-logit_diff
	h5vals /edges_requested "$D/circuits-$s.h5" > "$T/req.h5"
	h5vals /edges "$D/circuits-$s.h5" > "$T/edges.h5"
	$J "$H" "methods.@$me.sizes" > "$T/req.js"
	$J "$H" "methods.@$me.edges" > "$T/edges.js"
	check "$me: sizes = circuits.h5 /edges_requested" cmp -s "$T/req.h5" "$T/req.js"
	check "$me: pruned counts = circuits.h5 /edges" cmp -s "$T/edges.h5" "$T/edges.js"
	# every circuit recounted from the per-edge first-size indices
	$J "$H" "methods.@$me.k" | awk -v K="$(wc -l < "$T/req.js")" \
		'{ c[$1]++ } END { for (i = 0; i < K; i++) { n += c[i]; print n } }' > "$T/recount"
	check "$me: every size's edges recounted from the edges = /edges" cmp -s "$T/edges.h5" "$T/recount"
	check "$me: all 1519 edges embedded" test "$($J "$H" "methods.@$me.u.#")" = 1519
	# the top ten edges by |score| (ties: lower flat index), from h5dump
	h5vals /scores "$D/scores-$s.h5" > "$T/scores"
	h5vals /edge_mask "$D/scores-$s.h5" > "$T/mask"
	paste "$T/scores" "$T/mask" | awk '$2 == 1 { a = $1 < 0 ? -$1 : $1; print NR - 1, a, $1 }' |
		sort -k2,2gr -k1,1n | head -10 > "$T/top.h5"
	$J "$H" "methods.@$me.u" | head -10 > "$T/u"
	$J "$H" "methods.@$me.v" | head -10 > "$T/v"
	$J "$H" "methods.@$me.s" | head -10 > "$T/s"
	nb=$($J "$H" bwd.# )
	paste -d' ' "$T/u" "$T/v" | awk -v nb="$nb" '{ print $1 * nb + $2 }' > "$T/top.idx"
	check "$me: the ten top edges = scores.h5 ranked by |score|" \
		sh -c "awk '{ print \$1 }' '$T/top.h5' | cmp -s - '$T/top.idx'"
	awk '{ print $3 }' "$T/top.h5" > "$T/top.s"
	check "$me: their scores = scores.h5" same_nums "$T/top.s" "$T/s"
	# curve points and summary
	for pair in f:7 lo:9 hi:10; do
		csv_fields "${pair#*:}" "$D/curve-$s.csv" > "$T/csv"
		$J "$H" "methods.@$me.${pair%:*}" > "$T/js"
		check "$me: ${pair%:*} = curve CSV column ${pair#*:}" cmp -s "$T/csv" "$T/js"
	done
	for pair in auc_log:4 cpr:5 cmd:6 min_edges_f80:7; do
		check "$me: summary ${pair%:*} = summary CSV" awk -v a="$(csv_fields "${pair#*:}" "$D/summary-$s.csv")" \
			-v b="$($J "$H" "methods.@$me.summary.${pair%:*}")" 'BEGIN { exit !(a + 0 == b + 0 && b != "") }'
	done
done

# --max-edges: the sizes up to it, and the edges ranked within the largest
run $V --dir "$D" --max-edges 500 -o "$T/small.html" eap-logit_diff
expect_silent "--max-edges 500 exits 0"
check "--max-edges 500: sizes up to 500" test "$($J "$T/small.html" methods.0.sizes | tail -1)" = 500
check "--max-edges 500: 500 edges embedded" test "$($J "$T/small.html" methods.0.u.#)" = 500
check "--max-edges 500: smaller file" test "$(wc -c < "$T/small.html")" -lt "$(wc -c < "$H")"

# ---- bad input ----
run $V --dir "$D" -o "$T/x.html" nosuch-logit_diff
expect_tool_err "a missing method: one error line" 1 eap-viewer "scores-nosuch-logit_diff.h5"
check "  and no output" absent "$T/x.html"
cp -r "$D" "$T/broken"
sed '3s/^\([^,]*\),\([^,]*\),\([^,]*\),/\1,\2,99999,/' "$D/curve-eap-logit_diff.csv" > "$T/broken/curve-eap-logit_diff.csv"
run $V --dir "$T/broken" -o "$T/x.html" eap-logit_diff
expect_tool_err "a curve that disagrees with circuits.h5: file and line" 1 eap-viewer "curve-eap-logit_diff.csv:3:"
check "  and no output" absent "$T/x.html"
run $V --dir "$D" --max-edges 1 -o "$T/x.html" eap-logit_diff
expect_tool_err "--max-edges below every size" 1 eap-viewer "no size up to --max-edges 1"
run $V -o "$T/x.html"
expect_tool_err "no --dir: usage error" 2 eap-viewer "--dir"
run $V --help
check "--help: exit 0, synopsis on stdout" sh -c "[ $rc -eq 0 ] && grep -q '^Usage: eap-viewer' '$T/out'"

# ---- in a real browser ----
B=
for b in ${CHROMIUM:-} chromium chromium-browser; do
	command -v "$b" > /dev/null 2>&1 && { B=$b; break; }
done
if [ -z "$B" ]; then
	echo "SKIP: eap-viewer.sh browser checks: no chromium (apt-get install chromium; or CHROMIUM=path)"
	finish
fi
C=build/tests/cdp-run
SHOTS=results/viewer-test
mkdir -p "$SHOTS"

# the driver catches console errors at all (else "no error" proves nothing)
printf '<!DOCTYPE html><title>x</title><script>console.error("planted")</script>\n' > "$T/err.html"
echo 'eval 1' | $C "$B" "file://$T/err.html" > "$T/err.out" 2> "$T/err.err"
check "cdp-run reports a planted console.error: $(cat "$T/err.err")" grep -q '^console: planted' "$T/err.out"

# three sizes of eap-ig, a method switch to eap, compare with exact, a node
I=$(awk 'BEGIN { i = 0 } { if ($1 == 10) a = i; if ($1 == 100) b = i; if ($1 == 800) c = i; i++ }
	END { print a, b, c }' "$T/req.js")   # exact's sizes: every method's are the same
set -- $I
sz_i="$1 $2 $3"
{
	echo 'eval document.body.getAttribute("data-ready")'
	for i in $sz_i; do
		echo "eval (function () { var s = document.getElementById('size'); s.value = '$i'; s.dispatchEvent(new Event('input', {bubbles: true})); var r = document.querySelector('#rows tr[data-method=\"eap-ig\"]'); return [document.getElementById('req').textContent, document.getElementById('drawn').textContent, r.querySelector('.edges').textContent, r.querySelector('.f').textContent, r.querySelector('.ci').textContent].join(' '); })()"
	done
	echo "screenshot $SHOTS/1-eap-ig-800.png"
	echo 'click #methods button[data-method="eap"]'
	echo "eval [location.hash, document.querySelector('#rows tr.main').getAttribute('data-method'), document.getElementById('drawn').textContent].join(' ')"
	echo 'click #compare'
	echo "eval [document.getElementById('shared').textContent, document.getElementById('iou').textContent, location.hash].join(' ')"
	echo "screenshot $SHOTS/2-compare-eap-exact.png"
	echo 'click #compare'
	echo "eval document.querySelector('#graph .node.on[data-node^=\"a\"]').getAttribute('data-node')"
	echo "eval Array.prototype.map.call(document.querySelectorAll('#rows tr'), function (r) { return r.getAttribute('data-method') + '=' + r.querySelector('.f80').textContent; }).join(' ')"
} > "$T/script1"
$C "$B" "file://$H" < "$T/script1" > "$T/b1.out" 2> "$T/b1.err"
check "browser run 1: $(cat "$T/b1.err")" test "$(grep -c . "$T/b1.out")" -ge 11
sed -n 1p "$T/b1.out" | grep -q '^"1"$' && ok || bad "the page did not finish its script: $(head -3 "$T/b1.out")"
# sizes: eap-prune --topn N's pruned count, the curve CSV's F and CI
n=2
for i in $sz_i; do
	line=$(sed -n ${n}p "$T/b1.out" | tr -d '"')
	set -- $line
	req=$1
	bin/eap-prune --scores "$D/scores-eap-ig-logit_diff.h5" --topn "$req" -o "$T/c.h5"
	want=$(h5dump -a /n_edges "$T/c.h5" | awk '/\(0\)/ { print $2 }')
	check "eap-ig at $req: edges drawn $2 = eap-prune --topn $req's $want" test "$2" = "$want"
	check "eap-ig at $req: edges in the table $3 = $want" test "$3" = "$want"
	row=$(awk -F, -v r="$req" '$2 == r { printf "%.3f [%.3f, %.3f]", $7, $9, $10 }' "$D/curve-eap-ig-logit_diff.csv")
	check "eap-ig at $req: F and CI shown '$4 $5 $6' = curve CSV '$row'" test "$4 $5 $6" = "$row"
	n=$((n + 1))
done
REQ=$req   # the last size
line=$(sed -n 7p "$T/b1.out" | tr -d '"')
set -- $line
check "method switch: fragment, table and drawing follow ($line)" \
	test "$1" = "#m=eap&size=$REQ" -a "$2" = eap
bin/eap-prune --scores "$D/scores-eap-logit_diff.h5" --topn "$REQ" -o "$T/c.h5"
want=$(h5dump -a /n_edges "$T/c.h5" | awk '/\(0\)/ { print $2 }')
check "eap at $REQ: edges drawn $3 = eap-prune's $want" test "$3" = "$want"
bin/eap-compare --circuits "$D/circuits-eap-logit_diff.h5" --ref "$D/circuits-exact-logit_diff.h5" -o "$T/ov.csv"
line=$(sed -n 9p "$T/b1.out" | tr -d '"')
set -- $line
ov=$(awk -F, -v r="$REQ" '$3 == r { printf "%s %.3f", $6, $7 }' "$T/ov.csv")
check "compare eap vs exact at $REQ: shared and IoU '$1 $2' = eap-compare's '$ov'" test "$1 $2" = "$ov"
check "compare mode in the fragment ($3)" test "$3" = "#m=eap&size=$REQ&cmp=exact"
NODE=$(sed -n 12p "$T/b1.out" | tr -d '"')
check "a head in the circuit ($NODE)" sh -c "echo '$NODE' | grep -q '^a[0-9]*\\.h[0-9]*$'"

want=$(for me in $METHODS; do printf '%s=%s ' $me "$(csv_fields 7 "$D/summary-$me-logit_diff.csv" | sed 's/^-1$/none/')"; done)
check "smallest F >= 0.8 circuit shown = summary CSVs: $want" test "$(sed -n 13p "$T/b1.out" | tr -d '"') " = "$want"

# click that node; its outgoing edges = its row of eap's circuit.h5
{
	echo "click #graph .node[data-node=\"$NODE\"]"
	echo "eval [document.getElementById('sel-title').textContent, document.getElementById('n-out').textContent, document.querySelectorAll('#sel-out tr.sel-edge').length, location.hash].join('|')"
	echo "screenshot $SHOTS/3-node-$NODE.png"
	# the export button's file: the Blob it hands to the download link
	echo "eval (function () { window.exported = null; URL.createObjectURL = function (b) { window.exported = b; return 'blob:none'; }; HTMLAnchorElement.prototype.click = function () { window.clickedName = this.download; }; return 1; })()"
	echo "click #export"
	echo "eval window.exported.text().then(function (t) { var d = new DOMParser().parseFromString(t, 'image/svg+xml'); return [d.getElementsByTagName('parsererror').length, d.documentElement.namespaceURI.length > 0, d.querySelectorAll('path.e').length, document.getElementById('drawn').textContent, window.clickedName].join(' '); })"
} > "$T/script2"
$C "$B" "file://$H#m=eap&size=$REQ" < "$T/script2" > "$T/b2.out" 2> "$T/b2.err"
sed -n 2p "$T/b2.out" > "$T/b2.line"
IFS='|' read -r title nout nrows hash < "$T/b2.line"
title=${title#\"}
hash=${hash%\"}
check "clicked node: '$title'" test "$title" = "node $NODE"
u=$($J "$H" fwd | awk -v n="$NODE" '$1 == n { print NR - 1 }')
nb=$($J "$H" bwd.#)
h5vals /in_graph "$T/c.h5" | awk -v u="$u" -v nb="$nb" 'NR > u * nb && NR <= (u + 1) * nb { s += $1 } END { print s + 0 }' > "$T/nout"
check "outgoing edges listed ($nout) = the node's row of eap-prune's circuit ($(cat "$T/nout"))" \
	test "$nout" = "$(cat "$T/nout")"
check "the list shows the first min(40, $nout) of them ($nrows)" test "$nrows" -eq "$((nout < 40 ? nout : 40))"
check "selection in the fragment ($hash)" test "$hash" = "#m=eap&size=$REQ&sel=n%3A$NODE"
set -- $(sed -n 6p "$T/b2.out" | tr -d '"')
check "Export SVG: a file that parses as SVG, one path per drawn edge ($*)" \
	test "$1 $2 $3 $5" = "0 true $4 circuit-eap-$REQ.svg"

# a shared view: the fragment restores method, size, compare and selection
{
	echo "eval [document.querySelector('#rows tr.main').getAttribute('data-method'), document.getElementById('req').textContent, document.getElementById('compare').checked, document.getElementById('sel-title').textContent].join('|')"
	echo "screenshot $SHOTS/4-from-fragment.png"
} > "$T/script3"
$C "$B" "file://$H#m=exact&size=$REQ&cmp=eap-ig&sel=n%3A$NODE" < "$T/script3" > "$T/b3.out" 2> "$T/b3.err"
check "the fragment restores the view: $(head -1 "$T/b3.out")" \
	test "$(head -1 "$T/b3.out")" = "\"exact|$REQ|true|node $NODE\""

# the canvas drawing (circuits of more than 2500 edges; forced here): the
# same counts, and it paints what the SVG drawing paints
{
	echo "eval [document.getElementById('graph').getAttribute('data-mode'), document.getElementById('drawn').textContent].join(' ')"
	echo "eval (function () { var c = document.getElementById('graph-canvas'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, n = 0; for (var i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 2] < 200) n++; return n; })()"
	echo "screenshot $SHOTS/5-canvas.png"
} > "$T/script4"
$C "$B" "file://$H#m=eap-ig&size=$REQ&draw=canvas" < "$T/script4" > "$T/b4.out" 2> "$T/b4.err"
bin/eap-prune --scores "$D/scores-eap-ig-logit_diff.h5" --topn "$REQ" -o "$T/c.h5"
want=$(h5dump -a /n_edges "$T/c.h5" | awk '/\(0\)/ { print $2 }')
check "canvas drawing: mode and edge count ($(head -1 "$T/b4.out")) = eap-prune's $want" \
	test "$(head -1 "$T/b4.out")" = "\"canvas $want\""
check "canvas drawing: thousands of coloured pixels ($(sed -n 2p "$T/b4.out"))" test "$(sed -n 2p "$T/b4.out")" -gt 5000

for k in 1 2 3 4; do
	check "browser run $k: no console error: $(grep '^console' "$T/b$k.out" | head -3)" \
		grep -qx 'console-errors 0' "$T/b$k.out"
done
check "screenshots written" test -s "$SHOTS/1-eap-ig-800.png" -a -s "$SHOTS/4-from-fragment.png"
finish
