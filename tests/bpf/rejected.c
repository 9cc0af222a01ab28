/* rejected: parses fine, but the verifier refuses its program (a map value is used without
 * the NULL check), after a pinned legacy map was created: the load must leave no pin. */
#include "bpf_defs.h"

struct bpf_elf_map SEC("maps") doomed = {
	.type = BPF_MAP_TYPE_HASH, .size_key = 4, .size_value = 8, .max_elem = 1,
	.pinning = PIN_GLOBAL_NS,
};

SEC("classifier") int unchecked(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&doomed, &key);

	return *value & 1; /* no NULL check: "invalid mem access 'map_value_or_null'" */
}

char LICENSE[] SEC("license") = "GPL";
