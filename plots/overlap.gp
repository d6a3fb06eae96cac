# overlap.gp - overlap is not faithfulness (the paper's point, issue #9):
# one row per task; left, the edge and node IoU of each method's circuit
# with exact patching's circuit of the same requested size; right, the
# faithfulness of the same circuits, exact patching's included.  Both
# panels share the x axis, the requested size.  Called by
# `make fig-overlap` with
#   R        results folder of the model, e.g. results/organism
#   OUT      output path without extension; writes OUT.png and OUT.pdf
#   TASKS    space-separated task names
#   METRICS  the task metric of each task, in the same order
#   VARIANTS method variants compared with exact: eap eap-ig eap-ig-kl
#   MODEL    model name, for the title
# Reads R/<task>/overlap-<method>-<metric>.csv (eap-compare --circuits:
# 3 = edges requested, 4/5 = edges of each, 7 = edge IoU, 11 = node IoU) and
# R/<task>/curve-<method>-<metric>.csv (eap-eval: 2 = edges requested,
# 7 = faithfulness).

set datafile separator ','
ntasks = words(TASKS)
nvar = words(VARIANTS)

stem(v, m) = (v eq "eap-ig-kl") ? v : v."-".m
label(v) = v eq "eap" ? "EAP" : v eq "eap-ig" ? "EAP-IG" : \
           v eq "eap-ig-kl" ? "EAP-IG-KL" : v eq "exact" ? "exact patching" : v
colour(v) = v eq "eap" ? "#d95f02" : v eq "eap-ig" ? "#1b9e77" : \
            v eq "eap-ig-kl" ? "#7570b3" : v eq "exact" ? "#333333" : "#e7298a"
pretty(t) = t eq "ioi" ? "IOI" : t eq "greater-than" ? "Greater-than" : \
            t eq "sva" ? "Subject-verb agreement" : t eq "gender" ? "Gender" : \
            t eq "capital" ? "Country-capital" : t eq "hypernymy" ? "Hypernymy" : t
metric_name(m) = m eq "logit_diff" ? "logit difference" : \
                 m eq "prob_diff" ? "probability difference" : m
overlap(t, v, m) = sprintf("%s/%s/overlap-%s.csv", R, t, stem(v, m))
curve(t, v, m) = sprintf("%s/%s/curve-%s.csv", R, t, stem(v, m))
# two empty circuits (pruned to no edge) are identical, IoU 1 in the CSV,
# but say nothing about overlap: left out
nonempty(e, re, iou) = e + re > 0 ? iou : NaN

do for [fmt in "png pdf"] {
    if (fmt eq "png") {
        set terminal pngcairo size 1500, 400 * ntasks + 60 font "Sans,11" linewidth 1.5
    } else {
        set terminal pdfcairo size 15, 4.0 * ntasks + 0.6 font "Sans,11"
    }
    set output OUT . "." . fmt
    set multiplot layout ntasks, 2 \
        title sprintf("Overlap with exact patching's circuit is not faithfulness (%s model)", MODEL) \
        font "Sans,13"
    do for [i = 1:ntasks] {
        t = word(TASKS, i)
        m = word(METRICS, i)
        # the same x range on both panels: up to the whole graph
        unset logscale x
        set xrange [*:*]
        set yrange [*:*]
        stats curve(t, "exact", m) every ::1 using 2 nooutput
        set logscale x 10
        set xrange [1:STATS_max * 1.6]
        set xlabel "circuit size (edges requested before pruning, log scale)"
        set grid xtics ytics lc rgb "#dddddd"

        set title sprintf("%s: overlap with the exact-patching circuit", pretty(t))
        set ylabel "IoU with exact patching's circuit"
        set yrange [0:1.05]
        set key bottom right opaque font ",10" samplen 3 spacing 1.1
        plot for [j = 1:nvar] overlap(t, word(VARIANTS, j), m) every ::1 \
                 using 3:(nonempty($4, $5, $7)) with linespoints pt 7 ps 0.5 dt 1 \
                 lc rgb colour(word(VARIANTS, j)) title label(word(VARIANTS, j)) . ": edges", \
             for [j = 1:nvar] overlap(t, word(VARIANTS, j), m) every ::1 \
                 using 3:(nonempty($4, $5, $11)) with linespoints pt 6 ps 0.6 dt 2 \
                 lc rgb colour(word(VARIANTS, j)) title label(word(VARIANTS, j)) . ": nodes"

        set title sprintf("%s: faithfulness of the same circuits (metric: %s)", pretty(t), metric_name(m))
        set ylabel "normalized faithfulness F"
        set yrange [-0.25:1.25]
        set key bottom right opaque font ",10" samplen 3
        set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "#999999"
        set arrow 2 from graph 0, first 0 to graph 1, first 0 nohead dt 2 lc rgb "#999999"
        plot for [j = 1:nvar] curve(t, word(VARIANTS, j), m) every ::1 \
                 using 2:7 with linespoints pt 7 ps 0.5 \
                 lc rgb colour(word(VARIANTS, j)) title label(word(VARIANTS, j)), \
             curve(t, "exact", m) every ::1 using 2:7 with linespoints pt 5 ps 0.5 \
                 lc rgb colour("exact") title label("exact")
        unset arrow 1
        unset arrow 2
    }
    unset multiplot
    set output
}
