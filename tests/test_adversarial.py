"""Hostile and broken input through the command line, generated from the shipped files.

Every model in ``models/``, scenario in ``scenarios/`` and OKR file in ``okrs/`` is mutated
family by family: wrong types at the leaves, missing required fields, misspelt field names,
non-finite and huge numbers, huge texts and texts with escape sequences, unsupported tags,
alias and merge-key bombs, duplicate keys, roots that are not mappings, empty, binary,
UTF-16, truncated and deeply nested files, tabs, raw control characters, and scenarios whose
``base`` points where it should not. The rule for each (issue 11):

- exit code 2 (or 0 for the few mutations that can leave a valid file: a truncated file,
  a deleted optional field, a huge number where any number is fine);
- the message names the file and, where the file has one to point at, the line: for the
  mutations of one value, the line of that value or of the entry holding it;
- no traceback, no raw escape character or bell in what is printed, no line longer than a
  reader can take in;
- no hang and no memory blow-up: a few cases run as real processes with a timeout and an
  address-space limit.

Models and scenarios are checked with ``procsim validate``; OKR files with ``procsim compare
--okrs``, stopped before it simulates.
"""

from __future__ import annotations

import copy
import functools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from procsim.cli import app

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "models").glob("*.yaml"))
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
OKRS = sorted((ROOT / "okrs").glob("*.yaml"))

runner = CliRunner()

#: Lines printed are for people: even about a 10,000-character name, none may be longer.
MAX_LINE = 400
#: Sections whose keys are the user's names (or targets), not field names.
NAMED = {"activities", "resources", "gateways", "attributes", "kpis", "flow", "calendars",
         "people", "durations", "rate", "when"}


# --- what a mutation is, and the rule every one must pass ---------------------------------------


@dataclass
class Case:
    """One hostile file: its kind, where it came from, its bytes and what is expected."""

    kind: str  # "model", "scenario" or "okr"
    source: Path
    family: str
    content: bytes
    #: Lines (1-based) one of the errors must point at; None: any line, or none.
    lines: set[int] | None = None
    #: The message must say this (a fragment).
    says: str | None = None
    #: The mutation may leave a valid file (exit 0).
    may_be_valid: bool = False
    #: Text that must not be printed (content of a file that is not a model).
    secret: str | None = None
    #: Where to write it, relative to the temporary folder.
    name: str = ""
    extra: dict[str, bytes] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.source.name}-{self.family}"


def check(result: Any, file: str, case: Case) -> None:
    """The rule: exit 2 (or 0 when allowed), file:line, no traceback, nothing raw or huge."""
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{case.id}: {result.exception!r}\n{output}")
    assert "Traceback" not in output, output
    for char in ("\x1b", "\x07", "\x9b", "\r"):
        assert char not in output, f"{case.id}: raw {char!r} in {output!r}"
    for line in output.splitlines():
        if ": error: " in line or ": warning: " in line:
            assert len(line) <= MAX_LINE, f"{case.id}: a line of {len(line)} characters"
    allowed = (0, 2) if case.may_be_valid else (2,)
    assert result.exit_code in allowed, f"{case.id}: exit {result.exit_code}\n{output}"
    if result.exit_code == 0:
        return
    if case.secret is not None:
        assert case.secret not in output, output
    if case.says is not None:
        assert case.says in output, f"{case.id}: {case.says!r} not in\n{output}"
    errors = [line for line in output.splitlines() if ": error: " in line]
    assert errors, f"{case.id}: no error line in\n{output}"
    assert any(line.startswith(file + ":") for line in errors), f"{case.id}:\n{output}"
    if case.lines is not None:
        found = {int(m.group(1)) for line in errors
                 if (m := re.match(re.escape(file) + r":(\d+):\d+: error: ", line))}
        assert found & case.lines, (f"{case.id}: expected an error on line "
                                    f"{sorted(case.lines)}, got {sorted(found)}:\n{output}")


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """``procsim compare`` stops (exit 0) where it would start simulating: a valid OKR file.

    The command line is built once for all the cases of a test: Typer's test runner would
    rebuild it, from the signatures of every command, for each (half the time of a case).
    """
    import importlib

    import typer.testing

    def stop(*args: object, **kwargs: object) -> None:
        raise SystemExit(0)

    monkeypatch.setattr(importlib.import_module("procsim.compare"), "compare", stop)
    monkeypatch.setattr(typer.testing, "_get_command", lambda _: _command())


@functools.cache
def _command() -> Any:
    import typer.main

    return typer.main.get_command(app)


def invoke(case: Case, tmp_path: Path) -> tuple[Any, str]:
    """Write the case into ``tmp_path`` and run it through the command line."""
    name = case.name or f"{case.kind}.yaml"
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(case.content)
    for extra, content in case.extra.items():
        (tmp_path / extra).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / extra).write_bytes(content)
    if case.kind == "okr":
        # an OKR file is named after its model: okrs/<model>.yaml or okrs/<model>_<what>.yaml
        model = next(m for m in MODELS if case.source.stem == m.stem
                     or case.source.stem.startswith(f"{m.stem}_"))
        scenario = next(s for s in SCENARIOS if s.name.startswith(model.stem))
        result = runner.invoke(app, ["compare", str(model), str(scenario), "--okrs", str(path)])
    else:
        result = runner.invoke(app, ["validate", str(path)])
    return result, str(path)


# --- generating the mutations -------------------------------------------------------------------


def shipped() -> Iterator[tuple[str, Path, Any]]:
    """(kind, path, data) of every shipped file, scenarios with an absolute base."""
    for kind, paths in (("model", MODELS), ("scenario", SCENARIOS), ("okr", OKRS)):
        for path in paths:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if kind == "scenario":
                data["base"] = str((path.parent / data["base"]).resolve())
            yield kind, path, data


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6,
                          default_flow_style=False)


def leaves(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every scalar of ``data`` with its path."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from leaves(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from leaves(v, (*path, i))
    else:
        yield path, data


def mappings(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict]]:
    """Every mapping of ``data`` whose keys are field names (not the user's names)."""
    if isinstance(data, dict):
        named = bool(path) and (path[-1] in NAMED or path[0] in ("flow", "changes"))
        categorical = len(path) == 2 and path[0] == "attributes" and "dist" not in data
        if not named and not categorical:
            yield path, data
        for k, v in data.items():
            yield from mappings(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from mappings(v, (*path, i))


def replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def lines_of(text: str, path: tuple[Any, ...], ancestors: int = 2) -> set[int]:
    """Lines of the value at ``path`` in ``text``, of its key, and of its nearest entries."""
    node = yaml.compose(text)
    found: set[int] = set()
    trail: list[int] = []
    for part in path:
        assert node is not None
        if isinstance(node, yaml.MappingNode):
            key, node = next((k, v) for k, v in node.value if k.value == str(part))
            trail.append(key.start_mark.line + 1)
        else:
            node = node.value[part]
            trail.append(node.start_mark.line + 1)
    assert node is not None
    found.update(range(node.start_mark.line + 1, node.end_mark.line + 2))
    found.update(trail[-1 - ancestors:])
    return found


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# The only fields where any number or text is valid, or a list stands for a set of values.
FREE = {"description", "from", "name", "objective", "currency"}
# Fields a file cannot do without (the rest are optional, or have alternatives).
REQUIRED = {
    "model": {(): {"procsim", "name", "arrivals", "activities", "flow"}},
    "scenario": {(): {"procsim", "name", "base", "changes"}},
    "okr": {},
}


def value_cases() -> Iterator[Case]:
    """Mutations of single values: each family on a deterministic sample of the leaves."""
    rng = np.random.default_rng(2026)
    for kind, path, data in shipped():
        all_leaves = [(p, v) for p, v in leaves(data)
                      if not (kind == "scenario" and p == ("base",))]
        # Numbers, and texts that stand for one ('100min', '<= +5%', '30%').
        numbers = [(p, v) for p, v in all_leaves
                   if is_number(v) or (isinstance(v, str) and re.match(r"[<>=\d.+-]", v))]
        texts = [(p, v) for p, v in all_leaves if isinstance(v, str)]
        families: list[tuple[str, list[tuple[tuple[Any, ...], Any]], Any, bool, int]] = [
            # (family, leaves, new value, may leave a valid file, how many)
            ("nested_list", all_leaves, [[1, [2]]], False, 8),
            ("nested_mapping", all_leaves, {"zz": {"yy": [1]}}, False, 8),
            ("nan", numbers, float("nan"), False, 6),
            ("inf", numbers, float("inf"), False, 4),
            ("minus_inf", numbers, float("-inf"), False, 3),
            ("huge_number", numbers, 1e308, True, 4),
            ("huge_text", texts, "x" * 10_000, True, 4),
            ("escape_text", texts, "\x1b]0;owned\x07\x1b[2J", True, 4),
        ]
        for family, pool, value, may_be_valid, n in families:
            if kind == "scenario":  # eight of them, with few values each: fewer per file
                n = max(1, n // 3)
            candidates = [(p, v) for p, v in pool
                          if not (family.startswith("nested") and p[-1] in FREE)]
            if not candidates:
                continue
            picks = rng.choice(len(candidates), size=min(n, len(candidates)), replace=False)
            for i in sorted(picks):
                where, _ = candidates[i]
                text = dump(replaced(data, where, value))
                lines = lines_of(text, where)
                yield Case(kind, path, f"{family}@{'.'.join(map(str, where))}",
                           text.encode(), lines=lines, may_be_valid=may_be_valid)


def key_cases() -> Iterator[Case]:
    """Mutations of keys: fields deleted, field names misspelt, a key doubled.

    Every top-level field, and a deterministic sample of the fields further down.
    """
    rng = np.random.default_rng(11)
    for kind, path, data in shipped():
        keys = [(where, mapping, key) for where, mapping in mappings(data) for key in mapping]
        deeper = [i for i, (where, _, _) in enumerate(keys) if where]
        sample = set(rng.choice(deeper, size=min(14, len(deeper)), replace=False).tolist())
        for i, (where, mapping, key) in enumerate(keys):
            if where and i not in sample:
                continue
            required = key in REQUIRED[kind].get(where, set())
            # Deleted: an error at the mapping (or file-level for the root) if required.
            text = dump(replaced(data, where, {k: v for k, v in mapping.items()
                                               if k != key}) if where else
                        {k: v for k, v in data.items() if k != key})
            yield Case(kind, path, f"delete@{'.'.join(map(str, (*where, key)))}",
                       text.encode(), may_be_valid=not required,
                       says=f"missing required field '{key}'" if required and where == ()
                       and kind == "model" else None)
            # Misspelt: an unknown field, at its own line, with a hint.
            if len(str(key)) >= 4:
                typo = str(key)[0] + str(key)[2] + str(key)[1] + str(key)[3:]
                if typo == key:
                    typo = str(key)[:-1]
                renamed = {(typo if k == key else k): v for k, v in mapping.items()}
                text = dump(replaced(data, where, renamed) if where else renamed)
                yield Case(kind, path, f"typo@{'.'.join(map(str, (*where, typo)))}",
                           text.encode(), lines=lines_of(text, (*where, typo), 0),
                           says="(did you mean")
        if kind == "scenario":
            # A change whose path starts with a misspelt section: nothing to change there.
            for dotted in data["changes"]:
                first, _, rest = dotted.partition(".")
                wrong = first[0] + first[2] + first[1] + first[3:]
                changes = {(f"{wrong}.{rest}" if k == dotted else k): v
                           for k, v in data["changes"].items()}
                text = dump({**data, "changes": changes})
                yield Case(kind, path, f"change_path@{wrong}.{rest}", text.encode(),
                           lines=lines_of(text, ("changes", f"{wrong}.{rest}"), 0),
                           says=f"no field '{wrong}'")
        # A top-level key written twice.
        text = dump(data)
        first = text.splitlines()[0]
        doubled = text + first + "\n"
        yield Case(kind, path, "duplicate_key", doubled.encode(),
                   lines={len(doubled.splitlines())}, says="duplicate key")


def file_cases() -> Iterator[Case]:
    """Whole-file mutations of each shipped file."""
    laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    merge_bomb = ("big: &big {" + ", ".join(f"k{i}: {i}" for i in range(2000)) + "}\n"
                  + "all: {<<: [" + ", ".join(["*big"] * 400) + "]}\n")
    alias_chain = "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 300))
    seen: set[str] = set()
    for kind, path, data in shipped():
        # What is prepended or appended does not depend on the file: the slow families once
        # for each kind of file.
        first = kind not in seen
        seen.add(kind)
        text = path.read_text(encoding="utf-8")
        if kind == "scenario":
            text = text.replace(yaml.safe_load(text)["base"], data["base"])
        lines = text.splitlines()
        n = len(lines)
        yield from [
            Case(kind, path, "root_list", b"- procsim: 1\n- name: x\n", lines={1},
                 says="expected a mapping"),
            Case(kind, path, "root_text", b"root:x:0:0:root:/root:/bin/bash\n", lines={1},
                 secret="/bin/bash"),
            Case(kind, path, "root_number", b"42\n", lines={1}),
            Case(kind, path, "empty", b"", lines={1}),
            Case(kind, path, "comments_only", b"# nothing here\n", lines={1}),
            Case(kind, path, "binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
                 says="binary file", secret="IHDR"),
            Case(kind, path, "utf16", text.encode("utf-16"), says="UTF-16"),
            Case(kind, path, "latin1", ("# caf\xe9\n" + text).encode("latin-1"), lines={1},
                 says="expected UTF-8 text, got the byte 0xe9"),
            Case(kind, path, "raw_control", (text[: len(text) // 2] + "\x01"
                                             + text[len(text) // 2:]).encode(),
                 lines={text[: len(text) // 2].count("\n") + 1}),
            Case(kind, path, "tab_indent", "\n".join(
                re.sub(r"^  (?=\S)", "\t", ln) for ln in lines).encode(),
                 may_be_valid=not any(re.match(r"^  \S", ln) for ln in lines)),
            *([Case(kind, path, "deep_nesting", (text + "zz: " + "[" * 900 + "]" * 900 + "\n")
                    .encode(), lines={n + 1}, says="nested more than 100 levels deep"),
               Case(kind, path, "billion_laughs", (laughs + text).encode(),
                    says="aliases (*name) and merge keys (<<) expand to too much data"),
               Case(kind, path, "merge_bomb", (merge_bomb + text).encode(),
                    says="expected at most 200,000 values"),
               Case(kind, path, "alias_chain", (alias_chain + text).encode(),
                    says="nested more than 100 levels deep")] if first else []),
            Case(kind, path, "tag_python", text.replace(
                "\n", "\nzz: !!python/object/new:os.system [echo owned]\n", 1).encode(),
                 lines={2}, says="unsupported YAML tag '!!python/object/new:os.system'"),
            Case(kind, path, "tag_python_mapping", text.replace(
                "\n", "\nzz: !!python/object/apply:os.system {args: [echo owned]}\n", 1)
                 .encode(), lines={2}, says="unsupported YAML tag"),
            Case(kind, path, "tag_local", text.replace("\n", "\nzz: !foo {a: 1}\n", 1).encode(),
                 lines={2}, says="unsupported YAML tag '!foo'"),
            Case(kind, path, "tag_binary", text.replace("\n", "\nzz: !!binary aGk=\n", 1)
                 .encode(), lines={2}, says="unsupported YAML tag '!!binary'"),
            Case(kind, path, "unknown_key_with_escape",
                 (text + '"bo\\e]0;owned\\agus\\x9b": 1\n').encode(), lines={n + 1}),
            Case(kind, path, "two_documents", (text + "---\nname: other\n").encode(),
                 lines={n + 1}, says="single document"),
        ]
        # Truncated at a few places (a cut may fall after the last required field).
        for cut in (0.15, 0.4, 0.7, 0.93) if kind != "scenario" else (0.3, 0.8):
            at = int(len(text) * cut)
            yield Case(kind, path, f"truncated@{cut}", text[:at].encode(), may_be_valid=True)


CASES = [*value_cases(), *key_cases(), *file_cases()]
# One test per file and family (a few to a few dozen cases each): the failures of a family
# are reported together, each with its case.
GROUPS: dict[str, list[Case]] = {}
for _case in CASES:
    GROUPS.setdefault(f"{_case.source.name}-{_case.family.split('@')[0]}", []).append(_case)


@pytest.mark.parametrize("group", list(GROUPS))
def test_hostile_files(group: str, tmp_path: Path, no_simulation: None) -> None:
    failures = []
    for i, case in enumerate(GROUPS[group]):
        result, file = invoke(case, tmp_path / str(i))
        try:
            check(result, file, case)
        except AssertionError as exc:
            failures.append(f"--- {case.id}\n{exc}")
    assert not failures, "\n".join(failures)


def test_the_families_cover_every_kind_of_shipped_file() -> None:
    kinds = {(c.kind, c.family.split("@")[0]) for c in CASES}
    for kind in ("model", "scenario", "okr"):
        for family in ("nested_list", "nan", "delete", "typo", "binary", "truncated",
                       "tag_python", "billion_laughs", "deep_nesting", "duplicate_key"):
            assert (kind, family) in kinds, (kind, family)
    assert len(CASES) > 300


# --- scenarios whose base points where it should not --------------------------------------------


BASES = {
    # base: what it points at (written beside the scenario unless absolute), expected message
    "passwd": ("../secrets/passwd", b"root:x:0:0:root:/root:/bin/bash\nowner:x:1000:1000::/home:\n",
               "passwd is not a procsim model ("),
    "yaml_without_procsim": ("../secrets/config.yaml", b"password: hunter2\nuser: root\n",
                             "is not a procsim model (it has no 'procsim: 1'"),
    "list": ("../secrets/list.yaml", b"- hunter2\n- root\n", "got a list"),
    "binary": ("../secrets/key.bin", b"\x00\x01hunter2\xff\xfe" * 10, "a binary file"),
    "not_yaml": ("../secrets/notes.txt", b"hunter2: [unclosed\n  - x: {\n", "not valid YAML"),
    "empty": ("../secrets/empty.yaml", b"", "it is empty"),
    "directory": ("../secrets", None, "got a directory"),
    "missing": ("../secrets/nope.yaml", None, "no such base model"),
    "nul": ("base\\0.yaml", None, "a path holds no control characters"),
    "newline": ("base.yaml\\n", None, "a path holds no control characters"),
    "escape": ("\\e]0;owned\\a.yaml", None, "a path holds no control characters"),
    "itself": ("scenario.yaml", None, "a scenario cannot be its own base"),
    "not_text": ("[a, b]", None, "expected the path of the base model, got a list"),
}


@pytest.mark.parametrize("name", list(BASES))
def test_a_base_that_is_not_a_model_is_named_without_its_content(
        tmp_path: Path, name: str) -> None:
    ref, content, message = BASES[name]
    (tmp_path / "secrets").mkdir()
    if content is not None:
        (tmp_path / ref.replace("../", "")).write_bytes(content)
    written = ref if ref.startswith("[") else f'"{ref}"'
    case = Case("scenario", Path("base.yaml"), f"base_{name}",
                (f"procsim: 1\nname: S\nbase: {written}\nchanges:\n  run.seed: 1\n").encode(),
                lines={3}, says=message, secret="hunter2", name="scenarios/scenario.yaml")
    result, file = invoke(case, tmp_path)
    check(result, file, case)


# --- real processes: time and memory limits -----------------------------------------------------


def run_limited(args: list[str], *, memory: int | None = None, timeout: float = 60
                ) -> subprocess.CompletedProcess[bytes]:
    """``python -m procsim ARGS`` in a process of its own, under an address-space limit."""

    def limit() -> None:  # pragma: no cover - runs in the child
        import resource

        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "procsim", *args], capture_output=True,
                          timeout=timeout, preexec_fn=limit, env=env, cwd=ROOT, check=False)


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and sparse files as on Linux")
def test_a_file_larger_than_memory_is_refused_before_it_is_read(tmp_path: Path) -> None:
    # 3 GB (a sparse file: no disk used) under a 2 GB address-space limit.
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as fh:
        fh.write(b"procsim: 1\ndescription: ")
        fh.truncate(3 * 1024**3)
    done = run_limited(["validate", str(huge)], memory=2 * 1024**3, timeout=60)
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert f"{huge}: error: file is 3221.2 MB; procsim reads model, scenario and OKR files " \
           "up to 10 MB" in err
    assert "Traceback" not in err and "MemoryError" not in err


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS as on Linux")
def test_alias_bombs_stop_quickly_within_a_memory_limit(tmp_path: Path) -> None:
    text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 30))
    bomb = tmp_path / "laughs.yaml"
    bomb.write_text(text)
    merge = tmp_path / "merge.yaml"
    merge.write_text("big: &big {" + ", ".join(f"k{i}: {i}" for i in range(30_000)) + "}\n"
                     + "all: {<<: [" + ", ".join(["*big"] * 20_000) + "]}\n")
    done = run_limited(["validate", str(bomb), str(merge)], memory=2 * 1024**3, timeout=60)
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert f"{bomb}:" in err and f"{merge}:" in err and "Traceback" not in err
    assert err.count("expected at most 200,000 values in a model, got more") == 2


def test_a_large_valid_model_is_read_in_seconds(tmp_path: Path) -> None:
    # Just under the limit: a model with a 9.9 MB description (a 50 MB one hung before).
    text = (ROOT / "models" / "service_desk.yaml").read_text(encoding="utf-8")
    text = text.replace("description: >\n", "description: " + "lorem ipsum " * 820_000
                        + "\nunused_description: >\n", 1)
    text = re.sub(r"\nunused_description: >\n(  .*\n)+", "\n", text)
    big = tmp_path / "big.yaml"
    big.write_text(text)
    assert 9e6 < big.stat().st_size < 10e6
    done = run_limited(["validate", str(big)], timeout=30)
    assert done.returncode == 0, done.stderr.decode()
    bigger = tmp_path / "bigger.yaml"
    bigger.write_text(text + "# " + "x" * 600_000 + "\n")
    done = run_limited(["validate", str(bigger)], timeout=30)
    assert done.returncode == 2
    size = bigger.stat().st_size / 1e6
    assert done.stderr.decode().startswith(f"{bigger}: error: file is {size:.1f} MB; procsim "
                                           "reads model, scenario and OKR files up to 10 MB")


def test_escape_sequences_never_reach_the_terminal_raw(tmp_path: Path) -> None:
    text = (ROOT / "models" / "service_desk.yaml").read_text(encoding="utf-8")
    hostile = text.replace("name: IT service desk", 'name: "\\e]0;owned\\a\\e[2J desk"')
    broken = hostile.replace("start: triage", 'start: "tri\\e[31mage\\x9b"')
    paths = []
    for i, content in enumerate((hostile, broken)):
        paths.append(tmp_path / f"m{i}.yaml")
        paths[-1].write_text(content)
    done = run_limited(["validate", *map(str, paths)], timeout=60)
    out = done.stdout + done.stderr
    assert done.returncode == 2
    for char in (b"\x1b", b"\x07", "\x9b".encode()):
        assert char not in out, out
    assert b"\\x1b]0;owned\\x07" in out and b"got 'tri\\x1b[31mage\\x9b'" in out
