"""The ``lagesbild`` command line.

Each area has its own module in this package exposing a :mod:`click` command or group
named ``cli``; :data:`COMMAND_MODULES` lists them. Commands print human-readable text by
default and exactly one JSON object on stdout with ``--json``; progress goes to stderr.
"""

from __future__ import annotations

import importlib
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
)


class _Group(click.Group):
    """Turns :class:`LagesbildError` into a clean message and exit code 2."""

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
