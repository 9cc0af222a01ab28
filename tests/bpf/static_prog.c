/* static_prog: a section whose only function is static: one program, iproute2 style,
 * and a second program calling a static helper that lives in its own section. */
#include "bpf_defs.h"

static __noinline int twice(int v) { return v * 2; }

SEC("action") static int act_main(struct __sk_buff *skb)
{
	return twice(skb->len) > 64 ? TC_ACT_SHOT : TC_ACT_OK;
}

/* The symbol must be referenced or clang drops a static program. */
void *keep[] SEC(".data.keep") = { (void *)act_main };

char LICENSE[] SEC("license") = "GPL";
