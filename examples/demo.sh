#!/usr/bin/env bash
# Demo: build the example programs and show how pybpftool's loader sees them: a BTF XDP
# counter, an iproute2 legacy classifier with a pinned map, and legacy tail calls.
# Run as root from anywhere: sudo examples/demo.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/../.ci/setup"
make -s -C "$here" >/dev/null
bin="$here/../.venv/bin"
for obj in xdp_counter tc_legacy_pinned tc_tail_calls; do
    echo "== pybpftool object show examples/$obj.o"
    "$bin/pybpftool" object show "$here/$obj.o"
    echo
done
echo "== the legacy object as JSON (first lines)"
"$bin/pybpftool" object show --json "$here/tc_legacy_pinned.o" | head -20
echo
echo "Distro tc (libbpf >= 1.0) refuses the legacy object:"
tc_out=$(ip netns add pybpftool-demo-$$ 2>&1 && \
    ip netns exec pybpftool-demo-$$ tc qdisc add dev lo clsact && \
    ip netns exec pybpftool-demo-$$ tc filter add dev lo ingress bpf da \
        obj "$here/tc_legacy_pinned.o" 2>&1) || true
ip netns del pybpftool-demo-$$ 2>/dev/null || true
printf '%s\n' "$tc_out" | sed 's/^/    /'
