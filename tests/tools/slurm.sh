#!/bin/sh
# The pipeline on a Slurm cluster (SUBMIT, SHARDS; README "Running on a
# Slurm cluster").  Starts a one-node cluster on localhost: its own munged,
# slurmctld and slurmd, on free ports, with config, key, state and logs in
# a temporary directory (nothing under /etc is touched; see
# ../shared/notes/slurm-one-node.md for the recipe).  Then, on a small
# model trained here, the pipeline with SUBMIT='srun ...' and SHARDS=2
# and the same pipeline run locally and unsharded, and checks that
#  - every heavy step ran as a Slurm job: the jobcomp/filetxt log lists
#    each under the name its recipe gave it (-J) as COMPLETED;
#  - the merged exact scores equal the local run's (h5diff /scores, exact),
#    and so do the other methods' scores;
#  - both runs give byte-identical curve and summary CSVs;
#  - a failing step makes make fail (a bad pairs file in a job, an srun
#    that fails, a failing shard), and a failed shard is redone alone.
# Slurm and munge are installed with apt-get when missing (as root); the
# test is skipped, saying so, only where that cannot be done.  Every
# daemon started here is stopped by its PID, also on failure.
# Run from the repository root after `make`.
set -u
PATH=$PATH:/usr/sbin:/sbin
. tests/tools/lib/harness.sh
skip() { echo "slurm.sh: SKIPPED: $*"; exit 0; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

MUNGED_PID= CTLD_PID= SLURMD_PID=
# stop by PID: slurmd, slurmctld, munged; wait reaps each (a watchdog
# kills one that ignores SIGTERM for 10 s)
stop() {
	[ -n "$CTLD_PID" ] && scancel -u "$(id -un)" >/dev/null 2>&1
	for p in $SLURMD_PID $CTLD_PID $MUNGED_PID; do
		kill "$p" 2>/dev/null || continue
		(sleep 10; kill -9 "$p" 2>/dev/null) &
		w=$!
		wait "$p" 2>/dev/null
		kill "$w" 2>/dev/null
		wait "$w" 2>/dev/null
	done
	MUNGED_PID= CTLD_PID= SLURMD_PID=
}
trap 'stop; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

# ---- Slurm and munge --------------------------------------------------------
have_slurm() {
	for c in munged mungekey munge slurmctld slurmd srun sinfo scancel; do
		command -v $c >/dev/null 2>&1 || return 1
	done
}
# slurmd starts job steps as their user: it runs as root, like the test
[ "$(id -u)" = 0 ] || skip "a one-node Slurm cluster needs root (to install slurm-wlm and munge and to run slurmd)"
if ! have_slurm; then
	command -v apt-get >/dev/null 2>&1 || skip "slurm-wlm and munge are not installed, and there is no apt-get"
	echo "slurm.sh: installing slurm-wlm munge with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get install -y --no-install-recommends slurm-wlm munge ||
		{ apt-get update && apt-get install -y --no-install-recommends slurm-wlm munge; }; } \
		>"$T/apt.log" 2>&1 || { tail -5 "$T/apt.log"; skip "apt-get could not install slurm-wlm munge"; }
	have_slurm || skip "slurm-wlm and munge installed, but their commands are missing"
fi

# two free TCP ports (not listening in /proc/net/tcp*) for slurmctld, slurmd
port_free() {
	h=$(printf ':%04X' "$1")
	! awk 'NR > 1 { print $2 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qi "$h\$"
}
port=$((20000 + ($$ % 5000) * 2))
while ! port_free $port || ! port_free $((port + 1)); do port=$((port + 2)); done

t_setup=$(now)
# munged checks that everyone may traverse to its socket
chmod 711 "$T"
mkdir -m 755 "$T/run"
mkdir -p "$T/state" "$T/spool" "$T/log"
{ mungekey --create --keyfile="$T/munge.key" 2>/dev/null ||
	dd if=/dev/urandom of="$T/munge.key" bs=1024 count=1 2>/dev/null; } &&
	chmod 600 "$T/munge.key" || { echo "cannot make a munge key"; exit 1; }
munged -F --socket="$T/run/munge.sock" --key-file="$T/munge.key" \
	--pid-file="$T/run/munged.pid" --log-file="$T/log/munged.log" \
	--seed-file="$T/munged.seed" >"$T/log/munged.out" 2>&1 &
MUNGED_PID=$!

CPUS=$(slurmd -C 2>/dev/null | sed -n 's/.* CPUs=\([0-9]*\).*/\1/p')
MEM=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
cat >"$T/slurm.conf" <<EOF
ClusterName=eapc
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/run/munge.sock
CryptoType=crypto/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
EnforcePartLimits=ALL
ReturnToService=2
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/run/slurmctld.pid
SlurmdPidFile=$T/run/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$T/log/jobcomp.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=${CPUS:-1} RealMemory=${MEM:-1000} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$T/slurm.conf"
i=0
until munge -S "$T/run/munge.sock" -n >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 50 ] || { cat "$T/log/munged.out"; echo "munged does not start"; exit 1; }
	sleep 0.1
done
slurmctld -D -c -f "$SLURM_CONF" >"$T/log/ctld.out" 2>&1 &
CTLD_PID=$!
slurmd -D -N localhost -f "$SLURM_CONF" >"$T/log/slurmd.out" 2>&1 &
SLURMD_PID=$!
i=0
until sinfo -h -o %t 2>/dev/null | grep -qx idle; do
	i=$((i + 1))
	[ $i -lt 60 ] || { tail -5 "$T/log/ctld.out" "$T/log/slurmd.out"; echo "the cluster does not come up"; exit 1; }
	sleep 0.5
done
echo "slurm.sh: one-node cluster up in $(secs "$t_setup" "$(now)") s (ports $port, $((port + 1)); $CPUS CPUs)"

# ---- the pipeline, on Slurm and locally --------------------------------------
bin/eap-corrupt --vocab -o "$T/vocab.txt" &&
	bin/eap-corrupt --corpus -n 3000 --seed 1 -o "$T/corpus.txt" &&
	bin/eap-train --corpus "$T/corpus.txt" --vocab "$T/vocab.txt" --layers 2 --heads 2 \
		--dim 16 --steps 20 --batch 16 --threads 1 -o "$T/m" || { echo "cannot train"; exit 1; }
TASKS="ioi greater-than"
# $1: results directory under $T; the rest: make arguments.  timeout
# ends the run (its process group: make and its sruns) if a job hangs
run_make() {
	d=$1; shift
	timeout 600 make --no-print-directory MODEL="$T/m" RESULTS="$T/$d" FIGURES="$T/plots-$d" \
		TASKS="$TASKS" N=8 BATCH=4 SIZES=5,20,46 "$@"
}
# each job named after its artifact, e.g. eapc-ioi-acts.h5
SRUN='srun -Q --input=none -n1 -c1'
SUB="$SRUN -J eapc-\$(notdir \$(@D))-\$(@F)"
# the job list: "name state seconds", one line a job
jobs_done() {
	sed -n 's/.* Name=\([^ ]*\) JobState=\([^ ]*\) .*StartTime=\([^ ]*\) EndTime=\([^ ]*\) .*/\1 \2 \3 \4/p' \
		"$T/log/jobcomp.log" 2>/dev/null |
		while read -r n s a b; do
			echo "$n $s $(($(date -d "$b" +%s) - $(date -d "$a" +%s)))"
		done
}

t0=$(now)
run_make slurm -j2 SUBMIT="$SUB" SHARDS=2 fig-faithfulness >"$T/slurm.log" 2>&1 &&
	ok || { bad "make with SUBMIT=srun and SHARDS=2"; tail -20 "$T/slurm.log"; }
t1=$(now)
# THREADS=1 locally, as -c1 gives each job one BLAS thread
run_make local -j2 THREADS=1 fig-faithfulness >"$T/local.log" 2>&1 &&
	ok || { bad "local make"; tail -20 "$T/local.log"; }
t2=$(now)
echo "slurm.sh: pipeline (2 tasks x 4 variants) on Slurm with SHARDS=2: $(secs "$t0" "$t1") s; locally: $(secs "$t1" "$t2") s"

# (a) every heavy step a COMPLETED job, and nothing else a job
want=
for t in $TASKS; do
	m=logit_diff; [ $t = greater-than ] && m=prob_diff
	want="$want $t-acts.h5 $t-scores-eap-$m.h5 $t-scores-eap-ig-$m.h5 $t-scores-eap-ig-kl.h5"
	want="$want $t-scores-exact-$m.shard-1-of-2.h5 $t-scores-exact-$m.shard-2-of-2.h5"
	for v in eap-$m eap-ig-$m eap-ig-kl exact-$m; do want="$want $t-curve-$v.csv"; done
done
jobs_done >"$T/jobs1"
echo "slurm.sh: jobs (name state seconds):"
sed 's/^/  /' "$T/jobs1"
for w in $want; do
	[ "$(grep -c "^eapc-$w COMPLETED " "$T/jobs1")" -eq 1 ] && ok || bad "no COMPLETED job eapc-$w"
done
[ "$(wc -l <"$T/jobs1")" -eq "$(echo $want | wc -w)" ] && ok ||
	bad "$(wc -l <"$T/jobs1") jobs ran, expected $(echo $want | wc -w)"
grep -q 'srun .*bin/eap-score --merge' "$T/slurm.log" && bad "the merge ran as a job" || ok

# (b) the same scores, (c) the same curves
for t in $TASKS; do
	m=logit_diff; [ $t = greater-than ] && m=prob_diff
	for v in eap-$m eap-ig-$m eap-ig-kl exact-$m; do
		a=$T/local/m/$t/scores-$v.h5 b=$T/slurm/m/$t/scores-$v.h5
		h5diff "$a" "$b" /scores /scores >/dev/null 2>&1 && ok || bad "$t: /scores of scores-$v.h5 differ"
		for f in curve-$v.csv summary-$v.csv; do
			cmp -s "$T/local/m/$t/$f" "$T/slurm/m/$t/$f" && ok || bad "$t: $f differs"
		done
	done
	b=$T/slurm/m/$t/scores-exact-$m.h5
	h5dump -d /scored "$b" >/dev/null 2>&1 && bad "$t: merged file is marked partial" || ok
	h5dump -d /scored "$T/slurm/m/$t/scores-exact-$m.shard-1-of-2.h5" >/dev/null 2>&1 && ok ||
		bad "$t: shard lacks /scored"
	[ "$(h5dump -a /pairs_sha256 "$b" | grep '(0)')" = "$(h5dump -a /pairs_sha256 "$T/local/m/$t/scores-exact-$m.h5" | grep '(0)')" ] &&
		ok || bad "$t: merged provenance differs"
done
run_make slurm -q SUBMIT="$SUB" SHARDS=2 fig-faithfulness && ok || bad "sharded run not up to date"

# (d) failing steps make make fail, and leave no artifact
mkdir -p "$T/bad1/m/ioi"
printf 'clean,corrupted,answers,foils\n"When Mary and John went",x,y\n' >"$T/bad1/m/ioi/pairs-train.csv"
run_make bad1 SUBMIT="$SRUN -J eapc-bad-pairs" "$T/bad1/m/ioi/acts.h5" >"$T/bad1.log" 2>&1 &&
	bad "make succeeded on a bad pairs file" || ok
[ -e "$T/bad1/m/ioi/acts.h5" ] && bad "bad pairs left acts.h5" || ok
jobs_done | grep -q '^eapc-bad-pairs FAILED ' && ok || bad "the bad-pairs job is not FAILED in jobcomp"
run_make bad2 SUBMIT="$SRUN -J eapc-false false" "$T/bad2/m/ioi/acts.h5" >"$T/bad2.log" 2>&1 &&
	bad "make succeeded with a failing srun" || ok
[ -e "$T/bad2/m/ioi/acts.h5" ] && bad "failing srun left acts.h5" || ok

# a failing shard fails the run, without a merge; the rerun redoes that
# shard alone (and what follows it), not the shard that succeeded
n0=$(jobs_done | wc -l)
FAILING="$SRUN -J eapc-sf-\$(@F) \$(if \$(findstring shard-2,\$@),false)"
run_make shardfail TASKS=ioi METHODS=exact SUBMIT="$FAILING" SHARDS=2 fig-faithfulness \
	>"$T/shard.log" 2>&1 && bad "make succeeded with a failing shard" || ok
S=$T/shardfail/m/ioi
[ -e "$S/scores-exact-logit_diff.shard-1-of-2.h5" ] && ok || bad "shard 1 missing"
[ -e "$S/scores-exact-logit_diff.shard-2-of-2.h5" ] && bad "failing shard left its file" || ok
[ -e "$S/scores-exact-logit_diff.h5" ] && bad "merged without shard 2" || ok
n1=$(jobs_done | wc -l)
run_make shardfail TASKS=ioi METHODS=exact SUBMIT="$SRUN -J eapc-sf-\$(@F)" SHARDS=2 fig-faithfulness \
	>"$T/redo.log" 2>&1 && ok || bad "redo after a failed shard"
jobs_done | tail -n +$((n1 + 1)) | cut -d' ' -f1,2 | sort >"$T/redo-jobs"
printf 'eapc-sf-curve-exact-logit_diff.csv COMPLETED\neapc-sf-scores-exact-logit_diff.shard-2-of-2.h5 COMPLETED\n' |
	cmp -s - "$T/redo-jobs" && ok || { bad "the rerun ran other jobs than shard 2 and its curve:"; cat "$T/redo-jobs"; }
h5diff "$T/local/m/ioi/scores-exact-logit_diff.h5" "$S/scores-exact-logit_diff.h5" /scores /scores \
	>/dev/null 2>&1 && ok || bad "merge after the redone shard differs"
cmp -s "$T/local/m/ioi/curve-exact-logit_diff.csv" "$S/curve-exact-logit_diff.csv" && ok ||
	bad "curve after the redone shard differs"
echo "slurm.sh: failing-shard run: $((n1 - n0)) jobs (one FAILED), rerun: $(wc -l <"$T/redo-jobs")"

stop
finish
