/* xdp_pass: a small XDP object both ip (libbpf 1.1) and pyip load: a BTF counter map and
 * programs in "xdp" and in iproute2's default XDP section "prog". */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} xdp_hits SEC(".maps");

SEC("xdp") int xdp_count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *hits = bpf_map_lookup_elem(&xdp_hits, &key);

	if (hits)
		*hits += 1;
	return XDP_PASS;
}

SEC("prog") int xdp_default(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
