"""``lagesbild serve``: the production WSGI server (waitress)."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def cli(host: str, port: int, threads: int) -> None:
    """Starta webbtjänsten (waitress)."""
    from waitress import serve

    from webmap.app import create_app
    from webmap.config import load_config

    app = create_app(load_config())
    click.echo(f"lagesbild på http://{host}:{port}/", err=True)
    serve(app, host=host, port=port, threads=threads, ident="lagesbild")
