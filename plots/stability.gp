# stability.gp - stability of each method's circuits under resampling of
# the attribution prompts (issue #18 item 5): the mean pairwise Jaccard of
# the BOOTSTRAP resamples' pruned top-n circuits against the requested
# size, one panel per task, one line per method, a diamond at the
# smallest size with F >= 0.8.  Called by `make fig-stability` with
#   R         results folder of the model, e.g. results/organism
#   OUT       output path without extension; writes OUT.png and OUT.pdf
#   TASKS     space-separated task names
#   VARIANTS  the methods (STABILITY_METHODS)
#   STEMS     the file stem of each (task, method), tasks outer
#   MODEL     model name, for the title
# Reads R/<task>/bootstrap-<stem>.csv (7 = edges_requested, 9 =
# jaccard_mean) and R/stability.csv (1 = task, 2 = method, 9 =
# f80_edges_requested, 11 = jaccard_f80).

set datafile separator ','
ntasks = words(TASKS)
nvar = words(VARIANTS)
ncols = ntasks < 3 ? ntasks : 3
nrows = (ntasks + ncols - 1) / ncols

pretty(t) = t eq "ioi" ? "IOI" : t eq "greater-than" ? "Greater-than" : \
            t eq "sva" ? "Subject-verb agreement" : t eq "gender" ? "Gender" : \
            t eq "capital" ? "Country-capital" : t eq "hypernymy" ? "Hypernymy" : t
# the method colours of faithfulness.gp
colour(v) = v eq "eap" ? "#1f77b4" : v eq "eap-ig" ? "#d62728" : \
            v eq "eap-ig-kl" ? "#2ca02c" : v eq "exact" ? "#000000" : \
            v eq "relp" ? "#9467bd" : v eq "eap-gp" ? "#ff7f0e" : "#7f7f7f"
boot(i, j) = sprintf("%s/%s/bootstrap-%s.csv", R, word(TASKS, i), word(STEMS, (i - 1) * nvar + j))

do for [fmt in "png pdf"] {
    if (fmt eq "png") {
        set terminal pngcairo size 500 * ncols, 420 * nrows + 60 font "Sans,11" linewidth 1.5
    } else {
        set terminal pdfcairo size 5 * ncols, 4.2 * nrows + 0.6 font "Sans,11"
    }
    set output OUT . "." . fmt
    set multiplot layout nrows, ncols \
        title sprintf("Stability of the circuits under resampling of the prompts (%s model)", MODEL) \
        font "Sans,13"
    set logscale x 10
    set yrange [0:1.05]
    set xlabel "circuit size: edges requested (log scale)"
    set ylabel "mean pairwise Jaccard of the resamples"
    set grid xtics ytics lc rgb "#dddddd"
    set key bottom right
    do for [i = 1:ntasks] {
        set title pretty(word(TASKS, i))
        t = word(TASKS, i)
        plot for [j = 1:nvar] boot(i, j) every ::1 using 7:9 with lines \
                 lc rgb colour(word(VARIANTS, j)) title word(VARIANTS, j), \
             for [j = 1:nvar] R . "/stability.csv" every ::1 \
                 using (strcol(1) eq t && strcol(2) eq word(VARIANTS, j) && $9 > 0 ? $9 : NaN):11 \
                 with points pt 13 ps 1.4 lc rgb colour(word(VARIANTS, j)) notitle
    }
    unset multiplot
}
