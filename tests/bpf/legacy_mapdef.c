/* legacy_mapdef: libbpf < 1.0 `struct bpf_map_def` (5 x u32) in section "maps". */
#include "bpf_defs.h"

struct bpf_map_def SEC("maps") packets = {
	.type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 64,
};
struct bpf_map_def SEC("maps") flows = {
	.type = BPF_MAP_TYPE_LRU_HASH, .key_size = 8, .value_size = 16, .max_entries = 1024,
	.map_flags = 0,
};

SEC("socket") int count_packets(struct __sk_buff *skb)
{
	__u32 key = skb->protocol & 63;
	__u64 *v = bpf_map_lookup_elem(&packets, &key);
	__u64 flow = skb->hash;

	if (v)
		*v += skb->len;
	bpf_map_lookup_elem(&flows, &flow);
	return 0;
}

char _license[] SEC("license") = "Dual BSD/GPL";
__u32 _version SEC("version") = 0x060100;
