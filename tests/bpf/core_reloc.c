/* core_reloc: one program per CO-RE relocation case. Built twice: as is (the object to
 * load) and with -DTARGET, whose .BTF then stands in for a kernel's: the same type names with
 * moved, resized, renamed or missing members and enumerators.
 *
 * Programs read through a map value of 256 bytes, so every offset a target gives is inside
 * it and the verifier can judge the patched program for real. */
#include "bpf_defs.h"
#include "bpf_core.h"

#ifndef TARGET
struct core_rec {
	int a;
	int b;
	unsigned int grow;        /* target: unsigned long (load widened) */
	int shrink;               /* target: short (signed: load poisoned) */
	char name[4];             /* target: char[8] */
	struct { int x; int y; } in;
	int gone;                 /* target: missing */
} CORE;

struct core_rec___v2 {            /* a flavour: matches the target's struct core_rec */
	int a;
	int b;
	int newer;                /* target: missing */
} CORE;

struct core_bits {
	unsigned int lo:3;
	unsigned int mid:5;       /* target: 7 bits at bit 10 */
	int sig:4;                /* target: unsigned */
	unsigned int tail;
} CORE;

struct core_absent { int z; } CORE;   /* target: no such type */
struct core_amb { int f; } CORE;      /* target: two flavours that disagree */

enum core_color { RED = 1, GREEN = 2, BLUE = 3 };
enum core_color___v2 { GREEN___v2 = 2 };   /* a flavour of the enum and of its enumerator */
enum core_wide { WIDE_BIG = 0xffffffff, WIDE_NEG = -5 };  /* clang: zero- and sign-extended */
#else
struct core_rec {
	long pad;
	int b;
	int a;
	unsigned long grow;
	short shrink;
	char name[8];
	struct { int y; int x; } in;
} CORE;

struct core_bits {
	unsigned int lo:3;
	unsigned int pad:7;
	unsigned int mid:7;
	unsigned int sig:4;
	unsigned int tail;
} CORE;

struct core_amb___one { int f; } CORE;
struct core_amb___two { long pad; int f; } CORE;

enum core_color { GREEN = 20, RED = 10 };
enum core_wide { WIDE_BIG = 0xfffffffe, WIDE_NEG = -7 };

struct core_rec rec_target;
struct core_bits bits_target;
struct core_amb___one amb_one;
struct core_amb___two amb_two;
enum core_color color_target;
enum core_wide wide_target;
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, char[256]);
	__uint(max_entries, 1);
} store SEC(".maps");

#ifndef TARGET
static __always_inline void *value(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&store, &key);
}

#define WITH(type, var) type *var = value(); if (!var) return 0

SEC("socket") int field_offset(void *ctx)
{
	WITH(struct core_rec, r);
	return r->b;                                      /* LDX off 4 -> 8 */
}

SEC("socket") int field_offset_imm(void *ctx)
{
	WITH(struct core_rec, r);
	return field_info(r->a, FIELD_BYTE_OFFSET);       /* mov imm 0 -> 12 */
}

SEC("socket") int array_element(void *ctx)
{
	WITH(struct core_rec, r);
	return r->name[2];                                /* LDX off 18 -> 28 */
}

SEC("socket") int nested_field(void *ctx)
{
	WITH(struct core_rec, r);
	return r->in.x;                                   /* LDX off 20 -> 40 */
}

SEC("socket") int byte_size(void *ctx)
{
	WITH(struct core_rec, r);
	return field_info(r->name, FIELD_BYTE_SIZE);      /* 4 -> 8 */
}

SEC("socket") int exists(void *ctx)
{
	WITH(struct core_rec, r);
	return field_info(r->a, FIELD_EXISTS) * 10 +      /* 1 -> 1 */
	       field_info(r->gone, FIELD_EXISTS);         /* 1 -> 0 */
}

SEC("socket") int guarded_missing(void *ctx)
{
	WITH(struct core_rec, r);
	if (field_info(r->gone, FIELD_EXISTS))
		return r->gone;                           /* poisoned, but unreachable */
	return 0;
}

SEC("socket") int reached_missing(void *ctx)
{
	WITH(struct core_rec, r);
	return r->gone;                                   /* poisoned and reached: rejected */
}

SEC("socket") int signedness(void *ctx)
{
	WITH(struct core_bits, b);
	return field_info(b->sig, FIELD_SIGNED) * 10 +    /* 1 -> 0 */
	       field_info(b->lo, FIELD_SIGNED);           /* 0 -> 0 */
}

SEC("socket") int bitfield_shifts(void *ctx)
{
	WITH(struct core_bits, b);
	return field_info(b->mid, FIELD_LSHIFT_U64) * 1000 +
	       field_info(b->mid, FIELD_RSHIFT_U64) * 10 +
	       field_info(b->mid, FIELD_BYTE_OFFSET) +
	       field_info(b->mid, FIELD_BYTE_SIZE);
}

SEC("socket") int widened_load(void *ctx)
{
	WITH(struct core_rec, r);
	return r->grow;                                   /* LDX W off 8 -> LDX DW off 16 */
}

SEC("socket") int narrowed_signed(void *ctx)
{
	WITH(struct core_rec, r);
	return r->shrink;                                 /* int -> short: poisoned */
}

SEC("socket") int flavour(void *ctx)
{
	WITH(struct core_rec___v2, r);
	return r->b + field_info(r->newer, FIELD_EXISTS); /* off 4 -> 8; exists 1 -> 0 */
}

SEC("socket") int types(void *ctx)
{
	return type_info(struct core_rec, 0) * 1000 +    /* exists 1 -> 1 */
	       type_info(struct core_absent, 0) * 100 +  /* exists 1 -> 0 */
	       type_info(struct core_rec, 1) +            /* size 32 -> 48 */
	       type_info(struct core_absent, 1);          /* size 4 -> 0 */
}

SEC("socket") int type_ids(void *ctx)
{
	return type_id(struct core_rec, 0) == type_id(struct core_rec, 1);
}

SEC("socket") int absent_type(void *ctx)
{
	WITH(struct core_absent, a);
	return a->z;                                      /* no candidate: poisoned */
}

SEC("socket") int enums(void *ctx)
{
	return enum_info(enum core_color, GREEN, 0) * 1000 +     /* exists 1 -> 1 */
	       enum_info(enum core_color, BLUE, 0) * 100 +       /* exists 1 -> 0 */
	       enum_info(enum core_color, GREEN, 1) +            /* value 2 -> 20 */
	       enum_info(enum core_color___v2, GREEN___v2, 1);   /* value 2 -> 20 */
}

SEC("socket") int wide_enums(void *ctx)
{
	return enum_info(enum core_wide, WIDE_BIG, 1) +          /* 0xffffffff -> s32 -2 */
	       enum_info(enum core_wide, WIDE_NEG, 1);           /* -5 -> -7 */
}

SEC("socket") int missing_enum_value(void *ctx)
{
	return enum_info(enum core_color, BLUE, 1);      /* no such enumerator: poisoned */
}

SEC("socket") int ambiguous(void *ctx)
{
	WITH(struct core_amb, a);
	return a->f;                                      /* two flavours disagree: an error */
}
#endif

char LICENSE[] SEC("license") = "GPL";
