/* shared_refs: two programs that refer to the same map, the same global and the same
 * subprogram, so the parser resolves identical relocations in two sections (it remembers
 * each answer by the symbol and the relocated instruction). */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} shared_hits SEC(".maps");

__u64 shared_total;

__attribute__((noinline)) int shared_helper(int v) { return v + 1; }

static __always_inline int count(void)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&shared_hits, &key);

	shared_total += 1;
	return shared_helper(v ? (int)*v : 0) & 1;
}

SEC("xdp/first") int first(struct xdp_md *ctx) { return count(); }

SEC("xdp/second") int second(struct xdp_md *ctx) { return count(); }

char __license[] SEC("license") = "GPL";
