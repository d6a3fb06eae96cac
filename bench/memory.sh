#!/bin/sh
# memory.sh - peak resident memory of eap-score (EAP-IG, 5 steps) on the
# model organism at N = 100 and N = 1000 pairs: memory is bounded by the
# batch size, not by N (SPEC §13).  Appends rows to bench/results.csv.
# Run from the repository root after `make` (by `make bench`).
set -eu
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
M=data/models/organism
csv=${1:-bench/results.csv}
for n in 100 1000; do
	bin/eap-corrupt --task data/tasks/ioi --split train -n $n --seed 1 -o "$T/p$n.csv"
	/usr/bin/time -f '%M %e' -o "$T/t$n" bin/eap-score --model $M --pairs "$T/p$n.csv" \
		--method eap-ig --batch 20 -o "$T/s$n.h5"
done
read kb100 s100 < "$T/t100"
read kb1000 s1000 < "$T/t1000"
ratio=$(awk -v a="$kb1000" -v b="$kb100" 'BEGIN { printf "%.3f", a / b }')
printf '%-28s %10s %10s %7s  %s\n' "peak RSS eap-ig N=100" "$s100" "" "" "$kb100 KiB"
printf '%-28s %10s %10s %7s  %s\n' "peak RSS eap-ig N=1000" "$s1000" "" "$ratio" "$kb1000 KiB (ratio to N=100)"
[ -f "$csv" ] && {
	echo "peak RSS eap-ig N=100,$s100,,,\"$kb100 KiB\"" >> "$csv"
	echo "peak RSS eap-ig N=1000,$s1000,,$ratio,\"$kb1000 KiB (ratio to N=100)\"" >> "$csv"
}
exit 0
