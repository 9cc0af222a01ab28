/* tailcall: tail calls the iproute2 way, written for the converter's tests. Sections named
 * "ID/KEY" go into the prog array whose bpf_elf_map id is ID, at KEY. The entry jumps on
 * skb->mark into array 10; its slot 2 jumps back into slot 0, which jumps into array 11, the
 * end of the chain. Slot 1 of array 10 stays empty (a hole). Every program counts its step
 * in one map pinned in the global namespace, which all of them share. */
#include "bpf_defs.h"

#define MAIN_ID 10
#define EXIT_ID 11
#ifndef STEPS_PINNING	/* the converter's tests build variants with -D */
#define STEPS_PINNING PIN_GLOBAL_NS
#endif
#ifndef LAST_SECTION
#define LAST_SECTION "11/0"
#endif

struct bpf_elf_map SEC("maps") jmp_main = {
	.type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 3,
	.id = MAIN_ID,
};
struct bpf_elf_map SEC("maps") jmp_exit = {
	.type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 1,
	.id = EXIT_ID,
};
struct bpf_elf_map SEC("maps") steps = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 4,
	.pinning = STEPS_PINNING,
};

static __always_inline void step(__u32 n)
{
	__u64 *seen = bpf_map_lookup_elem(&steps, &n);

	if (seen)
		__sync_fetch_and_add(seen, 1);
}

SEC("10/0") int hop_first(struct __sk_buff *skb)
{
	step(1);
	bpf_tail_call(skb, &jmp_exit, 0);
	return TC_ACT_OK;
}

SEC("10/2") int hop_back(struct __sk_buff *skb)
{
	step(2);
	bpf_tail_call(skb, &jmp_main, 0);
	return TC_ACT_OK;
}

SEC(LAST_SECTION) int hop_last(struct __sk_buff *skb)
{
	step(3);
	return skb->mark & 4 ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("classifier") int hop_entry(struct __sk_buff *skb)
{
	step(0);
	bpf_tail_call(skb, &jmp_main, skb->mark & 3);
	return TC_ACT_OK;
}

char __license[] SEC("license") = "GPL";
