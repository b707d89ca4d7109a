"""Write the benchmark's ``report.html``: one static page with the tables and every figure.

The page has inline CSS and no scripts; figures are referenced by paths relative to the page,
so the folder can be moved, zipped or opened offline as a whole. The page is written atomically.
"""

from __future__ import annotations

import html
import os
import time
from pathlib import Path

from ..fileio import write_text

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1150px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
tr.published td { font-style: italic; color: #666; background: #fafafa; }
ul.notes { font-size: 0.85em; color: #555; }
figure { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; }
.meta { font-size: 0.85em; color: #555; }
"""

#: figure file suffix -> caption
_CAPTIONS = {
    "right-from-left": "right halves generated from left halves (top: truth)",
    "left-from-right": "left halves generated from right halves (top: truth)",
    "training": "every loss term per epoch (train and validation)",
    "codes": "2-D PCA map of the test codes of each view, coloured by class",
    "dimension-correlations": "per-dimension test correlation of the codes, sorted",
}


def _caption(path: Path) -> str:
    for suffix, text in _CAPTIONS.items():
        if path.stem.endswith(suffix):
            return text
    return path.stem


def _figure(path: Path, base: Path) -> str:
    rel = Path(os.path.relpath(path, base)).as_posix()
    cap = html.escape(_caption(path))
    return (
        f'<figure><a href="{html.escape(rel)}"><img src="{html.escape(rel)}" '
        f'alt="{cap}" loading="lazy"></a><figcaption>{cap}</figcaption></figure>'
    )


def write_report(
    path: Path, protocol, tables, figures: dict[str, list[Path]], header: dict
) -> Path:
    """Write the page: protocol, tables, figures by method, other figures in the folder, machine.

    ``figures`` maps a section title (a method) to its PNG files. PNG files under the report's
    ``figures/`` folder that no section names (left by earlier runs of other methods) are listed
    at the end, so the page shows everything the folder holds.
    """
    path = Path(path)
    base = path.parent
    esc = html.escape
    parts = [
        f"<h1>crossview benchmark: {esc(protocol.name)}</h1>",
        f"<p>{esc(protocol.description)}</p>",
        f'<p class="meta">methods: {esc(", ".join(header.get("methods", [])))}; seeds: '
        f"{esc(', '.join(map(str, header.get('seeds', []))))}; written "
        f"{esc(header.get('created') or time.strftime('%Y-%m-%d %H:%M'))}. Numbers: "
        '<a href="results.csv">results.csv</a>, <a href="results.json">results.json</a>, '
        '<a href="results.md">results.md</a>.</p>',
        "<h2>Results</h2>",
        *(t.to_html() for t in tables),
    ]
    shown: set[Path] = set()
    sections = [(title, [p for p in paths if p.is_file()]) for title, paths in figures.items()]
    if any(paths for _, paths in sections):
        parts.append("<h2>Figures</h2>")
        parts.append('<p class="meta">Made from the model of the first seed.</p>')
    for title, paths in sections:
        if paths:
            parts.append(f"<h3>{esc(title)}</h3>")
            parts += [_figure(p, base) for p in paths]
            shown.update(p.resolve() for p in paths)
    others = sorted(p for p in (base / "figures").glob("*.png") if p.resolve() not in shown)
    if others:
        parts.append("<h2>Other figures in this folder</h2>")
        parts.append('<p class="meta">From earlier runs of methods not in this report.</p>')
        parts += [_figure(p, base) for p in others]
    machine = header.get("machine", {})
    rows = "".join(
        f"<tr><td>{esc(str(k))}</td><td>{esc(str(v))}</td></tr>" for k, v in machine.items()
    )
    parts += ["<h2>Machine</h2>", f"<table><tbody>{rows}</tbody></table>"]
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>crossview benchmark: {esc(protocol.name)}</title>\n<style>{_CSS}</style>\n"
        "</head>\n<body>\n" + "\n".join(parts) + "\n</body>\n</html>\n"
    )
    return write_text(path, page)
