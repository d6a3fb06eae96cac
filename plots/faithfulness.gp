# faithfulness.gp - normalized faithfulness against circuit size (SPEC §9),
# one panel per task, one curve per method variant with its 95% bootstrap
# band.  Called by `make fig-faithfulness` with
#   R        results folder of the model, e.g. results/organism
#   OUT      output path without extension; writes OUT.png and OUT.pdf
#   TASKS    space-separated task names
#   METRICS  the task metric of each task, in the same order
#   VARIANTS method variants: eap eap-ig eap-ig-kl exact
#   MODEL    model name, for the title
# and optionally (make fig-faithfulness PAPER_POINTS=yes)
#   PAPER    folder of the paper's published curves for the model's
#            shape (data/paper/results/real for GPT-2 small,
#            data/paper/results/pareto-big/<model> for GPT-2-XL and
#            Pythia-2.8B); empty or unset: no overlay
#   PTASKS   the paper's name of each task, in the same order
#   PSHAPE   gpt2-small (default), gpt2-xl or pythia-2.8B: which paper
#            model, for the columns and the title
# Reads R/<task>/curve-<method>-<metric>.csv (columns of eap-eval: 3 =
# final edge count, 7 = faithfulness, 9/10 = interval) and, with PAPER,
# PAPER/<paper task>.csv (1 = baseline, 2 = corrupted_baseline, then
# edges_<M>, loss_<M> pairs; pareto-big has total_edges in 4 and no
# exact patching), drawn as open circles in the variant's colour.

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
            t eq "capital" ? "Country-capital" : t eq "hypernymy" ? "Hypernymy" : \
            t eq "gender-bias" ? "Gender bias" : \
            t eq "fact-retrieval-comma" ? "Country-capital" : \
            t eq "hypernymy-comma" ? "Hypernymy" : t
metric_name(m) = m eq "logit_diff" ? "logit difference" : \
                 m eq "prob_diff" ? "probability difference" : m
file(t, v, m) = sprintf("%s/%s/curve-%s.csv", R, t, stem(v, m))
# log x axis: circuits pruned to no edge have no place on it
xpos(x) = x > 0 ? x : NaN

if (!exists("PAPER")) PAPER = ""
if (!exists("PTASKS")) PTASKS = TASKS
if (!exists("PSHAPE")) PSHAPE = "gpt2-small"
pname = PSHAPE eq "gpt2-xl" ? "GPT-2-XL" : PSHAPE eq "pythia-2.8B" ? "Pythia-2.8B" : "GPT-2-small"
# the paper's edges_<M> column of each variant (loss_<M> is the next one)
pcol(v) = PSHAPE ne "gpt2-small" ? \
            (v eq "eap" ? 5 : v eq "eap-ig" ? 7 : v eq "eap-ig-kl" ? 9 : 0) : \
          v eq "eap" ? 12 : v eq "eap-ig" ? 8 : v eq "eap-ig-kl" ? 10 : \
          v eq "exact" ? 4 : 0
pfile(i) = sprintf("%s/%s.csv", PAPER, word(PTASKS, i))
has_paper(i) = PAPER ne "" && \
    system(sprintf("[ -f '%s' ] && echo 1 || echo 0", pfile(i))) eq "1"
# normalized faithfulness of the paper's circuit of variant v (SPEC §9)
pfaith(v) = pcol(v) > 0 ? (column(pcol(v) + 1) - $2) / ($1 - $2) : NaN
pedges(v) = pcol(v) > 0 ? xpos(column(pcol(v))) : NaN
ptitle(v) = pcol(v) > 0 ? label(v) . " (paper)" : ""

do for [fmt in "png pdf"] {
    if (fmt eq "png") {
        set terminal pngcairo size 1500, 470 * rows font "Sans,11" linewidth 1.5
    } else {
        set terminal pdfcairo size 15, 4.7 * rows font "Sans,11"
    }
    set output OUT . "." . fmt
    set multiplot layout rows, cols \
        title sprintf("Faithfulness of circuits found by each method (%s model; evaluated on held-out prompts)%s", \
                      MODEL, PAPER ne "" ? "\nopen circles: the paper's published ".pname." circuits" : "") \
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
        if (has_paper(i)) {
            # ours in one column, the paper's in the next, top left: empty
            # on GPT-2, whose small circuits have low F
            set key top left maxrows nvar
            plot for [j = 1:nvar] file(t, word(VARIANTS, j), m) every ::1 \
                     using (xpos($3)):9:10 with filledcurves \
                     fc rgb colour(word(VARIANTS, j)) fs transparent solid 0.15 noborder notitle, \
                 for [j = 1:nvar] file(t, word(VARIANTS, j), m) every ::1 \
                     using (xpos($3)):7 with linespoints pt 7 ps 0.5 \
                     lc rgb colour(word(VARIANTS, j)) title label(word(VARIANTS, j)), \
                 for [j = 1:nvar] pfile(i) every ::1 \
                     using (pedges(word(VARIANTS, j))):(pfaith(word(VARIANTS, j))) \
                     with points pt 6 ps 0.8 lc rgb colour(word(VARIANTS, j)) \
                     title ptitle(word(VARIANTS, j))
            set key bottom right maxrows auto
        } else {
            plot for [j = 1:nvar] file(t, word(VARIANTS, j), m) every ::1 \
                     using (xpos($3)):9:10 with filledcurves \
                     fc rgb colour(word(VARIANTS, j)) fs transparent solid 0.15 noborder notitle, \
                 for [j = 1:nvar] file(t, word(VARIANTS, j), m) every ::1 \
                     using (xpos($3)):7 with linespoints pt 7 ps 0.5 \
                     lc rgb colour(word(VARIANTS, j)) title label(word(VARIANTS, j))
        }
        unset arrow 1
        unset arrow 2
    }
    unset multiplot
    set output
}
