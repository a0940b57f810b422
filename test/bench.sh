#!/usr/bin/env bash
# Benchmarks on the lab, each against its baseline in the same run:
#   warm `sysvm shell -- true` (broker, direct) vs OpenSSH reusing a
#   ControlMaster (`ssh -F ssh.config HOST true`) and `limactl shell`;
#   100 MiB streamed through sysvm vs OpenSSH (also in interleaved rounds,
#   with the CPU of the relaying process); the broker's RSS with three
#   VMs connected; the shell hook's cost per prompt (bash, zsh, fish).
# It prints the figures and whether each goal is met. Machines here are
# shared and noisy: read the ratios, not the absolute times.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
n=${BENCH_N:-20}
out=$(mktemp)
go test -run '^$' -bench 'WarmShell|Stream100MiB|StreamInterleaved|SSHRead100MiB|BrokerRSS' -benchtime "${n}x" ./test/e2e/ | tee "$out" >&2
go test -run '^$' -bench 'HookPrompt' -benchtime 1x ./shellhook/ | tee -a "$out" >&2
ns() { awk -v b="$1" '$1 ~ b {print $3}' "$out" | head -1; }
mbs() { awk -v b="$1" '$1 ~ b {for (i=1;i<=NF;i++) if ($(i+1)=="MB/s") print $i}' "$out" | head -1; }
metric() { awk -v b="$1" -v m="$2" '$1 ~ b {for (i=1;i<=NF;i++) if ($(i+1)==m) print $i}' "$out" | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
goal() { awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN {ok = (op=="<=") ? v<=g : v>=g; print (ok ? "met" : "MISSED")}'; }

broker=$(ns 'WarmShell/sysvm-broker') direct=$(ns 'WarmShell/sysvm-direct')
ssh=$(ns 'WarmShell/openssh') lsh=$(ns 'WarmShell/limactl')
r1=$(ratio "$broker" "$ssh") r2=$(ratio "$broker" "$lsh")
s1=$(mbs 'Stream100MiB/sysvm-broker-[0-9]+$') s0=$(mbs 'Stream100MiB/openssh')
r3=$(ratio "$s1" "$s0")
sr=$(mbs 'Stream100MiB/sysvm-broker-relay') rr=$(ratio "$sr" "$s0")
p1=$(mbs 'Stream100MiBPTY/sysvm-broker-[0-9]+$') p0=$(mbs 'Stream100MiBPTY/openssh') rp=$(ratio "$p1" "$p0")
x1=$(mbs 'SSHRead100MiB/xcrypto-256k') x0=$(mbs 'SSHRead100MiB/openssh') rx=$(ratio "$x1" "$x0")
wi=$(metric 'WarmShellInterleaved' 'sysvm-broker/openssh-cm') wlo=$(metric 'WarmShellInterleaved' 'sysvm-broker/openssh-cm-p10')
whi=$(metric 'WarmShellInterleaved' 'sysvm-broker/openssh-cm-p90')
rss=$(metric 'BrokerRSS' 'RSS-MiB') peak=$(metric 'BrokerRSS' 'peak-RSS-MiB')
inter() { # mode: the interleaved stream's ratio (p10-p90) and relay CPU
	echo "$(metric "StreamInterleaved/$1" 'sysvm/openssh') ($(metric "StreamInterleaved/$1" 'sysvm/openssh-p10')–$(metric "StreamInterleaved/$1" 'sysvm/openssh-p90'))"
}
cpu() { echo "$(metric "StreamInterleaved/$1" 'sysvm-relay-cpu-ms') / $(metric "StreamInterleaved/$1" 'openssh-relay-cpu-ms') ms"; }
echo
echo "| figure (lab) | value | goal |"
echo "|---|---|---|"
printf '| warm sysvm shell -- true, broker | %.1f ms | |\n' "$(awk -v x="$broker" 'BEGIN{print x/1e6}')"
printf '| warm sysvm shell -- true, direct dial | %.1f ms | |\n' "$(awk -v x="$direct" 'BEGIN{print x/1e6}')"
printf '| ssh -F ssh.config HOST true (ControlMaster) | %.1f ms | |\n' "$(awk -v x="$ssh" 'BEGIN{print x/1e6}')"
printf '| limactl shell VM true (fake limactl: ssh) | %.1f ms | |\n' "$(awk -v x="$lsh" 'BEGIN{print x/1e6}')"
echo "| sysvm (broker) / OpenSSH | $r1 | ≤ 1.3: $(goal "$r1" '<=' 1.3) |"
echo "| sysvm (broker) / limactl shell | $r2 | ≤ 0.5 on real Lima (the fake's shell is plain ssh) |"
echo "| warm, interleaved pairs: sysvm (broker) / OpenSSH (persistent ControlMaster), median (p10–p90) | $wi ($wlo–$whi) | ≤ 1.0: $(goal "$wi" '<=' 1.0) |"
echo "| 100 MiB stream, no PTY: sysvm / OpenSSH | $s1 / $s0 MB/s = $r3 | ≥ 0.9: $(goal "$r3" '>=' 0.9) |"
echo "| same, output relayed in frames (SYSVM_BROKER_FDS=0) / OpenSSH | $sr / $s0 MB/s = $rr | |"
echo "| 100 MiB stream with a PTY: sysvm / OpenSSH | $p1 / $p0 MB/s = $rp | ≥ 0.9: $(goal "$rp" '>=' 0.9) |"
echo "| 100 MiB, interleaved rounds, no PTY: sysvm / OpenSSH, median (p10–p90) | $(inter pipe) | ≥ 0.9: $(goal "$(metric StreamInterleaved/pipe sysvm/openssh)" '>=' 0.9) |"
echo "| same, CPU of the relaying process per 100 MiB: broker / ControlMaster | $(cpu pipe) | |"
echo "| 100 MiB, interleaved rounds, PTY: sysvm / OpenSSH, median (p10–p90) | $(inter pty) | ≥ 0.9: $(goal "$(metric StreamInterleaved/pty sysvm/openssh)" '>=' 0.9) |"
echo "| same, CPU of the relaying process per 100 MiB: broker / ControlMaster | $(cpu pty) | |"
echo "| 100 MiB read by x/crypto in-process / OpenSSH (minimal program, 256 KiB reads) | $x1 / $x0 MB/s = $rx | |"
echo "| broker RSS, three VMs connected | $rss MiB | ≤ 30: $(goal "$rss" '<=' 30) |"
echo "| same, peak after 100 MiB of output from one of them | $peak MiB | ≤ 30: $(goal "$peak" '<=' 30) |"
for sh in bash zsh fish; do
	h=$(metric "HookPrompt/$sh-hook" 'us/prompt') b=$(metric "HookPrompt/$sh-bare" 'us/prompt')
	[[ -n $h ]] || continue
	d=$(awk -v h="$h" -v b="$b" 'BEGIN{printf "%.1f", h-b}')
	echo "| $sh hook cost per prompt (hook − bare) | $d µs | ≤ 500 µs: $(goal "$d" '<=' 500) |"
done
