"""The shape every outgoing message shares: Swedish paragraphs, links, a signature, as
plain text and as HTML (no Flask)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

#: Last line of every message.
SIGNATURE = "Det här meddelandet skickades automatiskt; svara inte på det."


def links(base_url: str, **paths: str) -> dict[str, str]:
    """``{label: absolute url}`` of ``{label: path}`` on the installation's public address."""
    base = base_url.rstrip("/")
    return {name: base + path for name, path in paths.items()}


def compose(
    subject: str, lines: Sequence[str], link_map: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """Plain text and HTML of a message of ``lines`` and ``{label: url}`` links.

    Every piece of text is escaped in the HTML part.
    """
    link_map = dict(link_map or {})
    text = "\n\n".join([*lines, *(f"{label}: {url}" for label, url in link_map.items()), SIGNATURE])
    parts = [f"<p>{html.escape(line)}</p>" for line in lines]
    parts += [
        f'<p><a href="{html.escape(url, quote=True)}">{html.escape(label)}</a></p>'
        for label, url in link_map.items()
    ]
    parts.append(f"<p><small>{html.escape(SIGNATURE)}</small></p>")
    body_html = (
        '<!doctype html><html lang="sv"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head><body>{''.join(parts)}</body></html>"
    )
    return text, body_html
