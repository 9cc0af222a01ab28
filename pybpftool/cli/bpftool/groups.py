"""groups: the click group of `pybpftool` and its command groups, taking words as bpftool does.

bpftool's cmd_select() runs the first command of its table that the word is a prefix of, so
`pybpftool obj sh` is `object show`; and each level has a `help` command (`pybpftool help`,
`pybpftool object help`) printing what `--help` prints.
"""

from __future__ import annotations

from typing import Any

import click


@click.command("help")
@click.pass_context
def help_command(ctx: click.Context) -> None:
    """Show this help."""
    assert ctx.parent is not None  # help is only ever a group's subcommand
    click.echo(ctx.parent.get_help())


class PrefixGroup(click.Group):
    """PrefixGroup: a click group whose commands may be given by any prefix (the first one
    declared wins, as in bpftool's tables); an exact name always wins, hidden commands need
    their whole name."""

    group_class = type  # its subgroups (`@cli.group()`) are PrefixGroups too

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_command(help_command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        exact = super().get_command(ctx, cmd_name)
        if exact is not None or not cmd_name:
            return exact
        return next(
            (
                cmd
                for name, cmd in self.commands.items()
                if not cmd.hidden and name.startswith(cmd_name)
            ),
            None,
        )

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, cmd, rest = super().resolve_command(ctx, args)
        return (cmd.name if cmd is not None else name), cmd, rest  # usage lines say `object`
