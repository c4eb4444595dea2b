#!/bin/bash
# rolling-upgrade-check.sh - run on each node in turn: ssh root@<node> bash -s < rolling-upgrade-check.sh
set -euo pipefail
exec 2>&1

log() { echo "[$(hostname)] $*"; }
die() {
  log "ERROR: $*"
  exit 1
}
unquote() {
  v=${1##*:}
  v=${v#\"}
  echo "${v%\"}"
}

for tool in pvesh apt-get pveversion; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
hash dmesg 2>/dev/null || die "dmesg not found"
if hash jq 2>/dev/null; then parser=jq; else parser=grep; fi

me=$(hostname)
ver=$(pveversion)
log "running ${ver%% *} (JSON via $parser)"

# The cluster must be quorate before anything else.
status=$(pvesh get /cluster/status --output-format json)
echo "$status" | grep -q '"quorate":1' || die "cluster is not quorate"

# Every node's core services must be running.
checked=0
for entry in $(pvesh get /nodes --output-format json | grep -o '"node":"[^"]*"'); do
  node=$(unquote "$entry")
  for svc in pve-cluster pvedaemon pveproxy corosync pve-ha-lrm; do
    state=$(unquote "$(pvesh get "/nodes/$node/services/$svc/state" --output-format json | grep -o '"state":"[^"]*"')")
    if [ "$state" != "running" ]; then
      die "$svc on $node is ${state:-unknown}"
    fi
  done
  checked=$((checked + 1))
  log "node $node: services running"
done
[ "$checked" -ge 2 ] || die "only $checked nodes found"

# The HA manager must see this node online.
tries=0
ha=""
while [ -z "$ha" ] && [ $tries -lt 3 ]; do
  ha=$(pvesh get /cluster/ha/status/manager_status --output-format json | grep -o "\"$me\":\"[a-z]*\"" || true)
  tries=$((tries + 1))
done
ha=$(unquote "$ha")
case "$ha" in
  online) ;;
  maintenance) die "$me is in HA maintenance mode" ;;
  *) die "HA node status of $me is '$ha'" ;;
esac

# What a dist-upgrade would do, quietly.
pending=$(apt-get -qq -s dist-upgrade | grep -c '^Inst ' || true)
if [ "$pending" -eq 0 ]; then
  log "up to date"
else
  log "$pending packages to upgrade:"
  apt-get -qq -s dist-upgrade | grep '^Inst ' | while read -r _ pkg _; do
    echo "  - $pkg"
  done
  if apt-get -qq -s dist-upgrade | grep -q '^Inst proxmox-kernel-'; then
    reboot=yes
  fi
fi

log "last kernel messages:"
dmesg | tail -n 2

cat <<EOF
== report for $me ==
kernel:  $(uname -r)
pending: $pending
reboot:  ${reboot:-no}
ha:      $ha
EOF
