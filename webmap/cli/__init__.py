"""The ``lagesbild`` command line.

Each area has its own module in this package exposing a :mod:`click` command or group
named ``cli``; :data:`COMMANDS` maps each command name to its module, which is imported
only when the command runs (or ``--help`` lists them), so a command starts without loading
the web, map and PDF libraries of the others. Commands print human-readable text by
default and exactly one JSON object on stdout with ``--json``; progress goes to stderr.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from geo.errors import LagesbildError

#: Command name -> module (relative to this package) whose ``cli`` object implements it.
COMMANDS: dict[str, str] = {
    "db": "db",
    "serve": "serve",
    "user": "users",
    "analyse": "analyse",
    "report": "report",
    "evaluate": "evaluate",
    "patrol": "patrol",
    "boundaries": "boundaries",
    "demo": "demo",
    "retention": "retention",
    "apikeys": "apikeys",
    "ingest": "ingest",
    "quarantine": "quarantine",
    "hotspots": "hotspots",
    "mail": "mail",
}


class _MissingDataNotes(logging.Filter):
    """Notes about optional place-name data that is not installed: only ``serve`` (the
    command that keeps running, after ``make run`` printed the demo password) shows them,
    each once and in one short line."""

    def __init__(self) -> None:
        super().__init__()
        self.show = False
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if " saknas" not in message:
            return True
        what = message.removeprefix("gazetteer: ").split(" saknas", 1)[0]
        if not self.show or what in self.seen:
            return False
        self.seen.add(what)
        record.msg, record.args = "%s saknas (valfritt; inbyggda ortnamn används)", (what,)
        return True


_NOTES = _MissingDataNotes()
logging.getLogger("geo.gazetteer").addFilter(_NOTES)


class _Group(click.Group):
    """Loads each command from :data:`COMMANDS` on first use and turns
    :class:`LagesbildError` into a clean message and exit code 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        command = importlib.import_module(f"{__name__}.{COMMANDS[cmd_name]}").cli
        if not isinstance(command, click.Command) or command.name != cmd_name:
            raise TypeError(f"{COMMANDS[cmd_name]}.cli is not the command {cmd_name!r}")
        self.add_command(command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, cmd, rest = super().resolve_command(ctx, args)
        _NOTES.show = name == "serve"
        return name, cmd, rest

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except LagesbildError as exc:
            click.echo(f"fel: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lagesbild")
def main() -> None:
    """lagesbild: lägesbild för kommunalt trygghetsarbete."""
