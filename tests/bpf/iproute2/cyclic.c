/* cyclic: a program that tail-calls itself until the kernel's tail-call limit ends the loop
 * (iproute2 style: its section "0xc0de/0" puts it into slot 0 of the prog array with that
 * id). The entry enters the loop; both are direct-action classifiers. */
#include "bpf_defs.h"

#define LOOP_ID 0xc0de

struct bpf_elf_map SEC("maps") loop_jmp = {
	.type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 1,
	.id = LOOP_ID, .pinning = PIN_OBJECT_NS,
};

SEC("0xc0de/0") int spin(struct __sk_buff *skb)
{
	skb->cb[0]++;
	bpf_tail_call(skb, &loop_jmp, 0);
	skb->tc_classid = (1 << 16) | skb->cb[0];   /* reached when the limit stops the loop */
	return TC_ACT_OK;
}

SEC("classifier") int spin_entry(struct __sk_buff *skb)
{
	skb->cb[0] = 0;
	bpf_tail_call(skb, &loop_jmp, 0);
	return TC_ACT_SHOT;
}

char __license[] SEC("license") = "GPL";
