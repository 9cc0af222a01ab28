/* call_order: subprograms whose order differs between a breadth-first walk and libbpf's.
 * The program calls outer() and then last(); outer() calls inner(). libbpf appends a
 * subprogram when it meets the call and walks it at once: outer, inner, last. */
#include "bpf_defs.h"

static __noinline int inner(int v) { return v * 3; }

static __noinline int outer(int v) { return inner(v) + 1; }

static __noinline int last(int v) { return v - 2; }

SEC("classifier") int call_order(struct __sk_buff *skb)
{
	return (outer(skb->len) + last(skb->mark)) > 64 ? TC_ACT_SHOT : TC_ACT_OK;
}

char __license[] SEC("license") = "GPL";
