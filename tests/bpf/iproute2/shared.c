/* shared: one map used by an ingress and an egress classifier (sections "ingress" and
 * "egress"), pinned in the global namespace so that two filters loaded from this object
 * share it. The map's key and value types are named for BTF the iproute2 way: a struct
 * `____btf_map_<map>` with members `key` and `value`. */
#include "bpf_defs.h"

struct flow {
	__u32 ifindex;
	__u32 protocol;
};

struct bpf_elf_map SEC("maps") flow_bytes = {
	.type = BPF_MAP_TYPE_HASH, .size_key = sizeof(struct flow), .size_value = sizeof(__u64),
	.max_elem = 64, .flags = BPF_F_NO_PREALLOC, .pinning = PIN_GLOBAL_NS,
};

#define KV_TYPES(map, key_t, value_t)                                                   \
	struct ____btf_map_##map { key_t key; value_t value; };                          \
	struct ____btf_map_##map __attribute__((section(".maps." #map), used)) ____btf_map_##map

KV_TYPES(flow_bytes, struct flow, __u64);

static __always_inline int account(struct __sk_buff *skb)
{
	struct flow key = { .ifindex = skb->ifindex, .protocol = skb->protocol };
	__u64 *bytes = bpf_map_lookup_elem(&flow_bytes, &key);

	if (bytes)
		__sync_fetch_and_add(bytes, skb->len);
	else
		bpf_map_update_elem(&flow_bytes, &key, &(__u64){ skb->len }, BPF_ANY);
	return TC_ACT_OK;
}

SEC("ingress") int flow_in(struct __sk_buff *skb) { return account(skb); }

SEC("egress") int flow_out(struct __sk_buff *skb) { return account(skb); }

char __license[] SEC("license") = "GPL";
