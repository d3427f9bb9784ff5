"""The report's chart: stacked bars per hour (a day) or per day (a week, a month), drawn as
SVG on the server, so the page needs no charting library and no script."""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH, HEIGHT = 960, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 56
COLOURS = {"answered": "#1a7f37", "abandoned": "#b3261e", "other": "#8c959f"}


def _ticks(top: int) -> list[int]:
    """Up to five round values from 0 to at least `top`."""
    step = 1
    for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        step = s
        if top / s <= 5:
            break
    return list(range(0, top + step, step)) if top else [0, 1]


def chart_svg(rows: list[dict[str, Any]], *, title: str, labels: dict[str, str]) -> str:
    """The series as an accessible SVG: answered, abandoned and the rest stacked per bucket."""
    n = max(len(rows), 1)
    ticks = _ticks(max((r["offered"] for r in rows), default=0))
    top = ticks[-1] or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / n
    bar = max(2.0, slot * 0.7)

    def y(v: float) -> float:
        return TOP + plot_h - plot_h * v / top

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'width="100%" role="img" aria-labelledby="chart-title chart-desc" '
           f'data-testid="report-chart">',
           f'<title id="chart-title">{escape(title)}</title>']
    total = {k: sum(r[k] for r in rows) for k in ("offered", "answered", "abandoned")}
    out.append(f'<desc id="chart-desc">{escape(labels["offered"])} {total["offered"]}, '
               f'{escape(labels["answered"])} {total["answered"]}, '
               f'{escape(labels["abandoned"])} {total["abandoned"]}</desc>')
    for v in ticks:
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                   f'stroke="#d0d7de" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" '
                   f'font-size="12" fill="#1b1f24">{v}</text>')
    every = 1 if n <= 25 else 2 if n <= 31 else max(1, n // 16)
    for i, r in enumerate(rows):
        x = LEFT + i * slot + (slot - bar) / 2
        other = max(0, r["offered"] - r["answered"] - r["abandoned"])
        base = 0
        for key, value in (("answered", r["answered"]), ("abandoned", r["abandoned"]),
                           ("other", other)):
            if value:
                out.append(f'<rect x="{x:.1f}" y="{y(base + value):.1f}" width="{bar:.1f}" '
                           f'height="{y(base) - y(base + value):.1f}" fill="{COLOURS[key]}">'
                           f'<title>{escape(r["label"])}: {escape(labels[key])} {value}'
                           f'</title></rect>')
                base += value
        if i % every == 0:
            cx = LEFT + i * slot + slot / 2
            out.append(f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                       f'font-size="12" fill="#1b1f24">{escape(r["label"])}</text>')
    lx = LEFT
    for key in ("answered", "abandoned", "other"):
        out.append(f'<rect x="{lx}" y="{HEIGHT - 22}" width="14" height="14" '
                   f'fill="{COLOURS[key]}"/>')
        out.append(f'<text x="{lx + 20}" y="{HEIGHT - 10}" font-size="13" fill="#1b1f24">'
                   f'{escape(labels[key])}</text>')
        lx += 40 + 9 * len(labels[key])
    out.append("</svg>")
    return "".join(out)
