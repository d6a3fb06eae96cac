# faithfulness.gp - normalized faithfulness against circuit size (SPEC §9),
# one panel per task, one curve per method variant with its 95% bootstrap
# band.  Called by `make fig-faithfulness` with
#   R        results folder of the model, e.g. results/organism
#   OUT      output path without extension; writes OUT.png and OUT.pdf
#   TASKS    space-separated task names
#   METRICS  the task metric of each task, in the same order
#   VARIANTS method variants: eap eap-ig eap-ig-kl exact
#   MODEL    model name, for the title
# Reads R/<task>/curve-<method>-<metric>.csv (columns of eap-eval: 3 =
# final edge count, 7 = faithfulness, 9/10 = interval).

set datafile separator ','
ntasks = words(TASKS)
nvar = words(VARIANTS)
cols = ntasks < 3 ? ntasks : 3
rows = int((ntasks + cols - 1) / cols)

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
file(t, v, m) = sprintf("%s/%s/curve-%s.csv", R, t, stem(v, m))
# log x axis: circuits pruned to no edge have no place on it
xpos(x) = x > 0 ? x : NaN

do for [fmt in "png pdf"] {
    if (fmt eq "png") {
        set terminal pngcairo size 1500, 470 * rows font "Sans,11" linewidth 1.5
    } else {
        set terminal pdfcairo size 15, 4.7 * rows font "Sans,11"
    }
    set output OUT . "." . fmt
    set multiplot layout rows, cols \
        title sprintf("Faithfulness of circuits found by each method (%s model; evaluated on held-out prompts)", MODEL) \
        font "Sans,13"
    do for [i = 1:ntasks] {
        t = word(TASKS, i)
        m = word(METRICS, i)
        set title sprintf("%s (metric: %s)", pretty(t), metric_name(m))
        set logscale x 10
        set xlabel "circuit size (edges after pruning, log scale)"
        set ylabel "normalized faithfulness F"
        set yrange [-0.25:1.25]
        set grid xtics ytics lc rgb "#dddddd"
        set key bottom right font ",10" samplen 2
        set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "#999999"
        set arrow 2 from graph 0, first 0 to graph 1, first 0 nohead dt 2 lc rgb "#999999"
        plot for [j = 1:nvar] file(t, word(VARIANTS, j), m) every ::1 \
                 using (xpos($3)):9:10 with filledcurves \
                 fc rgb colour(word(VARIANTS, j)) fs transparent solid 0.15 noborder notitle, \
             for [j = 1:nvar] file(t, word(VARIANTS, j), m) every ::1 \
                 using (xpos($3)):7 with linespoints pt 7 ps 0.5 \
                 lc rgb colour(word(VARIANTS, j)) title label(word(VARIANTS, j))
        unset arrow 1
        unset arrow 2
    }
    unset multiplot
    set output
}
