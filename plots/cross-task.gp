# cross-task.gp - heatmaps of `make fig-cross-task` (experiments/cross-task.mk).
# Called with
#   IN      RESULTS/<model>/cross-task.csv (circuit_task, eval_task,
#           edges_requested, edges, faithfulness, ci_low, ci_high,
#           edge_iou, node_iou, paper_faithfulness)
#   OUT     output path without extension; writes OUT.png and OUT.pdf
#   TASKS   the tasks, in the order of the rows and columns
#   MODEL   model name, METHOD the method of the circuits, for the titles
#   PAPER   "yes": a fourth panel with the paper's GPT-2-small matrix
# Rows: the circuit's task; columns: the task it is evaluated on.
set datafile separator ','
set datafile missing ''
n = words(TASKS)
idx(t) = sum [i = 1:n] (word(TASKS, i) eq t ? i : 0)
if (!exists("PAPER")) PAPER = ""
panels = PAPER eq "yes" ? 4 : 3

set xrange [0.5:n + 0.5]
set yrange [n + 0.5:0.5]
set xtics rotate by 30 right font ",9"
set ytics font ",9"
set xtics ()
set ytics ()
set for [i = 1:n] xtics add (word(TASKS, i) i)
set for [i = 1:n] ytics add (word(TASKS, i) i)
set xtics scale 0
set ytics scale 0
set xlabel "evaluated on"
set ylabel "circuit of"
set size ratio -1
set palette defined (-0.5 "#b2182b", 0 "#f7f7f7", 1 "#2166ac")

do for [fmt in "png pdf"] {
    if (fmt eq "png") {
        set terminal pngcairo size (panels == 4 ? 1100 : 1500), (panels == 4 ? 1000 : 520) font "Sans,11"
    } else {
        set terminal pdfcairo size (panels == 4 ? 11 : 15), (panels == 4 ? 10 : 5.2) font "Sans,11"
    }
    set output OUT . "." . fmt
    set multiplot layout (panels == 4 ? 2 : 1), (panels == 4 ? 2 : 3) \
        title sprintf("Cross-task: each task's %s circuit on every task's held-out prompts (%s model)", \
                      METHOD, MODEL) font "Sans,13"
    set title "normalized faithfulness F"
    set cbrange [-0.5:1.25]
    plot IN every ::1 using (idx(strcol(2))):(idx(strcol(1))):5 with image notitle, \
         IN every ::1 using (idx(strcol(2))):(idx(strcol(1))):(sprintf("%.2f", $5)) with labels font ",9" notitle
    set title "edge IoU of the two circuits"
    set cbrange [0:1]
    set palette defined (0 "#f7f7f7", 1 "#2166ac")
    plot IN every ::1 using (idx(strcol(2))):(idx(strcol(1))):8 with image notitle, \
         IN every ::1 using (idx(strcol(2))):(idx(strcol(1))):(sprintf("%.2f", $8)) with labels font ",9" notitle
    set title "node IoU of the two circuits"
    plot IN every ::1 using (idx(strcol(2))):(idx(strcol(1))):9 with image notitle, \
         IN every ::1 using (idx(strcol(2))):(idx(strcol(1))):(sprintf("%.2f", $9)) with labels font ",9" notitle
    if (panels == 4) {
        set title "the paper's F (GPT-2 small, its circuit sizes)"
        set cbrange [-0.5:1.25]
        set palette defined (-0.5 "#b2182b", 0 "#f7f7f7", 1 "#2166ac")
        plot IN every ::1 using (idx(strcol(2))):(idx(strcol(1))):10 with image notitle, \
             IN every ::1 using (idx(strcol(2))):(idx(strcol(1))):(strcol(10) eq "" ? "" : sprintf("%.2f", $10)) \
                 with labels font ",9" notitle
    }
    unset multiplot
    set output
    set palette defined (-0.5 "#b2182b", 0 "#f7f7f7", 1 "#2166ac")
}
