#!/usr/bin/env bash
# The demo of pybpftool's main job, and a smoke test of it: a step that should work and does
# not stops the demo with a non-zero status, and so does a step expected to be refused that
# is not. On two throwaway network namespaces joined by a veth pair, with a bpffs of its own:
#   legacy_tc   distro tc (built on libbpf >= 1.0) refuses an iproute2 legacy object: expected;
#               pytc loads and attaches it, pinning its map where iproute2 would;
#   tail_calls  legacy tail calls: sections 1/0 and 1/1 go into their program array;
#   xdp         pyip attaches a BTF XDP counter, and ip shows it;
#   traffic     UDP datagrams cross the veth; the counters are read back from the pinned maps;
#   inspect     pybpftool object show and verify;
#   core        a CO-RE object relocated for this kernel; the program reading a field this
#               kernel lacks (5.14 renamed task_struct.state), unguarded, is refused: expected;
#   convert     pybpftool object convert refuses what libbpf cannot state unless told how
#               (expected), then rewrites the legacy objects with BTF maps: distro tc loads
#               them (sharing the map pytc pinned), tail calls filled by `tc exec bpf graft`.
# A step is a function step_NAME, run in the order of STEPS below. Everything the demo makes
# (namespaces, pins, the bpffs mount) is removed when it ends, also when a step fails.
# Run as root, from anywhere: examples/demo.sh
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "demo.sh: must be run as root (it makes network namespaces and loads BPF programs)" >&2
    exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/../.ci/setup"
make -s -C "$here" >/dev/null
cd "$here"                        # objects by their short names, as the commands show them
PATH="$here/../.venv/bin:$PATH"   # this checkout's pyip, pytc, pybpftool and python3

STEPS=(legacy_tc tail_calls xdp traffic inspect core convert)
ns="pybpftool-demo-$$"            # v0, 192.0.2.1: where the programs are attached
peer="pybpftool-demo-$$-peer"     # v1, 192.0.2.2: where the traffic comes from
mnt=$(mktemp -d /tmp/pybpftool-demo-bpffs.XXXXXX)
cache=$(mktemp -d /tmp/pybpftool-demo-cache.XXXXXX)   # root's, 0700: a usable CO-RE cache
conv=$(mktemp -d /tmp/pybpftool-demo-conv.XXXXXX)     # the converted objects
export TC_BPF_MNT="$mnt"          # pins go to this private bpffs, not the host's
export PYBPFTOOL_CACHE_DIR="$cache"   # the kernel BTF index too (default /var/cache/pybpftool)

cleanup() {
    ip netns del "$ns" 2>/dev/null || true
    ip netns del "$peer" 2>/dev/null || true
    umount "$mnt" 2>/dev/null || true   # the pins go with the mount
    rmdir "$mnt" 2>/dev/null || true
    rm -rf "$cache" "$conv"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -t 1 ]; then
    bold=$'\033[1m' red=$'\033[31m' green=$'\033[32m' off=$'\033[0m'
else
    bold='' red='' green='' off=''
fi
say() {   # a command, as one would type it (pins under $TC_BPF_MNT)
    local line="$*"
    printf '\n%s$ %s%s\n' "$bold" "${line//$mnt/\$TC_BPF_MNT}" "$off"
}
note() { printf '%s\n' "# $*"; }
fail() {
    printf '%sdemo: FAILED: %s%s\n' "$red" "$*" "$off"
    exit 1
}
run() {   # run CMD...: show it and its output; the demo fails if it fails
    local status=0
    say "$*"
    "$@" 2>&1 | sed 's/^/  /' || status=$?
    [ "$status" -eq 0 ] || fail "$* (exit $status)"
}
run_tc() {   # run_tc CMD...: as run, without tc's lines about legacy ID/KEY sections' maps
    local status=0
    say "$*"
    "$@" 2>&1 | sed '/^unable to find map id [0-9]* for tail call$/d; s/^/  /' || status=$?
    [ "$status" -eq 0 ] || fail "$* (exit $status)"
}
refused() {   # refused WHY CMD...: show it; the demo fails if it is NOT refused
    local why=$1 status=0
    shift
    say "$*"
    "$@" 2>&1 | sed 's/^/  /' || status=$?
    [ "$status" -ne 0 ] || fail "$* was expected to be refused ($why)"
    printf '  %s-> refused (exit %d), as expected: %s%s\n' "$green" "$status" "$why" "$off"
}
counter() {   # counter MAP KEY: the u64 value at u32 KEY of a pinned map, summed over CPUs
    bpftool -j map lookup pinned "$mnt/tc/globals/$1" key "$2" 0 0 0 | python3 -c '
import json, sys
entry = json.load(sys.stdin)
values = [v["value"] for v in entry["values"]] if "values" in entry else [entry["value"]]
print(sum(int.from_bytes(bytes(int(b, 16) for b in v), sys.byteorder) for v in values))'
}

programs_using() {   # programs_using PINNED_MAP: how many loaded programs use that map
    bpftool -j map show pinned "$1" | python3 -c '
import json, subprocess, sys
map_id = json.load(sys.stdin)["id"]
progs = json.loads(subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True,
                                  check=True).stdout)
print(sum(map_id in prog.get("map_ids", []) for prog in progs))'
}

step_legacy_tc() {
    run pytc -n "$ns" qdisc add dev v0 clsact
    refused "distro tc is built on libbpf >= 1.0, which rejects legacy struct bpf_elf_map maps" \
        tc -n "$ns" filter add dev v0 ingress bpf da obj tc_legacy_pinned.o
    run pytc -n "$ns" filter add dev v0 ingress bpf da obj tc_legacy_pinned.o
    run pytc -n "$ns" filter show dev v0 ingress
}

step_tail_calls() {
    run pytc -n "$ns" filter add dev v0 egress bpf da obj tc_tail_calls.o
    run pytc -n "$ns" filter show dev v0 egress
    say "find \$TC_BPF_MNT/tc   # iproute2's layout: PIN_GLOBAL_NS in globals/, PIN_OBJECT_NS by SHA-1"
    find "$mnt/tc" | sed "s|^$mnt|  \$TC_BPF_MNT|"
    local array
    array="$mnt/tc/$(sha1sum tc_tail_calls.o | cut -c1-40)/jmp_table"
    [ -e "$mnt/tc/globals/tc_bytes" ] || fail "tc_bytes is not pinned in tc/globals"
    [ "$(bpftool -j map dump pinned "$array" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
        fail "the program array does not hold the two tail calls"
    note "jmp_table holds the programs of sections 1/0 and 1/1 in its slots 0 and 1"
}

step_xdp() {
    run pyip -n "$ns" link set dev v0 xdp obj xdp_counter.o sec xdp
    run ip -n "$ns" link show dev v0
}

step_traffic() {
    local sent=5 udp=0 bytes tries=0
    say "ip netns exec $peer python3 -c '...'   # $sent UDP datagrams from v1 to 192.0.2.1"
    ip netns exec "$peer" python3 -c '
import socket
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range('"$sent"'):
    sock.sendto(b"pybpftool demo", ("192.0.2.1", 9))' || fail "sending through the veth"
    while [ "$udp" -lt "$sent" ] && [ "$tries" -lt 50 ]; do   # the first waits for ARP
        udp=$(counter xdp_stats 17) || fail "reading xdp_stats"
        tries=$((tries + 1))
        sleep 0.1
    done
    bytes=$(counter tc_bytes 0) || fail "reading tc_bytes"
    say "bpftool map lookup pinned \$TC_BPF_MNT/tc/globals/xdp_stats key 17 0 0 0"
    note "xdp_count (XDP on v0) counted $udp UDP packets (IP protocol 17), summed over CPUs"
    say "bpftool map lookup pinned \$TC_BPF_MNT/tc/globals/tc_bytes key 0 0 0 0"
    note "cls_bytes (tc ingress on v0, legacy map) counted $bytes bytes"
    [ "$udp" -ge "$sent" ] || fail "xdp_stats counted $udp UDP packets, $sent were sent"
    [ "$bytes" -ge $((sent * 56)) ] || fail "tc_bytes counted $bytes bytes for $sent packets"
    run pyip -n "$ns" link set dev v0 xdp off
}

step_inspect() {
    run pybpftool object show tc_tail_calls.o
    run pybpftool object verify --type sched_cls tc_tail_calls.o
}

step_core() {
    local verdicts status=0
    refused "state_old_only reads task_struct.state, which this kernel calls __state" \
        pybpftool object verify core_task.o
    verdicts=$(pybpftool object verify --json core_task.o | python3 -c '
import json, sys
print(" ".join(p["name"] + "=" + p["verdict"] for p in json.load(sys.stdin)["programs"]))') ||
        status=$?
    [ "$status" -eq 1 ] && [ "$verdicts" = "task_fields=accepted state_either=accepted state_old_only=rejected" ] ||
        fail "CO-RE verdicts: $verdicts (exit $status)"
    note "task_fields and state_either are relocated and accepted; only state_old_only is refused"
}

step_convert() {
    local graft
    cp tc_legacy_pinned.o tc_tail_calls.o "$conv"
    cd "$conv"
    note "in a scratch folder holding copies of the two legacy objects"
    refused "PIN_OBJECT_NS and ID/KEY tail calls have no libbpf form until an option picks one" \
        pybpftool object convert tc_tail_calls.o --check
    run pybpftool object convert tc_legacy_pinned.o -o btf_pinned.o
    run tc -n "$peer" qdisc add dev v1 clsact
    run tc -n "$peer" filter add dev v1 ingress bpf da obj btf_pinned.o sec classifier
    run tc -n "$peer" filter show dev v1 ingress
    run bpftool map show pinned "$mnt/tc/globals/tc_bytes"
    [ "$(programs_using "$mnt/tc/globals/tc_bytes")" = 2 ] ||
        fail "tc_bytes is not shared by pytc's and tc's cls_bytes"
    note "distro tc reused the map pytc pinned: one tc_bytes for both cls_bytes programs"
    run pybpftool object convert tc_tail_calls.o -o btf_tail_calls.o \
        --object-ns-pins global --tail-calls graft
    note "distro tc looks for the legacy maps of ID/KEY sections, which a converted object has"
    note "not (\"unable to find map id 1 for tail call\", left out below): the grafts fill them"
    run_tc tc -n "$peer" filter add dev v1 egress bpf da obj btf_tail_calls.o
    pybpftool object convert tc_tail_calls.o -o btf_tail_calls.o \
        --object-ns-pins global --tail-calls graft | sed -n 's/^graft: //p' >grafts
    [ -s grafts ] || fail "object convert printed no graft command"
    while read -r graft; do
        # shellcheck disable=SC2086  # the converter printed the words, quoted for a shell
        run_tc ip netns exec "$peer" $graft
    done <grafts
    run tc -n "$peer" filter show dev v1 egress
    [ "$(bpftool -j map dump pinned "$mnt/tc/globals/jmp_table" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
        fail "the grafted program array does not hold the two tail calls"
    note "tc/globals/jmp_table, the converted object's program array, holds both tail calls"
    cd "$here"
}

ip netns add "$ns"
ip netns add "$peer"
ip -n "$ns" link add v0 type veth peer name v1 netns "$peer"
ip -n "$ns" addr add 192.0.2.1/24 dev v0
ip -n "$peer" addr add 192.0.2.2/24 dev v1
ip -n "$ns" link set v0 up
ip -n "$peer" link set v1 up
mount -t bpf bpf "$mnt"
note "namespaces $ns (v0, 192.0.2.1) and $peer (v1, 192.0.2.2); pins under \$TC_BPF_MNT=$mnt"
for step in "${STEPS[@]}"; do
    printf '\n%s== %s%s\n' "$bold" "$step" "$off"
    "step_$step"
done
printf '\n%sdemo: all %d steps passed (%s)%s\n' "$green" "${#STEPS[@]}" "${STEPS[*]}" "$off"
