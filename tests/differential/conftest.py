"""The differential tests need what the privileged ones need: root, a private bpffs, netns."""

from privileged.conftest import _need_root, bpffs, env, netns, other_bpffs  # noqa: F401
