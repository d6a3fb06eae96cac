#!/bin/sh
# memory.sh - peak resident memory of eap-score (EAP-IG) on the model
# organism at N = 100, 1000 and 10,000 pairs: memory is bounded by the
# batch size, not by N (SPEC §13; issue 7 asks for N = 10,000 within 10%
# of N = 100).  One IG step keeps N = 10,000 to about a minute; the
# memory of m steps grows with m only up to the stacking budget
# (STEP_BUDGET in src/attrib.c), never with N.  Appends rows to
# bench/results.csv.  Run from the repository root after `make` (by
# `make bench`).
set -eu
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
M=data/models/organism
csv=${1:-bench/results.csv}
bin/eap-corrupt --task data/tasks/ioi --split train -n 10000 --seed 1 -o "$T/p.csv"
for n in 100 1000 10000; do
	head -n $((n + 1)) "$T/p.csv" > "$T/p$n.csv"
	/usr/bin/time -f '%M %e' -o "$T/t$n" bin/eap-score --model $M --pairs "$T/p$n.csv" \
		--method eap-ig --steps 1 --batch 20 -o "$T/s$n.h5"
done
read kb100 s100 < "$T/t100"
printf '%-28s %10s %10s %7s  %s\n' "peak RSS eap-ig N=100" "$s100" "" "" "$kb100 KiB (1 step, batch 20)"
[ -f "$csv" ] && echo "peak RSS eap-ig N=100,$s100,,,\"$kb100 KiB (1 step, batch 20)\"" >> "$csv"
for n in 1000 10000; do
	read kb s < "$T/t$n"
	ratio=$(awk -v a="$kb" -v b="$kb100" 'BEGIN { printf "%.3f", a / b }')
	printf '%-28s %10s %10s %7s  %s\n' "peak RSS eap-ig N=$n" "$s" "" "$ratio" "$kb KiB (ratio to N=100; issue 7: <= 1.1)"
	[ -f "$csv" ] && echo "peak RSS eap-ig N=$n,$s,,$ratio,\"$kb KiB (ratio to N=100; issue 7: <= 1.1)\"" >> "$csv"
done
exit 0
