#!/usr/bin/env bash
# The hardening report: runs the fuzzers for a bounded time and the
# concurrency, fault and security tests of the lab, and prints a table.
#
#   test/report.sh    each fuzz target for three times the executions the
#                     test command gives it (test/fuzz-targets; about 30 s),
#                     or for FUZZTIME (a duration or a count, e.g. 1m, 5000x)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
bash test/deps.sh >&2

execs=0 fuzzfail=0 names_bad=0 injections=0
while read -r target pkg n; do
	set -- "$target" "$pkg"
	fuzztime=${FUZZTIME:-$((3 * n))x}
	echo "report: fuzzing $1 for $fuzztime" >&2
	if go test -run '^$' -fuzz "^$1\$" -fuzztime "$fuzztime" "$2" >"$log/$1" 2>&1 </dev/null; then
		rc=0
	else
		rc=1
		fuzzfail=$((fuzzfail + 1))
		case $1 in FuzzSlug) names_bad=$((names_bad + 1)) ;; FuzzCommandLine | FuzzHook) injections=$((injections + 1)) ;; esac
		tail -20 "$log/$1" >&2
	fi
	ran=$(grep -o 'execs: [0-9]*' "$log/$1" | tail -1 | grep -o '[0-9]*' || echo 0)
	execs=$((execs + ran))
done < <(grep -v '^#' test/fuzz-targets)

echo "report: running the concurrency, fault and security tests" >&2
tests='TestConcurrentUpCreatesOnce|TestThreeTerminalsNoCrossTalk|TestDestroyWhileAttached|TestAttachReconnects|TestAttachRestartsStoppedVM|TestBadInput|TestCtrlCDuringCreate|TestBrokenSSHSetup|TestStateDirFaults|TestSecurityDefaults|TestHostKeyChangeRefused|TestNoTelemetry|TestLifecycle|TestShell'
set +e
go test -count=1 -v -run "^($tests)\$" ./test/e2e/ >"$log/e2e" 2>&1
e2e_rc=$?
set -e
sum() { grep -o "REPORT $1=[0-9]*" "$log/e2e" | cut -d= -f2 | awk '{s+=$1} END {print s+0}'; }
passed=$(grep -c '^--- PASS' "$log/e2e" || true)
failed=$(grep -c '^--- FAIL' "$log/e2e" || true)
((e2e_rc == 0)) || grep -B2 -A20 -- '--- FAIL' "$log/e2e" >&2 || true

cat <<TABLE
| figure | value |
|---|---|
| inputs fuzzed (4 targets, ${FUZZTIME:-3 × the test command's executions} each) | $execs |
| fuzz targets failing | $fuzzfail |
| invalid names produced | $names_bad |
| injections (command line, hooks) | $injections |
| concurrent \`sysvm up\` that succeeded (one create) | $(sum concurrent_ups) |
| terminals attached at once without cross-talk | $(sum concurrent_attaches) |
| reconnects survived (same session, processes alive) | $(sum reconnects) |
| faults survived (clear error or recovery) | $(sum faults_survived) |
| files or bytes lost | $(sum files_lost) |
| hardening tests passed / failed | $passed / $failed |
TABLE
[[ $e2e_rc -eq 0 && $fuzzfail -eq 0 ]]
