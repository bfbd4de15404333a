"""The report of procsim optimise (--report): the house style of the run and compare reports
in every format, its numbers those of the result, and every name shown as text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from typer.testing import CliRunner

from procsim import parse_model
from procsim.cli import app
from procsim.optimise import OptimiseResult, optimise
from procsim.report.optimise import optimise_context, write_optimise_report

#: One arrival a minute, 2.4 Erlangs of work (Erlang C: a mean wait of 2.6 min with 3
#: clerks, 0.45 with 4); the names are the user's text, hostile ones in ``HOSTILE``.
MODEL = """\
procsim: 1
name: {name}
currency: EUR
arrivals: {{interarrival: {{dist: exponential, mean: 1}}}}
resources: {{{pool}: {{capacity: 3, cost_per_hour: 30}}}}
activities: {{serve: {{resource: {pool}, duration: {{dist: exponential, mean: 2.4}}}}}}
flow: {{start: serve, serve: end}}
okrs:
  - objective: "{objective}"
    key_results: [{{kpi: waiting_time, to: "<= 1"}}]
"""
PLAIN = {"name": "Desk", "pool": "clerks", "objective": "Short queues"}
HOSTILE = {"name": "'<script>alert(1)</script> *Desk* | [x](javascript:y) # `t`'",
           "pool": "_clerks_",
           "objective": "<iframe src=javascript:alert(2)></iframe> **bold** | ~~gone~~"}


def _optimise(names: dict[str, str]) -> OptimiseResult:
    model = parse_model(MODEL.format(**names))
    return optimise(model, vary={f"resources.{names['pool']}.capacity": "3..6"}, seed=1,
                    cases=500, warmup=50)


@pytest.fixture(scope="module")
def plain() -> OptimiseResult:
    return _optimise(PLAIN)


@pytest.fixture(scope="module")
def hostile() -> OptimiseResult:
    return _optimise(HOSTILE)


class _Page(HTMLParser):
    """The elements (with their attributes) and the text of an HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def _numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"-?[\d,]*\d\.?\d*", text)]


def test_the_report_has_the_sections_and_the_results_numbers(plain: OptimiseResult,
                                                              tmp_path: Path) -> None:
    assert plain.best is not None and plain.confirmed and plain.best.objective is not None
    page = _Page(write_optimise_report(plain, tmp_path / "o.html").read_text(encoding="utf-8"))
    ids = [attrs.get("id") for tag, attrs in page.elements if tag == "section"]
    assert ids == ["recommendation", "alternatives", "candidates", "method"]
    text = page.words
    # the headline: what is recommended, at what cost, how sure, on how many replications
    headline = re.search(r"Recommended: 4 clerks, ([\d.]+) EUR per case; meets the key "
                         r"result with probability ≥ 90 % on (\d+) fresh replications\.", text)
    assert headline is not None, text[:2000]
    assert float(headline.group(1)) == pytest.approx(plain.best.objective.mean, rel=1e-3)
    assert int(headline.group(2)) == plain.final_replications
    # the verdict table: the re-check's estimate, interval, verdict and probability
    data = optimise_context(plain).data
    assert data["verdicts_source"] == "recheck"
    (row,) = data["verdicts"]
    (check,) = plain.recheck
    # shown in the unit that suits it (31.52 s rather than 0.5253 min); the model's is minutes
    per_minute = {"s": 1 / 60, "min": 1.0, "h": 60.0}[row["value"].split()[-1]]
    value, low, high = (x * per_minute for x in _numbers(row["value"]) + _numbers(row["ci"]))
    assert value == pytest.approx(check.estimate.mean, rel=1e-3)
    assert (low, high) == pytest.approx(check.estimate.ci, rel=1e-3)
    assert row["label"] == "met" and row["target"] == check.constraint.threshold.text
    assert row["probability"].replace("\u00a0", " ") == (
        "> 99 %" if check.probability > 0.99 else f"{check.probability:.0%}".replace("%", " %"))
    for shown in (row["value"], row["ci"], "✓ met"):
        assert shown in text
    assert data["interval"].replace("\u00a0", " ") == "80 %"   # one-sided 90 % bounds
    # runner-ups and the Pareto front, with their costs; the plot with the currency
    assert [r["configuration"] for r in data["runner_ups"]] == [
        f"{c.values['resources.clerks.capacity']:g} clerks" for c in plain.runner_ups]
    front = plain.pareto_front()
    assert [r["configuration"] for r in data["front"]] == [
        f"{c.values['resources.clerks.capacity']:g} clerks" for c in front]
    for r, c in zip(data["front"], front, strict=True):
        assert c.objective is not None
        assert _numbers(r["objective"]) == [pytest.approx(c.objective.mean, abs=0.01)]
        assert r["configuration"] in text and r["label"] in text
    figure = optimise_context(plain).figures["pareto"].figure
    assert figure.axes[0].get_xlabel() == "Mean cost per case (EUR)"
    assert sum(tag == "img" for tag, _ in page.elements) == 1
    # the method: search, common random numbers, screening, re-check, what was spent, seed
    for words in ("cheapest first", "Common random numbers", "every candidate ran on seed 1",
                  "Screening", f"fresh replications (seed {plain.recheck_seed})",
                  f"{plain.replications:,} in {plain.simulations} runs",
                  f"would take {plain.exhaustive_replications:,}", "SHA-256"):
        assert words in text, words


def test_no_recommendation_is_said_first(tmp_path: Path) -> None:
    model = parse_model(MODEL.format(**PLAIN))
    result = optimise(model, vary={"resources.clerks.capacity": "3..4"}, seed=1, cases=200,
                      warmup=20, budget=["staffing_cost_per_hour <= 60"])
    assert result.best is None
    text = _Page(write_optimise_report(result, tmp_path / "none.html")
                 .read_text(encoding="utf-8")).words
    assert "No recommendation: none of the 2 configurations searched" in text
    assert "over budget" in text


def test_html_shows_hostile_names_as_text(hostile: OptimiseResult, tmp_path: Path) -> None:
    html = write_optimise_report(hostile, tmp_path / "o.htm").read_text(encoding="utf-8")
    page = _Page(html)
    tags = {tag for tag, _ in page.elements}
    assert not {"script", "iframe", "em", "s"} & tags
    for tag, attrs in page.elements:
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
        if tag == "a":
            assert str(attrs.get("href", "")).startswith("#"), attrs
        if tag == "img":
            assert str(attrs.get("src", "")).startswith("data:image/svg+xml;base64,")
    text = page.words
    for name in (HOSTILE["name"].strip("'"), HOSTILE["objective"], "4 _clerks_"):
        assert name in text, name


def _walk(tokens: list[Token]) -> list[Token]:
    out = []
    for token in tokens:
        out.append(token)
        out += _walk(token.children or [])
    return out


def _structure(text: str) -> list[tuple[str, str]]:
    return [(t.type, t.tag) for t in _walk(MarkdownIt("commonmark").enable("table").parse(text))
            if t.type not in ("text", "softbreak")]


def test_markdown_shows_hostile_names_as_text_with_the_plot_beside_it(
        hostile: OptimiseResult, plain: OptimiseResult, tmp_path: Path) -> None:
    out = write_optimise_report(hostile, tmp_path / "optimised (1).md")
    text = out.read_text(encoding="utf-8")
    tokens = _walk(MarkdownIt("commonmark").enable("table").parse(text))
    assert not [t for t in tokens if t.type in ("html_block", "html_inline", "link_open",
                                                "s_open", "blockquote_open")]
    (image,) = [t for t in tokens if t.type == "image"]
    src = str(image.attrGet("src"))
    assert src == "optimised%20%281%29_files/pareto.png"
    assert (tmp_path / "optimised (1)_files" / "pareto.png").is_file()
    shown = " ".join(t.content for t in tokens if t.type in ("text", "code_inline"))
    for name in (HOSTILE["name"].strip("'"), HOSTILE["objective"], "4 _clerks_"):
        assert name in shown, name
    # token for token, the structure of the report with plain names
    plain_text = write_optimise_report(plain, tmp_path / "plain.md").read_text(encoding="utf-8")
    assert _structure(text) == _structure(plain_text)


def test_pdf_report(plain: OptimiseResult, tmp_path: Path) -> None:
    pytest.importorskip("weasyprint")
    out = write_optimise_report(plain, tmp_path / "o.pdf")
    assert out.read_bytes().startswith(b"%PDF")


def test_cli_writes_every_report_format(tmp_path: Path) -> None:
    model = tmp_path / "desk.yaml"
    model.write_text(MODEL.format(**PLAIN))
    runner = CliRunner()
    result = runner.invoke(app, ["optimise", str(model), "--vary",
                                 "resources.clerks.capacity=3..5", "--seed", "2", "--cases",
                                 "500", "--warmup", "50", "--report", str(tmp_path / "o.md"),
                                 "-q", "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "**Recommended:** 4 clerks" in (tmp_path / "o.md").read_text(encoding="utf-8")
    assert (tmp_path / "o_files" / "pareto.png").is_file()
    bad = runner.invoke(app, ["optimise", str(model), "--vary",
                              "resources.clerks.capacity=3..5", "--report",
                              str(tmp_path / "o.txt")])
    assert bad.exit_code == 2 and "expected a report file ending in .html" in bad.output
    assert not (tmp_path / "o.txt").exists()


def test_the_method_states_the_screening_level_the_search_used() -> None:
    """The report reads the screening level from the result, not optimise()'s default."""
    model = parse_model(MODEL.format(**PLAIN))
    result = optimise(model, vary={"resources.clerks.capacity": "3..6"}, seed=1,
                      cases=500, warmup=50, screen=0.95)
    assert result.screen == 0.95 and result.to_dict()["screen"] == 0.95
    text = repr(optimise_context(result))
    assert "screening at 95" in text and "screening at 99" not in text
