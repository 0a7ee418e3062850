"""Server-side charts of the family bill (R-FAM-07), drawn by pygal as SVG: no script, no
external link (the page embeds them as images under a strict CSP)."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping

import pygal
from pygal.style import Style

# pygal adds a legacy ``sys.meta_path`` finder for its ``pygal.maps`` plugins (not used here) that
# lacks ``find_spec``: every later import would warn (an ImportWarning is an error in the tests).
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

STYLE = Style(
    background="white",
    plot_background="white",
    font_family="'WenQuanYi Zen Hei', 'Noto Sans CJK SC', sans-serif",
    colors=("#0f766e", "#2563eb", "#d97706", "#7c3aed", "#dc2626", "#64748b"),
)


def _config() -> dict[str, object]:
    return {"style": STYLE, "js": [], "disable_xml_declaration": True, "width": 480, "height": 320}


SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


def _svg(chart: pygal.graph.graph.Graph) -> str:
    """The rendered SVG without pygal's inline configuration script (an image runs no script
    anyway; the page's CSP allows none)."""
    return SCRIPT.sub("", str(chart.render(is_unicode=True)))


def pie(title: str, values: Mapping[str, int]) -> str:
    """A pie of fen values, labelled in yuan."""
    chart = pygal.Pie(title=title, inner_radius=0.45, **_config())
    for label, fen in values.items():
        chart.add(label, round(fen / 100, 2))
    return _svg(chart)


def bars(title: str, values: Mapping[str, int]) -> str:
    """Horizontal bars of fen values, in yuan."""
    chart = pygal.HorizontalBar(title=title, **_config())
    for label, fen in values.items():
        chart.add(label, round(fen / 100, 2))
    return _svg(chart)
