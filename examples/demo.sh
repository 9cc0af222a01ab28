#!/usr/bin/env bash
# Demo of the main job, on a throwaway network namespace with its own bpffs:
#  1. distro tc (libbpf >= 1.0) refuses an iproute2 legacy object; pytc loads and attaches
#     it, pinning its map where iproute2 would (tc/globals/tc_bytes);
#  2. legacy tail calls (sections 1/0, 1/1) go into their prog array;
#  3. pyip attaches a BTF XDP counter, and the kernel shows it;
#  4. pybpftool object show / verify inspect the objects;
#  5. a CO-RE object is relocated for this kernel's BTF; the one program that reads a field
#     this kernel lacks, unguarded, is refused with the relocation named;
#  6. pybpftool object convert rewrites the legacy objects as BTF-maps objects, which distro
#     tc then loads (sharing the map pytc pinned), tail calls filled by `tc exec bpf graft`.
# Run as root from anywhere: sudo examples/demo.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/../.ci/setup"
make -s -C "$here" >/dev/null
bin="$here/../.venv/bin"
ns="pybpftool-demo-$$"
mnt=$(mktemp -d /tmp/pybpftool-demo-bpffs.XXXXXX)
cache=$(mktemp -d /tmp/pybpftool-demo-cache.XXXXXX)   # root's, 0700: a usable CO-RE cache
conv=$(mktemp -d /tmp/pybpftool-demo-conv.XXXXXX)     # the converted objects
cleanup() {
    ip netns del "$ns" 2>/dev/null || true
    umount "$mnt" 2>/dev/null || true
    rmdir "$mnt" 2>/dev/null || true
    rm -rf "$cache" "$conv"
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

say "pybpftool object convert examples/tc_tail_calls.o --check   # what libbpf cannot express"
"$bin/pybpftool" object convert "$here/tc_tail_calls.o" --check 2>&1 | sed 's/^/  /' || true
run "$bin/pybpftool" object convert "$here/tc_legacy_pinned.o" -o "$conv/tc_legacy_pinned.o"
say "tc -n $ns filter add dev v1 ingress bpf da obj \$conv/tc_legacy_pinned.o   # distro tc"
tc -n "$ns" qdisc add dev v1 clsact
tc -n "$ns" filter add dev v1 ingress bpf da obj "$conv/tc_legacy_pinned.o" 2>&1 | sed 's/^/  /'
run tc -n "$ns" filter show dev v1 ingress
say "bpftool map show pinned \$TC_BPF_MNT/tc/globals/tc_bytes   # pytc's pin, reused by tc"
bpftool map show pinned "$mnt/tc/globals/tc_bytes" | sed 's/^/  /'
say "pybpftool object convert examples/tc_tail_calls.o -o \$conv/tc_tail_calls.o" \
    "--object-ns-pins global --tail-calls graft"
"$bin/pybpftool" object convert "$here/tc_tail_calls.o" -o "$conv/tc_tail_calls.o" \
    --object-ns-pins global --tail-calls graft | tee "$conv/report" | sed 's/^/  /'
say "tc -n $ns filter add dev v1 egress bpf da obj \$conv/tc_tail_calls.o   # distro tc"
tc -n "$ns" filter add dev v1 egress bpf da obj "$conv/tc_tail_calls.o" 2>&1 | sed 's/^/  /'
grep '^graft: ' "$conv/report" | sed 's/^graft: //' | while read -r cmd; do
    say "ip netns exec $ns $cmd"
    # shellcheck disable=SC2086  # the converter printed the words, quoted for a shell
    ip netns exec "$ns" $cmd 2>&1 | grep -v '^unable to find map id' | sed 's/^/  /' || true
done
run tc -n "$ns" filter show dev v1 egress
say "bpftool map dump pinned \$TC_BPF_MNT/tc/globals/jmp_table   # both slots filled"
bpftool map dump pinned "$mnt/tc/globals/jmp_table" | sed 's/^/  /'
