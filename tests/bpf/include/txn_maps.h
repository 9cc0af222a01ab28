/* txn_maps: the pinned maps that txn_legacy.c and txn_slow.c share (the transaction tests):
 * a counter array, a program array filled by "1/KEY" tail-call sections, and a map-in-map
 * whose slot 0 holds txn_inner. Every one of them is pinned in tc/globals. */
#include "bpf_defs.h"

struct bpf_elf_map SEC("maps") txn_hits = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 4,
	.pinning = PIN_GLOBAL_NS,
};
struct bpf_elf_map SEC("maps") txn_jmp = {
	.type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 2, .id = 1,
	.pinning = PIN_GLOBAL_NS,
};
struct bpf_elf_map SEC("maps") txn_inner = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 1, .id = 2,
	.inner_idx = 0,
};
struct bpf_elf_map SEC("maps") txn_outer = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 2,
	.inner_id = 2, .pinning = PIN_GLOBAL_NS,
};

static __always_inline void count(__u32 key)
{
	__u64 *hits = bpf_map_lookup_elem(&txn_hits, &key);

	if (hits)
		__sync_fetch_and_add(hits, 1);
}
