/* Two map symbols in 56 bytes (36 + 20): 28 bytes each, but no symbol at offset 28. */
#include "bpf_defs.h"
struct bpf_elf_map SEC("maps") a = { .type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 1 };
struct bpf_map_def SEC("maps") c = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1 };
SEC("classifier") int prog(struct __sk_buff *skb)
{
	return !!bpf_map_lookup_elem(&a, &skb->mark) + !!bpf_map_lookup_elem(&c, &skb->mark);
}
char LICENSE[] SEC("license") = "GPL";
