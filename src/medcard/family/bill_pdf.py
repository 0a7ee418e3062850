"""The monthly family bill (亲情账单, R-FAM-07) as PDF: the same figures as the page — total,
analysis, spending by member, category and source — with its charts drawn by reportlab's own
chart library (pie and horizontal bars as vector graphics; pygal's SVG would need cairosvg to
become PDF). Fonts, tables and the document come from the payment documents (R-PAY-08), so the
Chinese text is embedded and extractable the same way."""

from __future__ import annotations

from collections.abc import Mapping

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer

from medcard.family.bill import CATEGORIES, SOURCES, FamilyBill
from medcard.i18n import Msg, translate
from medcard.kit.money import format_yuan
from medcard.settlement.documents import FONT_NAME, pdf_styles, pdf_table, render_pdf

PALETTE = ("#0f766e", "#2563eb", "#d97706", "#7c3aed", "#dc2626", "#64748b")
CHART_TITLES = {
    "member": "按成员 By member",
    "category": "按类别 By category",
    "source": "按支付来源 By source",
}


def _both(label: Msg) -> str:
    """A chart label in Chinese and English (the PDF is one document for both readers)."""
    return f"{translate('zh', label)} {translate('en', label)}"


def labelled(bill: FamilyBill) -> dict[str, dict[str, int]]:
    """Each chart's values (fen) with bilingual labels."""
    return {
        "member": dict(bill.by_member),
        "category": {_both(CATEGORIES.get(k, Msg(k))): v for k, v in bill.by_category.items()},
        "source": {_both(SOURCES[k][1]): v for k, v in bill.by_source.items()},
    }


def pie_chart(values: Mapping[str, int]) -> Drawing:
    """A pie of the values with labels in yuan (reportlab.graphics)."""
    drawing = Drawing(170 * mm, 62 * mm)
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 55 * mm, 6 * mm, 50 * mm, 50 * mm
    pie.data = [max(1, fen) for fen in values.values()]
    pie.labels = [f"{label} ¥{format_yuan(fen)}" for label, fen in values.items()]
    pie.slices.fontName = FONT_NAME
    pie.slices.fontSize = 7
    pie.sideLabels = True
    for index in range(len(pie.data)):
        pie.slices[index].fillColor = colors.HexColor(PALETTE[index % len(PALETTE)])
    drawing.add(pie)
    return drawing


def bar_chart(values: Mapping[str, int]) -> Drawing:
    """Horizontal bars of the values in yuan (reportlab.graphics)."""
    rows = max(1, len(values))
    drawing = Drawing(170 * mm, (12 + 9 * rows) * mm)
    chart = HorizontalBarChart()
    chart.x, chart.y = 48 * mm, 6 * mm
    chart.width, chart.height = 110 * mm, 9 * rows * mm
    chart.data = [[fen / 100 for fen in values.values()]]
    chart.categoryAxis.categoryNames = list(values)
    chart.categoryAxis.labels.fontName = FONT_NAME
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = colors.HexColor(PALETTE[0])
    chart.barLabelFormat = "¥%.2f"
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def family_bill_pdf(bill: FamilyBill, *, month: str, holder: str) -> bytes:
    """亲情账单 of ``month`` (``YYYY-MM``) for the account of ``holder`` (already masked)."""
    title, body, small = pdf_styles()
    flowables: list[Flowable] = [
        Paragraph(f"亲情账单 {month}", title),
        Paragraph(f"Family bill · {holder}", small),
        Spacer(1, 4 * mm),
        Paragraph(f"本月家庭医疗支出 Family medical spending: ¥{format_yuan(bill.total_fen)}", body),
    ]
    if not bill.total_fen:
        flowables.append(Paragraph("本月没有已支付的账单。No paid bill this month.", body))
        return render_pdf(flowables, "亲情账单")
    trend = (
        f"较上月 Compared with last month: {'+' if bill.change_bp >= 0 else ''}{bill.change_bp / 100:.1f}%"
        if bill.change_bp is not None
        else "上月无支出 Nothing spent last month"
    )
    flowables += [
        Spacer(1, 2 * mm),
        Paragraph("健康消费分析 Health-spending analysis", body),
        Paragraph(f"医保共支付 Insurance paid: {bill.insured_bp / 100:.1f}%", body),
        Paragraph(trend, body),
        *[
            Paragraph(f"大额项目 Largest item: {member} · {name} · ¥{format_yuan(fen)}", body)
            for member, name, fen in bill.largest
        ],
    ]
    for chart, values in labelled(bill).items():
        rows = [["项目 Item", "金额(元) Yuan"]] + [[label, format_yuan(fen)] for label, fen in values.items()]
        flowables += [
            Spacer(1, 4 * mm),
            Paragraph(CHART_TITLES[chart], body),
            pie_chart(values) if chart == "source" else bar_chart(values),
            pdf_table(rows, [120 * mm, 54 * mm]),
        ]
    flowables += [Spacer(1, 6 * mm), Paragraph("本账单依据已支付订单(扣除退款)生成。Paid orders less refunds.", small)]
    return render_pdf(flowables, "亲情账单")
