/* tc_tail_calls: legacy tail calls: sections "1/0" and "1/1" go into the prog array whose
 * bpf_elf_map id is 1, at keys 0 and 1. The entry program jumps on skb->mark & 1. */
#include "bpf_defs.h"

struct bpf_elf_map SEC("maps") jmp_table = {
	.type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 2,
	.id = 1, .pinning = PIN_OBJECT_NS,
};

SEC("1/0") int even_mark(struct __sk_buff *skb) { return TC_ACT_OK; }
SEC("1/1") int odd_mark(struct __sk_buff *skb) { return TC_ACT_SHOT; }

SEC("classifier") int dispatch(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp_table, skb->mark & 1);
	return TC_ACT_OK;   /* slot empty */
}

char __license[] SEC("license") = "GPL";
