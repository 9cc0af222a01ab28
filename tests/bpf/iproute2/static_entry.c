/* static_entry: legacy objects whose programs are static functions, which iproute2's own
 * loader takes (it loads sections) and libbpf 1.1 refuses ("program is static"). The entry
 * of "classifier" is the only function of its section; with -DHELPER_IN_SECTION a static
 * helper also lives in "action", which libbpf cannot call (it calls into .text only). */
#include "bpf_defs.h"

struct bpf_elf_map SEC("maps") seen = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 1,
};

SEC("classifier") static __attribute__((used)) int quiet_entry(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&seen, &key);

	if (count)
		*count += 1;
	return TC_ACT_OK;
}

#ifdef HELPER_IN_SECTION
SEC("action") static __noinline int act_helper(struct __sk_buff *skb) { return skb->len > 64; }

SEC("action") int act_main(struct __sk_buff *skb) { return act_helper(skb) ? 2 : 0; }
#endif

char __license[] SEC("license") = "GPL";
