/* btf_kinds.c: one object whose .BTF holds every kind clang-14 emits (ENUM64 is newer), for
 * tests/unit/test_btf.py. Globals keep the types alive. The program calls two static noinline
 * subprograms, so .BTF.ext has func_info in "xdp" (the entry) and in ".text" (both
 * subprograms, the second at a non-zero byte offset). */
#include "bpf_defs.h"

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user_ptr __attribute__((btf_type_tag("user")))

struct undeclared;			/* FWD: only ever pointed to */

typedef unsigned int kinds_u32_t;	/* TYPEDEF of an unsigned INT */

enum kinds_enum { KINDS_NEG = -3, KINDS_ZERO = 0, KINDS_BIG = 0x7fffffff };

union kinds_union {
	int as_int;
	float as_float;
};

struct kinds_struct {
	signed char c;
	_Bool flag;
	unsigned int low : 3;		/* bitfields: the STRUCT has kind_flag set */
	unsigned int high : 5;
	long long wide __tag("wide_member");
	kinds_u32_t counts[4];
	union kinds_union u;
	enum kinds_enum e;
	struct undeclared *opaque;
	const volatile int *cv;
	int *restrict only;
	int __user_ptr *user;
	double ratio;
	char name[8];
};

struct kinds_struct kinds_data = { .c = -1, .low = 5, .high = 17, .ratio = 0.5 };
struct kinds_struct kinds_bss;
float kinds_float = 1.5f;
static volatile int kinds_counter;

static __noinline __tag("helper_fn") int kinds_helper(struct kinds_struct *s, int n)
{
	kinds_counter += n;
	return s->low + s->high + n;
}

static __noinline int kinds_twice(int n)
{
	return n * 2 + kinds_counter;
}

SEC("xdp")
int kinds_prog(struct xdp_md *ctx)
{
	int r = kinds_helper(&kinds_data, (int)ctx->ingress_ifindex);

	r = kinds_twice(r);
	return r > 0 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
