/* graft: iproute2's examples/bpf/bpf_graft.c idea: a classifier tail-calls into an empty,
 * pinned program array; `tc exec bpf graft` puts programs (sections aaa, bbb) into it. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 4);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} jmp_tc SEC(".maps");

SEC("aaa") int cls_aaa(struct __sk_buff *skb) { return TC_ACT_OK; }
SEC("bbb") int cls_bbb(struct __sk_buff *skb) { return skb->mark ? TC_ACT_SHOT : TC_ACT_OK; }

SEC("classifier") int cls_entry(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp_tc, 0);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
