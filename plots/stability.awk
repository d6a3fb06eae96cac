# stability.awk - results/<model>/stability.{csv,md} (make tables,
# experiments/stability.mk): one row per task and method, joining
#   check-<stem>.csv      eap-score --check-csv (one row)
#   bootstrap-<stem>.csv  eap-score --bootstrap-csv (one row per size)
#   curve-<stem>.csv      eap-eval's faithfulness curve
# The F >= 0.8 size is the smallest requested size of the curve whose
# faithfulness reaches 0.8 (the circuit of summary's min_edges_f80); the
# Jaccard there is the bootstrap row of the same requested size ("nan"
# when no size reaches 0.8 or the bootstrap lacks that size).
#
#   awk -f plots/stability.awk -v csv=OUT.csv -v md=OUT.md \
#       TASK VARIANT CHECK BOOTSTRAP CURVE [TASK VARIANT ...]
# Columns of the inputs are found by their header names.

function col(file,    line, n, i, f) {
	if ((getline line < file) <= 0) {
		printf "stability.awk: %s: empty or unreadable\n", file > "/dev/stderr"
		exit 1
	}
	n = split(line, f, ",")
	for (i = 1; i <= n; i++)
		hdr[file, f[i]] = i
	close(file)
}

function need(file, name) {
	if (!((file, name) in hdr)) {
		printf "stability.awk: %s: no column %s\n", file, name > "/dev/stderr"
		exit 1
	}
	return hdr[file, name]
}

BEGIN {
	if (ARGC < 6 || (ARGC - 1) % 5) {
		print "stability.awk: want TASK VARIANT CHECK BOOTSTRAP CURVE ..." > "/dev/stderr"
		exit 1
	}
	print "task,method,metric,edges_checked,pearson,spearman,sign_agreement,topk_recall,f80_edges_requested,f80_edges,jaccard_f80,resamples" > csv
	print "| task | method | edges checked | Pearson | Spearman | sign agreement | top-k recall | F >= 0.8 size (edges) | Jaccard at that size |" > md
	print "|---|---|---|---|---|---|---|---|---|" > md
	for (a = 1; a < ARGC; a += 5) {
		task = ARGV[a]; v = ARGV[a + 1]
		chk = ARGV[a + 2]; boot = ARGV[a + 3]; cur = ARGV[a + 4]
		col(chk); col(boot); col(cur)
		getline line < chk; getline line < chk
		split(line, c, ",")
		close(chk)
		metric = c[need(chk, "metric")]
		# the smallest size with F >= 0.8
		req = ""; kept = ""
		getline line < cur
		while ((getline line < cur) > 0) {
			split(line, f, ",")
			if (req == "" && f[need(cur, "faithfulness")] + 0 >= 0.8) {
				req = f[need(cur, "edges_requested")]
				kept = f[need(cur, "edges")]
			}
		}
		close(cur)
		jac = "nan"; nres = ""
		getline line < boot
		while ((getline line < boot) > 0) {
			split(line, b, ",")
			nres = b[need(boot, "resamples")]
			if (req != "" && b[need(boot, "edges_requested")] == req)
				jac = b[need(boot, "jaccard_mean")]
		}
		close(boot)
		printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", task, v, metric,
			c[need(chk, "edges_checked")], c[need(chk, "pearson")],
			c[need(chk, "spearman")], c[need(chk, "sign_agreement")],
			c[need(chk, "topk_recall")], req == "" ? -1 : req,
			kept == "" ? -1 : kept, jac, nres > csv
		printf "| %s | %s | %s | %.3f | %.3f | %.3f | %.3f | %s | %s |\n", task, v,
			c[need(chk, "edges_checked")], c[need(chk, "pearson")],
			c[need(chk, "spearman")], c[need(chk, "sign_agreement")],
			c[need(chk, "topk_recall")],
			req == "" ? "none" : req " (" kept ")",
			jac == "nan" ? "--" : sprintf("%.3f", jac) > md
	}
	exit 0
}
