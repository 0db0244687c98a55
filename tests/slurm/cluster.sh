#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for tests/test_slurm.py. Needs root and Debian's
# slurm-wlm and munge. Everything it starts listens on 127.0.0.1 only.
#   cluster.sh start DIR   write the config under DIR, start munged, slurmctld and slurmd
#   cluster.sh stop DIR    stop them
set -euo pipefail
action=$1
dir=$(realpath -m "$2")
# Job steps drop SLURM_* variables (SLURM_CONF among them), so the config must sit where the
# tools look by default. We only write it if none is there, and remove it on stop.
conf=/etc/slurm/slurm.conf
marker="# written by edbench tests/slurm/cluster.sh"
host=$(hostname -s)

stop() {
  for pidfile in "$dir"/slurmd.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  sleep 1
  if [ -f "$conf" ] && head -1 "$conf" | grep -qF "$marker"; then
    rm -f "$conf"
  fi
}

if [ "$action" = stop ]; then
  stop
  exit 0
fi

if [ -f "$conf" ] && ! head -1 "$conf" | grep -qF "$marker"; then
  echo "$conf exists and is not ours; not touching a real cluster's config" >&2
  exit 3
fi
mkdir -p "$dir"/{state,spool,munge,log} /etc/slurm
chmod 700 "$dir/munge"
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed"

memory=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
cpus=$(nproc)
cat > "$conf" <<CONF
$marker
ClusterName=edbench-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$((16800 + RANDOM % 400))
SlurmdPort=$((17300 + RANDOM % 400))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ReturnToService=2
MinJobAge=600
SchedulerParameters=sched_interval=1
MessageTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -f "$conf" -i
slurmd -f "$conf"
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "cluster up: $conf"
    exit 0
  fi
  sleep 1
done
echo "cluster did not come up; see $dir/log" >&2
exit 1
