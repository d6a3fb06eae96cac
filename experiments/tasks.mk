# experiments/tasks.mk - the six paper tasks on the built-in model organism:
# each task's metric (SPEC §7: the paper's choice per task) and where its
# pairs come from.  A new task is a folder data/tasks/<task>/ plus a line
# METRIC_<task> here (logit_diff when absent).
METRIC_ioi          := logit_diff
METRIC_greater-than := prob_diff
METRIC_gender       := logit_diff
METRIC_sva          := prob_diff
METRIC_capital      := logit_diff
METRIC_hypernymy    := prob_diff
