#!/usr/bin/env bash
# Demo of the main job, on a throwaway network namespace with its own bpffs:
#  1. distro tc (libbpf >= 1.0) refuses an iproute2 legacy object; pytc loads and attaches
#     it, pinning its map where iproute2 would (tc/globals/tc_bytes);
#  2. legacy tail calls (sections 1/0, 1/1) go into their prog array;
#  3. pyip attaches a BTF XDP counter, and the kernel shows it;
#  4. pybpftool object show / verify inspect the objects;
#  5. a CO-RE object is relocated for this kernel's BTF; the one program that reads a field
#     this kernel lacks, unguarded, is refused with the relocation named.
# Run as root from anywhere: sudo examples/demo.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/../.ci/setup"
make -s -C "$here" >/dev/null
bin="$here/../.venv/bin"
ns="pybpftool-demo-$$"
mnt=$(mktemp -d /tmp/pybpftool-demo-bpffs.XXXXXX)
cache=$(mktemp -d /tmp/pybpftool-demo-cache.XXXXXX)   # root's, 0700: a usable CO-RE cache
cleanup() {
    ip netns del "$ns" 2>/dev/null || true
    umount "$mnt" 2>/dev/null || true
    rmdir "$mnt" 2>/dev/null || true
    rm -rf "$cache"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link add v0 type veth peer name v1
ip -n "$ns" link set v0 up
ip -n "$ns" link set v1 up
mount -t bpf bpf "$mnt"
export TC_BPF_MNT="$mnt"   # pins go to this private bpffs, not the host's
export PYBPFTOOL_CACHE_DIR="$cache"   # the kernel BTF index too (default /var/cache/pybpftool)
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@" 2>&1 | sed 's/^/  /' || true; }

run tc -n "$ns" qdisc add dev v0 clsact
say "tc -n $ns filter add dev v0 ingress bpf da obj examples/tc_legacy_pinned.o   # distro tc"
tc -n "$ns" filter add dev v0 ingress bpf da obj "$here/tc_legacy_pinned.o" 2>&1 | sed 's/^/  /' || true
run "$bin/pytc" -n "$ns" filter add dev v0 ingress bpf da obj "$here/tc_legacy_pinned.o"
run "$bin/pytc" -n "$ns" filter add dev v0 egress bpf da obj "$here/tc_tail_calls.o"
run "$bin/pytc" -n "$ns" filter show dev v0 ingress
run "$bin/pytc" -n "$ns" filter show dev v0 egress
say "find \$TC_BPF_MNT/tc   # the legacy map pinned where iproute2 pins PIN_GLOBAL_NS"
find "$mnt/tc" | sed "s|$mnt|  \$TC_BPF_MNT|"
run "$bin/pyip" -n "$ns" link set dev v0 xdp obj "$here/xdp_counter.o" sec xdp
run ip -n "$ns" link show dev v0
run "$bin/pyip" -n "$ns" link set dev v0 xdp off
run "$bin/pybpftool" object show "$here/tc_tail_calls.o"
run "$bin/pybpftool" object verify --type sched_cls "$here/tc_tail_calls.o"
run "$bin/pybpftool" object verify "$here/core_task.o"
