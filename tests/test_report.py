"""Reports: structure, self-containment, formats, atomic writes, and a real browser."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from procsim import load_model, simulate
from procsim.cli import app
from procsim.compare import ComparisonResult, compare
from procsim.errors import ProcsimError
from procsim.kpi import RunResult
from procsim.model.scenario import load_scenario, with_okrs
from procsim.report.writer import render_html, report_context, scorecard_html, write_report

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ["summary", "health", "distributions", "bottlenecks", "process-map", "changes",
            "method"]


@pytest.fixture(scope="module")
def comparison() -> ComparisonResult:
    base = with_okrs(load_model(ROOT / "models/service_desk.yaml"),
                     ROOT / "okrs/service_desk.yaml")
    scenarios = [load_scenario(p) for p in sorted(ROOT.glob("scenarios/service_desk_*.yaml"))]
    return compare(base, scenarios, replications=3, cases=1500, warmup=200, seed=5)


@pytest.fixture(scope="module")
def small_run() -> RunResult:
    return simulate(load_model(ROOT / "models/service_desk.yaml"), replications=2, cases=600,
                    warmup=50, seed=2)


class _Page(HTMLParser):
    """Collects what the structural checks need from an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.section_ids: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "section" and a.get("id"):
            self.section_ids.append(str(a["id"]))
        if tag == "img":
            self.images.append(a)
        for key in ("src", "href", "action", "srcset", "poster", "data"):
            if a.get(key):
                self.urls.append(str(a[key]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _check_self_contained(html: str, page: _Page) -> None:
    for url in page.urls:
        assert url.startswith(("data:", "#")), f"external reference {url[:60]}"
    assert not {"script", "link", "iframe", "object", "embed"} & set(page.tags)
    style = "".join(re.findall(r"<style>(.*?)</style>", html, flags=re.S))
    assert "url(" not in style and "@import" not in style
    for img in page.images:
        src = str(img["src"])
        assert src.startswith("data:image/svg+xml;base64,"), src[:40]
        svg = base64.b64decode(src.split(",", 1)[1])
        root = ET.fromstring(svg)  # a well-formed SVG document …
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        # … that refers to nothing outside itself (the colour bar is an inline raster image).
        for href in re.findall(rb'href="([^"]*)"', svg):
            assert href.startswith((b"data:", b"#")), href[:60]
        assert img.get("alt"), "every plot has alternative text"


def test_comparison_report_structure(comparison: ComparisonResult, tmp_path: Path) -> None:
    out = write_report(comparison, tmp_path / "report.html")
    html = out.read_text(encoding="utf-8")
    page = _parse(html)
    assert page.section_ids == SECTIONS  # all seven, in the order the issue asks for
    _check_self_contained(html, page)
    # distributions (2) + activities + utilisation + queues + one map per model
    assert len(page.images) == 5 + 1 + len(comparison.scenarios)
    text = " ".join(page.text)
    # The scorecard comes from the result objects: every key result and verdict is there.
    for j, kr in enumerate(comparison.key_results):
        assert kr.text in text
        for s in comparison.scenarios:
            v = s.verdicts[j]
            assert kr.format(v.estimate.mean) in text
    statuses = re.findall(r'class="verdict (met|not_met|inconclusive)"', html)
    expected = [s.verdicts[j].status for j in range(len(comparison.key_results))
                for s in comparison.scenarios]
    assert statuses[:len(expected)] == expected
    assert comparison.recommendation() in text
    # What changed: every change of every scenario.
    for s in comparison.scenarios:
        for change in s.model.changes:
            assert change.path in text
    # Method: enough to reproduce — seed, replications, the files' hashes, versions.
    for name in ("models/service_desk.yaml", "okrs/service_desk.yaml",
                 "scenarios/service_desk_more_agents.yaml"):
        assert hashlib.sha256((ROOT / name).read_bytes()).hexdigest() in text
    assert str(comparison.baseline.seed) in text
    assert "procsim 0.1.0" in text and "scipy" in text


@pytest.mark.parametrize("name", ["service_desk", "loan_application", "order_to_cash"])
def test_run_report_for_every_example(name: str, tmp_path: Path) -> None:
    run = simulate(load_model(ROOT / f"models/{name}.yaml"), replications=2, seed=1)
    html = write_report(run, tmp_path / "run.html").read_text(encoding="utf-8")
    page = _parse(html)
    assert page.section_ids == [s for s in SECTIONS if s != "changes"]
    _check_self_contained(html, page)
    assert len(page.images) == 6
    text = " ".join(page.text)
    for kpi in run.kpi_names:
        assert kpi in text
    assert run.model.name in text


def test_markdown_report_with_pngs(comparison: ComparisonResult, tmp_path: Path) -> None:
    out = write_report(comparison, tmp_path / "decision.md")
    text = out.read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", text)
    assert len(images) == 5 + 1 + len(comparison.scenarios)
    for rel in images:
        assert rel.startswith("decision_files/")
        assert (tmp_path / rel).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for heading in ("## 1. Executive summary", "## 2. KPI health", "## 3. Distributions",
                    "## 4. Bottlenecks", "## 5. Process map", "## 6. What changed",
                    "## 7. Method"):
        assert heading in text
    assert comparison.recommendation() in text
    # Tables are well-formed: every row of a table has as many cells as its header.
    for block in re.findall(r"((?:^\|.*\|[ \t]*\n)+)", text, flags=re.M):
        widths = {row.count("|") for row in block.strip().splitlines()
                  if not row.startswith("| **Objective")}
        assert len(widths) == 1, block


@pytest.mark.slow
def test_pdf_report(comparison: ComparisonResult, tmp_path: Path) -> None:
    pytest.importorskip("weasyprint")
    out = write_report(comparison, tmp_path / "decision.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(data) > 50_000  # the plots are in it


def test_pdf_without_weasyprint_says_what_to_install(comparison: ComparisonResult,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_weasyprint(name: str, *args: object, **kwargs: object) -> object:
        if name == "weasyprint":
            raise ImportError("No module named 'weasyprint'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)
    with pytest.raises(ProcsimError, match=r"pip install 'procsim\[pdf\]'"):
        write_report(comparison, tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_unknown_format(comparison: ComparisonResult, tmp_path: Path) -> None:
    with pytest.raises(ProcsimError, match=r"expected a report file ending in \.html"):
        write_report(comparison, tmp_path / "report.docx")


def test_report_never_half_written(small_run: RunResult, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.html"
    target.write_text("the previous report", encoding="utf-8")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_report(small_run, target)
    assert target.read_text(encoding="utf-8") == "the previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left


def test_new_report_is_readable_by_others(small_run: RunResult, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = write_report(small_run, tmp_path / "r.md")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


def test_scorecard_html_and_notebook_display(comparison: ComparisonResult) -> None:
    fragment = scorecard_html(comparison)
    assert fragment == comparison._repr_html_()
    assert fragment.count('class="verdict ') == len(comparison.key_results) * len(
        comparison.scenarios)
    assert "Recommendation." in fragment
    run: RunResult = comparison.baseline
    assert run._repr_html_().startswith("<pre>") and "cycle_time" in run._repr_html_()


def test_report_escapes_user_text(tmp_path: Path) -> None:
    """Names come from model files; they are text, never markup."""
    text = (ROOT / "models/service_desk.yaml").read_text(encoding="utf-8")
    path = tmp_path / "m.yaml"
    path.write_text(text.replace("name: IT service desk", "name: \"<b>Desk</b> & Co\""),
                    encoding="utf-8")
    run = simulate(load_model(path), replications=2, cases=600, warmup=50, seed=1)
    html = render_html(report_context(run))
    assert "<b>Desk</b>" not in html and "&lt;b&gt;Desk&lt;/b&gt; &amp; Co" in html


# --- the CLI --------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_compare_report(tmp_path: Path) -> None:
    out = tmp_path / "decision.html"
    result = runner.invoke(app, [
        "compare", str(ROOT / "models/service_desk.yaml"),
        str(ROOT / "scenarios/service_desk_more_agents.yaml"),
        "--okrs", str(ROOT / "okrs/service_desk.yaml"), "-r", "2", "--cases", "800",
        "--warmup", "100", "--report", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    assert _parse(out.read_text(encoding="utf-8")).section_ids == SECTIONS


def test_cli_run_report_markdown(tmp_path: Path) -> None:
    out = tmp_path / "run.md"
    result = runner.invoke(app, ["run", str(ROOT / "models/loan_application.yaml"), "-r", "2",
                                 "--quiet", "--report", str(out)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run_files" / "map0.png").is_file()


@pytest.mark.parametrize("path, message", [
    ("report.docx", "expected a file ending in .html, .htm, .md, .pdf, got '.docx'"),
    ("missing/report.html", "directory"),
])
def test_cli_bad_report_path_fails_before_running(tmp_path: Path, path: str,
                                                  message: str) -> None:
    result = runner.invoke(app, ["run", str(ROOT / "models/service_desk.yaml"),
                                 "--report", str(tmp_path / path)])
    assert result.exit_code == 2
    assert message in result.output
    assert "cycle_time" not in result.output  # nothing was simulated


# --- a real browser ---------------------------------------------------------------------------

def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium(comparison: ComparisonResult, tmp_path: Path) -> None:
    """Every embedded plot decodes and the page lays out, in a real browser, offline."""
    html = write_report(comparison, tmp_path / "report.html").read_text(encoding="utf-8")
    # A test copy with a probe script (the report itself has none): after loading, it
    # writes how many images failed to decode into the DOM that Chromium dumps.
    probe = ("<script>window.addEventListener('load', () => {"
             "const bad = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0));"
             "document.body.setAttribute('data-images', document.images.length);"
             "document.body.setAttribute('data-broken', bad.length);"
             "document.body.setAttribute('data-height', document.body.scrollHeight);"
             "});</script>")
    probed = tmp_path / "probed.html"
    probed.write_text(html.replace("</body>", probe + "</body>"), encoding="utf-8")
    common = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
              "--disable-background-networking", "--no-first-run", "--hide-scrollbars",
              f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    dom = subprocess.run([*common, "--dump-dom", probed.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    images = re.search(r'data-images="(\d+)"', dom)
    broken = re.search(r'data-broken="(\d+)"', dom)
    height = re.search(r'data-height="(\d+)"', dom)
    assert images and broken and height, dom[-500:]
    assert int(images.group(1)) == 5 + 1 + len(comparison.scenarios)
    assert int(broken.group(1)) == 0
    assert int(height.group(1)) > 3000  # the whole report laid out, not an error page

    shot = tmp_path / "shot.png"
    subprocess.run([*common, "--window-size=1200,1600", f"--screenshot={shot}",
                    (tmp_path / "report.html").as_uri()], capture_output=True, timeout=120,
                   check=True)
    from PIL import Image

    with Image.open(shot) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # text, badges and plots, not a blank page


# --- docs/report.md -------------------------------------------------------------------------

def test_report_doc_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    assert blocks, "docs/report.md has a Python example"
    (tmp_path / "models").symlink_to(ROOT / "models")
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, "docs/report.md", "exec"), {})
    for name in ("overview.png", "map.png", "six_agents.html"):
        assert (tmp_path / "out" / name).stat().st_size > 10_000


def test_report_doc_names_every_display() -> None:
    from procsim.report import plots

    doc = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    for name in plots.__all__:
        if name.endswith("Display"):
            assert f"`{name}.from_result(" in doc, name
