/* core_task: a CO-RE object, as built against vmlinux.h but with only the fields it reads.
 * pybpftool relocates it for the running kernel's BTF before loading (libbpf's rules):
 *  - task_fields reads pid, tgid and the parent's tgid wherever this kernel keeps them;
 *  - state_either reads the task state under its 5.14+ name (__state) or the old one
 *    (state, via the flavour task_struct___old), whichever this kernel has: the other
 *    read is poisoned and, being behind an existence check, dead code;
 *  - state_old_only reads `state` unguarded: on a 5.14+ kernel the verifier reaches the
 *    poisoned instruction, and the error names the relocation that failed. */
#include "bpf_defs.h"
#include "bpf_core.h"

struct task_struct {
	unsigned int __state;
	int pid;
	int tgid;
	struct task_struct *real_parent;
} CORE;

struct task_struct___old {
	long state;
} CORE;

static struct task_struct *(*bpf_get_current_task_btf)(void) = (void *)158;

SEC("kprobe/do_nanosleep") int task_fields(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return t->pid + t->tgid + t->real_parent->tgid;
}

SEC("kprobe/do_nanosleep") int state_either(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	if (field_info(((struct task_struct___old *)t)->state, FIELD_EXISTS))
		return ((struct task_struct___old *)t)->state;
	return t->__state;
}

SEC("kprobe/do_nanosleep") int state_old_only(void *ctx)
{
	struct task_struct___old *t = (void *)bpf_get_current_task_btf();

	return t->state;
}

char LICENSE[] SEC("license") = "GPL";
