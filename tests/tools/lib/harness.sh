# tests/tools/lib/harness.sh - what every tool-test script starts with.
# Sourced from the repository root:   . tests/tools/lib/harness.sh
#
#   tmp (also T)     a fresh directory, removed at exit (KEEP=1 keeps it)
#   ok, bad MSG      count a passed / failed check; bad prints MSG and,
#                    after a `run`, its exit code, stdout and stderr
#   run CMD...       run CMD: exit code in rc, output in $tmp/out, $tmp/err
#   check MSG CMD... ok if CMD succeeds, else bad MSG
#   absent FILE...   true if neither FILE nor FILE.tmp exists (no output
#                    left behind, finished or half-written)
#   finish           the summary line "NAME: P passed, F failed"; exits
#                    0 only if nothing failed
#   csv_fields N FILE  field N of every data row of a CSV (RFC 4180 quoting)
# Not a test itself: `make tool-tests` runs tests/tools/*.sh only.

NAME=$(basename "$0")
pass=0
fail=0
rc=
ran=
tmp=$(mktemp -d "${TMPDIR:-/tmp}/${NAME%.sh}.XXXXXX") || exit 1
T=$tmp
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

run() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	ran=1
}

ok() {
	pass=$((pass + 1))
}

bad() {
	fail=$((fail + 1))
	echo "FAIL: $*"
	if [ -n "$ran" ]; then
		echo "  rc=$rc stdout: $(head -c 300 "$tmp/out")"
		echo "  stderr: $(head -c 300 "$tmp/err")"
	fi
}

check() {
	_check_name=$1
	shift
	if "$@"; then ok; else bad "$_check_name"; fi
}

absent() {
	for _f in "$@"; do
		[ ! -e "$_f" ] && [ ! -e "$_f.tmp" ] || return 1
	done
}

finish() {
	echo "$NAME: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

# expect_err_line MSG RC LINE: exit code RC and stderr exactly the one LINE
expect_err_line() {
	if [ "$rc" -eq "$2" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
		[ "$(cat "$tmp/err")" = "$3" ]; then ok; else bad "$1"; fi
}

# expect_err_has MSG RC TEXT: exit code RC, one stderr line containing TEXT
expect_err_has() {
	if [ "$rc" -eq "$2" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
		grep -qF -- "$3" "$tmp/err"; then ok; else bad "$1"; fi
}

# expect_tool_err MSG RC TOOL TEXT: exit code RC, nothing on stdout and
# one stderr line "TOOL: ..." containing TEXT
expect_tool_err() {
	if [ "$rc" -eq "$2" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
		grep -q "^$3: " "$tmp/err" && grep -qF -- "$4" "$tmp/err" &&
		[ ! -s "$tmp/out" ]; then ok; else bad "$1"; fi
}

# expect_silent MSG: exit code 0 and nothing on stdout or stderr
expect_silent() {
	if [ "$rc" -eq 0 ] && [ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ]; then
		ok
	else bad "$1"; fi
}

# csv_fields N FILE: field N of every data row (RFC 4180 quoting, rows on
# one line each), one per line
csv_fields() {
	awk -v want="$1" '
	function field(s, k,   n, i, c, q, cur) {
		n = 1; cur = ""; q = 0
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (q) {
				if (c == "\"") {
					if (substr(s, i + 1, 1) == "\"") { cur = cur c; i++ }
					else q = 0
				} else cur = cur c
			} else if (c == "\"") q = 1
			else if (c == ",") { if (n == k) return cur; n++; cur = "" }
			else cur = cur c
		}
		return n == k ? cur : ""
	}
	NR > 1 { print field($0, want) }' "$2"
}
