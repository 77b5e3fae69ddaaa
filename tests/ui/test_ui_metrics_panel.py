"""The metrics table: a verdict (✓ or ⚠) only for metrics that have a value."""

from __future__ import annotations

from types import SimpleNamespace

from app.core.metrics import MetricSummary


def _summary(
    key: str, mean: float | None, flag: str | None = None, asymmetry: float | None = None
) -> MetricSummary:
    return MetricSummary(
        key=key,
        label=key.removesuffix("_ms").replace("_", " "),
        unit="ms",
        mean=mean,
        sd=None if mean is None else 4.0,
        n=0 if mean is None else 6,
        left=None,
        right=None,
        asymmetry_pct=asymmetry,
        left_minus_right=None,
        typical_range=(200.0, 300.0),
        source="a study",
        flag=flag,
        reason="contact time 150.0 ms is below the typical 200-300 ms" if flag else None,
    )


def test_only_metrics_with_a_value_get_a_verdict(qtbot):
    from app.ui.metrics_panel import MetricsPanel
    from app.viewmodels.report_view import metric_rows

    report = SimpleNamespace(
        summary={
            "contact_time_ms": _summary("contact_time_ms", 150.0, "low", asymmetry=-0.4),
            "flight_time_ms": _summary("flight_time_ms", 250.0, asymmetry=-12.6),
            "step_time_ms": _summary("step_time_ms", None),  # no steps: no value
        }
    )
    rows = metric_rows(report)
    assert [row.value for row in rows] == [None, "150 ± 4", "250 ± 4"]  # in the panel's order
    assert [row.asymmetry for row in rows] == ["", "0%", "-13%"]  # never "-0%"

    panel = MetricsPanel()
    qtbot.addWidget(panel)
    panel.set_rows(rows)
    table = panel.table
    cells = {
        table.item(r, 0).text(): [table.item(r, c).text() for c in (1, 5, 6)]
        for r in range(table.rowCount())
    }
    assert cells == {
        "step time (ms)": ["–", "200–300", ""],
        "contact time (ms)": ["150 ± 4", "200–300", "⚠"],
        "flight time (ms)": ["250 ± 4", "200–300", "✓"],
    }
    assert "below the typical" in panel.flags.text()


def test_without_metrics_the_panel_shows_its_message_alone(qtbot):
    from app.ui.metrics_panel import MetricRow, MetricsPanel

    panel = MetricsPanel()
    qtbot.addWidget(panel)
    panel.show()
    assert panel.summary.text() == "No analysis yet." and not panel.table.isVisible()
    panel.set_rows([MetricRow("cadence_spm", "Cadence (steps/min)", "170 ± 3")], "Runner #0")
    assert panel.table.isVisible() and panel.table.rowCount() == 1
    panel.set_message("Analysing…")
    assert not panel.table.isVisible() and panel.rows == []


def test_fair_and_poor_values_are_marked_and_poor_ones_get_no_verdict(qtbot):
    """A poor mean below the typical range is neither ticked nor flagged; a poor leg says so."""
    from app.ui.metrics_panel import MetricsPanel
    from app.viewmodels.report_view import metric_rows

    poor = _summary("contact_time_ms", 150.0)
    poor.left, poor.right = 120.0, 180.0
    poor.reliability = {
        "level": "poor",
        "reasons": ["25 fps: each event is timed to ±40 ms"],
        "left": {"level": "poor", "reasons": ["25 fps: each event is timed to ±40 ms"]},
        "right": {"level": "poor", "reasons": ["25 fps: each event is timed to ±40 ms"]},
    }
    fair = _summary("flight_time_ms", 250.0)
    fair.reliability = {
        "level": "fair",
        "reasons": ["50 fps: each event is timed to ±20 ms"],
        "left": {"level": "fair", "reasons": []},
        "right": {"level": "fair", "reasons": []},
    }
    rows = metric_rows(SimpleNamespace(summary={"contact_time_ms": poor, "flight_time_ms": fair}))
    panel = MetricsPanel()
    qtbot.addWidget(panel)
    panel.set_rows(rows)
    table = panel.table
    cells = {
        table.item(r, 0).text(): [table.item(r, c).text() for c in (1, 2, 6)]
        for r in range(table.rowCount())
    }
    assert cells == {
        "contact time (ms)": ["150 ± 4\n(poor)", "120 (poor)", ""],
        "flight time (ms)": ["250 ± 4\n(fair)", "–", "✓"],
    }
    assert "Reliability poor: 25 fps" in table.item(0, 1).toolTip()
