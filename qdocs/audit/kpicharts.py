"""The quality figures (:mod:`.kpi`) drawn as SVG and PNG charts with matplotlib.

Three charts: first-pass yield per month (bars), nonconformances by cause (a Pareto
chart: bars sorted from the largest, the cumulative share as a line), and customer
reply times (a histogram with the A1 limit marked).  Labels are Chinese and English when a
CJK font is installed (the Noto CJK faces the PDFs use), English only otherwise: a chart
is never refused for want of a font.  matplotlib is imported only here, inside
:func:`draw_chart`: loading it costs about half a second, which no other command pays.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ..errors import EnvironmentFailure

#: the CJK families tried, in order (the simplified-Chinese faces first)
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei",
                "Source Han Sans SC")
NAMES = ("first-pass-yield", "nonconformance-causes", "reply-times")
_CAUSES_SHOWN = 12
_CAUSE_LENGTH = 24


def write_charts(figures: dict[str, Any], folder: Path, formats: tuple[str, ...]) -> list[Path]:
    """Each chart in each of ``formats`` ("svg", "png") in ``folder``; returns the files written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise EnvironmentFailure(f"cannot create {folder}: {error.strerror}") from None
    written = []
    for name in NAMES:
        for extension in formats:
            path = folder / f"{name}.{extension}"
            content = draw_chart(figures, name, extension)
            try:
                path.write_bytes(content)
            except OSError as error:
                raise EnvironmentFailure(f"cannot write {path}: {error.strerror}") from None
            written.append(path)
    return written


def draw_chart(figures: dict[str, Any], name: str, extension: str) -> bytes:
    """One chart (``name`` of :data:`NAMES`) as SVG or PNG bytes."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, pyplot

    family = _cjk_family(font_manager)
    matplotlib.rcParams["font.family"] = [family] if family else ["DejaVu Sans"]
    matplotlib.rcParams["svg.hashsalt"] = "qdocs"  # the same figures draw the same file
    matplotlib.rcParams["axes.unicode_minus"] = False
    draw = dict(zip(NAMES, (_yield_chart, _pareto_chart, _reply_chart)))[name]
    figure = pyplot.figure(figsize=(8, 4.5), dpi=100)
    try:
        with warnings.catch_warnings():
            # without a CJK font, Chinese text typed in the records (a cause) shows as empty
            # boxes: the chart is still drawn, and says nothing false
            warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
            draw(figure, figures, family is not None)
            figure.tight_layout()
            buffer = io.BytesIO()
            figure.savefig(buffer, format=extension, metadata=_metadata(extension))
        return buffer.getvalue()
    finally:
        pyplot.close(figure)


def _label(chinese: bool, zh: str, en: str) -> str:
    return f"{zh} {en}" if chinese else en


def _yield_chart(figure: Any, figures: dict[str, Any], chinese: bool) -> None:
    months = figures["first_pass_yield"]
    axes = figure.add_subplot()
    values = [100 * (month["yield"] or 0) for month in months]
    bars = axes.bar([month["month"] for month in months], values, color="#2f6f9f")
    for bar, month in zip(bars, months):
        text = f"{month['first_pass']}/{month['inspections']}" if month["inspections"] else "–"
        axes.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                      fontsize=7)
    axes.set_ylim(0, 110)
    axes.set_ylabel(_label(chinese, "一次合格率 (%)", "First-pass yield (%)"))
    axes.set_title(_label(chinese, "出厂检验一次合格率", "First-pass yield of final inspections"))
    axes.tick_params(axis="x", labelrotation=45, labelsize=8)


def _pareto_chart(figure: Any, figures: dict[str, Any], chinese: bool) -> None:
    rows = figures["nonconformances"]["by_cause"][:_CAUSES_SHOWN]
    axes = figure.add_subplot()
    names = [_short(row["cause"]) for row in rows]
    axes.bar(range(len(rows)), [row["count"] for row in rows], color="#b5523b")
    axes.set_xticks(range(len(rows)), names, rotation=40, ha="right", fontsize=7)
    axes.yaxis.set_major_locator(_whole_numbers())  # counts: no 0.2 of a nonconformance
    axes.set_ylabel(_label(chinese, "不合格数", "Nonconformances"))
    axes.set_title(_label(chinese, "不合格原因排列图", "Nonconformances by cause (Pareto)"))
    share = axes.twinx()
    share.plot(range(len(rows)), [100 * row["cumulative"] for row in rows], color="#333333", marker="o")
    share.set_ylim(0, 105)
    share.set_ylabel(_label(chinese, "累计百分比 (%)", "Cumulative share (%)"))


def _reply_chart(figure: Any, figures: dict[str, Any], chinese: bool) -> None:
    cases = figures["customer_cases"]
    limit = cases["limit_hours"]
    hours = [case["hours"] for case in cases["cases"] if case["hours"] is not None]
    axes = figure.add_subplot()
    top = max([*hours, limit * 2])
    axes.hist(hours, bins=[index * top / 16 for index in range(17)], color="#4f8f4f")
    axes.axvline(limit, color="#c00000", linestyle="--",
                 label=_label(chinese, f"A1 时限 {limit:g} h", f"A1 limit {limit:g} h"))
    axes.legend()
    axes.set_xlabel(_label(chinese, "答复时间 (h)", "Reply time (h)"))
    axes.yaxis.set_major_locator(_whole_numbers())
    axes.set_ylabel(_label(chinese, "案例数", "Cases"))
    axes.set_title(_label(chinese, f"客户案例答复时间（超时 {cases['over']}）",
                          f"Customer reply times ({cases['over']} over the limit)"))


def _whole_numbers() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _short(text: str) -> str:
    return text if len(text) <= _CAUSE_LENGTH else text[:_CAUSE_LENGTH - 1] + "…"


def _cjk_family(font_manager: Any) -> str | None:
    """The first CJK family installed, or None (then the labels are English only)."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in installed), None)


def _metadata(extension: str) -> dict[str, Any]:
    """No creation date in the files: the same figures give the same bytes."""
    return {"Date": None} if extension == "svg" else {"Software": None}
