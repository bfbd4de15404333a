"""`procsim backtest --events-dir/--test-from/--report`, column overrides, `kpis --report`
(HTML, Markdown with its plots beside it, PDF)."""

from __future__ import annotations

import json
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("log_distance_measures")
pytest.importorskip("matplotlib")
pytest.importorskip("jinja2")

from typer.testing import CliRunner  # noqa: E402

import procsim  # noqa: E402
from procsim.cli import app  # noqa: E402
from procsim.eventlog import EventLog, read_log  # noqa: E402
from procsim.eventlog.fidelity import CSV_COLUMNS, cases_from, write_log_csv  # noqa: E402
from procsim.eventlog.simulated import simulated_log  # noqa: E402

MODEL = """
procsim: 1
name: Two steps
time_unit: hours
start: 2026-01-05T08:00
arrivals: {interarrival: {dist: exponential, mean: 2}}
resources: {clerk: {capacity: 2}, expert: {capacity: 1}}
activities:
  check: {resource: clerk, duration: {dist: gamma, mean: 1.0, sd: 0.5}}
  decide: {resource: expert, duration: {dist: gamma, mean: 1.0, sd: 0.5}}
flow: {start: check, check: decide, decide: end}
"""
CASES = 40
ZONE = "UTC+02:00"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A model and a log it simulated, in a zone with a UTC offset, under odd column names."""
    from datetime import datetime, timedelta, timezone

    folder = tmp_path_factory.mktemp("logs")
    model_file = folder / "model.yaml"
    model_file.write_text(MODEL)
    model = procsim.parse_model(MODEL)
    result = procsim.simulate(model, replications=1, cases=CASES, warmup=0, seed=5,
                              keep_records=True)
    origin = datetime(2026, 1, 5, 8, tzinfo=timezone(timedelta(hours=2)))
    log = simulated_log(result, 0, origin=origin)
    frame = log.frame.rename(columns={"case": "Ticket", "activity": "Step", "resource": "Who",
                                      "start": "Began", "end": "Finished"})
    log_file = folder / "log.csv"
    frame[["Ticket", "Step", "Who", "Began", "Finished"]].to_csv(log_file, index=False)
    return model_file, log_file


COLUMNS = ["--case", "Ticket", "--activity", "Step", "--resource", "Who", "--start", "Began",
           "--end", "Finished"]


def backtest(*args: str) -> object:
    return CliRunner().invoke(app, ["backtest", *args])


def test_backtest_events_dir_writes_readable_logs_in_the_logs_zone(
        files: tuple[Path, Path], tmp_path: Path) -> None:
    model_file, log_file = files
    out = tmp_path / "sims"
    result = backtest(str(model_file), str(log_file), *COLUMNS, "-r", "2", "--seed", "1",
                      "--events-dir", str(out))
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in out.iterdir())
    assert written == ["replication-001.csv", "replication-002.csv"]
    real = read_log(log_file, case="Ticket", activity="Step", resource="Who", start="Began",
                    end="Finished")
    for name in written:
        header = (out / name).read_text().splitlines()[0]
        assert header.split(",") == list(CSV_COLUMNS)
        sim = read_log(out / name)
        assert sim.cases == CASES and sim.time_zone == real.time_zone == ZONE
        # The simulation starts at the log's first case start (its first arrival after).
        first = real.frame["start"].min().floor("us")
        assert first <= sim.frame["start"].min() < first + pd.Timedelta(days=1)


def test_backtest_without_column_overrides_fails_cleanly(files: tuple[Path, Path]) -> None:
    model_file, log_file = files
    result = backtest(str(model_file), str(log_file), "-r", "2")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_test_from_backtests_only_the_later_cases(files: tuple[Path, Path],
                                                  tmp_path: Path) -> None:
    model_file, log_file = files
    real = read_log(log_file, case="Ticket", activity="Step", resource="Who", start="Began",
                    end="Finished")
    starts = real.frame.groupby("case")["start"].min().sort_values()
    since = starts.iloc[CASES // 2].tz_localize(None)  # wall clock in the log's zone
    expected = int((starts >= starts.iloc[CASES // 2]).sum())
    out, json_out = tmp_path / "sims", tmp_path / "out.json"
    result = backtest(str(model_file), str(log_file), *COLUMNS, "-r", "2", "--seed", "2",
                      "--test-from", since.isoformat(), "--events-dir", str(out),
                      "--json", str(json_out))
    assert result.exit_code == 0, result.output
    assert f"{expected} cases from" in result.output
    data = json.loads(json_out.read_text())
    assert data["test_from"] == since.isoformat()
    for path in out.iterdir():
        sim = read_log(path)
        assert sim.cases == expected and sim.time_zone == ZONE
        assert sim.frame["start"].min() >= pd.Timestamp(since).tz_localize(
            real.frame["start"].dt.tz)


def test_cases_from_reads_dates_in_the_logs_zone(files: tuple[Path, Path]) -> None:
    _, log_file = files
    real = read_log(log_file, case="Ticket", activity="Step", resource="Who", start="Began",
                    end="Finished")
    assert cases_from(real, "2000-01-01").cases == CASES
    assert cases_from(real, "2100-01-01").cases == 0
    naive = EventLog(real.frame.assign(start=real.frame["start"].dt.tz_localize(None),
                                       end=real.frame["end"].dt.tz_localize(None),
                                       enabled=real.frame["enabled"].dt.tz_localize(None)))
    with pytest.raises(ValueError, match="UTC offset"):
        cases_from(naive, "2026-01-05T09:00+02:00")


@pytest.mark.parametrize(("args", "message"), [
    (["--test-from", "not a date"], "--test-from"),
    (["--test-from", "2100-01-01"], "no case"),
    (["--report", "out.txt"], ".html, .htm, .md, .pdf"),
    (["--events-dir", "missing/sims"], "does not exist"),
])
def test_backtest_bad_inputs_exit_2(files: tuple[Path, Path], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch, args: list[str],
                                    message: str) -> None:
    model_file, log_file = files
    monkeypatch.chdir(tmp_path)
    result = backtest(str(model_file), str(log_file), *COLUMNS, "-r", "2", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_events_dir_that_is_a_file_exits_2(files: tuple[Path, Path], tmp_path: Path) -> None:
    model_file, log_file = files
    plain = tmp_path / "file"
    plain.write_text("x")
    result = backtest(str(model_file), str(log_file), *COLUMNS, "--events-dir", str(plain))
    assert result.exit_code == 2 and "not a directory" in result.output


def test_write_log_csv_round_trips_naive_times(tmp_path: Path) -> None:
    t = pd.to_datetime(["2026-01-05 09:00:00.5", "2026-01-05 09:10"], format="ISO8601")
    frame = pd.DataFrame({"case": ["c1"], "activity": ["=cmd"], "resource": [pd.NA],
                          "start": t[[0]], "end": t[[1]],
                          "enabled": pd.Series([pd.NaT], dtype=t.dtype), "line": [2]})
    back = read_log(write_log_csv(EventLog(frame), tmp_path / "l.csv"))
    assert back.time_zone is None and back.frame["start"].iloc[0] == t[0]
    assert back.frame["activity"].iloc[0] == "'=cmd"  # never a spreadsheet formula


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.images: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "img":
            self.images.append(str(a.get("src")))
        self.scripts += tag == "script"


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def test_kpis_report_has_its_sections_and_plots(files: tuple[Path, Path],
                                                tmp_path: Path) -> None:
    _, log_file = files
    out = tmp_path / "kpis.html"
    result = CliRunner().invoke(app, ["kpis", str(log_file), *COLUMNS, "-q", "--report",
                                      str(out)])
    assert result.exit_code == 0, result.output
    page = _parse(out)
    assert {"kpis", "plots", "activities", "resources"} <= set(page.ids)
    assert {"fig-cycle_time", "fig-arrivals_hour", "fig-arrivals_weekday", "fig-wip",
            "fig-waiting"} <= set(page.ids)
    assert len(page.images) == 5 and page.scripts == 0
    assert all(src.startswith("data:image/png;base64,") for src in page.images)


def test_kpis_report_escapes_the_users_names(tmp_path: Path) -> None:
    log_file = tmp_path / "log.csv"
    log_file.write_text("case_id,activity,resource,start_time,end_time\n"
                        "1,<script>x</script> $a$,ann,2026-01-05T09:00,2026-01-05T09:10\n"
                        "2,<b>b,bob,2026-01-06T10:00,2026-01-06T11:00\n")
    out = tmp_path / "kpis.htm"
    result = CliRunner().invoke(app, ["kpis", str(log_file), "-q", "--report", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert _parse(out).scripts == 0


@pytest.mark.parametrize("name", ["out.txt", "out"])
def test_kpis_report_unknown_formats_exit_2(files: tuple[Path, Path], tmp_path: Path,
                                            name: str) -> None:
    _, log_file = files
    result = CliRunner().invoke(app, ["kpis", str(log_file), *COLUMNS, "--report",
                                      str(tmp_path / name)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert ".html, .htm, .md, .pdf" in result.output
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("command", ["kpis", "backtest"])
def test_pdf_report_without_weasyprint_exits_2_before_any_work(
        files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        command: str) -> None:
    model_file, log_file = files
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint fails
    inputs = [str(log_file)] if command == "kpis" else [str(model_file), str(log_file)]
    result = CliRunner().invoke(app, [command, *inputs, *COLUMNS, "--report",
                                      str(tmp_path / "out.pdf")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "procsim[pdf]" in result.output
    assert "cases" not in result.output  # refused before the log was read
    assert list(tmp_path.iterdir()) == []


def _markdown_images(path: Path) -> list[str]:
    """The images of a Markdown file, parsed as CommonMark with tables."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(path.read_text(encoding="utf-8"))
    images = []
    for token in tokens:
        images += [str(c.attrGet("src")) for c in token.children or [] if c.type == "image"]
    return images


def test_kpis_markdown_report_has_its_plots_beside_it(files: tuple[Path, Path],
                                                      tmp_path: Path) -> None:
    _, log_file = files
    out = tmp_path / "kpis.md"
    out.write_text("an older report")
    (tmp_path / "kpis_files").mkdir()
    (tmp_path / "kpis_files" / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["kpis", str(log_file), *COLUMNS, "-q", "--report",
                                      str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    for heading in ("## KPIs per case", "## Plots", "## Activities", "## Resources"):
        assert f"\n{heading}\n" in text, heading
    names = ["cycle-time.png", "arrivals-hour.png", "arrivals-weekday.png", "wip.png",
             "waiting.png"]
    assert _markdown_images(out) == [f"kpis_files/{name}" for name in names]
    for name in names:
        assert (tmp_path / "kpis_files" / name).read_bytes().startswith(b"\x89PNG")
    # The report replaced only its own files; no temporary file is left.
    assert (tmp_path / "kpis_files" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kpis.md", "kpis_files"]
    assert sorted(p.name for p in (tmp_path / "kpis_files").iterdir()) == sorted(
        [*names, "notes.txt"])


def test_report_that_cannot_be_written_keeps_the_old_one(files: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    _, log_file = files
    out = tmp_path / "kpis.md"
    out.write_text("an older report")
    (tmp_path / "kpis_files").write_text("a file where the plots' folder would go")
    result = CliRunner().invoke(app, ["kpis", str(log_file), *COLUMNS, "-q", "--report",
                                      str(out)])
    assert result.exit_code == 2 and "cannot write output" in result.output
    assert out.read_text() == "an older report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kpis.md", "kpis_files"]


def test_kpis_pdf_report(files: tuple[Path, Path], tmp_path: Path) -> None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        pytest.skip("WeasyPrint (procsim[pdf]) is not installed")
    _, log_file = files
    out = tmp_path / "kpis.pdf"
    result = CliRunner().invoke(app, ["kpis", str(log_file), *COLUMNS, "-q", "--report",
                                      str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in tmp_path.iterdir()] == ["kpis.pdf"]


def test_backtest_report_has_its_sections_and_overlays(files: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    model_file, log_file = files
    out = tmp_path / "backtest.html"
    result = backtest(str(model_file), str(log_file), *COLUMNS, "-r", "2", "--seed", "4",
                      "--report", str(out))
    assert result.exit_code == 0, result.output
    page = _parse(out)
    assert {"verdict", "distances", "kpis", "overlays", "fig-cycle_time", "fig-events_hour",
            "fig-waiting"} <= set(page.ids)
    assert len(page.images) == 3 and page.scripts == 0
    text = out.read_text(encoding="utf-8")
    assert "n_gram" in text and "cycle_time.mean" in text


def test_backtest_markdown_report_has_its_overlays_beside_it(files: tuple[Path, Path],
                                                             tmp_path: Path) -> None:
    model_file, log_file = files
    out = tmp_path / "back test.MD"
    result = backtest(str(model_file), str(log_file), *COLUMNS, "-r", "2", "--seed", "4",
                      "--report", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    for heading in ("## Distances to the log", "## KPIs side by side",
                    "## The log against the simulation"):
        assert f"\n{heading}\n" in text, heading
    assert "`n_gram`" in text and "`cycle_time.mean`" in text
    names = ["cycle-time.png", "events-hour.png", "waiting.png"]
    assert _markdown_images(out) == [f"back%20test_files/{name}" for name in names]
    for name in names:
        assert (tmp_path / "back test_files" / name).read_bytes().startswith(b"\x89PNG")
