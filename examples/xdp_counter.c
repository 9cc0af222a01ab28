/* xdp_counter: counts packets per IP protocol in a BTF map pinned by name, with a
 * read-only threshold in .rodata. Attach: pyip link set dev DEV xdp obj xdp_counter.o sec xdp */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_stats SEC(".maps");

const volatile __u32 drop_above = 0;   /* 0: never drop */

SEC("xdp") int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 proto = 0;
	__u64 *count;

	if (data + 14 + 10 <= end)
		proto = ((__u8 *)data)[14 + 9];      /* IPv4 protocol byte */
	count = bpf_map_lookup_elem(&xdp_stats, &proto);
	if (!count)
		return XDP_PASS;
	*count += 1;
	return drop_above && *count > drop_above ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
