/* long_log: a classifier the verifier walks for LEN straight-line instructions and then
 * refuses (it reads r2, never written): its level-1 log lists every instruction walked,
 * about 50 bytes each, so the log is as long as LEN makes it (300,000: about 15 MB). */
#include "bpf_defs.h"

#ifndef LEN
#define LEN 300000
#endif
#define STR2(x) #x
#define STR(x) STR2(x)

SEC("classifier") int long_path(struct __sk_buff *skb)
{
	asm volatile("r0 = 0\n"
		     ".rept " STR(LEN) "\n"
		     "r0 += 1\n"
		     ".endr\n"
		     "r0 = *(u32 *)(r2 + 0)\n" ::: "r0", "r2");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
