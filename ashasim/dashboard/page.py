"""The one page, in its two forms: live (served, polls the server) and a self-contained report.

Both forms are the same HTML, CSS and script (``assets/``) fed the same data, so the static report
shows exactly what the live page showed at that moment. The report inlines Plotly's JavaScript
bundle (from the ``plotly`` package, the ``dashboard`` extra) and the data, so it opens offline;
the live page loads the bundle from the server. Data is embedded as JSON with ``<``, ``>`` and
``&`` escaped, so nothing written in a run directory (a config string, an error message) can close
the script element and run as code.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["DashboardUnavailableError", "embed_json", "plotly_bundle", "render_page"]

ASSETS = Path(__file__).parent / "assets"
EXTRA = "pip install 'ashasim[dashboard]'"


class DashboardUnavailableError(RuntimeError):
    """The dashboard's optional dependency (Plotly's bundled JavaScript) is not installed."""


@cache
def plotly_bundle() -> bytes:
    """plotly.min.js as shipped inside the ``plotly`` package (found without importing it)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise DashboardUnavailableError(f"the dashboard needs Plotly's JavaScript: {EXTRA}")
    bundle = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    if not bundle.is_file():
        raise DashboardUnavailableError(
            f"no plotly.min.js in the installed plotly ({bundle}): {EXTRA}"
        )
    return bundle.read_bytes()


def embed_json(data: Any) -> str:
    """JSON safe inside a <script> element: no "</script>", no "<!--" can be formed."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(runs: list[dict[str, Any]] | None, *, title: str) -> str:
    """The page: live (*runs* None: it fetches them) or a report of *runs* (their views)."""
    if runs is None:
        data: dict[str, Any] = {"live": True}
        plotly = '<script src="plotly.min.js"></script>'
    else:
        written = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        data = {"live": False, "runs": runs, "written": written}
        plotly = "<script>" + plotly_bundle().decode("utf-8") + "</script>"
    template = (ASSETS / "page.html").read_text(encoding="utf-8")
    pieces = {
        "__TITLE__": _escape(title),
        "__STYLE__": (ASSETS / "page.css").read_text(encoding="utf-8"),
        "__DATA__": embed_json(data),
        "__SCRIPT__": (ASSETS / "page.js").read_text(encoding="utf-8"),
        "__PLOTLY__": plotly,
    }
    return _fill(template, pieces)


def _fill(template: str, pieces: dict[str, str]) -> str:
    """Replace each placeholder in one pass: text put in by one piece is never searched again
    (the data may well contain "__SCRIPT__")."""
    out, position = [], 0
    while True:
        found = [(template.find(key, position), key) for key in pieces]
        found = [(index, key) for index, key in found if index >= 0]
        if not found:
            out.append(template[position:])
            return "".join(out)
        index, key = min(found)
        out.append(template[position:index])
        out.append(pieces[key])
        position = index + len(key)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
