/* core_kernel: CO-RE against the running kernel's own BTF, without vmlinux.h.
 *
 * The local types below are small copies of the kernel's (names, member names and member
 * types as in /sys/kernel/btf/vmlinux, offsets left to the compiler): every relocation then
 * has a real target. One kprobe program per case, no subprograms, so an instruction index is
 * the same in libbpf's debug lines and in ours (relative to the program: all of them share
 * one ELF section). Every program must be accepted: a poisoned
 * instruction sits behind a branch the patched constants make dead.
 *
 * bpf_get_current_task_btf returns a BTF pointer: its loads (LDX) are checked by the verifier
 * against the kernel's real layout. bpf_get_current_task returns a plain number: the offsets
 * given to bpf_probe_read_kernel are ALU relocations. */
#include "bpf_defs.h"
#include "bpf_core.h"

struct thread_info {
	unsigned long flags;
	unsigned long syscall_work;
	__u32 status;
	__u32 cpu;
} CORE;

struct task_struct {
	struct thread_info thread_info;   /* nested struct, at 0 */
	unsigned int __state;             /* "state" before 5.14 */
	unsigned int flags;
	int prio;
	unsigned int in_execve:1;         /* a 1-bit field in a run of bitfields */
	int pid;                          /* pid_t */
	int tgid;
	struct task_struct *real_parent;
	char comm[16];
} CORE;

struct task_struct___old {            /* a flavour: the field's name before 5.14 */
	long state;
} CORE;

struct task_struct___wide {           /* a flavour with wider members than the kernel's */
	unsigned long flags;              /* unsigned int: the load is narrowed to 4 bytes */
	long prio;                        /* int: a signed load cannot be narrowed: poisoned */
} CORE;

struct sk_buff {                      /* pkt_type:3 is inside two anonymous members */
	unsigned int len;
	__u8 pkt_type:3;
} CORE;

struct sk_buff___signed {
	__s8 pkt_type:3;                  /* the kernel's is unsigned */
} CORE;

struct pt_regs {                      /* x86_64 */
	unsigned long si;
	unsigned long di;
} CORE;

struct nonexistent___x { int x; } CORE;

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID, PIDTYPE_SID, PIDTYPE_MAX };
enum pid_type___x { PIDTYPE_TGID___x = 7, PIDTYPE_NONEXISTENT___x = 8 };

static struct task_struct *(*bpf_get_current_task_btf)(void) = (void *)158;
static __u64 (*bpf_get_current_task)(void) = (void *)35;
static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *src) = (void *)113;

#define READ(dst, src) bpf_probe_read_kernel(&(dst), sizeof(dst), &(src))

SEC("kprobe/do_nanosleep") int task_fields(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return t->pid + t->tgid + t->flags + t->prio;   /* LDX off */
}

SEC("kprobe/do_nanosleep") int pointer_chase(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return t->real_parent->tgid;                     /* LDX DW real_parent, LDX W tgid */
}

SEC("kprobe/do_nanosleep") int array_element(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return t->comm[1];                               /* LDX B comm + 1 */
}

SEC("kprobe/do_nanosleep") int nested_field(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return t->thread_info.cpu;                       /* LDX W 20 */
}

SEC("kprobe/do_nanosleep") int renamed_field(void *ctx)
{
	struct task_struct___old *old = (void *)bpf_get_current_task_btf();
	struct task_struct *t = (void *)old;

	if (field_info(old->state, FIELD_EXISTS))        /* 1 -> 0 */
		return old->state;                       /* poisoned, but dead code */
	return field_info(t->__state, FIELD_EXISTS) + t->__state;   /* 1 -> 1 */
}

SEC("kprobe/do_nanosleep") int task_bitfield(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	const void *p = (const void *)t + field_info(t->in_execve, FIELD_BYTE_OFFSET);
	__u64 val;

	/* libbpf's BPF_CORE_READ_BITFIELD: the size is a constant once patched */
	switch (field_info(t->in_execve, FIELD_BYTE_SIZE)) {
	case 1: val = *(const __u8 *)p; break;
	case 2: val = *(const __u16 *)p; break;
	case 4: val = *(const __u32 *)p; break;
	case 8: val = *(const __u64 *)p; break;
	default: return 0;
	}
	val <<= field_info(t->in_execve, FIELD_LSHIFT_U64);
	if (field_info(t->in_execve, FIELD_SIGNED))
		val = ((__s64)val) >> field_info(t->in_execve, FIELD_RSHIFT_U64);
	else
		val = val >> field_info(t->in_execve, FIELD_RSHIFT_U64);
	return val;
}

SEC("kprobe/do_nanosleep") int skb_bitfield(struct pt_regs *ctx)
{
	struct sk_buff *skb = (void *)ctx->di;           /* LDX on the context */
	unsigned int len = 0;
	__u64 val = 0;

	/* libbpf's BPF_CORE_READ_BITFIELD_PROBED */
	bpf_probe_read_kernel(&val, field_info(skb->pkt_type, FIELD_BYTE_SIZE),
			      (const void *)skb + field_info(skb->pkt_type, FIELD_BYTE_OFFSET));
	val <<= field_info(skb->pkt_type, FIELD_LSHIFT_U64);
	val >>= field_info(skb->pkt_type, FIELD_RSHIFT_U64);
	READ(len, skb->len);                             /* ALU add 0 -> 112 */
	return val + len;
}

SEC("kprobe/do_nanosleep") int bitfield_signed(void *ctx)
{
	struct sk_buff___signed *s = 0;

	return field_info(s->pkt_type, FIELD_SIGNED) * 100 +     /* 1 -> 0 */
	       field_info(s->pkt_type, FIELD_BYTE_OFFSET);       /* 0 -> 128 */
}

SEC("kprobe/do_nanosleep") int probe_read_offsets(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct task_struct *parent = 0;
	char c = 0;
	int pid = 0, tgid = 0;

	READ(pid, t->pid);                               /* ALU add imm */
	READ(parent, t->real_parent);
	READ(tgid, parent->tgid);
	READ(c, t->comm[2]);
	return pid + tgid + c;
}

SEC("kprobe/do_nanosleep") int wide_load(void *ctx)
{
	struct task_struct___wide *w = (void *)bpf_get_current_task_btf();

	return w->flags;                                 /* LDX DW -> LDX W */
}

SEC("kprobe/do_nanosleep") int narrowed_signed(void *ctx)
{
	struct task_struct___wide *w = (void *)bpf_get_current_task_btf();

	if (field_info(w->prio, FIELD_BYTE_SIZE) == 8)  /* 8 -> 4 */
		return w->prio;                          /* signed, narrowed: poisoned, dead */
	return 0;
}

SEC("kprobe/do_nanosleep") int types(void *ctx)
{
	return type_info(struct task_struct, TYPE_EXISTS) * 1000 +      /* 1 -> 1 */
	       type_info(struct nonexistent___x, TYPE_EXISTS) * 100 +    /* 1 -> 0 */
	       type_info(struct task_struct, TYPE_SIZE) +                /* -> kernel's size */
	       type_info(struct nonexistent___x, TYPE_SIZE);             /* 4 -> 0 */
}

SEC("kprobe/do_nanosleep") int type_ids(void *ctx)
{
	return (type_id(struct task_struct, TYPE_ID_LOCAL) << 20) +     /* the object's id */
	       type_id(struct task_struct, TYPE_ID_TARGET);               /* the kernel's id */
}

SEC("kprobe/do_nanosleep") int missing_type_id(void *ctx)
{
	if (type_info(struct nonexistent___x, TYPE_EXISTS))       /* 1 -> 0 */
		return type_id(struct nonexistent___x, TYPE_ID_TARGET);  /* 0, not poisoned */
	return 1;
}

SEC("kprobe/do_nanosleep") int enums(void *ctx)
{
	return enum_info(enum pid_type, PIDTYPE_TGID, ENUMVAL_EXISTS) * 1000 +     /* 1 */
	       enum_info(enum pid_type, PIDTYPE_TGID, ENUMVAL_VALUE) * 100 +       /* 1 */
	       enum_info(enum pid_type___x, PIDTYPE_TGID___x, ENUMVAL_VALUE) * 10 + /* 7 -> 1 */
	       enum_info(enum pid_type___x, PIDTYPE_NONEXISTENT___x, ENUMVAL_EXISTS); /* 0 */
}

SEC("kprobe/do_nanosleep") int missing_enum_value(void *ctx)
{
	if (enum_info(enum pid_type___x, PIDTYPE_NONEXISTENT___x, ENUMVAL_EXISTS))
		return enum_info(enum pid_type___x, PIDTYPE_NONEXISTENT___x, ENUMVAL_VALUE);
	return 0;                                        /* ^ poisoned, dead */
}

char LICENSE[] SEC("license") = "GPL";
