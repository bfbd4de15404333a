"""Reading event logs (issue 13, part 1): every column variant of the shipped logs, overrides,
procsim's own CSV and XES, time zones, bad rows with FILE:LINE, refuse or drop, bad files."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import procsim
from procsim.errors import LogError, format_error
from procsim.eventlog import COLUMNS, read_log
from procsim.output import write_events_csv, write_xes

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "eventlogs"

HEADER = "case_id,activity,resource,start_time,end_time\n"


def _write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _check_invariants(log: procsim.eventlog.EventLog) -> None:
    frame = log.frame
    assert tuple(frame.columns) == COLUMNS
    assert frame["case"].notna().all() and frame["activity"].notna().all()
    assert (frame["start"] <= frame["end"]).all()
    assert frame["start"].dtype == frame["end"].dtype == frame["enabled"].dtype
    assert frame["line"].dtype == np.int64
    ordered = frame.sort_values(["case", "start"], kind="stable", ignore_index=True)
    assert ordered[["case", "start"]].equals(frame[["case", "start"]])


# --- the shipped logs ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "events", "cases", "zone", "has_enabled"), [
    # case_id, resource, role, activity, …, start_time, end_time, enabled_time: naive times
    ("LoanApp_simplified_train.csv.gz", 7544, 1000, None, True),
    # case_id, activity, resource, start_time, end_time: offsets +02:00 and +03:00 -> UTC
    ("PurchasingExample.csv.gz", 9119, 608, "UTC", False),
    # case_id, start_time, end_time, …, activity, resource: +0000
    ("BPIC_2012_test_transformed.csv.gz", 24520, 2976, "UTC", False),
])
def test_shipped_logs(name: str, events: int, cases: int, zone: str | None,
                      has_enabled: bool) -> None:
    log = read_log(DATA / name)
    assert (len(log), log.cases, log.time_zone) == (events, cases, zone)
    assert log.dropped == ()
    assert log.file == str(DATA / name)
    _check_invariants(log)
    expected = "datetime64[ns]" if zone is None else "datetime64[ns, UTC]"
    assert str(log.frame["start"].dtype) == expected
    assert log.frame["enabled"].notna().all() == has_enabled


def test_purchasing_keeps_the_instants_of_its_offsets() -> None:
    log = read_log(DATA / "PurchasingExample.csv.gz")
    first = log.frame.iloc[0]
    # line 3: 1,Create Purchase Requisition,Kim Passa,2011-01-01T07:00:00+02:00,…
    assert first["line"] == 3 and first["activity"] == "Create Purchase Requisition"
    assert first["start"] == pd.Timestamp("2011-01-01T05:00:00Z")


@pytest.mark.parametrize("header", [
    "case:concept:name,concept:name,org:resource,start_timestamp,time:timestamp",
    "case,Activity,resource,start,end",
    "Case_ID , ACTIVITY,Resource,Start_Time,End_Time",
])
def test_column_variants(tmp_path: Path, header: str) -> None:
    path = _write(tmp_path, f"{header}\nc1,a,r,2026-01-05T08:00:00,2026-01-05T08:05:00\n")
    frame = read_log(path).frame
    assert frame.iloc[0][["case", "activity", "resource"]].tolist() == ["c1", "a", "r"]
    assert frame.iloc[0]["end"] == pd.Timestamp("2026-01-05T08:05:00")


def test_enabled_variant_and_no_resource(tmp_path: Path) -> None:
    path = _write(tmp_path, "case,activity,enabled,start,end\n"
                            "1,a,2026-01-05 07:00,2026-01-05 08:00,2026-01-05 09:00\n")
    frame = read_log(path).frame
    assert frame.iloc[0]["enabled"] == pd.Timestamp("2026-01-05T07:00")
    assert frame["resource"].isna().all()


def test_overrides_win(tmp_path: Path) -> None:
    path = _write(tmp_path, "case_id,ticket,step,who,begin,finish,end_time\n"
                            "x,T1,a,r,2026-01-05T08:00,2026-01-05T08:05,garbage\n")
    log = read_log(path, case="ticket", activity="step", resource="who", start="begin",
                   end="finish")
    assert log.frame.iloc[0][["case", "activity", "resource"]].tolist() == ["T1", "a", "r"]


def test_missing_column_lists_the_columns_and_a_close_match(tmp_path: Path) -> None:
    path = _write(tmp_path, "case_id,activty,start_time,end_time\n1,a,2026-01-05,2026-01-05\n")
    with pytest.raises(LogError) as info:
        read_log(path)
    message = str(info.value)
    assert message.startswith(f"{path}: no activity column (looked for activity, ")
    assert "(did you mean 'activty'?)" in message
    assert "the columns are: 'case_id', 'activty', 'start_time', 'end_time'" in message
    with pytest.raises(LogError, match=r"no column 'stage' for activity \(did you mean "
                                       r"'state'\?\)"):
        read_log(_write(tmp_path, "case_id,state,start_time,end_time\n1,a,2026,2026\n",
                        "b.csv"), activity="stage")


# --- procsim's own logs -------------------------------------------------------------------------

MODEL = """
procsim: 1
name: Two steps
start: 2026-01-05T08:00
arrivals: {interarrival: {dist: exponential, mean: 5}}
people: {anna: {}, ben: {}}
resources: {clerk: {members: [anna, ben]}}
activities:
  check: {resource: clerk, duration: {dist: exponential, mean: 3}}
  serve: {resource: clerk, duration: {dist: exponential, mean: 4}}
flow: {start: check, check: serve, serve: end}
"""


@pytest.fixture(scope="module")
def run() -> procsim.kpi.RunResult:
    model = procsim.parse_model(MODEL)
    return procsim.simulate(model, replications=2, cases=30, seed=7, warmup=0,
                            keep_records=True)


def test_procsim_csv_and_xes_give_the_run_record(run: procsim.kpi.RunResult,
                                                 tmp_path: Path) -> None:
    csv_log = read_log(write_events_csv(run, tmp_path / "e.csv"))
    xes_log = read_log(write_xes(run, tmp_path / "e.xes"))
    columns = ["case", "activity", "resource", "start", "end"]
    assert csv_log.frame[columns].equals(xes_log.frame[columns])
    assert csv_log.time_zone == xes_log.time_zone == "UTC"
    assert set(csv_log.frame["resource"]) == {"anna", "ben"}  # the person, as in the XES
    # The same activity instances as the record, to the millisecond.
    origin = pd.Timestamp("2026-01-05T08:00Z")
    expected = []
    for record in run.records:
        for c, a, s, e in zip(record.instance_case.tolist(), record.instance_activity.tolist(),
                              record.instance_start.tolist(), record.instance_end.tolist(),
                              strict=True):
            expected.append((f"{record.replication}-{c}", ["check", "serve"][a],
                             round(s * 60_000), round(e * 60_000)))
    frame = xes_log.frame
    got = list(zip(frame["case"], frame["activity"],
                   ((frame["start"] - origin) // pd.Timedelta("1ms")).tolist(),
                   ((frame["end"] - origin) // pd.Timedelta("1ms")).tolist(), strict=True))
    assert sorted(got) == sorted(expected)


def test_procsim_xes_gzipped(run: procsim.kpi.RunResult, tmp_path: Path) -> None:
    path = write_xes(run, tmp_path / "e.xes")
    packed = tmp_path / "e.xes.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert read_log(packed).frame.equals(read_log(path).frame)


def test_procsim_csv_without_clock_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "replication,case_id,activity,resource,enabled,start,end\n"
                            "0,0-0,a,r,0.0,1.5,2.5\n")
    with pytest.raises(LogError, match=r"without clock times .* `start:` date-time"):
        read_log(path)


def test_procsim_csv_spreadsheet_quotes_are_undone(tmp_path: Path) -> None:
    t = "2026-01-05T08:00:00.000+00:00"
    path = _write(tmp_path, "replication,case_id,activity,resource,enabled,start,end,"
                            f"enabled_time,start_time,end_time\n"
                            f"0,0-0,'=sum,''quoted,0,0,0,{t},{t},{t}\n")
    row = read_log(path).frame.iloc[0]
    assert (row["activity"], row["resource"]) == ("=sum", "'quoted")


# --- time zones ---------------------------------------------------------------------------------


def test_one_offset_is_kept(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "1,a,r,2026-01-05T08:00:00+01:00,2026-01-05T09:00+0100\n")
    log = read_log(path)
    assert log.time_zone == "UTC+01:00"
    assert log.frame.iloc[0]["start"].isoformat() == "2026-01-05T08:00:00+01:00"


def test_mixed_time_zones_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "1,a,r,2026-01-05T08:00:00+01:00,2026-01-05T09:00+01:00\n"
                                     "1,b,r,2026-01-05T10:00:00,2026-01-05T11:00:00\n")
    with pytest.raises(LogError, match=r": mixed time zones: line 2 has a time with a UTC "
                                       r"offset \(start\), line 3 one without \(start\)"):
        read_log(path)


# --- bad rows -----------------------------------------------------------------------------------

BAD = (HEADER
       + "1,a,r,2026-01-05T08:00,2026-01-05T08:05\n"   # line 2: fine
       + "1,b,r,2026-01-05T08:10,\n"                   # line 3: no end
       + "1,c,r,yesterday,2026-01-05T08:30\n"          # line 4: unparsable
       + '"2\n",d,r,2026-01-05T09:00,2026-01-05T09:05\n'  # lines 5-6: a line break in a cell
       + "\n"                                          # line 7: blank
       + "2,e,r,2026-01-05T10:00,2026-01-05T09:00\n"   # line 8: end before start
       + ",f,r,2026-01-05T10:00,2026-01-05T11:00\n")   # line 9: no case


def test_bad_rows_are_refused_with_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, BAD)
    with pytest.raises(LogError) as info:
        read_log(path)
    assert info.value.count == 4
    assert str(info.value).splitlines() == [
        f"{path}:3: missing end time",
        f"{path}:4: unparsable start time 'yesterday' (expected ISO 8601, e.g. "
        "2026-01-05T08:00:00 or 2026-01-05 08:00:00+01:00)",
        f"{path}:8: end before start (start 2026-01-05T10:00, end 2026-01-05T09:00)",
        f"{path}:9: missing case id",
        f'4 bad rows in {path} (pass on_error="drop" to read the others)',
    ]
    assert format_error(info.value) == str(info.value)


def test_bad_rows_dropped_are_kept_in_dropped(tmp_path: Path) -> None:
    log = read_log(_write(tmp_path, BAD), on_error="drop")
    assert log.frame["line"].tolist() == [2, 5]
    assert log.frame["case"].tolist() == ["1", "2\n"]
    assert [(p.line, p.message.split(" ")[0]) for p in log.dropped] == [
        (3, "missing"), (4, "unparsable"), (8, "end"), (9, "missing")]


def test_many_bad_rows_show_ten_and_the_count(tmp_path: Path) -> None:
    rows = "".join(f"{i},a,r,2026-01-05T08:00,\n" for i in range(25))
    with pytest.raises(LogError) as info:
        read_log(_write(tmp_path, HEADER + rows))
    lines = str(info.value).splitlines()
    assert len(lines) == 12 and lines[10] == "… and 15 more"
    assert lines[11].startswith("25 bad rows in ")


def test_xes_bad_pairs_name_the_event_line(tmp_path: Path) -> None:
    def event(activity: str, transition: str, time: str) -> str:
        return (f'<event><string key="concept:name" value="{activity}"/>'
                f'<string key="lifecycle:transition" value="{transition}"/>'
                f'<date key="time:timestamp" value="{time}"/></event>\n')
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n'
            '<trace><string key="concept:name" value="c1"/>\n'
            + event("a", "start", "2026-01-05T08:00:00+00:00")      # line 4
            + event("a", "complete", "2026-01-05T08:05:00+00:00")   # line 5
            + event("b", "start", "2026-01-05T08:06:00+00:00")      # line 6: never completes
            + event("c", "complete", "2026-01-05T08:07:00+00:00")   # line 7: never started
            + "</trace>\n</log>\n")
    path = _write(tmp_path, text, "log.xes")
    with pytest.raises(LogError) as info:
        read_log(path)
    assert str(info.value).splitlines()[:2] == [
        f"{path}:6: missing end: start event of 'b' without a complete event",
        f"{path}:7: complete event of 'c' without a start event"]
    log = read_log(path, on_error="drop")
    assert log.frame[["case", "activity", "line"]].values.tolist() == [["c1", "a", 4]]


# --- files that are not logs --------------------------------------------------------------------


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"\n\n", "the file is empty"),
    (HEADER.encode(), r"no events \(the file has a header only\)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not an event log .*binary"),
    (b"procsim: 1\nname: x\n", "no case column"),
    (b"<html><body>hi</body></html>", "not an event log .*root is <html>"),
    (b'<?xml version="1.0"?><!DOCTYPE log [<!ENTITY a "aaaa">]><log/>',
     "an XES file with a document type declaration"),
    (b'<log xes.version="1.0"></log>', "no events"),
    (gzip.compress(b"x", mtime=0)[:10], "cannot read the file"),
])
def test_not_a_log(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "thing.csv"
    path.write_bytes(content)
    with pytest.raises(LogError, match=f"^{re.escape(str(path))}(:[0-9]+)?: {message}"):
        read_log(path)


def test_no_such_file_and_bad_option(tmp_path: Path) -> None:
    with pytest.raises(LogError, match="no such file"):
        read_log(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="on_error"):
        read_log(DATA / "PurchasingExample.csv.gz", on_error="ignore")


def test_without_pandas_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    with pytest.raises(LogError, match=re.escape("reading event logs needs pandas: "
                                                 "pip install 'procsim[logs]'")):
        read_log(DATA / "PurchasingExample.csv.gz")


# --- the documentation's examples run -----------------------------------------------------------

_PYTHON = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def test_docs_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import doctest

    monkeypatch.chdir(ROOT)
    text = (ROOT / "docs" / "eventlogs.md").read_text(encoding="utf-8")
    blocks = _PYTHON.findall(text)
    assert blocks
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    namespace: dict[str, object] = {}  # the blocks run in turn, like a session
    for i, block in enumerate(blocks):
        test = parser.get_doctest(block, namespace, f"eventlogs.md[{i}]", None, 0)
        runner.run(test, clear_globs=False)
        namespace = test.globs
    assert runner.summarize(verbose=False).failed == 0
