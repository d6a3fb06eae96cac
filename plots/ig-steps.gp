# ig-steps.gp - EAP-IG against the number of integrated-gradient steps
# (issue #9): the area under the faithfulness curve, and Pearson's r and
# Spearman's rho of its edge scores with exact patching's, one line per
# task.  Called by `make fig-ig-steps` with
#   R      results folder of the model, e.g. results/organism
#   OUT    output path without extension; writes OUT.png and OUT.pdf
#   TASKS  space-separated task names
#   STEPS  the step counts (IG_STEPS_LIST), for the x tics
#   MODEL  model name, for the title
# Reads R/<task>/ig-steps.csv (eap-table --key steps: 1 = steps,
# 4 = auc_log, 9 = pearson, 10 = spearman).

set datafile separator ','
ntasks = words(TASKS)
nsteps = words(STEPS)

pretty(t) = t eq "ioi" ? "IOI" : t eq "greater-than" ? "Greater-than" : \
            t eq "sva" ? "Subject-verb agreement" : t eq "gender" ? "Gender" : \
            t eq "capital" ? "Country-capital" : t eq "hypernymy" ? "Hypernymy" : t
# Dark2 colours and a point type per task, so lines stay apart in grey too
colour(i) = word("#1b9e77 #d95f02 #7570b3 #e7298a #66a61e #e6ab02 #a6761d #666666", (i - 1) % 8 + 1)
file(t) = sprintf("%s/%s/ig-steps.csv", R, t)

do for [fmt in "png pdf"] {
    if (fmt eq "png") {
        set terminal pngcairo size 1500, 560 font "Sans,11" linewidth 1.5
    } else {
        set terminal pdfcairo size 15, 5.6 font "Sans,11"
    }
    set output OUT . "." . fmt
    set multiplot \
        title sprintf("EAP-IG against the number of integrated-gradient steps (%s model)", MODEL) \
        font "Sans,13"
    set size 1.0 / 3, 0.8
    set logscale x 10
    set xrange [0.8:1.25 * word(STEPS, nsteps)]
    set xtics ()
    do for [k = 1:nsteps] { set xtics add (word(STEPS, k) word(STEPS, k)) }
    set xlabel "IG steps m (log scale)"
    set grid xtics ytics lc rgb "#dddddd"
    unset key

    set origin 0, 0.12
    set title "Faithfulness: area under the curve"
    set ylabel "AUC of F over log circuit size (1: F = 1 throughout)"
    plot for [i = 1:ntasks] file(word(TASKS, i)) every ::1 using 1:4 \
             with linespoints pt (4 + i) ps 0.8 lc rgb colour(i) notitle

    set origin 1.0 / 3, 0.12
    set title "Correlation with exact scores: Pearson"
    set ylabel "Pearson r over all edges"
    plot for [i = 1:ntasks] file(word(TASKS, i)) every ::1 using 1:9 \
             with linespoints pt (4 + i) ps 0.8 lc rgb colour(i) notitle

    set origin 2.0 / 3, 0.12
    set title "Correlation with exact scores: Spearman"
    set ylabel "Spearman rho over all edges"
    plot for [i = 1:ntasks] file(word(TASKS, i)) every ::1 using 1:10 \
             with linespoints pt (4 + i) ps 0.8 lc rgb colour(i) notitle

    # one legend for the three panels: an empty plot across the bottom
    set origin 0, 0
    set size 1, 0.1
    unset title
    unset xlabel
    unset ylabel
    unset logscale x
    unset grid
    unset border
    unset tics
    set xrange [0:1]
    set yrange [0:1]
    set key center center horizontal maxrows 1 font ",11" samplen 2 width 1
    plot for [i = 1:ntasks] 2 with linespoints pt (4 + i) ps 0.8 lc rgb colour(i) \
             title pretty(word(TASKS, i))
    unset multiplot
    set output
}
