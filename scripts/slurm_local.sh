#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, for testing the SLURM profile.
#
#   scripts/slurm_local.sh start [DIR]   install slurm-wlm and munge (apt) if missing,
#                                        write DIR/slurm.conf, start munged, slurmctld
#                                        and slurmd, wait until the node is idle
#   scripts/slurm_local.sh stop [DIR]    cancel its jobs, stop the three daemons
#   scripts/slurm_local.sh status [DIR]  sinfo and squeue of the test cluster
#
# DIR (default $PHILICITY_SLURM_DIR or /tmp/philicity-slurm) holds everything: the
# config, a private munge key and socket, state and spool dirs, the daemons' logs and
# pid files, and jobcomp.txt, one line per finished job (jobcomp/filetxt: no slurmdbd).
# The system's munged (if any) is left alone: the cluster has its own key and socket.
# /etc/slurm/slurm.conf becomes a symlink to DIR/slurm.conf (removed by stop): the
# slurm-jobstep plugin drops SLURM_CONF before its srun inside each job, so only the
# default path reaches the cluster from there. A real slurm.conf there is not replaced
# (start fails). Other clients may use `export SLURM_CONF=DIR/slurm.conf` as well.
# Ports: $PHILICITY_SLURM_PORT (slurmctld, default 16817) and the next one (slurmd),
# not SLURM's defaults, so a real slurmd on the machine is not disturbed.
# Exit status 3: slurm is not installed and cannot be (no apt-get or not root).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"  # the daemons, for a login shell without them

cmd=${1:-}
DIR=${2:-${PHILICITY_SLURM_DIR:-/tmp/philicity-slurm}}
PORT=${PHILICITY_SLURM_PORT:-16817}
export SLURM_CONF="$DIR/slurm.conf"
ETC_CONF=/etc/slurm/slurm.conf

die() { echo "slurm_local: $*" >&2; exit 1; }

alive() {  # pid file -> its process is running
  [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

install_slurm() {
  local need=0
  for b in munged mungekey slurmctld slurmd sbatch squeue sinfo; do
    command -v "$b" >/dev/null 2>&1 || need=1
  done
  [ "$need" = 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
    echo "slurm_local: slurm/munge missing and cannot be installed (needs apt-get as root)" >&2
    exit 3
  fi
  echo "slurm_local: installing slurm-wlm and munge with apt-get"
  apt-get update -qq
  # Debian's maintainer scripts do not start the services in a container
  # (policy-rc.d); where they do, those daemons use /etc and are not ours.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
}

write_config() {
  local node hw
  node=$(hostname -s)
  # the node as slurmd sees it: CPUs, sockets, cores, threads and RealMemory (MB, from
  # /proc/meminfo); not nproc, which counts OMP_NUM_THREADS=1 as one CPU
  hw=$(slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //')
  case "$hw" in *CPUs=*RealMemory=*) ;; *) die "slurmd -C printed no hardware line: $hw" ;; esac
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log" "$DIR/munge"
  # munged wants its socket's directories searchable by all, its key private
  chmod 755 "$DIR" "$DIR/munge"
  [ -s "$DIR/munge/munge.key" ] || mungekey --create --keyfile="$DIR/munge/munge.key"
  chmod 600 "$DIR/munge/munge.key"
  cat > "$DIR/slurm.conf" <<EOF
# One-node test cluster written by scripts/slurm_local.sh
ClusterName=philicity
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
MailProg=/bin/true
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups: plain process tracking, no task binding
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
# no slurmdbd: finished jobs stay in squeue for 10 minutes (snakemake polls with
# squeue) and are written to a text file
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.txt
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  if [ -e "$ETC_CONF" ] && [ ! -L "$ETC_CONF" ]; then
    die "$ETC_CONF exists and is not ours: this machine has a SLURM of its own"
  fi
  mkdir -p "$(dirname "$ETC_CONF")"
  ln -sfn "$SLURM_CONF" "$ETC_CONF"
}

node_state() {
  sinfo -h -N -o '%T' 2>/dev/null | head -1
}

logs() {
  for f in "$DIR/munge/munged.log" "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log"; do
    [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
  done >&2
}

start() {
  install_slurm
  if alive "$DIR/slurmctld.pid" && alive "$DIR/slurmd.pid" && [ "$(node_state)" = idle ]; then
    echo "slurm_local: already running; export SLURM_CONF=$SLURM_CONF"
    return 0
  fi
  write_config
  if ! alive "$DIR/munge/munged.pid"; then
    munged --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
      --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" \
      --seed-file="$DIR/munge/munged.seed" || { logs; die "munged did not start"; }
  fi
  alive "$DIR/slurmctld.pid" || slurmctld -f "$SLURM_CONF" || { logs; die "slurmctld did not start"; }
  alive "$DIR/slurmd.pid" || slurmd -f "$SLURM_CONF" -N "$(hostname -s)" || { logs; die "slurmd did not start"; }
  local state=""
  for _ in $(seq 60); do
    state=$(node_state)
    [ "$state" = idle ] && break
    sleep 1
  done
  if [ "$state" != idle ]; then
    sinfo -N -l >&2 || true
    logs
    die "node not idle after 60 s (state '${state:-none}')"
  fi
  echo "slurm_local: node $(hostname -s) idle; export SLURM_CONF=$SLURM_CONF"
}

stop() {
  if alive "$DIR/slurmctld.pid"; then
    scancel --quiet --partition=debug 2>/dev/null || true
  fi
  local f pid
  for f in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munge/munged.pid"; do
    if alive "$f"; then
      pid=$(cat "$f")
      kill "$pid"
      for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$f"
  done
  if [ "$(readlink "$ETC_CONF" 2>/dev/null)" = "$SLURM_CONF" ]; then
    rm -f "$ETC_CONF"
  fi
  echo "slurm_local: stopped"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) sinfo -N -l; squeue --states=all ;;
  *) echo "usage: $0 start|stop|status [DIR]" >&2; exit 2 ;;
esac
