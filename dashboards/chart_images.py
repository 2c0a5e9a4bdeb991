"""Dashboard charts as PNG images: plotly's static export (kaleido with Debian's Chromium), or a matplotlib drawing.

``render_png`` draws a plotly figure dict with kaleido 1.x (``settings.ACADEMY_CHROME_PATH``,
else what choreographer finds, e.g. /usr/bin/chromium). When kaleido cannot run (no
browser), it falls back to a server-side drawing with matplotlib and says so
(``ChartImage.note``).
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache




logger = logging.getLogger(__name__)


# --- Charts as PNG --------------------------------------------------------------------

PNG_WIDTH, PNG_HEIGHT = 1000, 560
KALEIDO, MATPLOTLIB = "kaleido", "matplotlib"


@dataclass(frozen=True)
class ChartImage:
    """A chart drawn as PNG: ``content`` (bytes), ``renderer`` ("kaleido" or "matplotlib") and ``note``.

    ``note`` is empty for kaleido; for the fallback it says that plotly's static export
    could not run here and why.
    """

    content: bytes
    renderer: str
    note: str = ""


def _chrome_path() -> str:
    return getattr(settings, "ACADEMY_CHROME_PATH", "") or os.environ.get("BROWSER_PATH", "")


_KALEIDO_LOCK = threading.Lock()


def _render_kaleido(figure: dict, width: int, height: int) -> bytes:
    """Return a PNG from kaleido's process-wide sync server (one headless browser kept open).

    The first image starts the browser (about 3 seconds here); later ones take about 0.2
    seconds. kaleido stops the browser when the process exits. A lock keeps one render at
    a time per process. If the server fails, it is stopped so the next call starts afresh.
    """
    import kaleido  # imported on first use: it brings up a browser session

    for name in ("kaleido", "choreographer", "logistro"):  # their INFO logs are per-tab chatter
        logging.getLogger(name).setLevel(logging.WARNING)
    path = _chrome_path()
    if path and not os.environ.get("BROWSER_PATH"):
        os.environ["BROWSER_PATH"] = path  # kaleido 1.x reads it to find the browser
    with _KALEIDO_LOCK:
        try:
            kaleido.start_sync_server(silence_warnings=True)
            return kaleido.calc_fig_sync(figure, opts={"format": "png", "width": width, "height": height})
        except Exception:
            kaleido.stop_sync_server(silence_warnings=True)
            raise


def _legend_lines(figure: dict) -> int:
    """Return how many text lines the figure's legend takes above the plot (0 without one)."""
    layout = figure.get("layout") or {}
    names = [str(t.get("name")) for t in figure.get("data") or [] if t.get("name") and t.get("showlegend", True)]
    if not names or layout.get("showlegend") is False:
        return 0
    heights = [name.count("<br>") + 1 for name in names]
    # A horizontal legend puts short entries side by side; long ones each take their own row.
    return max(heights) if sum(len(n) for n in names) <= 90 else sum(heights)


def for_print(figure: dict) -> dict:
    """Return a copy of ``figure`` laid out for a fixed-size image: the title (and its subtitle,
    the chart's note) at the top, then the legend, then the plot, each with its own room."""
    figure = json.loads(json.dumps(figure, default=str))
    layout = figure.setdefault("layout", {})
    title = layout.get("title")
    if isinstance(title, dict) and title.get("text"):
        top = 50 + (24 if (title.get("subtitle") or {}).get("text") else 0)
        layout["title"] = {**title, "y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 14}}
        margin = dict(layout.get("margin") or {})
        margin["t"] = max(int(margin.get("t", 60)), top + 24 * _legend_lines(figure) + 10)
        layout["margin"] = margin
    return figure


def render_png(figure: dict, *, width: int = PNG_WIDTH, height: int = PNG_HEIGHT) -> ChartImage:
    """Return ``figure`` (a plotly figure dict) drawn as a PNG ``ChartImage``.

    ``settings.ACADEMY_CHART_RENDERER``: "auto" (default: kaleido, then the matplotlib
    fallback if kaleido fails), "kaleido" (errors propagate) or "matplotlib". Results are
    cached for an hour by the figure's content, since kaleido starts a browser for each
    image (about two seconds here).
    """
    mode = getattr(settings, "ACADEMY_CHART_RENDERER", "auto")
    figure = for_print(figure)
    digest = hashlib.sha256(json.dumps(figure, sort_keys=True, default=str).encode()).hexdigest()
    key = f"chart-png:{mode}:{width}x{height}:{digest}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    if mode == MATPLOTLIB:
        image = ChartImage(render_matplotlib(figure, width, height), MATPLOTLIB,
                           "Drawn on the server with matplotlib (ACADEMY_CHART_RENDERER is matplotlib).")
    else:
        try:
            image = ChartImage(_render_kaleido(figure, width, height), KALEIDO)
        except Exception as exc:  # no browser, a crashed browser, a timeout: the fallback still draws
            if mode == KALEIDO:
                raise
            logger.warning("kaleido could not draw a chart, using matplotlib: %s", exc)
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            image = ChartImage(
                render_matplotlib(figure, width, height),
                MATPLOTLIB,
                f"plotly's static export (kaleido) could not run here ({reason}); "
                "drawn on the server with matplotlib instead.",
            )
    cache.set(key, image, 60 * 60)
    return image


def _text(value: Any) -> str:
    """Return a plotly title or label as plain text: plotly's ``<br>`` line breaks become newlines."""
    if isinstance(value, dict):
        value = value.get("text")
    return str(value or "").replace("<br>", "\n")


def render_matplotlib(figure: dict, width: int = PNG_WIDTH, height: int = PNG_HEIGHT) -> bytes:
    """Return a PNG of the bar and scatter traces of a plotly figure dict, drawn with matplotlib.

    Handles what the dashboard's charts use: bar traces (stacked when ``barmode`` is
    "stack"), scatter markers with asymmetric ``error_y`` arrays, and lines; titles, axis
    titles, the y range and legend. Other trace types are skipped.
    """
    import matplotlib  # imported on first use (the fallback only), so the backend can be set first

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # after matplotlib.use("Agg")

    layout = figure.get("layout") or {}
    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    ax = fig.add_subplot()
    traces = [dict(t) for t in figure.get("data") or [] if t.get("type") in ("bar", "scatter")]
    horizontal = any(t.get("type") == "bar" and t.get("orientation") == "h" for t in traces)

    def cats(trace):  # the category axis: y for horizontal bars, else x
        return trace.get("y" if horizontal else "x") or []

    def nums(trace):
        return trace.get("x" if horizontal else "y") or []

    categories: list[str] = []
    for trace in traces:
        trace["name"] = _text(trace.get("name")) or None
        for category in cats(trace):
            if str(category) not in categories:
                categories.append(str(category))
    position = {name: index for index, name in enumerate(categories)}
    stacked = layout.get("barmode") == "stack"
    bottoms = [0.0] * len(categories)
    bar_traces = [t for t in traces if t.get("type") == "bar"]
    bar_width = 0.8 if stacked or len(bar_traces) <= 1 else 0.8 / len(bar_traces)
    draw = ax.barh if horizontal else ax.bar
    for index, trace in enumerate(bar_traces):
        xs = [position[str(x)] for x in cats(trace)]
        ys = [float(y or 0) for y in nums(trace)]
        colour = (trace.get("marker") or {}).get("color")
        colour = colour if isinstance(colour, str) else None
        if stacked:
            base = [bottoms[x] for x in xs]
            if horizontal:
                ax.barh(xs, ys, left=base, color=colour, label=trace.get("name"), height=bar_width)
            else:
                ax.bar(xs, ys, bottom=base, color=colour, label=trace.get("name"), width=bar_width)
            for x, y in zip(xs, ys):
                bottoms[x] += y
        else:
            offset = (index - (len(bar_traces) - 1) / 2) * bar_width if len(bar_traces) > 1 else 0
            draw([x + offset for x in xs], ys, bar_width, color=colour, label=trace.get("name"))
    for trace in traces:
        if trace.get("type") != "scatter" or horizontal:
            continue
        xs = [position[str(x)] for x in trace.get("x") or []]
        ys = [float(y) if y is not None else float("nan") for y in trace.get("y") or []]
        mode = trace.get("mode") or "markers"
        colour = (trace.get("marker") or {}).get("color") or (trace.get("line") or {}).get("color")
        colour = colour if isinstance(colour, str) else None
        if "lines" in mode:
            ax.plot(xs, ys, linestyle="--", color=colour, label=trace.get("name"))
        else:
            error = trace.get("error_y") or {}
            if error.get("array") is not None:
                yerr = [error.get("arrayminus") or error["array"], error["array"]]
                ax.errorbar(xs, ys, yerr=yerr, fmt="o", color=colour, capsize=4, label=trace.get("name"))
            else:
                ax.plot(xs, ys, "_" if "line" in str((trace.get("marker") or {}).get("symbol")) else "o",
                        markersize=14, color=colour, label=trace.get("name"), linestyle="none")
    if horizontal:
        ax.set_yticks(range(len(categories)))
        ax.set_yticklabels([_text(c) for c in categories], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(_text(layout.get("title")), fontsize=12)
        ax.set_xlabel(_text((layout.get("xaxis") or {}).get("title")))
        if any(t.get("name") for t in traces) and layout.get("showlegend", True):
            ax.legend(fontsize=8, loc="best")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    ax.set_xticks(range(len(categories)))
    ax.set_xticklabels([_text(c) for c in categories], rotation=20, ha="right", fontsize=8)
    ax.set_title(_text(layout.get("title")), fontsize=12)
    ax.set_xlabel(_text((layout.get("xaxis") or {}).get("title")))
    yaxis = layout.get("yaxis") or {}
    ax.set_ylabel(_text(yaxis.get("title")))
    if yaxis.get("range"):
        ax.set_ylim(*yaxis["range"])
    elif yaxis.get("rangemode") == "tozero":
        ax.set_ylim(bottom=0)
    note = _text((layout.get("title") or {}).get("subtitle")) if isinstance(layout.get("title"), dict) else ""
    for text in [note] + [a.get("text", "") for a in layout.get("annotations") or []]:
        if text:
            ax.text(0, 1.01, text, transform=ax.transAxes, fontsize=9, va="bottom")
    if any(t.get("name") for t in traces) and layout.get("showlegend", True):
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
