# methods.gp - every scoring method on the same axes (issue #18, `make
# fig-methods`): per method, one point per task of the faithfulness AUC,
# Pearson's r and Spearman's rho of its edge scores with exact
# patching's, the mean pairwise Jaccard of its bootstrap circuits at the
# smallest F >= 0.8 size (stability; none for exact patching), and its
# CPU milliseconds per example (log scale).  The
# per-method means are in methods.md.  Called with
#   CSV      results/<model>/methods.csv (plots/methods.awk: 1 task,
#            2 method, 4 auc_log, 6 pearson, 7 spearman, 11 cpu_seconds,
#            13 jaccard_f80)
#   OUT      output path without extension; writes OUT.png and OUT.pdf
#   TASKS    the task names, METHODS the method names (x order)
#   MODEL    model name, for the title

set datafile separator ','
ntasks = words(TASKS)
nm = words(METHODS)
midx(s) = sum [k = 1:nm] (word(METHODS, k) eq s ? k : 0)
tidx(s) = sum [k = 1:ntasks] (word(TASKS, k) eq s ? k : 0)
colour(i) = word("#1b9e77 #d95f02 #7570b3 #e7298a #66a61e #e6ab02 #a6761d #666666", (i - 1) % 8 + 1)
# each task's points side by side within its method's slot
xpos(m, t) = midx(m) + 0.5 * ((tidx(t) - 0.5) / ntasks - 0.5)

do for [fmt in "png pdf"] {
    if (fmt eq "png") {
        set terminal pngcairo size 2100, 520 font "Sans,11" linewidth 1.5
    } else {
        set terminal pdfcairo size 21, 5.2 font "Sans,11"
    }
    set output OUT . "." . fmt
    set multiplot layout 1, 5 title sprintf("Every method on the same axes (%s model; one point per task)", MODEL) \
        font "Sans,13"
    set xrange [0.4:nm + 0.6]
    set xtics () rotate by -30
    do for [k = 1:nm] { set xtics add (word(METHODS, k) k) }
    set grid ytics lc rgb "#dddddd"
    set offsets 0, 0, graph 0.05, graph 0.05
    set key off
    do for [p = 1:5] {
        c = p == 1 ? 4 : p == 2 ? 6 : p == 3 ? 7 : p == 4 ? 13 : 11
        if (p == 5) {
            set logscale y 10
            set yrange [*:*]
            set ylabel "CPU ms per example (1 thread, log)"
            set title "cost"
        } else {
            unset logscale y
            if (p == 1) { set yrange [*:*] } else { set yrange [p == 4 ? 0 : -0.2:1.05] }
            set ylabel p == 1 ? "faithfulness AUC (auc\\_log)" : p == 2 ? "Pearson r with exact" : \
                p == 3 ? "Spearman rho with exact" : "mean Jaccard at the F >= 0.8 size"
            set title p == 1 ? "faithfulness" : p == 2 ? "Pearson with exact" : \
                p == 3 ? "Spearman with exact" : "stability (bootstrap)"
        }
        if (p == 5 && nm > 0) { set key top left Left reverse samplen 1 font "Sans,9" } else { set key off }
        plot for [t = 1:ntasks] CSV every ::1 using \
                 (strcol(1) eq word(TASKS, t) ? xpos(strcol(2), strcol(1)) : NaN):(p == 5 ? 1000 * column(c) : column(c)) \
                 with points pt 7 ps 1.1 lc rgb colour(t) title word(TASKS, t),
    }
    unset multiplot
}
