"""The README's worked example is what the commands really print, and its Python runs."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from procsim.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _transcripts() -> list[tuple[str, str]]:
    """(command, expected stdout) for each ```sh block that starts with '$ .venv/bin/procsim'."""
    out = []
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S):
        if block.startswith("$ .venv/bin/procsim"):
            command, _, expected = block.partition("\n")
            out.append((command.removeprefix("$ .venv/bin/procsim "), expected))
    return out


@pytest.mark.parametrize(("command", "expected"), _transcripts())
def test_readme_transcript(command: str, expected: str, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    args = shlex.split(command)
    # Outputs go to a temporary directory, not into the checkout.
    args = [str(tmp_path / Path(a).name) if a.startswith("out/") else a for a in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == expected


def test_readme_has_both_transcripts() -> None:
    commands = [c.split()[0] for c, _ in _transcripts()]
    assert commands == ["validate", "run"]


def test_readme_python_example(monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    (code,) = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.startswith("mean cycle time 72.6 min, 95% CI 70.6–74.5")
    assert "agents busy 83%" in printed


def test_quick_start_commands_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, flags=re.M) and re.search(r"^test:", makefile,
                                                                     flags=re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
