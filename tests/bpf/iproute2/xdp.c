/* xdp: an XDP program in iproute2's default XDP section "prog", counting packets in a
 * legacy map pinned in the global namespace (ip's xdp/globals is tc's tc/globals). */
#include "bpf_defs.h"

struct bpf_elf_map SEC("maps") xdp_packets = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 2,
	.pinning = PIN_GLOBAL_NS,
};

SEC("prog") int xdp_tally(struct xdp_md *ctx)
{
	__u32 key = ctx->data_end - ctx->data > 128;
	__u64 *packets = bpf_map_lookup_elem(&xdp_packets, &key);

	if (packets)
		__sync_fetch_and_add(packets, 1);
	return XDP_PASS;
}

char __license[] SEC("license") = "GPL";
