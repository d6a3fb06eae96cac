# paper-numbers-16.awk - the numbers of the report's cross-task, seeds,
# smallest-circuit and manual-circuit paragraphs (issue #16) as
# \pnumset{GROUP}{KEY}{VALUE} lines, read from the pipeline's CSVs; called
# by `make paper` (experiments/paper.mk) into RESULTS/<model>/paper-numbers-16.tex.
# Input files, recognised by name (any may be absent):
#   cross-task.csv   (make fig-cross-task: circuit_task, eval_task,
#                    edges_requested, edges, faithfulness, ci_low, ci_high,
#                    edge_iou, node_iou, paper_faithfulness)
#   seeds.csv        (make tables: task, method, ref_method, metric, seeds,
#                    examples, auc, ref_auc, auc_diff, ci_low, ci_high)
#   tables.csv       (make tables: task, method, metric, auc_log, cpr, cmd,
#                    min_edges_f80, ...)
#   manual-faith.csv, manual-overlap-*.csv of a task (make fig-manual-overlap)
# -v TINY=10: an exact-patching circuit of at most TINY edges reaching
# F >= 0.8 means the task cannot tell the methods apart.
# Writes
#   {TASK}{ct-size|ct-diag|ct-offmax|ct-offmaxtask}  its circuit's size,
#       F on its own task, and its best F on another task (and which)
#   {cross}{offmax|offmaxpair|offmean|ioumax|ioumaxpair|tasks}
#   {TASK}{seed-diff|seed-lo|seed-hi}, {seeds}{n|examples|pos|neg|zero}
#       (the tasks whose interval lies above 0, below 0, or covers it)
#   {f80}{tiny|rest}  tasks whose exact circuit reaches F >= 0.8 within
#       TINY edges, and the others; {f80}{TINY}; {f80}{same} the tasks on
#       which every method's smallest such circuit has the same size
#   {TASK}{manual-f|manual-edges}, {TASK}{VARIANT-mp199|VARIANT-mr199}
#       (edge precision and recall of the top 199 edges)
function tex(s) { gsub(/_/, "\\_", s); return s }
function set(g, k, v) { printf "\\pnumset{%s}{%s}{%s}\n", g, k, v }
function list(s) { return s == "" ? "none" : s }
function add(s, t) { return s == "" ? tex(t) : s ", " tex(t) }
BEGIN { FS = ","; if (TINY == "") TINY = 10; set("f80", "TINY", TINY) }
FNR == 1 { f = FILENAME; sub(/.*\//, "", f); next }
f == "cross-task.csv" {
	n++
	if ($1 == $2) {
		set($1, "ct-size", $3)
		set($1, "ct-diag", sprintf("%.2f", $5))
		if (!($1 in seen)) { seen[$1] = 1; ctasks = add(ctasks, $1) }
	} else {
		if (!($1 in rmax) || $5 > rmax[$1]) { rmax[$1] = $5; rtask[$1] = $2 }
		if (noff == 0 || $5 > omax) { omax = $5; opair = tex($1) " on " tex($2) }
		if (noff == 0 || $8 > imax) { imax = $8; ipair = tex($1) " and " tex($2) }
		osum += $5; noff++
	}
}
f == "seeds.csv" {
	set($1, "seed-diff", sprintf("%+.3f", $9))
	set($1, "seed-lo", sprintf("%+.3f", $10))
	set($1, "seed-hi", sprintf("%+.3f", $11))
	nseeds = $5; nex = $6
	if ($10 > 0) pos = add(pos, $1); else if ($11 < 0) neg = add(neg, $1); else zero = add(zero, $1)
	haveseeds = 1
}
f == "tables.csv" && $2 == "exact" {
	if ($7 >= 1 && $7 <= TINY) tiny = add(tiny, $1); else rest = add(rest, $1)
	havef80 = 1
}
f == "tables.csv" {
	if (!($1 in first)) { first[$1] = $7; order[++ntab] = $1; same[$1] = 1 }
	else if ($7 != first[$1]) same[$1] = 0
}
f == "manual-faith.csv" {
	t = FILENAME; sub(/\/manual-faith\.csv$/, "", t); sub(/.*\//, "", t)
	set(t, "manual-f", sprintf("%.2f", $7)); set(t, "manual-edges", $3)
}
f ~ /^manual-overlap-/ && $3 == 199 {
	t = FILENAME; sub(/\/manual-overlap-[^\/]*$/, "", t); sub(/.*\//, "", t)
	set(t, $1 "-mp199", sprintf("%.2f", $12)); set(t, $1 "-mr199", sprintf("%.2f", $13))
}
END {
	for (t in rmax) { set(t, "ct-offmax", sprintf("%.2f", rmax[t])); set(t, "ct-offmaxtask", tex(rtask[t])) }
	if (noff) {
		set("cross", "offmax", sprintf("%.2f", omax)); set("cross", "offmaxpair", opair)
		set("cross", "offmean", sprintf("%.2f", osum / noff))
		set("cross", "ioumax", sprintf("%.2f", imax)); set("cross", "ioumaxpair", ipair)
		set("cross", "tasks", ctasks)
	}
	if (haveseeds) {
		set("seeds", "n", nseeds); set("seeds", "examples", nex)
		set("seeds", "pos", list(pos)); set("seeds", "neg", list(neg)); set("seeds", "zero", list(zero))
	}
	if (havef80) { set("f80", "tiny", list(tiny)); set("f80", "rest", list(rest)) }
	for (i = 1; i <= ntab; i++) if (same[order[i]]) sames = add(sames, order[i])
	if (ntab) set("f80", "same", list(sames))
}
