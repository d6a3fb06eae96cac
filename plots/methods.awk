# methods.awk - the table of `make fig-methods` (experiments/methods.mk):
# every method on the same axes, per task.  Arguments, in fives:
#   TASK METHOD SUMMARY CORRELATION COST
# (eap-eval --summary, eap-compare --scores vs exact, eap-score --cost),
# and with -v STAB=FILE the stability table of plots/stability.awk, whose
# jaccard_f80 (the mean pairwise Jaccard of the bootstrap circuits at the
# smallest F >= 0.8 size) joins by task and method ("nan" where it has no
# row, as for exact patching, which is not resampled).
# Writes OUT.csv (one row per task and method) and OUT.md (the same, then
# each method's mean over the tasks).  Columns are found by name.
function fail(msg) {
    print "methods.awk: " msg > "/dev/stderr"
    close(csv); close(md)
    system("rm -f '" csv "' '" md "'")
    exit 1
}
function col(file, name,    line, n, h, i) {
    if ((getline line < file) <= 0) fail(file ": missing or empty")
    n = split(line, h, ",")
    for (i = 1; i <= n; i++) hdr[file, h[i]] = i
    if ((getline line < file) <= 0) fail(file ": no row")
    split(line, row, ",")
    for (i = 1; i <= n; i++) val[file, h[i]] = row[i]
    close(file)
}
function get(file, name) {
    if (!((file, name) in val)) fail(file ": no column " name)
    return val[file, name]
}
# the stability table's jaccard_f80 per task and method, into jac[]
function stability(file,    line, n, h, i, r, it, im, ij) {
    if ((getline line < file) <= 0) fail(file ": missing or empty")
    n = split(line, h, ",")
    for (i = 1; i <= n; i++) { if (h[i] == "task") it = i; if (h[i] == "method") im = i; if (h[i] == "jaccard_f80") ij = i }
    if (!it || !im || !ij) fail(file ": no column task, method or jaccard_f80")
    while ((getline line < file) > 0) { split(line, r, ","); jac[r[it], r[im]] = r[ij] }
    close(file)
}
BEGIN {
    if (ARGC < 6 || (ARGC - 1) % 5) { print "methods.awk: arguments come in fives" > "/dev/stderr"; exit 2 }
    csv = OUT ".csv.tmp"; md = OUT ".md.tmp"
    if (STAB != "") stability(STAB)
    print "task,method,metric,auc_log,min_edges_f80,pearson,spearman,forwards,backwards,gflop,cpu_seconds,seconds,jaccard_f80" > csv
    print "| task | method | AUC | edges F≥0.8 | Pearson | Spearman | Jaccard F≥0.8 | fwd | bwd | GFLOP | CPU ms | wall ms |" > md
    print "|---|---|---|---|---|---|---|---|---|---|---|---|" > md
    nm = 0
    for (a = 1; a < ARGC; a += 5) {
        t = ARGV[a]; m = ARGV[a + 1]; s = ARGV[a + 2]; c = ARGV[a + 3]; k = ARGV[a + 4]
        col(s); col(c); col(k)
        n = get(k, "examples") + 0
        cpu = get(k, "cpu_seconds") / (n ? n : 1)
        wall = get(k, "seconds_per_example")
        f80 = get(s, "min_edges_f80")
        j = ((t, m) in jac) ? jac[t, m] : "nan"
        printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%.6g,%s,%s\n", t, m, get(s, "metric"), get(s, "auc_log"), f80,
            get(c, "pearson"), get(c, "spearman"), get(k, "forwards"), get(k, "backwards"), get(k, "gflop"),
            cpu, wall, j > csv
        printf "| %s | %s | %.3f | %s | %.3f | %.3f | %s | %s | %s | %.3g | %.3g | %.3g |\n", t, m, get(s, "auc_log"),
            (f80 < 0 ? "none" : f80), get(c, "pearson"), get(c, "spearman"), (j == "nan" ? "-" : sprintf("%.3f", j)),
            get(k, "forwards"), get(k, "backwards"), get(k, "gflop"), 1000 * cpu, 1000 * wall > md
        if (!(m in seen)) { seen[m] = 1; order[++nm] = m }
        cnt[m]++; auc[m] += get(s, "auc_log"); pr[m] += get(c, "pearson"); sp[m] += get(c, "spearman")
        fw[m] += get(k, "forwards"); bw[m] += get(k, "backwards"); gf[m] += get(k, "gflop"); cp[m] += cpu
        if (j != "nan") { jn[m]++; js[m] += j }
    }
    print "" > md
    print "| method (mean over tasks) | AUC | Pearson | Spearman | Jaccard F≥0.8 | fwd | bwd | GFLOP | CPU ms |" > md
    print "|---|---|---|---|---|---|---|---|---|" > md
    for (i = 1; i <= nm; i++) {
        m = order[i]; q = cnt[m]
        printf "| %s | %.3f | %.3f | %.3f | %s | %.3g | %.3g | %.3g | %.3g |\n", m, auc[m] / q, pr[m] / q, sp[m] / q,
            (jn[m] ? sprintf("%.3f", js[m] / jn[m]) : "-"), fw[m] / q, bw[m] / q, gf[m] / q, 1000 * cp[m] / q > md
    }
    close(csv); close(md)
    if (system("mv -f '" csv "' '" OUT ".csv' && mv -f '" md "' '" OUT ".md'")) exit 1
    exit 0
}
