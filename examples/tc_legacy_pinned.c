/* tc_legacy_pinned: an iproute2-style classifier with a legacy struct bpf_elf_map pinned in
 * the global namespace (tc/globals/tc_bytes), which libbpf >= 1.0 based tc cannot load.
 * Attach: pytc filter add dev DEV ingress bpf da obj tc_legacy_pinned.o */
#include "bpf_defs.h"

struct bpf_elf_map SEC("maps") tc_bytes = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 1,
	.pinning = PIN_GLOBAL_NS,
};

SEC("classifier") int cls_bytes(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *bytes = bpf_map_lookup_elem(&tc_bytes, &key);

	if (bytes)
		__sync_fetch_and_add(bytes, skb->len);
	return TC_ACT_OK;
}

char __license[] SEC("license") = "GPL";
