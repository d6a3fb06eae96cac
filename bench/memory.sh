#!/bin/sh
# memory.sh - peak resident memory of eap-score (EAP-IG) on the model
# organism at N = 100, 1000 and 10,000 pairs: memory is bounded by the
# batch size, not by N (SPEC §13; issue 7 asks for N = 10,000 within 10%
# of N = 100).  Then the other heavy steps at N = 100 and 1000 (exact
# scoring: 20 and 60), with the size of acts.h5 (bounded by default:
# issue 15 asks for peak RSS and disk per task independent of N).  One
# IG step keeps N = 10,000 to about a minute; the memory of m steps
# grows with m only up to the stacking budget
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
# the other heavy steps, N = 100 and 1000 (exact: 20 and 60)
row() { # name KiB s ratio note
	printf '%-28s %10s %10s %7s  %s\n' "$1" "$3" "" "$4" "$2 KiB$5"
	[ -f "$csv" ] && echo "$1,$3,,$4,\"$2 KiB$5\"" >> "$csv"
	return 0
}
peak() { # name N args...: run, then row with the ratio to the first N
	name=$1 n=$2; shift 2
	/usr/bin/time -f '%M %e' -o "$T/t" "$@"
	read kb s < "$T/t"
	[ -z "${base:-}" ] && base=$kb
	row "peak RSS $name N=$n" "$kb" "$s" "$(awk -v a="$kb" -v b="$base" 'BEGIN { printf "%.3f", a / b }')" \
		" (ratio to the smallest N)$extra"
	extra=
}
extra=
for tool in dump eap eval; do
	base=
	for n in 100 1000; do
		case $tool in
		dump) peak eap-dump $n bin/eap-dump --model $M --pairs "$T/p$n.csv" -o "$T/a$n.h5"
			row "acts.h5 size N=$n" "$(($(stat -c %s "$T/a$n.h5") / 1024))" "" "" " (default --keep)" ;;
		eap) peak "eap-score eap" $n bin/eap-score --model $M --pairs "$T/p$n.csv" --acts "$T/a$n.h5" \
			--method eap -o "$T/e$n.h5" ;;
		eval) bin/eap-prune --scores "$T/e$n.h5" --sizes 10,100,1000 -o "$T/c$n.h5"
			peak "eap-eval" $n bin/eap-eval --model $M --pairs "$T/p$n.csv" --metric logit_diff \
				--circuit "$T/c$n.h5" -o "$T/v$n.csv" ;;
		esac
	done
done
base=
for n in 20 60; do
	head -n $((n + 1)) "$T/p.csv" > "$T/x$n.csv"
	peak "eap-score exact" $n bin/eap-score --model $M --pairs "$T/x$n.csv" --method exact -o "$T/x$n.h5"
done
exit 0
