/* twin_body: the programs shared by twin_legacy.c and twin_btf.c. The two objects differ only
 * in how their maps are declared, so their programs have the same instructions and hence
 * the same kernel tag, whichever loader loads them. TAIL_SECTION comes from the includer. */

SEC("classifier") int twin_main(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *hits = bpf_map_lookup_elem(&twin_counters, &key);
	void *inner = bpf_map_lookup_elem(&twin_outer, &key);

	if (hits)
		*hits += skb->len;
	if (inner)
		bpf_map_lookup_elem(inner, &key);
	bpf_tail_call(skb, &twin_jmp, 0);
	return TC_ACT_OK;
}

SEC(TAIL_SECTION) int twin_tail(struct __sk_buff *skb)
{
	return skb->mark ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
