#!/usr/bin/env bash
# A single-node Slurm cluster for tests, in a directory of its own, on loopback:
#
#   tests/services/slurm.sh start DIR   # prints the path of DIR/slurm.conf; export it as SLURM_CONF
#   tests/services/slurm.sh stop DIR
#
# Starts munged (with a fresh key), slurmctld and slurmd from Debian's slurm-wlm and munge
# packages (tools/install-deps.sh), all as root and all with their sockets, state, logs and
# pid files in DIR, on free loopback ports, so that nothing of the machine's own
# configuration is used or changed. Process tracking without cgroups (proctrack/linuxproc,
# task/none): containers and CI machines often have no writable cgroup tree.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
(($# == 2)) || usage
action=$1
dir=$(realpath -m "$2")

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop() {
  for name in slurmd slurmctld munged; do
    local pid_file="$dir/$name.pid"
    [[ -f $pid_file ]] || continue
    local pid
    pid=$(cat "$pid_file")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pid_file"
  done
}

# Prints the last lines of every log, for a failure's diagnosis.
show_logs() {
  for log in "$dir"/*.log; do
    [[ -f $log ]] || continue
    echo "--- $log" >&2
    tail -n 20 "$log" >&2
  done
}

start() {
  (($(id -u) == 0)) || {
    echo "$0: Slurm's daemons run as root here; run the tests as root" >&2
    exit 1
  }
  for command in munged mungekey slurmctld slurmd sinfo; do
    command -v "$command" >/dev/null || {
      echo "$0: $command not found (install munge and slurm-wlm: tools/install-deps.sh)" >&2
      exit 1
    }
  done
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  chmod 0700 "$dir/munge"

  mungekey --create --keyfile="$dir/munge/munge.key" --force
  chmod 0600 "$dir/munge/munge.key"
  munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
    --seed-file="$dir/munge/munge.seed" --force

  local node=bonafide-node
  local cpus
  cpus=$(nproc)
  cat >"$dir/slurm.conf" <<CONF
ClusterName=bonafide-test
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=$node NodeHostname=$(hostname -s) NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -f "$SLURM_CONF" || { show_logs; exit 1; }
  slurmd -f "$SLURM_CONF" -N "$node" || { show_logs; exit 1; }
  # Ready when the node takes jobs.
  for _ in $(seq 100); do
    if [[ $(sinfo -h -n "$node" -o %t 2>/dev/null) =~ ^(idle|mix|alloc) ]]; then
      echo "$SLURM_CONF"
      return
    fi
    sleep 0.2
  done
  echo "$0: the Slurm node did not come up within 20 s" >&2
  show_logs
  stop
  exit 1
}

case $action in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
