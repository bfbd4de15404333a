"""Reports and plots against hostile names, and of very large models (issue 11, items 2, 5, 14).

Names, descriptions and objectives are the user's text. In every report format and plot
they must show as written: never as HTML or Markdown markup, never as mathtext, and never
stop the report. Both report formats are checked by parsing them (markdown-it for Markdown,
``html.parser`` for HTML), the plots by reading the text of their SVG.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import matplotlib
import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from procsim import load_model, simulate
from procsim.compare import ComparisonResult, compare
from procsim.kpi import RunResult
from procsim.model.scenario import apply_changes, with_okrs
from procsim.report.plots import (
    PLOT_LIMIT,
    ActivityTimeDisplay,
    DistributionDisplay,
    ProcessMapDisplay,
    QueueDisplay,
    UtilizationDisplay,
    literal_text,
)
from procsim.report.writer import markdown_code, markdown_text, report_context, write_report

ROOT = Path(__file__).resolve().parent.parent

# Free text: the model's name and description, a scenario's name, an objective, the currency.
MODEL_NAME = ("<img src=x onerror=alert(2)> Desk | *bold* _em_ ~~gone~~ "
              "[x](javascript:alert(3)) ![i](http://e.example/i.png) <http://e.example>")
DESCRIPTION = ("<script>alert(1)</script>\n# not a heading\n- not an item\n1. not a list\n"
               "`code` \\*star &amp; &lt;b&gt; | cell $x^2$\n\n---\n> quote")
SCENARIO_NAME = r"cost $x^2$ or $\frac{1}{0}$ and $\undefinedcmd{$ <b>bold</b> `tick` # | \|"
OBJECTIVE = "<iframe src=javascript:alert(4)></iframe> [link](javascript:alert(5)) **$5** |"
CURRENCY = "$"
# Activity, pool and KPI names are identifiers, which can still be Markdown emphasis.
RENAMES = {"triage": "_triage_", "agents": "__agents__", "resolve_l2": "resolve_l2_",
           "escalated": "_escalated_"}
#: The user's text in each kind of report (a run's report shows the description).
SHOWN = {"run": [MODEL_NAME, DESCRIPTION, *RENAMES.values()],
         "compare": [MODEL_NAME, SCENARIO_NAME, OBJECTIVE, *RENAMES.values()]}


def _result(comparison: ComparisonResult, kind: str) -> Any:
    return comparison if kind == "compare" else comparison.baseline


def _collapsed(text: str) -> str:
    """The text as a one-line report shows it: runs of white space as one space."""
    return " ".join(text.split())


def _renamed(value: Any) -> Any:
    if isinstance(value, str):
        return RENAMES.get(value, value)
    if isinstance(value, dict):
        return {_renamed(k): _renamed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v) for v in value]
    return value


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> ComparisonResult:
    """The service desk with hostile names everywhere, one scenario and OKRs."""
    folder = tmp_path_factory.mktemp("hostile")
    data = yaml.safe_load((ROOT / "models/service_desk.yaml").read_text(encoding="utf-8"))
    for section in ("resources", "activities", "flow", "kpis"):
        data[section] = _renamed(data[section])
    data.update(name=MODEL_NAME, description=DESCRIPTION, currency=CURRENCY)
    (folder / "m.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    okrs = {"okrs": [{"objective": OBJECTIVE, "key_results": [
        {"kpi": "cycle_time", "stat": "p90", "from": "baseline", "to": "100min"},
        {"kpi": "cost_per_case", "stat": "mean", "change": "<= +5%"},
        {"kpi": "_escalated_", "to": "20%"}]}]}
    (folder / "okrs.yaml").write_text(yaml.safe_dump(okrs), encoding="utf-8")
    base = with_okrs(load_model(folder / "m.yaml"), folder / "okrs.yaml")
    scenario = apply_changes(base, {"resources.__agents__.capacity": 6}, name=SCENARIO_NAME)
    return compare(base, [scenario], replications=2, cases=400, warmup=40, seed=3)


# --- Markdown -------------------------------------------------------------------------------


def _markdown(text: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(text)


def _walk(tokens: list[Token]) -> list[Token]:
    out = []
    for token in tokens:
        out.append(token)
        out += _walk(token.children or [])
    return out


def _inline_texts(tokens: list[Token]) -> list[str]:
    """The text of every inline run (a paragraph, heading, cell, image alt …) as shown."""
    texts = []
    for token in _walk(tokens):
        if token.type == "inline":
            texts.append("".join(c.content if c.type in ("text", "code_inline")
                                 else " " if c.type == "softbreak" else ""
                                 for c in token.children or []))
        if token.type == "image":
            texts.append("".join(c.content for c in token.children or []))
    return texts


@pytest.mark.parametrize("kind", ["run", "compare"])
def test_markdown_report_shows_hostile_names_as_text(hostile: ComparisonResult, kind: str,
                                                      tmp_path: Path) -> None:
    result = _result(hostile, kind)
    out = write_report(result, tmp_path / "report (final) <1>.md")
    tokens = _markdown(out.read_text(encoding="utf-8"))
    every = _walk(tokens)
    # The template writes no HTML and no links: any such token would come from a name.
    assert not [t for t in every if t.type in ("html_block", "html_inline")]
    assert not [t for t in every if t.type == "link_open"]
    # The only images are the plots, each in the folder beside the report, whatever the
    # report's file name.
    images = [t for t in every if t.type == "image"]
    figures = report_context(result).figures
    assert len(images) == len(figures)
    for image in images:
        src = str(image.attrGet("src"))
        assert src.startswith("report%20%28final%29%20%3C1%3E_files/"), src
        assert (tmp_path / "report (final) <1>_files" / src.rsplit("/", 1)[1]).is_file()
    # Every name is shown as written (on one line), and adds no markup of its own (for the
    # whole structure, see the next test).
    shown = "\n".join(_inline_texts(tokens))
    for name in SHOWN[kind]:
        assert _collapsed(name) in shown, name
    assert [t.tag for t in every if t.type == "heading_open"].count("h1") == 1
    assert not [t for t in every if t.type in ("s_open", "blockquote_open", "hr")]


@pytest.mark.parametrize("kind", ["run", "compare"])
def test_markdown_structure_does_not_depend_on_names(hostile: ComparisonResult, kind: str,
                                                     tmp_path: Path) -> None:
    """Token for token, the hostile report has the structure of a report with plain names."""
    plain = compare(*_plain_models(tmp_path), replications=2, cases=400, warmup=40, seed=3)

    def structure(result: Any, name: str) -> list[tuple[str, str]]:
        text = write_report(result, tmp_path / name).read_text(encoding="utf-8")
        return [(t.type, t.tag) for t in _walk(_markdown(text))
                if t.type not in ("text", "softbreak")]

    assert (structure(_result(hostile, kind), "hostile.md")
            == structure(_result(plain, kind), "plain.md"))


def _plain_models(folder: Path) -> tuple[Any, list[Any]]:
    data = yaml.safe_load((ROOT / "models/service_desk.yaml").read_text(encoding="utf-8"))
    for section in ("resources", "activities", "flow", "kpis"):
        data[section] = _renamed(data[section])
    data.update(name="Desk", description="Plain words.", currency="EUR")
    (folder / "plain.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    okrs = {"okrs": [{"objective": "Plain", "key_results": [
        {"kpi": "cycle_time", "stat": "p90", "from": "baseline", "to": "100min"},
        {"kpi": "cost_per_case", "stat": "mean", "change": "<= +5%"},
        {"kpi": "_escalated_", "to": "20%"}]}]}
    (folder / "plain_okrs.yaml").write_text(yaml.safe_dump(okrs), encoding="utf-8")
    base = with_okrs(load_model(folder / "plain.yaml"), folder / "plain_okrs.yaml")
    return base, [apply_changes(base, {"resources.__agents__.capacity": 6}, name="Six")]


# Every context the Markdown template puts a value in, with the markup the context makes.
CONTEXTS = {
    "paragraph": ("{}\n", {"paragraph_open": 1}),
    "heading": ("### Where cases wait: {}\n", {"heading_open": 1}),
    "list item": ("- {}\n", {"bullet_list_open": 1, "list_item_open": 1, "paragraph_open": 1}),
    "table cell": ("| a | b |\n|---|---|\n| {} | x |\n",
                   {"table_open": 1, "th_open": 2, "td_open": 2}),
    "strong": ("Baseline **{}** against\n", {"paragraph_open": 1, "strong_open": 1}),
    "image": ("![{}](x.png)\n", {"paragraph_open": 1, "image": 1}),
}
MARKUP = ("html_block", "html_inline", "link_open", "image", "em_open", "strong_open", "s_open",
          "code_inline", "heading_open", "bullet_list_open", "ordered_list_open",
          "list_item_open", "blockquote_open", "hr", "code_block", "fence", "table_open",
          "td_open", "th_open", "paragraph_open", "hardbreak")
# Markdown's syntax, with white space and line breaks, and any other character.
TEXTS = st.text(st.sampled_from(list("\\`*_{}[]()#+-.!|<>&;$~=:^\"' \t\n\r1aé")) | st.characters(
    blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(text=TEXTS)
def test_markdown_text_is_text_in_every_context(text: str) -> None:
    assume(_collapsed(text))
    for context, (template, own) in CONTEXTS.items():
        tokens = _walk(_markdown(template.format(markdown_text(text))))
        markup = {kind: n for kind in MARKUP if (n := sum(t.type == kind for t in tokens))}
        assert markup == own, (context, text, markup)
        shown = _inline_texts(tokens)
        assert _collapsed(text) in "\n".join(shown), (context, text, shown)
        if context in ("paragraph", "list item"):
            assert shown == [_collapsed(text)], (context, text, shown)


@settings(max_examples=200, deadline=None)
@given(text=TEXTS)
def test_markdown_code_is_literal_in_a_table(text: str) -> None:
    tokens = _walk(_markdown(f"| a | b |\n|---|---|\n| {markdown_code(text)} | x |\n"))
    assert sum(t.type == "td_open" for t in tokens) == 2
    codes = [t.content for t in tokens if t.type == "code_inline"]
    assert codes == ([_collapsed(text)] if _collapsed(text) else []), (text, codes)
    assert not [t for t in tokens if t.type in ("html_inline", "link_open", "image")]


# --- HTML -----------------------------------------------------------------------------------


class _Elements(HTMLParser):
    """Every element with its attributes, and the text, of an HTML page."""

    def __init__(self) -> None:
        super().__init__()  # character references in text and attributes are decoded
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("kind", ["run", "compare"])
def test_html_report_shows_hostile_names_as_text(hostile: ComparisonResult, kind: str,
                                                  tmp_path: Path) -> None:
    result = _result(hostile, kind)
    html = write_report(result, tmp_path / "report.html").read_text(encoding="utf-8")
    page = _Elements()
    page.feed(html)
    page.close()
    tags = [tag for tag, _ in page.elements]
    assert not {"script", "iframe", "b"} & set(tags)
    # Links only to the report's own sections; images only the plots, as data URIs.
    for tag, attrs in page.elements:
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
        if tag == "a":
            assert str(attrs.get("href", "")).startswith("#"), attrs
        if tag == "img":
            assert str(attrs["src"]).startswith("data:image/svg+xml;base64,")
    images = [attrs for tag, attrs in page.elements if tag == "img"]
    assert len(images) == len(report_context(result).figures)
    # The names are the text of the page (and of the plots' alternative text), as written.
    text = " ".join(page.text)
    for name in SHOWN[kind]:
        assert _collapsed(name) in _collapsed(text), name
    alts = [str(attrs["alt"]) for attrs in images]
    assert (f"Process map of {SCENARIO_NAME}" if kind == "compare"
            else f"Process map of {MODEL_NAME}") in alts
    # Each plot is a well-formed SVG document.
    for attrs in images:
        ET.fromstring(base64.b64decode(str(attrs["src"]).split(",", 1)[1]))


# --- plots: no mathtext ---------------------------------------------------------------------


def _svg_texts(fig: Any) -> list[str]:
    """The text drawn in a figure, from its SVG with text kept as text."""
    import io

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg")
    root = ET.fromstring(buffer.getvalue())
    return ["".join(e.itertext()) for e in root.iter("{http://www.w3.org/2000/svg}text")]


def test_plots_draw_dollar_names_literally(hostile: ComparisonResult) -> None:
    """Mathtext is never applied to user text: a bad formula does not stop the plot and a
    good one is not typeset."""
    from matplotlib.figure import Figure

    # "_hidden": matplotlib leaves labels starting with "_" out of a legend it collects.
    names = {"baseline": hostile.baseline, r"_hidden $\frac{1}$": hostile.scenarios[0].result,
             "$": hostile.baseline}
    targets = {"KR: p90 <= 100 $": 100.0, "cost $x^2$ or $y$": 120.0}
    for kind in ("ecdf", "box", "hist"):
        display = DistributionDisplay.from_result(names, target=targets).plot(kind=kind)
        texts = _svg_texts(display.figure_)
        for label in [*names, *targets]:
            assert label in texts, (kind, label, texts)
    texts = _svg_texts(ActivityTimeDisplay.from_result(names).plot().figure_)
    assert r"_hidden $\frac{1}$" in texts and "_triage_" in texts
    texts = _svg_texts(UtilizationDisplay.from_result(names).plot().figure_)
    assert r"_hidden $\frac{1}$" in texts and "__agents__" in texts
    texts = _svg_texts(QueueDisplay.from_result(names, "__agents__").plot().figure_)
    assert r"_hidden $\frac{1}$" in texts and "Cases queueing for __agents__" in texts
    fig = Figure()
    ProcessMapDisplay.from_result(hostile.baseline, name=SCENARIO_NAME).plot(fig.add_subplot())
    texts = _svg_texts(fig)
    assert "_triage_" in texts and "__agents__" in texts, texts
    assert SCENARIO_NAME in " ".join(texts), texts  # the title, wrapped to the map's width


def test_sweep_plot_draws_dollar_names_literally() -> None:
    from procsim import parse_model
    from procsim.report.sweep import SweepDisplay
    from procsim.sweep import sweep

    desk = parse_model("""
procsim: 1
name: Desk
currency: "$x^{$"
arrivals: {interarrival: {dist: exponential, mean: 1}}
resources: {clerks: {capacity: 3, cost_per_hour: 30}}
activities: {serve: {resource: clerks, duration: {dist: exponential, mean: 2.4}}}
flow: {start: serve, serve: end}
""")
    result = sweep(desk, "resources.clerks.capacity", [3, 4, 5], replications=2, cases=300,
                   warmup=30, seed=1)
    texts = _svg_texts(SweepDisplay.from_result(result).plot().figure_)
    assert "Staffing cost ($x^{$/hour)" in texts, texts


def test_report_with_bad_mathtext_in_names_is_written(hostile: ComparisonResult,
                                                      tmp_path: Path) -> None:
    for suffix in ("html", "md"):
        assert write_report(hostile, tmp_path / f"r.{suffix}").stat().st_size > 0
    assert literal_text(r"$\undefinedcmd{$") == r"\$\undefinedcmd{\$"


# --- reports on event logs -----------------------------------------------------------------

# Activity and resource names of a log, and the file's name, are the user's text too.
LOG_ACTIVITIES = ["<img src=x onerror=alert(1)> *check* | _a_", "[x](javascript:alert(2)) `t`",
                  "# heading\n- item", "1. ordered $x^2$ ~~gone~~", "---"]
LOG_RESOURCES = ["<script>alert(3)</script>", "~~gone~~ &amp; \\* | <b>b</b>"]
LOG_FILE = "logs/<b>bold</b> *x* [y](javascript:z) `t` | $1$.csv"
CALENDARS_FILE = "models/<i>hours</i> ``x``.yaml"
TEST_FROM = "2026-01-05 <i>then</i> *x*"


def _event_log(activities: list[str], resources: list[str], file: str,
               shift_minutes: int = 0) -> Any:
    """A small log of 30 cases over two weeks of working days, with the given names."""
    import pandas as pd

    from procsim.eventlog import EventLog

    rows = []
    for c in range(30):
        t = (pd.Timestamp("2026-01-05 09:00") + pd.Timedelta(days=c % 5 + 7 * (c // 15))
             + pd.Timedelta(minutes=13 * (c % 15) + shift_minutes))
        for k in range(3):
            duration = pd.Timedelta(minutes=10 + 7 * ((c + k) % 4))
            rows.append({"case": f"c{c}", "activity": activities[(c + k) % len(activities)],
                         "resource": resources[(c + k) % len(resources)], "start": t,
                         "end": t + duration})
            t += duration + pd.Timedelta(minutes=5 * (c % 3))
    frame = pd.DataFrame(rows)
    frame["enabled"] = pd.Series(pd.NaT, index=frame.index, dtype=frame["start"].dtype)
    frame["line"] = range(2, len(frame) + 2)
    return EventLog(frame, file=file)


def _log_kpis(activities: list[str], resources: list[str], file: str, calendars: str) -> Any:
    from dataclasses import replace

    from procsim.eventlog.kpis import log_kpis

    return replace(log_kpis(_event_log(activities, resources, file)), calendars_from=calendars)


def _log_backtest(activities: list[str], resources: list[str], file: str) -> Any:
    pytest.importorskip("log_distance_measures")
    from procsim.eventlog.fidelity import backtest

    log = _event_log(activities, resources, file)
    simulated = [_event_log(activities, resources, file, shift_minutes=m) for m in (4, 11)]
    return backtest(log, simulated, time_unit="minutes")


def _write_log_report(kind: str, path: Path, *, plain: bool = False) -> Path:
    from procsim.report.logs import write_backtest_report, write_log_report

    activities = [f"step {k}" for k in range(5)] if plain else LOG_ACTIVITIES
    resources = ["ann", "bob"] if plain else LOG_RESOURCES
    file = "logs/plain.csv" if plain else LOG_FILE
    if kind == "kpis":
        calendars = "models/plain.yaml" if plain else CALENDARS_FILE
        return write_log_report(_log_kpis(activities, resources, file, calendars), path)
    return write_backtest_report(_log_backtest(activities, resources, file), path,
                                 model="models/plain.yaml" if plain else CALENDARS_FILE,
                                 log=file, seed=1, first="2026-01-05T09:00",
                                 test_from="2026-01-05" if plain else TEST_FROM)


#: The user's text each log report shows as text (activity and resource names are in the
#: tables of the KPI report; the back-test shows them only in its plots).
LOG_SHOWN = {"kpis": [*LOG_ACTIVITIES, *LOG_RESOURCES, LOG_FILE, CALENDARS_FILE,
                      f"KPIs of {LOG_FILE}"],
             "backtest": [LOG_FILE, CALENDARS_FILE, TEST_FROM,
                          f"Back-test of {CALENDARS_FILE} against {LOG_FILE}"]}
LOG_FIGURES = {"kpis": 5, "backtest": 3}


@pytest.mark.parametrize("kind", ["kpis", "backtest"])
def test_log_markdown_report_shows_hostile_names_as_text(kind: str, tmp_path: Path) -> None:
    out = _write_log_report(kind, tmp_path / "log report (1) <x>.md")
    tokens = _markdown(out.read_text(encoding="utf-8"))
    every = _walk(tokens)
    assert not [t for t in every if t.type in ("html_block", "html_inline", "link_open")]
    images = [t for t in every if t.type == "image"]
    assert len(images) == LOG_FIGURES[kind]
    for image in images:
        src = str(image.attrGet("src"))
        assert src.startswith("log%20report%20%281%29%20%3Cx%3E_files/"), src
        png = tmp_path / "log report (1) <x>_files" / src.rsplit("/", 1)[1]
        assert png.read_bytes().startswith(b"\x89PNG")
    shown = "\n".join(_inline_texts(tokens))
    for name in LOG_SHOWN[kind]:
        assert _collapsed(name) in shown, name
    assert [t.tag for t in every if t.type == "heading_open"].count("h1") == 1
    # The template writes no list, rule, quote or strikethrough: none comes from a name.
    assert not [t for t in every if t.type in ("s_open", "blockquote_open", "hr",
                                               "bullet_list_open", "ordered_list_open")]


@pytest.mark.parametrize("kind", ["kpis", "backtest"])
def test_log_markdown_structure_does_not_depend_on_names(kind: str, tmp_path: Path) -> None:
    """Token for token, the hostile report has the structure of a report with plain names."""
    def structure(path: Path) -> list[tuple[str, str]]:
        return [(t.type, t.tag) for t in _walk(_markdown(path.read_text(encoding="utf-8")))
                if t.type not in ("text", "softbreak")]

    hostile = structure(_write_log_report(kind, tmp_path / "hostile.md"))
    assert hostile == structure(_write_log_report(kind, tmp_path / "plain.md", plain=True))


@pytest.mark.parametrize("kind", ["kpis", "backtest"])
def test_log_html_report_shows_hostile_names_as_text(kind: str, tmp_path: Path) -> None:
    page = _Elements()
    page.feed(_write_log_report(kind, tmp_path / "r.html").read_text(encoding="utf-8"))
    page.close()
    assert not {"script", "iframe", "b", "i", "a"} & {tag for tag, _ in page.elements}
    images = [attrs for tag, attrs in page.elements if tag == "img"]
    assert len(images) == LOG_FIGURES[kind]
    for tag, attrs in page.elements:
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
        if tag == "img":
            assert str(attrs["src"]).startswith("data:image/png;base64,")
    text = _collapsed(" ".join(page.text))
    for name in LOG_SHOWN[kind]:
        assert _collapsed(name) in text, name


# --- large models ---------------------------------------------------------------------------


def large_model_yaml(n: int) -> str:
    """A serial process of ``n`` activities with a skip every fifth step; ten per pool."""
    pools = max(1, n // 10)
    lines = ["procsim: 1", f"name: Large {n}", "time_unit: minutes",
             "arrivals: {interarrival: {dist: exponential, mean: 10}}", "resources:"]
    lines += [f"  p{k:04d}: {{capacity: 2, cost_per_hour: 30}}" for k in range(pools)]
    lines.append("activities:")
    lines += [f"  a{i:04d}: {{resource: p{i % pools:04d}, duration: {{dist: exponential, "
              f"mean: 1}}}}" for i in range(n)]
    lines += ["flow:", "  start: a0000"]
    for i in range(n):
        after = f"a{i + 1:04d}" if i + 1 < n else "end"
        if i % 5 == 0 and i + 2 < n:
            lines.append(f"  a{i:04d}: {{{after}: 0.8, a{i + 2:04d}: 0.2}}")
        else:
            lines.append(f"  a{i:04d}: {after}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def large_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    path = tmp_path_factory.mktemp("large") / "large.yaml"
    path.write_text(large_model_yaml(400), encoding="utf-8")
    return simulate(load_model(path), replications=2, cases=60, warmup=5, seed=1)


def test_large_model_report_is_summarised(large_run: RunResult, tmp_path: Path) -> None:
    context = report_context(large_run)
    process_map = context.figures["map0"]
    activities = [t for t in process_map.figure.axes[0].texts if "waits" in t.get_text()]
    assert len(activities) == PLOT_LIMIT
    # Every figure stays of a page's size, whatever the model's.
    for figure in context.figures.values():
        width, height = figure.figure.get_size_inches()
        assert width <= 12 and height <= 40, (figure.key, width, height)
    assert "400 activities" in process_map.caption and "leaves out" in process_map.caption
    assert "This model is large" in context.figures["activities"].caption
    assert "leaves out 10" in context.figures["utilization"].caption
    page = _Elements()
    page.feed(write_report(large_run, tmp_path / "large.html").read_text(encoding="utf-8"))
    assert "the 30 of its 400 activities where cases wait most" in " ".join(page.text)


def test_summarised_map_keeps_paths_through_left_out_steps() -> None:
    run = simulate(load_model(ROOT / "models/service_desk.yaml"), replications=2, cases=300,
                   warmup=30, seed=1)
    full = ProcessMapDisplay.from_result(run)
    assert full.left_out == 0 and not full.indirect
    small = ProcessMapDisplay.from_result(run, top=2)
    assert set(small.nodes) == {"start", "end", "confirm", "triage"}
    assert small.left_out == 3
    # triage reaches confirm only through left-out activities: one dashed flow stands for them.
    assert small.indirect == {("triage", "confirm")}
    assert set(small.edges) == {("start", "triage"), ("triage", "confirm"),
                                ("confirm", "triage"), ("confirm", "end")}
    assert small.back_edges == {("confirm", "triage")}
    assert small.flows[("confirm", "end")] == pytest.approx(full.flows[("confirm", "end")])
    texts = [t.get_text() for t in small.plot().ax_.texts]
    assert sum("waits" in t for t in texts) == 2
    assert "3 steps left out" in small.ax_.get_title()
    assert ActivityTimeDisplay.from_result(run, top=2).activities == ["triage", "confirm"]
    assert ActivityTimeDisplay.from_result(run, top=2).left_out == 3
    assert UtilizationDisplay.from_result(run, top=1).pools == ["agents"]
