#!/bin/sh
# run.sh - make bench: every benchmark, one after the other; see
# BENCHMARKS.md for what each measures and the figures of record.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/cas.sh"
echo
sh "$here/handlers.sh"
echo
bash "$here/orchestrations.bash"
echo
sh "$here/queue.sh"
echo
sh "$here/hotkey.sh"
echo
sh "$here/locks.sh"
echo
sh "$here/authz.sh"
echo
sh "$here/replay.sh"
echo
sh "$here/etcd.sh"
