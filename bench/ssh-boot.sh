#!/bin/bash
# What sshd costs at boot on the qemu provider (docs/ssh.md): test/fixtures/ssh (two guests) brought up with --ssh and
# --no-ssh in turn, RUNS times each; per run the wall time of lab up, the CPU time of each QEMU process when the lab is
# up (TCG: the guest's work), each guest's boot time, and the load average before it.
#   INSTANCE=sd3 RUNS=4 bench/ssh-boot.sh
set -u
cd "$(dirname "$0")/.."
INSTANCE=${INSTANCE:-sshboot}
RUNS=${RUNS:-3}
LAB=test/fixtures/ssh/lab.yaml
for i in $(seq 1 "$RUNS"); do
  for mode in ssh no-ssh; do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    s=$(date +%s.%N)
    node bin/lab.cjs up "$LAB" --provider qemu --instance "$INSTANCE" --$mode > /dev/null 2>&1
    rc=$?
    e=$(date +%s.%N)
    status=$(node bin/lab.cjs status 2>/dev/null | grep -A2 "ssh-pair+$INSTANCE ")
    cpu=""
    for pid in $(grep -o 'process [0-9]*' <<< "$status" | cut -d' ' -f2); do
      cpu="$cpu $(awk '{printf "%.2f", ($14+$15)/100}' "/proc/$pid/stat")"
    done
    boots=$(grep -o 'booted in [0-9.]* s' <<< "$status" | cut -d' ' -f3 | tr '\n' ' ')
    printf '%-6s run %d rc=%d up=%.1f s qemu_cpu_s=[%s ] boot_s=[%s] load=[%s]\n' "$mode" "$i" "$rc" "$(echo "$e - $s" | bc)" "$cpu" "$boots" "$load"
    node bin/lab.cjs down "$LAB" --instance "$INSTANCE" > /dev/null 2>&1
  done
done
