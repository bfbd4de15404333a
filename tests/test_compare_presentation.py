"""compare as people read it (issue 12, item 7): every KPI an OKR or KPI target uses is
compared, the scorecard has a baseline column with its interval, and numbers are formatted
for people (no "-5.3e-16", no impractical replication counts, small times in seconds)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

import procsim
from procsim.compare import (
    ComparisonResult,
    KpiComparison,
    compare,
    format_comparison,
    format_key_result,
    key_result_cell,
    settle_text,
)
from procsim.model.targets import Threshold
from procsim.okr import KeyResultSpec, Verdict
from procsim.output import write_compare_csv
from procsim.report.writer import write_report
from procsim.stats import Estimate

OFFICE = """
procsim: 1
name: Office
time_unit: hours
currency: EUR
start: 2026-01-05T08:00
calendars: {office: [{days: mon-fri, from: "09:00", to: "17:00"}]}
run: {cases: 1200, warmup: 100, replications: 5, seed: 4}
arrivals: {interarrival: {dist: exponential, mean: 0.25}, calendar: office}
resources: {clerks: {capacity: CAPACITY, calendar: office, cost_per_hour: 40}}
activities: {serve: {resource: clerks, duration: {dist: exponential, mean: 0.5}}}
flow: {start: serve, serve: end}
kpis:
  quick: {share: working_cycle_time, within: 1h, target: ">= 50%"}
okrs:
  - objective: Faster at no more cost
    key_results:
      - {kpi: working_cycle_time, stat: p95, change: "<= -10%"}
      - {kpi: idle_cost_per_hour, change: "<= +50%"}
      - {kpi: cost_per_case_with_idle, change: "<= +30%"}
      - {kpi: quick, change: ">= +5%"}
"""

REFERRED = ("working_cycle_time:p95", "idle_cost_per_hour:mean", "cost_per_case_with_idle:mean",
            "quick")


def office(capacity: int, name: str) -> procsim.Model:
    return procsim.parse_model(OFFICE.replace("CAPACITY", str(capacity))
                               .replace("name: Office", f"name: {name}"))


@pytest.fixture(scope="module")
def result() -> ComparisonResult:
    return compare(office(3, "Three clerks"), [office(4, "Four clerks")], replications=5)


def test_every_kpi_a_key_result_or_target_uses_is_compared(result: ComparisonResult,
                                                           tmp_path: Path) -> None:
    keys = [kc.key for kc in result.scenarios[0].kpis]
    for key in REFERRED:
        assert key in keys, key
    assert len(keys) == len(set(keys))                 # each once
    assert "cycle_time:mean" in keys and "utilization:clerks" in keys   # the standard ones stay
    labels = {kc.key: kc.label for kc in result.scenarios[0].kpis}
    summary = result.summary()
    data = result.to_dict()
    path = write_compare_csv(result, tmp_path / "cmp.csv")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    html = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    markdown = write_report(result, tmp_path / "r.md").read_text(encoding="utf-8")
    for key in REFERRED:
        assert f"\n{labels[key]} " in summary, key
        assert set(data["kpis"][key]) >= {"label", "unit", "baseline", "Four clerks", "delta"}
        assert set(data["kpis"][key]["delta"]["Four clerks"]) >= {"mean", "ci"}
        assert any(r["kpi"] == key for r in rows), key
        assert labels[key] in html, key
        assert labels[key].replace("_", r"\_") in markdown, key


def test_csv_keeps_its_columns_and_adds_the_baseline_interval(result: ComparisonResult,
                                                              tmp_path: Path) -> None:
    with write_compare_csv(result, tmp_path / "cmp.csv").open(newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["scenario", "kpi", "label", "unit", "baseline", "scenario_value",
                      "scenario_ci_low", "scenario_ci_high", "difference", "difference_ci_low",
                      "difference_ci_high", "relative_change", "distinguishable", "confidence",
                      "baseline_ci_low", "baseline_ci_high"]


def test_scorecard_has_a_baseline_column_with_its_interval(result: ComparisonResult,
                                                           tmp_path: Path) -> None:
    today = result.baseline_key_results()
    assert len(today) == len(result.key_results)
    for kr, v in zip(result.key_results, today, strict=True):
        assert kr.relative
        # A change's baseline is the baseline's own value of the statistic (the reference).
        values = procsim.okr.kpi_values(result.baseline, kr.kpi, kr.stat, result.baseline.model)
        assert v.estimate.mean == pytest.approx(values.mean())
        assert v.estimate.confidence == result.confidence
    # Terminal: a "baseline (today)" line per key result, with the interval.
    summary = result.summary()
    block = summary[summary.index("Key results"):]
    assert block.count("baseline (today)") == len(result.key_results)
    assert re.search(r"baseline \(today\)\s+[0-9.,]+ \[[0-9.,]+, [0-9.,]+\] EUR\s+\(reference\)",
                     block), block
    # JSON: added beside the scenarios' results, nothing renamed.
    kr = result.to_dict()["okrs"][0]["key_results"][0]
    assert set(kr) >= {"kpi", "stat", "target", "relative", "results", "baseline_result"}
    assert len(kr["baseline_result"]["ci"]) == 2
    # HTML and Markdown: a "Baseline today" column, one cell per key result.
    html = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Baseline today</th>" in html
    assert len(re.findall(r'<td class="baseline ', html)) == len(result.key_results)
    # Scenario verdict cells are still exactly one per key result and scenario.
    scorecard = html[html.index('<table class="scorecard">'):]
    scorecard = scorecard[:scorecard.index("</table>")]
    assert len(re.findall(r'class="verdict ', scorecard)) == len(result.key_results)
    markdown = write_report(result, tmp_path / "r.md").read_text(encoding="utf-8")
    assert "| Key result | Baseline today | Four clerks |" in markdown
    assert markdown.count("reference: ") == len(result.key_results)


DESK = """
procsim: 1
name: NAME
run: {cases: 3000, warmup: 300, replications: 6, seed: 21}
arrivals: {interarrival: {dist: exponential, mean: 2.5}}
resources: {clerks: {capacity: CAPACITY, cost_per_hour: 30}}
activities: {serve: {resource: clerks, duration: {dist: exponential, mean: 5}}}
flow: {start: serve, serve: end}
okrs:
  - objective: Serve faster
    key_results:
      - {kpi: waiting_time, stat: p90, to: "<= 6min"}
"""


def desk(capacity: int, name: str) -> procsim.Model:
    return procsim.parse_model(DESK.replace("CAPACITY", str(capacity)).replace("NAME", name))


def test_absolute_key_results_say_how_far_today_is_from_the_target() -> None:
    result = compare(desk(3, "Three"), [desk(4, "Four")])
    (today,) = result.baseline_key_results()
    assert today.status == "not_met"
    summary = result.summary()
    line = next(s for s in summary.splitlines() if "baseline (today)" in s)
    # e.g. "baseline (today)   7.777 [6.374, 9.179] min   ✗ not met   1%   1.78 min above the
    # target": the value with its interval, the verdict, and the distance to go.
    assert re.search(r"[0-9.]+ \[[0-9.]+, [0-9.]+\] min\s+✗ not met\s+[0-9]+%\s+[0-9.]+ min "
                     r"above the target", line), line
    gap = today.estimate.mean - 6.0
    assert f"{gap:.3g} min above the target" in line


def test_an_identical_scenario_shows_zeros_not_rounding_noise() -> None:
    result = compare(desk(3, "Three"), [desk(3, "Same")], replications=4)
    summary = result.summary()
    assert not re.search(r"\de-\d", summary), summary
    table = summary[summary.index("== Same"):summary.index("   * the interval")]
    for line in table.splitlines()[2:]:
        assert re.search(r"\s0 \[0, 0\]\s+0\.0%$", line), line


def _comparison(baseline: float, scenario: float, diff: tuple[float, float, float],
                unit: str = "minutes") -> KpiComparison:
    mean, lo, hi = diff
    return KpiComparison("k", "k", unit, Estimate(baseline, 1.0, 10, 0.1, 0.95),
                         Estimate(scenario, 1.0, 10, 0.1, 0.95),
                         Estimate(mean, abs(hi - lo), 10, (hi - lo) / 2, 0.95))


def test_noise_and_differences_below_the_resolution_are_zero() -> None:
    noise = _comparison(13.3, 13.3, (-3.553e-16, -1.05e-15, 3.395e-16))
    assert noise.to_dict()["mean"] == 0.0 and noise.to_dict()["ci"] == [0.0, 0.0]
    assert noise.to_dict()["relative"] == 0.0 and not noise.distinguishable
    shown = noise.formatted()
    assert (shown["difference"], shown["difference_ci"], shown["relative"]) == (
        "0", "[0, 0]", "0.0%")
    # Consistently the same flat noise (no spread) is still not a change.
    flat = _comparison(13.3, 13.3, (-3.553e-16, -3.553e-16, -3.553e-16))
    assert not flat.distinguishable
    # Four significant digits of the KPI: 0.0005 cases/hour on 10.09 is below them.
    rate = format_comparison(_comparison(10.09, 10.09, (0.000462, -0.0089, 0.0098),
                                         unit="cases/hour"))
    assert (rate["difference"], rate["difference_ci"]) == ("0", "[-0.01, +0.01]")
    # Shares in percent, differences in percentage points.
    share = format_comparison(_comparison(0.1853, 0.2088, (0.02347, 0.01096, 0.03597),
                                          unit="share"))
    assert (share["baseline"], share["difference"], share["difference_ci"]) == (
        "18.5", "+2.3", "[+1.1, +3.6]")
    assert share["difference_unit"] == "pts"


def test_small_times_are_shown_in_the_unit_that_reads_best() -> None:
    shown = format_comparison(_comparison(0.004, 0.003, (-0.001, -0.0012, -0.0008), "hours"))
    assert (shown["unit"], shown["baseline"], shown["difference"]) == ("s", "14.40", "-3.60")
    assert format_comparison(_comparison(0.5, 0.4, (-0.1, -0.12, -0.08), "hours"))["unit"] == "min"
    assert format_comparison(_comparison(72.5, 60.0, (-12, -13, -11)))["unit"] == "min"
    kr = KeyResultSpec("o", "waiting_time", "mean", Threshold("<=", 0.002, "<= 7.2 s"), False,
                       "waiting_time mean <= 7.2 s")
    assert format_key_result(kr, 0.004, time_unit="hours") == "14.40 s"
    assert key_result_cell(kr, Estimate(0.004, 0.001, 10, 0.0005, 0.95),
                           time_unit="hours") == ("14.40 s", "[12.60, 16.20]")


def test_waits_of_seconds_read_in_seconds_in_the_terminal() -> None:
    text = (DESK.replace("run: {", "time_unit: hours\nrun: {")
            .replace("mean: 2.5}", "mean: 0.001}").replace("mean: 5}", "mean: 0.0008}")
            .replace('to: "<= 6min"', 'to: "<= 20s"'))
    base = procsim.parse_model(text.replace("CAPACITY", "1").replace("NAME", "One"))
    two = procsim.parse_model(text.replace("CAPACITY", "2").replace("NAME", "Two"))
    result = compare(base, [two], replications=3)
    summary = result.summary()
    line = next(s for s in summary.splitlines() if s.startswith("waiting_time (mean)"))
    assert re.match(r"waiting_time \(mean\)\s+s\s", line), line
    assert not re.search(r"\de-\d", summary)
    scorecard = summary[summary.index("Key results"):]
    assert " s [" not in scorecard and re.search(r"[0-9.]+ \[[0-9.]+, [0-9.]+\] s ", scorecard)


def _verdict(needed: int | None, mean: float = 100.7) -> Verdict:
    return Verdict("inconclusive", Estimate(mean, 5.0, 10, 3.5, 0.975),
                   Threshold("<=", 100.0, "<= 100"), 0.4, needed)


def test_settling_an_inconclusive_verdict_is_said_in_practical_terms() -> None:
    kr = KeyResultSpec("o", "cycle_time", "p90", Threshold("<=", 100.0, "<= 100 min"), False,
                       "cycle_time p90 <= 100 min")
    assert settle_text(_verdict(227), kr) == "about 230 replications in all would settle it"
    assert settle_text(_verdict(45), kr) == "about 45 replications in all would settle it"
    far = settle_text(_verdict(23380, mean=100.04), kr)
    assert far.startswith("would need about 24,000 replications, too many to be practical")
    assert "(it is 2.4 s away)" in far and "23380" not in far
    assert settle_text(_verdict(None), kr) == "the estimate sits on the target"


def test_json_of_a_comparison_is_still_json(result: ComparisonResult) -> None:
    json.dumps(result.to_dict(), allow_nan=False)
    assert np.isfinite(result.to_dict()["okrs"][0]["key_results"][0]["baseline_result"]["value"])


def test_placeholder_costs_of_zero_give_no_nan_in_the_recommendation() -> None:
    """A discovered model's costs are placeholders of 0: a change of cost per case relative
    to 0 does not exist, and must read 'n/a', never '+nan%'."""
    def free(capacity: int, name: str) -> procsim.Model:
        return procsim.parse_model(DESK.replace("CAPACITY", str(capacity))
                                   .replace("NAME", name).replace("cost_per_hour: 30",
                                                                  "cost_per_hour: 0"))

    result = compare(free(3, "Three"), [free(4, "Four")], replications=4)
    text = result.summary()
    assert "nan" not in text.lower(), text
    assert "n/a vs baseline" in text or "cost" not in text.lower()
