/* forged_names: object-controlled names holding a newline, which would forge an output line
 * if printed raw. The test renames the map `evil_map_name_patched` (same length in the string
 * table); -DMAX_ELEM=0 makes the kernel refuse that map, 1 lets it be created. */
#include "bpf_defs.h"

#ifndef MAX_ELEM
#define MAX_ELEM 1
#endif

struct bpf_elf_map SEC("maps") evil_map_name_patched = {
	.type = BPF_MAP_TYPE_HASH, .size_key = 4, .size_value = 4, .max_elem = MAX_ELEM,
};

SEC("classifier\nFAKE: filter installed OK") int forged_ok(struct __sk_buff *skb)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&evil_map_name_patched, &key) ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("xdp\nFAKE: program attached OK") int forged_rejected(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u32 *value = bpf_map_lookup_elem(&evil_map_name_patched, &key);

	return *value; /* no NULL check: the verifier refuses it */
}

char LICENSE[] SEC("license") = "GPL";
