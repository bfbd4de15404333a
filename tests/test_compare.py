"""procsim compare: paired differences on common random numbers, verdicts, OKR files, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

import procsim
from procsim import ModelError
from procsim.cli import app
from procsim.compare import compare
from procsim.model import load_model
from procsim.model.scenario import with_okrs
from procsim.model.targets import Threshold, parse_threshold, parse_value
from procsim.okr import judge
from procsim.stats import paired_difference

DESK = """\
procsim: 1
name: NAME
run: {{cases: 6000, warmup: 500, replications: 12, seed: 77}}
arrivals: {{interarrival: {{dist: exponential, mean: 2.5}}}}
resources: {{clerks: {{capacity: {c}, cost_per_hour: 30}}}}
activities: {{serve: {{resource: clerks, duration: {{dist: exponential, mean: 5}}}}}}
flow: {{start: serve, serve: end}}
okrs:
  - objective: Serve faster
    key_results:
      - {{kpi: waiting_time, to: 1min}}
      - {{kpi: cost_per_case, change: "<= +1%"}}
"""


def desk(c: int, name: str) -> procsim.Model:
    return procsim.parse_model(DESK.format(c=c).replace("NAME", name))


def erlang_wq(c: int, lam: float, mean: float) -> float:
    a = lam * mean
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    prob_wait = c * b / (c - a * (1 - b))
    return prob_wait / (c / mean - lam)


def test_identical_scenario_gives_zero_differences_exactly() -> None:
    result = compare(desk(3, "Base"), [desk(3, "Same")], replications=4, cases=1500)
    for kc in result.scenarios[0].kpis:
        assert kc.difference.mean == 0.0 and kc.difference.half_width == 0.0, kc.key
        assert not kc.distinguishable


def test_verdicts_do_not_depend_on_workers() -> None:
    runs = [compare(desk(3, "Base"), [desk(4, "Four")], replications=4, cases=1500, jobs=j)
            for j in (1, 2)]
    assert json.dumps(runs[0].to_dict()) == json.dumps(runs[1].to_dict())


@pytest.mark.slow
def test_mmc_extra_server_matches_erlang_c_and_pairing_pays() -> None:
    # M/M/3 → M/M/4 at λ = 0.4, mean service 5 (ρ 0.67 → 0.5): the drop in mean waiting time
    # is known from Erlang C.
    lam, mean = 0.4, 5.0
    analytic = erlang_wq(4, lam, mean) - erlang_wq(3, lam, mean)
    result = compare(desk(3, "Three"), [desk(4, "Four")], replications=20, cases=20_000,
                     warmup=1000, jobs=2)
    wait = next(k for k in result.scenarios[0].kpis if k.key == "waiting_time:mean")
    lo, hi = wait.difference.ci
    assert lo <= analytic <= hi, (analytic, wait.difference)
    assert wait.difference.half_width < 0.05 * abs(analytic)
    # The unpaired (Welch) interval of the same difference is wider. Not by much here: the
    # scenario's waits vary far less than the baseline's, so the baseline's variance, which
    # pairing cannot remove, dominates (see the next test for a small change).
    b = result.baseline.values("waiting_time")
    s = result.scenarios[0].result.values("waiting_time")
    welch = stats.ttest_ind(s, b, equal_var=False).confidence_interval(0.95)
    assert wait.difference.half_width < (welch.high - welch.low) / 2
    # The key result "waiting time to 1 min" (baseline ≈ 2.2 min → 'at most'): met with 4.
    verdict = result.scenarios[0].verdicts[0]
    assert verdict.threshold.op == "<=" and verdict.status == "met"


def test_pairing_makes_small_changes_measurable() -> None:
    # A 4 % faster service: common random numbers make the difference's interval far
    # narrower than that of two independent runs.
    faster = procsim.parse_model(DESK.format(c=3).replace("NAME", "Faster")
                                 .replace("mean: 5}", "mean: 4.8}"))
    result = compare(desk(3, "Base"), [faster], replications=10, cases=5000, jobs=2)
    wait = next(k for k in result.scenarios[0].kpis if k.key == "waiting_time:mean")
    assert wait.distinguishable and wait.difference.mean < 0
    b = result.baseline.values("waiting_time")
    s = result.scenarios[0].result.values("waiting_time")
    welch = stats.ttest_ind(s, b, equal_var=False).confidence_interval(0.95)
    assert wait.difference.half_width < 0.4 * (welch.high - welch.low) / 2
    assert welch.low < 0 < welch.high or welch.high - welch.low > 4 * wait.difference.half_width


@pytest.mark.parametrize(
    ("values", "threshold", "status"),
    [
        ([10.0, 10.0, 10.0], Threshold("<=", 10.0, ""), "met"),          # on the boundary
        ([9.0, 9.1, 9.2, 9.1], Threshold("<=", 10.0, ""), "met"),
        ([11.0, 11.5, 12.0, 11.2], Threshold("<=", 10.0, ""), "not_met"),
        ([8.0, 12.0, 9.0, 10.6], Threshold("<=", 10.0, ""), "inconclusive"),
        ([0.9, 0.91, 0.92], Threshold(">=", 0.8, ""), "met"),
        ([0.7, 0.71, 0.72], Threshold(">=", 0.8, ""), "not_met"),
        ([0.7, 0.9, 0.75, 0.88], Threshold(">=", 0.8, ""), "inconclusive"),
    ],
)
def test_verdict_boundaries(values: list[float], threshold: Threshold, status: str) -> None:
    verdict = judge(np.array(values), threshold)
    assert verdict.status == status
    if status == "inconclusive":
        assert verdict.replications_needed is not None and verdict.replications_needed > 4
        assert 0 < verdict.probability < 1
    else:
        assert verdict.replications_needed is None


def test_probability_of_attainment_is_the_t_distribution() -> None:
    values = np.array([8.0, 12.0, 9.0, 11.0, 10.5])
    verdict = judge(values, Threshold("<=", 10.5, ""))
    se = values.std(ddof=1) / math.sqrt(5)
    assert verdict.probability == pytest.approx(stats.t.cdf((10.5 - values.mean()) / se, 4))


def test_units_and_relative_targets() -> None:
    assert parse_threshold("<= 30min", "time", "hours").value == 0.5
    assert parse_threshold(">= 80%", "share", "minutes").value == pytest.approx(0.8)
    assert parse_threshold("<= 12.5", "money", "minutes").value == 12.5
    rel = parse_threshold("<= +5%", "money", "minutes", relative=True)
    assert (rel.op, rel.value) == ("<=", pytest.approx(0.05))
    assert parse_value("2h", "time", "minutes") == 120.0
    with pytest.raises(ValueError, match="expected a comparison"):
        parse_threshold("about 30min", "time", "minutes")
    with pytest.raises(ValueError, match="share between 0 and 1"):
        parse_value(85, "share", "minutes")


def test_relative_key_result_uses_paired_ratios() -> None:
    result = compare(desk(3, "Base"), [desk(4, "Four")], replications=4, cases=1500)
    verdict = result.scenarios[0].verdicts[1]       # cost_per_case change <= +1%
    b = result.baseline.values("cost_per_case")
    s = result.scenarios[0].result.values("cost_per_case")
    assert verdict.estimate.mean == pytest.approx(np.mean(s / b - 1))
    # The full cost per case counts the fourth clerk's paid time: 30 EUR/h × 2.5 min per
    # case = +1.25 EUR on 3 × 1.25 = 3.75 EUR, +33 %, far above +1 %.
    assert verdict.status == "not_met"
    assert verdict.estimate.mean == pytest.approx(1 / 3, abs=0.02)


def _okr_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "okrs.yaml"
    path.write_text(text)
    return path


def test_okr_file_adds_kpis_and_okrs(tmp_path: Path) -> None:
    base_path = tmp_path / "desk.yaml"
    base_path.write_text(DESK.format(c=3).replace("NAME", "Desk"))
    okrs = _okr_file(tmp_path,
                     "kpis:\n  fast: {share: cycle_time, within: 6min, target: '>= 50%'}\n"
                     "okrs:\n  - objective: Fast\n    key_results: [{kpi: fast, to: 70%}]\n")
    model = with_okrs(load_model(base_path), okrs)
    assert "fast" in model.kpis and [o.objective for o in model.okrs] == ["Fast"]
    assert model.file == str(base_path)


@pytest.mark.parametrize(
    ("text", "line", "path", "message"),
    [
        ("okrs:\n  - objective: X\n    key_results: [{kpi: cycle_tim, to: 5min}]\n", 3,
         "okrs[0].key_results[0].kpi", "unknown KPI 'cycle_tim' (did you mean 'cycle_time'?)"),
        ("okrs:\n  - objective: X\n    key_results: [{kpi: cycle_time, stat: q9, to: 5min}]\n",
         3, "okrs[0].key_results[0].stat", "expected mean, median or a percentile"),
        ("okrs:\n  - objective: X\n    key_results: [{kpi: cycle_time, to: soon}]\n", 3,
         "okrs[0].key_results[0].to", "expected a number or a duration"),
        ("okrs:\n  - objective: X\n    key_results: [{kpi: cycle_time}]\n", 3,
         "okrs[0].key_results[0]", "expected exactly one of 'to'"),
        ("kpis:\n  k: {of: cycle_time, target: 'below 5'}\n", 2, "kpis.k.target",
         "expected"),
        ("okr:\n  - objective: X\n", 1, "okr", "unknown field 'okr' (did you mean 'okrs'?) in "
                                             "an OKR file"),
    ],
)
def test_bad_okr_files(tmp_path: Path, text: str, line: int, path: str, message: str) -> None:
    base_path = tmp_path / "desk.yaml"
    base_path.write_text(DESK.format(c=3).replace("NAME", "Desk"))
    okrs = _okr_file(tmp_path, text)
    with pytest.raises(ModelError) as info:
        with_okrs(load_model(base_path), okrs)
    issue = info.value.issues[0]
    assert (issue.file, issue.line, issue.path) == (str(okrs), line, path)
    assert message in issue.message


def test_cli_compare_json_and_fail_on_miss(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(DESK.format(c=3).replace("NAME", "Three"))
    four = tmp_path / "four.yaml"
    four.write_text("procsim: 1\nname: Four\nbase: base.yaml\n"
                    "changes: {resources.clerks.capacity: 4}\n")
    same = tmp_path / "same.yaml"
    same.write_text("procsim: 1\nname: Same\nbase: base.yaml\nchanges: {run.seed: 77}\n")
    out = tmp_path / "cmp.json"
    runner = CliRunner()
    args = ["compare", str(base), str(four), str(same), "-r", "8", "--cases", "3000",
            "--jobs", "1", "--json", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "intervals 97.5% (adjustment: Bonferroni for 2 scenarios)" in result.stdout
    # Four meets the waiting time but not "cost per case at most +1 %" (its clerk is paid
    # busy or not); Same meets the cost only. A tie, one key result each.
    assert "meets 1 of 2 key results (as many as " in result.stdout
    data = json.loads(out.read_text())
    assert data["scenarios"] == ["Four", "Same"] and data["seed"] == 77
    assert data["replications"] == 8 and data["confidence"] == pytest.approx(0.975)
    assert set(data["kpis"]["cycle_time:mean"]) >= {"baseline", "Four", "Same", "delta"}
    assert data["kpis"]["cycle_time:mean"]["delta"]["Same"]["mean"] == 0.0
    kr = data["okrs"][0]["key_results"][0]
    assert kr["kpi"] == "waiting_time" and kr["results"]["Four"]["status"] == "met"
    assert kr["results"]["Same"]["status"] == "not_met"
    assert data["changes"]["Four"][0]["path"] == "resources.clerks.capacity"
    # --fail-on-miss: 'Same' does not meet the waiting-time key result.
    failed = runner.invoke(app, [*args[:-2], "--fail-on-miss"])
    assert failed.exit_code == 1 and "key results not met" in failed.stderr
    bad = runner.invoke(app, ["compare", str(base), str(tmp_path / "nope.yaml")])
    assert bad.exit_code == 2 and "no such file" in bad.stderr


def test_docs_transcript_is_real(monkeypatch: pytest.MonkeyPatch) -> None:
    # docs/compare.md shows what the command really prints for the bundled example.
    import re
    import shlex

    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)
    doc = (root / "docs" / "compare.md").read_text()
    (block,) = re.findall(r"```sh\n\$ \.venv/bin/procsim (.*?)\n(.*?)```", doc, flags=re.S)
    command, expected = block
    result = CliRunner().invoke(app, shlex.split(command))
    assert result.exit_code == 0, result.output
    assert result.stdout == expected


def test_auto_replications_reach_the_precision() -> None:
    result = compare(desk(3, "Base"), [desk(4, "Four")], replications="auto", precision=0.1,
                     cases=1500, warmup=100, jobs=2)
    # The first round is run.min_replications (20), whatever the model's fixed number.
    assert result.rounds[0] == 20 and result.rounds[-1] == result.baseline.replications
    assert len(result.rounds) >= 2  # 20 replications of 1500 cases are not precise enough
    base, four = result.baseline, result.scenarios[0].result
    # What the key results use (waiting_time, cost_per_case), in each model and as paired
    # differences relative to the baseline's value; the two-stage rule targets the
    # precision, so allow its usual small shortfall.
    for kpi in ("waiting_time", "cost_per_case"):
        scale = base.kpi(kpi).mean
        for run in (base, four):
            assert run.kpi(kpi).estimate.half_width < 0.11 * scale, (kpi, run.model.name)
        delta = paired_difference(base.values(kpi), four.values(kpi))
        assert delta.half_width < 0.11 * scale, (kpi, delta)
    assert "Replications chosen automatically: 20 → " in result.summary()


def test_auto_replications_stop_at_the_cap() -> None:
    result = compare(desk(3, "Base"), [desk(4, "Four")], replications="auto", precision=0.001,
                     max_replications=6, cases=600, warmup=50, jobs=1)
    assert result.rounds[-1] == 6 and "cap reached" in result.summary()


def test_verdicts_do_not_depend_on_scenario_order() -> None:
    four, five = desk(4, "Four"), desk(5, "Five")
    a = compare(desk(3, "Base"), [four, five], replications=4, cases=1500)
    b = compare(desk(3, "Base"), [five, four], replications=4, cases=1500)
    for name in ("Four", "Five"):
        sa = next(s for s in a.scenarios if s.name == name)
        sb = next(s for s in b.scenarios if s.name == name)
        assert [v.to_dict() for v in sa.verdicts] == [v.to_dict() for v in sb.verdicts]


def test_cli_csv_and_bad_replications(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(DESK.format(c=3).replace("NAME", "Three"))
    four = tmp_path / "four.yaml"
    four.write_text("procsim: 1\nname: Four\nbase: base.yaml\n"
                    "changes: {resources.clerks.capacity: 4}\n")
    out = tmp_path / "cmp.csv"
    runner = CliRunner()
    result = runner.invoke(app, ["compare", str(base), str(four), "-r", "3", "--cases", "800",
                                 "--jobs", "1", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    import csv

    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["scenario"] for r in rows} == {"Four"}
    assert "cycle_time:mean" in {r["kpi"] for r in rows}
    row = next(r for r in rows if r["kpi"] == "utilization:clerks")
    assert float(row["difference"]) < 0 and row["distinguishable"] == "True"
    for bad in (["-r", "1"], ["-r", "many"], ["--precision", "fine"]):
        failed = runner.invoke(app, ["compare", str(base), str(four), *bad])
        assert failed.exit_code == 2 and "error: --" in failed.stderr


def test_run_options_resolved_by_the_caller_give_the_same_comparison() -> None:
    """compare(options=...) is compare with those settings: the caller (the CLI) resolves the
    run settings once and passes them on."""
    from procsim.errors import UsageError
    from procsim.simulate import RunOptions

    base, more = desk(3, "Three"), desk(4, "Four")
    direct = compare(base, [more], replications=3, cases=400, warmup=40, seed=9)
    options = RunOptions.resolve(base, replications=3, cases=400, warmup=40, seed=9)
    given = compare(base, [more], options=options)
    assert given.to_dict()["kpis"] == direct.to_dict()["kpis"]
    assert given.baseline.seed == 9 and given.scenarios[0].result.horizon == "400 cases"
    with pytest.raises(UsageError, match="not both: got options and seed"):
        compare(base, [more], options=options, seed=9)
