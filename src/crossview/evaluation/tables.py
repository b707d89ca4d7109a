"""Result tables: the protocol's metrics as Markdown or HTML, and the published numbers to compare.

A :class:`Table` is plain data (headers, rows of text cells, notes); the benchmark builds its
tables (methods against metrics, and each method's variants such as CorrNet's loss combinations)
once and renders them both ways, so ``results.md`` and ``report.html`` always show the same
numbers. Columns are named by the metric names of :data:`.scores.SCORES`.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

#: metric key -> (column title, format of one number)
METRIC_COLUMNS: dict[str, tuple[str, str]] = {
    "sum_corr": ("sum corr", "{:.2f}"),
    "canonical_sum_corr": ("canonical sum corr", "{:.2f}"),
    "transfer_x_to_y": ("transfer X→Y %", "{:.2f}"),
    "transfer_y_to_x": ("transfer Y→X %", "{:.2f}"),
    "mse_y_from_x": ("MSE Y from X", "{:.4f}"),
    "mse_x_from_y": ("MSE X from Y", "{:.4f}"),
    "fit_seconds": ("fit s", "{:.1f}"),
    "samples_per_second": ("train samples/s", "{:.0f}"),
    "peak_mb": ("peak MB", "{:.0f}"),
    "n_parameters": ("parameters", "{:.0f}"),
}

#: the columns of a table of variants (e.g. CorrNet's loss combinations)
VARIANT_METRICS = ("sum_corr", "transfer_x_to_y", "transfer_y_to_x")

MISSING = "—"


@dataclass(frozen=True)
class Published:
    """One published result: who reported it, for which architecture, and the numbers."""

    source: str
    label: str
    metrics: dict[str, float]


_CORRNET_PAPER = (
    'Chandar, Khapra, Larochelle and Ravindran 2016, "Correlational Neural '
    'Networks", Neural Computation 28(2): MNIST left/right halves'
)
_KERAS = "a well-known Keras reproduction of Deep CorrNet (numbers as quoted in docs/protocols.md)"

#: protocol name -> method -> published results (shown only for that protocol)
PUBLISHED: dict[str, dict[str, list[Published]]] = {
    "mnist-halves": {
        "cca": [Published(_CORRNET_PAPER, "CCA", {"sum_corr": 17.05})],
        "kcca": [
            Published(
                _CORRNET_PAPER,
                "KCCA",
                {"sum_corr": 30.58, "transfer_x_to_y": 68.1, "transfer_y_to_x": 75.7},
            )
        ],
        "mae": [
            Published(
                _CORRNET_PAPER,
                "MAE",
                {"sum_corr": 24.40, "transfer_x_to_y": 64.14, "transfer_y_to_x": 68.88},
            )
        ],
        "dcca": [Published(_CORRNET_PAPER, "DCCA-500-500-50", {"sum_corr": 33.77})],
        "corrnet": [
            Published(
                _CORRNET_PAPER,
                "CorrNet-500-300-50",
                {"sum_corr": 45.63, "transfer_x_to_y": 80.46, "transfer_y_to_x": 80.47},
            ),
            Published(
                _KERAS,
                "CorrNet (Keras)",
                {"sum_corr": 49.13, "transfer_x_to_y": 88.79, "transfer_y_to_x": 89.64},
            ),
        ],
    },
}


@dataclass
class Table:
    """A table of text cells with a title and footnotes, rendered as Markdown or HTML."""

    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: indices of rows that quote published numbers (shown in italics in HTML)
    quoted: set[int] = field(default_factory=set)

    def to_markdown(self) -> str:
        """Render as a Markdown section: title, pipe table, then the notes."""
        lines = [
            f"### {self.title}",
            "",
            "| " + " | ".join(self.headers) + " |",
            "|" + "---|" * len(self.headers),
        ]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += self.notes
        return "\n".join(lines)

    def to_html(self) -> str:
        """Render as an HTML section: a heading, a <table> and the notes as a list."""
        esc = html.escape
        head = "".join(f"<th>{esc(h)}</th>" for h in self.headers)
        body = []
        for i, row in enumerate(self.rows):
            cls = ' class="published"' if i in self.quoted else ""
            cells = "".join(f"<td>{esc(c)}</td>" for c in row)
            body.append(f"<tr{cls}>{cells}</tr>")
        notes = "".join(f"<li>{esc(n)}</li>" for n in self.notes)
        return (
            f"<h3>{esc(self.title)}</h3>\n<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
            + "\n".join(body)
            + "\n</tbody>\n</table>\n"
            + (f'<ul class="notes">{notes}</ul>\n' if notes else "")
        )


def format_cell(stats: dict | None, fmt: str) -> str:
    """Format ``{"mean", "std", "n"}`` as ``mean ± std`` (just ``mean`` for a single run)."""
    if not stats or stats.get("mean") is None or not math.isfinite(stats["mean"]):
        return MISSING
    text = fmt.format(stats["mean"])
    if stats.get("n", 1) > 1 and not (stats["std"] == 0 and fmt == "{:.0f}"):  # counts
        text += " ± " + fmt.format(stats["std"])
    return text


def summarise_rows(rows: list[dict], metrics=tuple(METRIC_COLUMNS)) -> dict[str, dict]:
    """Mean, standard deviation (ddof=0) and count of each metric over rows of one method."""
    out: dict[str, dict] = {}
    for key in metrics:
        vals = [
            float(r[key])
            for r in rows
            if isinstance(r.get(key), (int, float)) and math.isfinite(float(r[key]))
        ]
        if vals:
            mean = sum(vals) / len(vals)
            std = math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals))
            out[key] = {"mean": mean, "std": std, "n": len(vals)}
    return out


def methods_table(
    summary: dict[str, dict], protocol: str, title: str | None = None, metrics=tuple(METRIC_COLUMNS)
) -> Table:
    """Methods against metrics (mean ± std over seeds), published numbers under each method.

    ``summary`` maps a method's name to ``{"method": registry name, "n_seeds": k,
    "metrics": {metric: {"mean", "std", "n"}}}``. Published rows appear only for ``protocol``
    names that have entries in :data:`PUBLISHED`.
    """
    table = Table(
        title or "Methods on the test split (mean ± std over seeds)",
        ["method", *(METRIC_COLUMNS[m][0] for m in metrics), "seeds"],
    )
    sources: list[str] = []
    published = PUBLISHED.get(protocol, {})
    for name, entry in summary.items():
        stats = entry["metrics"]
        table.rows.append(
            [
                name,
                *(format_cell(stats.get(m), METRIC_COLUMNS[m][1]) for m in metrics),
                str(entry["n_seeds"]),
            ]
        )
        for pub in published.get(entry["method"], []) if name == entry["method"] else []:
            if pub.source not in sources:
                sources.append(pub.source)
            ref = sources.index(pub.source) + 1
            cells = [
                METRIC_COLUMNS[m][1].format(pub.metrics[m]) if m in pub.metrics else MISSING
                for m in metrics
            ]
            table.quoted.add(len(table.rows))
            table.rows.append([f"↳ published: {pub.label} [{ref}]", *cells, MISSING])
    table.notes += [f"[{i}] {s}" for i, s in enumerate(sources, 1)]
    return table


def variants_table(
    summary: dict[str, dict], title: str, column: str = "variant", note: str | None = None
) -> Table:
    """Variants of one method against sum correlation and transfer accuracy both ways.

    ``summary`` is as for :func:`methods_table`, each entry with its ``"variant"``; ``column``
    heads the variants' column and ``note`` (what the variants mean) goes under the table.
    """
    table = Table(title, [column, *(METRIC_COLUMNS[m][0] for m in VARIANT_METRICS), "seeds"])
    for entry in summary.values():
        stats = entry["metrics"]
        table.rows.append(
            [
                entry["variant"],
                *(format_cell(stats.get(m), METRIC_COLUMNS[m][1]) for m in VARIANT_METRICS),
                str(entry["n_seeds"]),
            ]
        )
    if note:
        table.notes.append(note)
    return table


#: the columns of :func:`format_table`
SHORT_METRICS = (
    "sum_corr",
    "canonical_sum_corr",
    "transfer_x_to_y",
    "transfer_y_to_x",
    "mse_y_from_x",
    "mse_x_from_y",
    "fit_seconds",
)


def format_table(metrics: dict[str, dict]) -> str:
    """A Markdown table: one row per method, the protocol's metrics (one run each) as columns."""
    lines = [
        "| method | " + " | ".join(METRIC_COLUMNS[m][0] for m in SHORT_METRICS) + " |",
        "|---|" + "---|" * len(SHORT_METRICS),
    ]
    for name, m in metrics.items():
        cells = [METRIC_COLUMNS[k][1].format(m[k]) if k in m else MISSING for k in SHORT_METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
