# cross-task.awk - joins the cells of `make fig-cross-task` into
# RESULTS/<model>/cross-task.csv (experiments/cross-task.mk).  Input,
# in order: for each (circuit task a, evaluation task b) the pair of
# files CT/a/on-b.csv (eap-eval: 2 requested edges, 3 edges, 7 F, 9-10
# its interval) and CT/a/overlap-b.csv (eap-compare: 7 edge IoU, 11 node
# IoU); then, if PAPER is set, the paper's matrix (PAPER=path): one row
# per circuit task in the header's order, a column per evaluation task
# (the raw metric), then baseline and corrupted_baseline of the row's
# task.  -v PT="a=paper-name ..." maps our task names to the paper's.
# A paper cell is normalized by the evaluation task's own baselines:
# (raw(a, b) - corrupted(b)) / (baseline(b) - corrupted(b)).
BEGIN {
	FS = ","
	n = split(PT, m, " ")
	for (i = 1; i <= n; i++) {
		split(m[i], kv, "=")
		pt[kv[1]] = kv[2]
	}
}
FILENAME ~ /\/on-[^\/]*\.csv$/ && FNR == 2 {
	a = FILENAME; sub(/\/on-[^\/]*\.csv$/, "", a); sub(/.*\//, "", a)
	b = FILENAME; sub(/.*\/on-/, "", b); sub(/\.csv$/, "", b)
	k = ++cells
	ca[k] = a; cb[k] = b
	ev[k] = $2 "," $3 "," $7 "," $9 "," $10
	next
}
FILENAME ~ /\/overlap-[^\/]*\.csv$/ && FNR == 2 {
	ov[cells] = $7 "," $11
	next
}
FILENAME == PAPER && FNR == 1 {
	for (i = 1; i <= NF; i++)
		col[$i] = i
	next
}
FILENAME == PAPER {
	nrow++
	for (i = 1; i <= NF; i++)
		cell[nrow, i] = $i
}
END {
	print "circuit_task,eval_task,edges_requested,edges,faithfulness,ci_low,ci_high,edge_iou,node_iou,paper_faithfulness"
	for (k = 1; k <= cells; k++) {
		p = ""
		ra = col[pt[ca[k]]]; rb = col[pt[cb[k]]]
		if (nrow && ra && rb) {
			base = cell[rb, col["baseline"]]
			corr = cell[rb, col["corrupted_baseline"]]
			if (base != corr)
				p = sprintf("%.6f", (cell[ra, rb] - corr) / (base - corr))
		}
		print ca[k] "," cb[k] "," ev[k] "," ov[k] "," p
	}
}
