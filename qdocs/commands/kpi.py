"""``qdocs kpi``: the quality figures (:mod:`qdocs.audit.kpi`), as text or JSON, and as charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from qdocs.commands.shared import echo_json, json_option, open_repository


@click.command()
@click.option("--product", metavar="P", help="Only this product's inspections, nonconformances and cases.")
@click.option("--from", "start", metavar="DATE", help="First day of the period (default: 12 months to --to).")
@click.option("--to", "end", metavar="DATE", help="Last day of the period (default: today).")
@json_option()
@click.option("--png", "png_folder", metavar="DIR", help="Also draw each chart as a PNG file in DIR.")
@click.option("--svg", "svg_folder", metavar="DIR", help="Also draw each chart as an SVG file in DIR.")
@click.pass_context
def kpi(context: click.Context, product: str | None, start: str | None, end: str | None, as_json: bool,
        png_folder: str | None, svg_folder: str | None) -> None:
    """Quality figures: first-pass yield by month, nonconformances by product and cause,
    customer reply times against the A1 limit, supplier evaluations due and expired,
    maintenance overdue. Computed from the records (see docs/kpi.md).

    Examples:

    \b
      qdocs kpi
      qdocs kpi --product PUMP-X200 --from 2026-01-01 --to 2026-06-30 --json
      qdocs kpi --svg charts --png charts
    """
    from qdocs.audit.dates import day_option
    from qdocs.audit.kpi import quality_figures

    first = day_option(start, "--from") if start else None
    last = day_option(end, "--to") if end else None
    report = quality_figures(open_repository(context), product, first, last)
    figures = report.to_json()
    for folder, extension in ((svg_folder, "svg"), (png_folder, "png")):
        if folder:
            from qdocs.audit.kpicharts import write_charts

            write_charts(figures, Path(folder), (extension,))
    if as_json:
        echo_json(figures)
    else:
        click.echo("\n".join(_lines(figures)))


def _lines(figures: dict[str, Any]) -> list[str]:
    product = f" product {figures['product']}" if figures["product"] else ""
    lines = [f"Quality figures{product}, {figures['from']} to {figures['to']}", "", "First-pass yield by month:"]
    for month in figures["first_pass_yield"]:
        rate = f"{100 * month['yield']:.1f} %" if month["yield"] is not None else "-"
        lines.append(f"  {month['month']}  {month['first_pass']:>6} / {month['inspections']:<6} {rate}")
    ncr = figures["nonconformances"]
    lines += ["", f"Nonconformances: {ncr['total']} ({ncr['open']} open); by cause:"]
    lines += [f"  {row['count']:>6}  {100 * row['cumulative']:5.1f} %  {row['cause']}" for row in ncr["by_cause"][:10]]
    lines += ["  by product:"] + [f"  {row['count']:>6}  {row['product']}" for row in ncr["by_product"][:10]]
    cases = figures["customer_cases"]
    lines += ["", f"Customer cases: {cases['total']}; replied within {cases['limit_hours']:g} h: {cases['within']}, "
                  f"over: {cases['over']}, no reply time: {cases['no_reply_time']}"]
    suppliers = figures["supplier_evaluations"]
    lines += ["", f"Supplier evaluations on {suppliers['on']}: {len(suppliers['expired'])} expired, "
                  f"{len(suppliers['due'])} due within {suppliers['due_within_days']} days"]
    lines += [f"  expired {row['supplier']} ({row['evaluation']}, valid until {row['valid_until']})"
              for row in suppliers["expired"]]
    lines += [f"  due     {row['supplier']} ({row['evaluation']}, valid until {row['valid_until']})"
              for row in suppliers["due"]]
    maintenance = figures["maintenance"]
    lines += ["", f"Maintenance overdue on {maintenance['on']}: {len(maintenance['overdue'])}"]
    lines += [f"  {row['equipment']}: due {row['due']} ({row['days_overdue']} days, {row['record']})"
              for row in maintenance["overdue"]]
    return lines
