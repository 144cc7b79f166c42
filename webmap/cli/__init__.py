"""The ``lagesbild`` command line.

Each area has its own module in this package exposing a :mod:`click` command or group
named ``cli``; :data:`COMMAND_MODULES` lists them. Commands print human-readable text by
default and exactly one JSON object on stdout with ``--json``; progress goes to stderr.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from geo.errors import LagesbildError

#: Modules (relative to this package) that contribute commands.
COMMAND_MODULES: tuple[str, ...] = (
    "db",
    "serve",
    "users",
    "analyse",
    "report",
    "evaluate",
    "patrol",
    "boundaries",
    "demo",
    "retention",
    "apikeys",
    "ingest",
    "quarantine",
    "hotspots",
    "mail",
)


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
    """Turns :class:`LagesbildError` into a clean message and exit code 2."""

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


for _name in COMMAND_MODULES:
    _module = importlib.import_module(f"{__name__}.{_name}")
    main.add_command(_module.cli)
