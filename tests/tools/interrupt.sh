#!/bin/sh
# Interrupted runs (SPEC §11): eap-dump, eap-score and eap-eval are killed
# mid-run inside the Make pipeline, by SIGKILL and by SIGINT (and eap-train
# on its own).  Afterwards
# no finished-looking artifact exists (at most <out>.tmp after SIGKILL;
# after SIGINT not even that: the tools remove it), `make -q` says the
# step is out of date, and `make` redoes it and completes.  The model is
# trained here, as in pipeline.sh.  Run from the repository root after
# `make`.
set -u
. tests/tools/lib/harness.sh
MPID=
trap '[ -n "$MPID" ] && kill "$MPID" 2> /dev/null; rm -rf "$T"' EXIT

bin/eap-corrupt --vocab -o "$T/vocab.txt" &&
	bin/eap-corrupt --corpus -n 2000 --seed 1 -o "$T/corpus.txt" &&
	bin/eap-train --corpus "$T/corpus.txt" --vocab "$T/vocab.txt" --layers 2 --heads 4 \
		--dim 32 --steps 10 --batch 16 --threads 1 -o "$T/m" > /dev/null 2>&1 ||
	{ echo "interrupt.sh: cannot train the model"; exit 1; }
# Workloads of a second or more, killed after half a second: exact scores
# of 300 pairs (110 edges each; 1.35 s with 2 threads), 12 circuits
# evaluated on 300 pairs, acts.h5 of 300 pairs.
V="MODEL=$T/m RESULTS=$T/results TASKS=ioi METHODS=exact N=600 N_EXACT=600 BATCH=20 SIZES=5,10,15,20,30,40,50,60,70,80,90,110"
run_make() { eval make --no-print-directory "$V" "$@"; }
DEFSIG=
env --default-signal=INT true 2> /dev/null && DEFSIG="env --default-signal=INT"
run_make_defsig() { eval $DEFSIG make --no-print-directory "$V" "$@"; }
R=$T/results/m/ioi
ACTS=$R/acts.h5
SCORES=$R/scores-exact-logit_diff.h5
CURVE=$R/curve-exact-logit_diff.csv
SUMMARY=$R/summary-exact-logit_diff.csv

# pid of the descendant of process $1 called $2 (none: empty)
descendant() {
	ps -eo pid=,ppid=,comm= | awk -v root="$1" -v name="$2" '
		{ pp[$1] = $2; c[$1] = $3 }
		END { for (p in c) if (c[p] == name) {
			q = p; while ((q in pp) && q != root && q > 1) q = pp[q]
			if (q == root) { print p; exit } } }'
}

# interrupt TOOL SIG TARGET [SECOND_TARGET]: make TARGET, kill TOOL with
# SIG once it has run for a moment (eap-dump: once its .tmp exists), check
# what is left, then make TARGET again.
interrupt() {
	tool=$1 sig=$2 target=$3 second=${4:-}
	rm -f "$target" "$target.tmp"
	[ -n "$second" ] && rm -f "$second" "$second.tmp"
	# a background job of a script ignores SIGINT unless told otherwise
	run_make_defsig "$target" > "$T/log" 2>&1 &
	MPID=$!
	pid= i=0
	while [ $i -lt 400 ]; do # up to 40 s for the tool to start
		pid=$(descendant $MPID "$tool")
		[ -n "$pid" ] && break
		kill -0 $MPID 2> /dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	if [ -z "$pid" ]; then
		wait $MPID
		MPID=
		bad "$tool $sig: $tool never ran: $(tail -3 "$T/log")"
		return
	fi
	if [ "$tool" = eap-dump ]; then
		i=0
		while [ ! -e "$target.tmp" ] && [ $i -lt 200 ] && kill -0 "$pid" 2> /dev/null; do
			sleep 0.05
			i=$((i + 1))
		done
		sleep 0.2
	else
		sleep 0.5
	fi
	kill -s "$sig" "$pid" 2> /dev/null
	wait $MPID
	mrc=$?
	MPID=
	if [ $mrc -eq 0 ]; then
		bad "$tool $sig: the run finished before it was interrupted (workload too small)"
		return
	fi
	[ ! -e "$target" ] && ok || bad "$tool $sig: $target exists after the interrupted run"
	[ -z "$second" ] || [ ! -e "$second" ] && ok || bad "$tool $sig: $second exists after the interrupted run"
	if [ "$sig" = INT ]; then
		[ ! -e "$target.tmp" ] && ok || bad "$tool $sig: $target.tmp left behind"
	fi
	run_make -q "$target" && bad "$tool $sig: make -q thinks $target is up to date" || ok
	# judged by the file, not by make's echo (absent under make -s)
	sleep 1.1
	touch "$T/stamp"
	run_make "$target" > "$T/log2" 2>&1 && ok || bad "$tool $sig: make failed to redo the step: $(tail -3 "$T/log2")"
	[ "$target" -nt "$T/stamp" ] && ok || bad "$tool $sig: make did not rerun $tool"
	[ -s "$target" ] && [ ! -e "$target.tmp" ] && ok || bad "$tool $sig: after the redo: $(ls "$target"* 2>&1)"
	[ -z "$second" ] || [ -s "$second" ] && ok || bad "$tool $sig: $second missing after the redo"
	case $target in
	*.h5) h5dump -H "$target" > /dev/null 2>&1 && ok || bad "$tool $sig: $target unreadable" ;;
	*.csv) [ "$(tail -n +2 "$target" | wc -l)" -eq 12 ] && ok || bad "$tool $sig: $target has not 12 rows" ;;
	esac
}

run_make "$R/pairs-train.csv" "$R/pairs-test.csv" > "$T/log" 2>&1 || { echo "interrupt.sh: pairs: $(tail -3 "$T/log")"; exit 1; }
SIGS="KILL INT"
if [ -z "$DEFSIG" ]; then
	echo "interrupt.sh: env --default-signal is missing (coreutils < 8.31): SIGINT cases skipped"
	SIGS=KILL
fi
for sig in $SIGS; do
	interrupt eap-dump $sig "$ACTS"
done
for sig in $SIGS; do
	interrupt eap-score $sig "$SCORES"
done
run_make "$R/circuits-exact-logit_diff.h5" > "$T/log" 2>&1 || { echo "interrupt.sh: circuits: $(tail -3 "$T/log")"; exit 1; }
# stacked eap-eval finishes 300 prompts too fast to be interrupted: ten
# times as many test prompts (newer than what they depend on, so make
# keeps them and redoes only the curve)
bin/eap-corrupt --task data/tasks/ioi --split test -n 3000 --seed 1 -o "$R/pairs-test.csv" ||
	{ echo "interrupt.sh: cannot make 3000 test pairs"; exit 1; }
for sig in $SIGS; do
	interrupt eap-eval $sig "$CURVE" "$SUMMARY"
done
# eap-train (not in the pipeline above): its DIR.tmp-XXXXXX goes away on
# SIGINT; after SIGKILL it may stay, but DIR never appears
for sig in $SIGS; do
	rm -rf "$T/tr" "$T"/tr.tmp-*
	$DEFSIG bin/eap-train --corpus "$T/corpus.txt" --vocab "$T/vocab.txt" --layers 2 --heads 4 \
		--dim 32 --steps 100000 --batch 16 --threads 1 -o "$T/tr" > /dev/null 2>&1 &
	MPID=$!
	i=0
	while ! ls -d "$T"/tr.tmp-* > /dev/null 2>&1 && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.5
	kill -s $sig $MPID
	{ wait $MPID; } 2> /dev/null
	MPID=
	[ ! -e "$T/tr" ] && ok || bad "eap-train $sig: the model directory exists"
	if [ $sig = INT ]; then
		ls -d "$T"/tr.tmp-* > /dev/null 2>&1 && bad "eap-train INT: $(ls -d "$T"/tr.tmp-*) left behind" || ok
	fi
done

# everything up to date now
run_make -q "$CURVE" && ok || bad "make -q: the curve is not up to date after the redo"

finish
