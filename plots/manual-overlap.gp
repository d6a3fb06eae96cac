# manual-overlap.gp - `make fig-manual-overlap` (experiments/manual.mk):
# precision against recall of each method's top-n circuits (n = 1..199)
# with the manually found circuit, edges and nodes, one row per task.
# Called with
#   R        results folder of the model
#   OUT      output path without extension; writes OUT.png and OUT.pdf
#   TASKS    the tasks with a manual circuit; PTASKS the paper's names
#   METRICS  each task's metric; VARIANTS the methods (eap eap-ig)
#   MODEL    model name, for the title
#   PAPER    folder of the paper's numbers (data/paper/results/manual-overlap),
#            or empty: no overlay
# Reads R/<task>/manual-overlap-<stem>.csv (eap-compare: 12 edge_precision,
# 13 edge_recall, 14 node_precision, 15 node_recall), R/<task>/manual-faith.csv
# (eap-eval: 3 edges, 7 faithfulness) and PAPER/<paper task>_node_edge_
# precision_recall.csv (per method EAP, EAP-IG: node precision, node
# recall, edge precision, edge recall, from column 2 and 6).
set datafile separator ','
ntasks = words(TASKS)
nvar = words(VARIANTS)
if (!exists("PAPER")) PAPER = ""
stem(v, m) = (v eq "eap-ig-kl") ? v : v."-".m
label(v) = v eq "eap" ? "EAP" : v eq "eap-ig" ? "EAP-IG" : v eq "eap-ig-kl" ? "EAP-IG-KL" : \
           v eq "exact" ? "exact patching" : v
colour(v) = v eq "eap" ? "#d95f02" : v eq "eap-ig" ? "#1b9e77" : \
            v eq "eap-ig-kl" ? "#7570b3" : v eq "exact" ? "#333333" : "#e7298a"
pbase(v) = v eq "eap" ? 2 : v eq "eap-ig" ? 6 : 0
pretty(t) = t eq "ioi" ? "IOI" : t eq "greater-than" ? "Greater-than" : t
file(t, v, m) = sprintf("%s/%s/manual-overlap-%s.csv", R, t, stem(v, m))
pfile(i) = sprintf("%s/%s_node_edge_precision_recall.csv", PAPER, word(PTASKS, i))
# the manual circuit's own faithfulness and size (first data row)
mf(t, c) = system(sprintf("awk -F, 'NR == 2 { print $%d }' '%s/%s/manual-faith.csv'", c, R, t))

do for [fmt in "png pdf"] {
    if (fmt eq "png") {
        set terminal pngcairo size 1100, 470 * ntasks font "Sans,11" linewidth 1.5
    } else {
        set terminal pdfcairo size 11, 4.7 * ntasks font "Sans,11"
    }
    set output OUT . "." . fmt
    set multiplot layout ntasks, 2 \
        title sprintf("Overlap with the manually found circuits: top-n circuits, n = 1..199 (%s model)%s", \
                      MODEL, PAPER ne "" ? "\ndashed: the paper's GPT-2-small curves" : "") font "Sans,13"
    do for [i = 1:ntasks] {
        t = word(TASKS, i)
        m = word(METRICS, i)
        do for [kind in "edge node"] {
            c = kind eq "edge" ? 12 : 14
            set title sprintf("%s, %ss (manual circuit: %s edges, F = %.2f)", pretty(t), kind, \
                              mf(t, 3), real(mf(t, 7)))
            set xlabel "recall"
            set ylabel "precision"
            set xrange [0:1]
            set yrange [0:1.05]
            set grid lc rgb "#dddddd"
            set key bottom left font ",10"
            if (PAPER ne "") {
                pc = kind eq "edge" ? 2 : 0
                plot for [j = 1:nvar] file(t, word(VARIANTS, j), m) every ::1 \
                         using (column(c + 1)):(column(c)) with lines lc rgb colour(word(VARIANTS, j)) \
                         title label(word(VARIANTS, j)), \
                     for [j = 1:nvar] pfile(i) every ::1 \
                         using (pbase(word(VARIANTS, j)) > 0 ? column(pbase(word(VARIANTS, j)) + pc + 1) : NaN): \
                               (pbase(word(VARIANTS, j)) > 0 ? column(pbase(word(VARIANTS, j)) + pc) : NaN) \
                         with lines dt 2 lc rgb colour(word(VARIANTS, j)) \
                         title (pbase(word(VARIANTS, j)) > 0 ? label(word(VARIANTS, j)) . " (paper)" : "")
            } else {
                plot for [j = 1:nvar] file(t, word(VARIANTS, j), m) every ::1 \
                         using (column(c + 1)):(column(c)) with lines lc rgb colour(word(VARIANTS, j)) \
                         title label(word(VARIANTS, j))
            }
        }
    }
    unset multiplot
    set output
}
