"""The ``procsim`` command: parse arguments, call the library, render. Nothing else lives here.

Exit codes: 0 success; 2 bad input (model, file or arguments); 1 failed checks (reserved);
130 interrupted (Ctrl-C); 143 terminated (SIGTERM, cleaned up like Ctrl-C).

Every line goes to the terminal through :func:`printable`: names and values from a model
file are the user's text, and a control character in them (an escape sequence that sets
the window title or moves the cursor, a carriage return, a bidirectional override) is
shown escaped instead of being obeyed by the terminal.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from procsim.errors import ModelError, ProcsimError, format_error
from procsim.units import parse_duration
from procsim.version import __version__

if TYPE_CHECKING:
    from procsim.model.schema import Model

# Everything else is imported inside the command that needs it: ``procsim --help`` and
# ``procsim validate`` load neither the engine, scipy.stats, compare, the report nor
# matplotlib (tests/test_startup.py checks it), and the model package only when a command
# reads a model.

EXIT_OK, EXIT_CHECKS_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_TERMINATED = 128 + signal.SIGTERM

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidirectional
# embeddings, overrides and isolates (which reorder what a terminal shows).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e"
                          "\u2066-\u2069]")


def printable(text: str) -> str:
    r"""``text`` with every control character escaped, safe to print on a terminal.

    Tabs and newlines stay; anything else a terminal would act on instead of showing
    (the ESC of an escape sequence, a carriage return, BEL, C1 controls, bidirectional
    overrides) is written as its Python escape.

    Examples
    --------
    >>> print(printable("desk\x1b]0;pwned\x07 ok\r"))
    desk\x1b]0;pwned\x07 ok\r
    >>> printable("résumé → ok")
    'résumé → ok'
    """
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


def _echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    typer.echo(printable(message), err=err, nl=nl)


#: ``--jobs``, the same for every command that simulates.
Jobs = Annotated[int | None, typer.Option(
    "--jobs", "-j", min=1, help="Worker processes (default: all cores). Results do not "
    "depend on it.")]

app = typer.Typer(
    name="procsim",
    help="Simulate business processes written in YAML and report KPIs with confidence intervals.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        _echo(f"procsim {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Simulate business processes written in YAML and report KPIs with confidence intervals."""


def _fail(message: str) -> typer.Exit:
    _echo(message, err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def load_scenario(path: Path) -> Model:
    """:func:`procsim.model.load_scenario`, imported on first use (see the imports above)."""
    from procsim.model import load_scenario as load

    return load(path)


def _load(path: Path) -> Model:
    try:
        return load_scenario(path)
    except ModelError as err:
        raise _fail(str(err)) from None


def _parse_warmup(value: str | None, time_unit: str) -> int | float | str | None:
    if value is None or value == "auto":
        return value
    if value.isdigit():
        return int(value)
    try:
        amount = _parse_amount_of_time(value, time_unit, positive=False)
    except ValueError:
        raise _fail(
            f"error: --warmup: expected a number of cases, a duration such as '2d', or 'auto', "
            f"got {_quoted(value)}"
        ) from None
    return amount


def _quoted(value: str, limit: int = 60) -> str:
    """``repr(value)``, shortened when long, for messages."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}…({len(value):,} characters)"


def _parse_amount_of_time(value: str, time_unit: str, *, positive: bool) -> float:
    """A duration given on the command line: finite, and above (or at least) zero."""
    amount = parse_duration(value, time_unit)
    if not math.isfinite(amount) or amount < 0 or (positive and amount == 0):
        raise ValueError(f"expected a {'positive' if positive else 'non-negative'} finite "
                         f"duration such as '2d', got {_quoted(value)}")
    return amount


def _parse_replications(value: str | None, *, minimum: int) -> int | str | None:
    """``--replications``: a number of at least ``minimum``, or ``auto``."""
    if value is None or value.strip() == "auto":
        return None if value is None else "auto"
    if not value.strip().isdigit() or int(value) < minimum:
        raise _fail(f"error: --replications: expected a number of at least {minimum} or "
                    f"'auto', got {_quoted(value)}")
    return int(value)


def _parse_precision(value: str | None) -> float | None:
    """``--precision``: a percentage such as ``10%`` or a fraction such as ``0.1``."""
    if value is None:
        return None
    try:
        text = value.strip()
        relative = float(text.removesuffix("%")) / (100 if text.endswith("%") else 1)
        if not 0 < relative < 1:
            raise ValueError
    except ValueError:
        raise _fail(f"error: --precision: expected a percentage such as 10%, got "
                    f"{_quoted(value)}") from None
    return relative


@app.command()
def run(
    model_file: Annotated[Path, typer.Argument(
        metavar="MODEL.yaml", help="The process model, or a scenario (a base model + changes).")],
    replications: Annotated[str | None, typer.Option(
        "--replications", "-r", help="A number, or auto: add replications until the KPIs of "
        "the key results and targets (cycle time without any) are within --precision "
        "(default: the model's run.replications, auto unless it gives a number).")] = None,
    precision: Annotated[str | None, typer.Option(
        help="With -r auto: the half-width wanted, relative to the value (default: the "
        "model's run.precision, 10%).")] = None,
    max_replications: Annotated[int | None, typer.Option(
        min=2, help="With -r auto: the cap (default: run.max_replications, 200).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: the model's; "
                                             "drawn and printed when it has none).")] = None,
    cases: Annotated[int | None, typer.Option(min=1, help="Arrivals per replication.")] = None,
    duration: Annotated[str | None, typer.Option(
        help="Length of the arrival period instead of --cases, e.g. 20d.")] = None,
    warmup: Annotated[str | None, typer.Option(
        help="Cases to drop (a number), a duration such as 2d, or auto (MSER-5).")] = None,
    jobs: Jobs = None,
    json_out: Annotated[Path | None, typer.Option(
        "--json", metavar="OUT.json", help="Write the results as JSON.")] = None,
    events_out: Annotated[Path | None, typer.Option(
        "--events", metavar="OUT.csv", help="Write the activity-instance log as CSV.")] = None,
    xes_out: Annotated[Path | None, typer.Option(
        "--xes", metavar="OUT.xes", help="Write the event log as XES (IEEE 1849), for "
        "process-mining tools.")] = None,
    allow_unstable: Annotated[bool, typer.Option(
        help="Run even when a pool's offered load reaches its capacity.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no table and no "
                                        "progress bar.")] = False,
    executor: Annotated[str, typer.Option(
        "--executor", metavar="local|dask", help="Where replications run: local worker "
        "processes (--jobs), or an existing Dask cluster (--scheduler).")] = "local",
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="tcp://HOST:8786", help="The Dask scheduler for --executor "
        "dask (default: $PROCSIM_DASK_SCHEDULER).")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", metavar="OUT.html|OUT.md|OUT.pdf", help="Write a report with plots: one "
        "self-contained HTML file, Markdown with PNGs beside it, or PDF (procsim[pdf]).")] = None,
) -> None:
    """Run a model and print its KPIs with 95 % confidence intervals."""
    from procsim.output import write_json
    from procsim.simulate import simulate

    if cases is not None and duration is not None:
        raise _fail("error: give either --cases or --duration, not both")
    reps = _parse_replications(replications, minimum=1)
    relative = _parse_precision(precision)
    model = _load(model_file)
    duration_value: float | None = None
    if duration is not None:
        try:
            duration_value = _parse_amount_of_time(duration, model.time_unit, positive=True)
        except ValueError as exc:
            raise _fail(f"error: --duration: {exc}") from None
    _check_outputs({"--json": json_out, "--events": events_out, "--xes": xes_out,
                    "--report": report}, inputs=[model_file, model.base_file])
    _check_report(report)
    seed_given = seed is not None or model.run.seed is not None
    warmup_value = _parse_warmup(warmup, model.time_unit)
    bar = _progress_bar(quiet)
    try:
        with _executor(executor, scheduler) as pool, bar:
            def simulate_with(on_record: Callable[[Any], None] | None = None,
                              plan: Any = None) -> Any:
                return simulate(
                    model, replications=reps, precision=relative,
                    max_replications=max_replications, seed=seed, cases=cases,
                    duration=duration_value, warmup=warmup_value, jobs=jobs,
                    allow_unstable=allow_unstable, progress=bar, executor=pool,
                    on_record=on_record, plan=plan)

            result = (simulate_with() if events_out is None and xes_out is None
                      else _with_event_log(events_out, xes_out, model, simulate_with))
    except ProcsimError as err:
        raise _fail(format_error(err)) from None
    except OSError as exc:
        raise _fail(f"error: cannot write output: {exc}") from None
    except KeyboardInterrupt as exc:
        raise _interrupted(bar, exc) from None
    if not seed_given:
        _echo(f"seed: {result.seed} (drawn; pass --seed {result.seed} to repeat this run)",
                   err=True)
    if not quiet:
        _echo(result.summary())
    try:
        if json_out is not None:
            write_json(result, json_out)
            _echo(f"wrote {json_out}", err=True)
        for logged in (events_out, xes_out):  # written while simulating
            if logged is not None:
                _echo(f"wrote {logged}", err=True)
    except OSError as exc:
        raise _fail(f"error: cannot write output: {exc}") from None
    _write_report(result, report)


def _check_outputs(outputs: dict[str, Path | None],
                   inputs: Sequence[Path | str | None] = ()) -> None:
    """Refuse, before anything is simulated, outputs that could not be written or that
    would replace each other or one of the input files."""
    given = {option: out for option, out in outputs.items() if out is not None}
    for option, out in given.items():
        _check_output(out, option)
    seen: dict[Path, str] = {}
    for option, out in given.items():
        key = out.resolve()
        if key in seen:
            raise _fail(f"error: {seen[key]} and {option} both name {out}; give each output "
                        "its own file")
        seen[key] = option
    for source in inputs:
        if source is not None and Path(source).resolve() in seen:
            option = seen[Path(source).resolve()]
            raise _fail(f"error: {option} {source}: that is an input file; write the output "
                        "elsewhere")


def _check_output(out: Path | None, option: str = "output") -> None:
    """The output's directory exists and takes a new file, and the output is not a folder.

    Writability is tried with a temporary file rather than judged from permission bits,
    which say nothing for root, read-only mounts or access-control lists.
    """
    if out is None:
        return
    import tempfile

    directory = out.parent if str(out.parent) else Path(".")
    if not directory.is_dir():
        raise _fail(f"error: {option} {out}: directory {directory} does not exist")
    if out.is_dir():
        raise _fail(f"error: {option} {out}: is a directory; expected a file name")
    try:
        with tempfile.TemporaryFile(dir=directory, prefix=".procsim-probe-"):
            pass
    except OSError as exc:
        raise _fail(f"error: {option} {out}: cannot write in {directory}: "
                    f"{exc.strerror or exc}") from None


def _check_report(path: Path | None) -> None:
    """Refuse a report path with an unknown suffix before anything is simulated."""
    from procsim.report.writer import REPORT_FORMATS

    if path is not None and path.suffix.lower() not in REPORT_FORMATS:
        raise _fail(f"error: --report {path}: expected a file ending in "
                    f"{', '.join(REPORT_FORMATS)}, got '{path.suffix or 'no suffix'}'")


def _write_report(result: Any, path: Path | None) -> None:
    if path is not None:
        from procsim.report.writer import write_report

        _write_output(path, lambda out: write_report(result, out))


def _write_output(path: Path | None, write: Callable[[Path], Any]) -> None:
    """``write(path)`` unless ``path`` is None; a ProcsimError (a report that cannot be
    written) or an OSError is a message (exit 2)."""
    if path is None:
        return
    try:
        write(path)
    except ProcsimError as err:
        raise _fail(f"error: {err}") from None
    except OSError as exc:
        raise _fail(f"error: cannot write output: {exc}") from None
    _echo(f"wrote {path}", err=True)


@contextmanager
def _log_errors(log_file: Path) -> Iterator[None]:
    """What reading and using an event log can raise, as messages (exit 2)."""
    try:
        yield
    except ProcsimError as err:
        raise _fail(format_error(err)) from None
    except ImportError as exc:  # an optional extra (pandas, log-distance-measures)
        raise _fail(f"error: {exc}") from None
    except (ValueError, KeyError) as exc:
        message = str(exc)
        if not message.startswith(f"{log_file}:"):   # the library's may name it already
            message = f"{log_file}: {message}"
        raise _fail(f"error: {message}") from None
    except OSError as exc:
        raise _fail(f"error: cannot read {exc.filename or log_file}: "
                    f"{exc.strerror or exc}") from None


def _echo_dropped(log: Any) -> None:
    """The rows of ``log`` that were dropped (``--drop-bad-rows``): the first 10, then a count."""
    for problem in log.dropped[:10]:
        _echo(f"{problem} (dropped)", err=True)
    if len(log.dropped) > 10:
        _echo(f"… and {len(log.dropped) - 10} more rows dropped", err=True)


def _progress_bar(quiet: bool, total: int = 0) -> Any:
    """Replications done, on stderr when it is a terminal (counting even when not shown)."""
    from procsim.progress import ProgressBar

    return ProgressBar(sys.stderr, total=total, enabled=False if quiet else None)


@contextmanager
def _executor(name: str, scheduler: str | None) -> Iterator[Executor | None]:
    """Local worker processes (``None``: simulate's --jobs) or a Dask cluster."""
    if name not in ("local", "dask"):
        raise _fail(f"error: --executor: expected local or dask, got {name!r}")
    if name == "local":
        if scheduler is not None:
            raise _fail("error: --scheduler needs --executor dask")
        yield None
        return
    address = scheduler or os.environ.get("PROCSIM_DASK_SCHEDULER")
    if not address:
        raise _fail("error: --executor dask needs --scheduler tcp://HOST:8786 or "
                    "PROCSIM_DASK_SCHEDULER")
    from procsim.simulate import dask_executor

    with dask_executor(address) as pool:
        yield pool


def _with_event_log(events: Path | None, xes: Path | None, model: Model,
                    simulate_with: Callable[..., Any]) -> Any:
    """Simulate while writing the event logs (CSV, XES or both), one replication at a time, to
    temporary files that are renamed into place at the end (and removed on an error or Ctrl-C)."""
    from contextlib import ExitStack

    from procsim.engine import compile_model
    from procsim.output import EventLog, XesLog, atomic_open

    plan = compile_model(model)
    with ExitStack() as files:
        writers: list[Callable[[Any], None]] = []
        if events is not None:
            writers.append(EventLog(files.enter_context(atomic_open(events)), plan).write)
        xes_log = XesLog(files.enter_context(atomic_open(xes)), plan) if xes is not None else None
        if xes_log is not None:
            writers.append(xes_log.write)

        def write(record: Any) -> None:
            for writer in writers:
                writer(record)

        result = simulate_with(write, plan)   # the plan the logs name things by
        if xes_log is not None:
            xes_log.close()
    return result


def _interrupted(bar: Any, exc: BaseException) -> typer.Exit:
    terminated = isinstance(exc, Terminated)
    _echo(f"{'terminated' if terminated else 'interrupted'} after {bar.done} of {bar.total} "
          "replications; no output files were written", err=True)
    return typer.Exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is like Ctrl-C, so that it cleans up the same way:
    workers stopped, temporary files removed, nothing half-written left as an output."""


_terminated = False
_main_pid = os.getpid()


def _terminate(signum: int, frame: Any) -> None:
    global _terminated
    if os.getpid() != _main_pid:
        # A worker process forked from the command inherits this handler: there SIGTERM
        # means what it always means (the parent stops its workers with it).
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    _terminated = True
    raise Terminated


@app.command()
def compare(
    baseline_file: Annotated[Path, typer.Argument(metavar="BASELINE.yaml",
                                                  help="The baseline model.")],
    scenario_files: Annotated[list[Path], typer.Argument(
        metavar="SCENARIO.yaml...", help="Improvement scenarios (or full models).")],
    okrs: Annotated[Path | None, typer.Option(
        "--okrs", metavar="OKRS.yaml", help="KPI targets and OKRs (instead of, or in addition "
        "to, those in the baseline).")] = None,
    replications: Annotated[str | None, typer.Option(
        "--replications", "-r", help="A number (at least 2), or auto: add replications until "
        "the KPIs of the key results and targets, and the differences in them, are within "
        "--precision (default: the model's run.replications, auto unless it gives a "
        "number).")] = None,
    precision: Annotated[str | None, typer.Option(
        help="With -r auto: the half-width wanted, relative to the baseline's value "
        "(default: the model's run.precision, 10%).")] = None,
    max_replications: Annotated[int | None, typer.Option(
        min=2, help="With -r auto: the cap (default: run.max_replications, 200).")] = None,
    seed: Annotated[int | None, typer.Option(min=0)] = None,
    cases: Annotated[int | None, typer.Option(min=1)] = None,
    warmup: Annotated[str | None, typer.Option(help="Cases, a duration, or auto.")] = None,
    jobs: Jobs = None,
    json_out: Annotated[Path | None, typer.Option("--json", metavar="OUT.json")] = None,
    csv_out: Annotated[Path | None, typer.Option(
        "--csv", metavar="OUT.csv", help="One row per (scenario, KPI statistic).")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", metavar="OUT.html|OUT.md|OUT.pdf", help="Write the decision report: OKR "
        "scorecard, KPI health, distributions, bottlenecks, process maps, changes, method.")
    ] = None,
    fail_on_miss: Annotated[bool, typer.Option(
        help="Exit 1 when any key result is not met.")] = False,
    allow_unstable: Annotated[bool, typer.Option()] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no summary and no "
                                        "progress bar.")] = False,
    executor: Annotated[str, typer.Option(
        "--executor", metavar="local|dask", help="Where replications run: local worker "
        "processes (--jobs), or an existing Dask cluster (--scheduler).")] = "local",
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="tcp://HOST:8786", help="The Dask scheduler for --executor "
        "dask (default: $PROCSIM_DASK_SCHEDULER).")] = None,
) -> None:
    """Compare scenarios with a baseline on common random numbers and judge the key results."""
    from procsim.compare import compare as run_compare
    from procsim.model.scenario import with_okrs
    from procsim.output import write_json

    reps = _parse_replications(replications, minimum=2)
    relative = _parse_precision(precision)
    _check_report(report)
    baseline = _load(baseline_file)
    if okrs is not None:
        try:
            baseline = with_okrs(baseline, okrs)
        except ModelError as err:
            raise _fail(str(err)) from None
    scenarios = [_load(path) for path in scenario_files]
    _check_outputs({"--json": json_out, "--csv": csv_out, "--report": report},
                   inputs=[baseline_file, baseline.base_file, *scenario_files, okrs,
                           *(s.base_file for s in scenarios)])
    names = [baseline.name, *(s.name for s in scenarios)]
    if len(set(names)) != len(names):
        raise _fail("error: the baseline and scenarios need distinct names, got "
                    + ", ".join(repr(n) for n in names))
    from procsim.simulate import running

    warmup_value = _parse_warmup(warmup, baseline.time_unit)
    reps_setting = reps if reps is not None else baseline.run.replications
    first_round = reps_setting if isinstance(reps_setting, int) else min(
        baseline.run.min_replications, max_replications or baseline.run.max_replications)
    bar = _progress_bar(quiet, total=(1 + len(scenarios)) * first_round)
    try:
        with _executor(executor, scheduler) as pool, bar, running(executor=pool, progress=bar):
            result = run_compare(baseline, scenarios, replications=reps, precision=relative,
                                 max_replications=max_replications, seed=seed, cases=cases,
                                 warmup=warmup_value, jobs=jobs, allow_unstable=allow_unstable)
    except ProcsimError as err:
        raise _fail(format_error(err)) from None
    except KeyboardInterrupt as exc:
        raise _interrupted(bar, exc) from None
    if not quiet:
        _echo(result.summary())
    _write_output(json_out, lambda path: write_json(result, path, ensure_ascii=False))
    if csv_out is not None:
        from procsim.output import write_compare_csv

        _write_output(csv_out, lambda path: write_compare_csv(result, path))
    _write_report(result, report)
    if fail_on_miss and result.any_not_met:
        _echo("error: key results not met (--fail-on-miss)", err=True)
        raise typer.Exit(EXIT_CHECKS_FAILED)


def _parse_vary(items: list[str]) -> dict[str, list[float]]:
    """``--vary PATH=VALUES`` options, in order: the values of each dotted path."""
    from procsim.sweep import parse_values

    if not items:
        raise _fail("error: give at least one --vary PATH=VALUES, e.g. "
                    "--vary resources.agents.capacity=3..9")
    vary: dict[str, list[float]] = {}
    for item in items:
        path, sep, values = item.partition("=")
        path = path.strip()
        if not sep or not path or not values.strip():
            raise _fail(f"error: --vary {_quoted(item)}: expected PATH=VALUES, e.g. "
                        "resources.agents.capacity=3..9 or activities.triage.duration.mean=4,5,6")
        if path in vary:
            raise _fail(f"error: --vary {_quoted(path)} is given twice")
        try:
            vary[path] = parse_values(values, path=path)
        except ProcsimError as err:
            raise _fail(f"error: --vary {format_error(err).removeprefix('error: ')}") from None
    return vary


def _with_okrs(model: Model, okrs: Path | None) -> Model:
    if okrs is None:
        return model
    from procsim.model.scenario import with_okrs

    try:
        return with_okrs(model, okrs)
    except ModelError as err:
        raise _fail(str(err)) from None


@app.command("sweep")
def sweep_command(
    model_file: Annotated[Path, typer.Argument(
        metavar="MODEL.yaml", help="The process model, or a scenario (a base model + changes).")],
    vary: Annotated[list[str], typer.Option(
        "--vary", metavar="PATH=VALUES", help="A dotted path and its values: 3..9 (integers), "
        "0.5..2:0.5 (a step) or 4,6,10. Several give a grid; the last is swept, the knee "
        "marked along it.")] = [],  # noqa: B006 - typer reads the default, never mutated
    okrs: Annotated[Path | None, typer.Option(
        "--okrs", metavar="OKRS.yaml", help="KPI targets and OKRs: mark the points that meet "
        "every one.")] = None,
    kpi: Annotated[list[str], typer.Option(
        "--kpi", metavar="KPI", help="A KPI to tabulate (repeat; default: cycle_time, "
        "waiting_time, cost_per_case and those the key results use).")] = [],  # noqa: B006
    replications: Annotated[str | None, typer.Option(
        "--replications", "-r", help="A number, or auto (default: the model's).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed, shared by every point "
                                             "(default: the model's; drawn when it has none).")
                    ] = None,
    cases: Annotated[int | None, typer.Option(min=1, help="Arrivals per replication.")] = None,
    warmup: Annotated[str | None, typer.Option(help="Cases, a duration, or auto.")] = None,
    jobs: Jobs = None,
    json_out: Annotated[Path | None, typer.Option("--json", metavar="OUT.json")] = None,
    csv_out: Annotated[Path | None, typer.Option(
        "--csv", metavar="OUT.csv", help="One row per (point, KPI).")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", metavar="OUT.html", help="An HTML page with the table and a plot of the "
        "KPI against the swept values, its interval, the cost and the knee.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no table and no "
                                        "progress bar.")] = False,
) -> None:
    """Sweep parameters of a model: each KPI with its interval at every value, on common
    random numbers, the cost, the knee, and which points meet the key results."""
    from procsim.output import write_json, write_rows_csv
    from procsim.sweep import sweep_grid

    values = _parse_vary(vary)
    reps = _parse_replications(replications, minimum=2)
    if report is not None and report.suffix.lower() not in (".html", ".htm"):
        raise _fail(f"error: --report {report}: expected a file ending in .html, got "
                    f"'{report.suffix or 'no suffix'}'")
    model = _with_okrs(_load(model_file), okrs)
    _check_outputs({"--json": json_out, "--csv": csv_out, "--report": report},
                   inputs=[model_file, model.base_file, okrs])
    warmup_value = _parse_warmup(warmup, model.time_unit)
    settings: dict[str, Any] = {"seed": seed, "jobs": jobs, "warmup": warmup_value}
    if reps is not None:
        settings["replications"] = reps
    if cases is not None:
        settings["cases"] = cases
    bar = _progress_bar(quiet)
    try:
        with bar:
            from procsim.simulate import running

            with running(progress=bar):
                result = sweep_grid(model, values, kpis=kpi or None, **settings)
    except ProcsimError as err:
        raise _fail(format_error(err)) from None
    except KeyboardInterrupt as exc:
        raise _interrupted(bar, exc) from None
    if not quiet:
        _echo(result.summary())
    _write_output(json_out, lambda path: write_json(result, path, ensure_ascii=False))
    _write_output(csv_out, lambda path: write_rows_csv(result.rows(), path))
    if report is not None:
        from procsim.report.optimise import write_sweep_report

        _write_output(report, lambda path: write_sweep_report(result, path))


@app.command("optimise")
def optimise_command(
    model_file: Annotated[Path, typer.Argument(
        metavar="MODEL.yaml", help="The process model, or a scenario (a base model + changes).")],
    okrs: Annotated[Path | None, typer.Option(
        "--okrs", metavar="OKRS.yaml", help="KPI targets and OKRs to meet (instead of, or in "
        "addition to, those in the model).")] = None,
    vary: Annotated[list[str], typer.Option(
        "--vary", metavar="PATH=VALUES", help="What may change: a dotted path and its values, "
        "3..9, 0.5..2:0.5 or 4,6,10. Several give a grid.")] = [],  # noqa: B006
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed, shared by every "
                                             "candidate (default: the model's, else drawn).")
                    ] = None,
    confidence: Annotated[float, typer.Option(
        help="The probability with which every key result must be attained.")] = 0.9,
    objective: Annotated[str, typer.Option(
        help="The KPI whose mean is minimised (default: the full cost per case).")
    ] = "cost_per_case",
    budget: Annotated[list[str], typer.Option(
        "--budget", metavar="'NAME OP VALUE'", help="A further constraint: 'staffing_cost_per_"
        "hour <= 400' (checked without simulating) or a KPI, e.g. 'cost_per_case <= 45'.")
    ] = [],  # noqa: B006
    search: Annotated[str, typer.Option(
        metavar="auto|cheapest-first|exhaustive|sampled", help="auto: cheapest first when "
        "only capacities vary, else every candidate screened, or beyond 400 candidates "
        "sampled by optuna's TPE (pip install 'procsim[optimise]').")] = "auto",
    trials: Annotated[int, typer.Option(
        min=1, help="The sampled search's budget: candidates proposed by the sampler.")
    ] = 60,
    max_replications: Annotated[int, typer.Option(
        min=10, help="Replications of one candidate at most (it starts with 10).")] = 100,
    cases: Annotated[int | None, typer.Option(min=1, help="Arrivals per replication.")] = None,
    warmup: Annotated[str | None, typer.Option(help="Cases, a duration, or auto (chosen once, "
                                               "on the model, for every candidate).")] = None,
    jobs: Jobs = None,
    out: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="BEST.yaml", help="Write the recommended configuration as a "
        "scenario file (base + changes), ready for procsim compare.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite BEST.yaml if it exists.")
                     ] = False,
    json_out: Annotated[Path | None, typer.Option("--json", metavar="OUT.json")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", metavar="OUT.html", help="A report for decision-makers (.html, .md or "
        ".pdf): the recommendation, its verdicts, the runner-ups, the cost–KPI Pareto front "
        "and the method.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no summary and no "
                                        "progress bar.")] = False,
) -> None:
    """Find the cheapest configuration that meets every key result with a stated probability."""
    from procsim.optimise import optimise
    from procsim.output import write_json

    values = _parse_vary(vary)
    if not (math.isfinite(confidence) and 0.5 <= confidence < 1):
        raise _fail(f"error: --confidence: expected a probability in [0.5, 1), such as 0.9, "
                    f"got {confidence}")
    if search not in ("auto", "cheapest-first", "exhaustive", "sampled"):
        raise _fail(f"error: --search: expected auto, cheapest-first, exhaustive or sampled, "
                    f"got {_quoted(search)}")
    _check_log_report(report)   # a format that can be written (.html, .md, .pdf), at once
    model = _load(model_file)
    _check_outputs({"--output": out, "--json": json_out, "--report": report},
                   inputs=[model_file, model.base_file, okrs])
    if out is not None and out.exists() and not force:
        raise _fail(f"error: {out} exists; pass --force to overwrite it")
    warmup_value = _parse_warmup(warmup, model.time_unit)
    bar = _progress_bar(quiet)
    try:
        with bar:
            result = optimise(model, okrs, vary=values, seed=seed, confidence=confidence,
                              objective=objective, budget=budget,
                              search=search,  # type: ignore[arg-type]
                              trials=trials, max_replications=max_replications, cases=cases,
                              warmup=warmup_value, jobs=jobs, progress=bar)
    except ProcsimError as err:
        raise _fail(format_error(err)) from None
    except KeyboardInterrupt as exc:
        raise _interrupted(bar, exc) from None
    if result.partial:
        _echo(result.summary())
        terminated = _terminated
        _echo(f"{'terminated' if terminated else 'interrupted'}: the best so far is above "
              "(not re-checked); no output files were written", err=True)
        raise typer.Exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
    if not quiet:
        _echo(result.summary())
    _write_output(json_out, lambda path: write_json(result, path, ensure_ascii=False))
    if report is not None:
        from procsim.report.optimise import write_optimise_report

        _write_output(report, lambda path: write_optimise_report(result, path))
    if out is not None:
        if result.best is None:
            _echo(f"error: no configuration meets every constraint; {out} was not written",
                  err=True)
            raise typer.Exit(EXIT_CHECKS_FAILED)
        from procsim.output import write_scenario

        _write_output(out, lambda path: write_scenario(result, path))
    if result.best is None:
        raise typer.Exit(EXIT_CHECKS_FAILED)


app.command("optimize", help="The same as optimise.")(optimise_command)


@app.command("import")
def import_(
    bpmn_file: Annotated[Path, typer.Argument(metavar="MODEL.bpmn",
                                              help="A BPMN 2.0 XML file.")],
    params: Annotated[Path | None, typer.Option(
        "--params", metavar="PARAMS.json", help="Prosimos simulation parameters (JSON): "
        "arrivals, resources, calendars, durations, branch probabilities.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="OUT.yaml", help="Where to write the model (default: print "
        "it).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUT.yaml if it exists.")
                     ] = False,
    process: Annotated[str | None, typer.Option(
        "--process", metavar="ID", help="The process to import when the file has several "
        "(default: the one with the most flow nodes); 'all' imports each into its own model "
        "(OUT-<name>.yaml, after the process's or its pool's name).")
    ] = None,
    time_unit: Annotated[str, typer.Option(
        "--time-unit", metavar="UNIT", help="The model's time unit: seconds, minutes, hours "
        "or days.")] = "hours",
    search_path: Annotated[list[Path] | None, typer.Option(
        "--search-path", metavar="DIR", help="A folder whose BPMN files may hold the processes "
        "that call activities call (repeatable; the file's own folder is always searched).")
    ] = None,
) -> None:
    """Convert a BPMN 2.0 process (and Prosimos parameters) into a procsim model."""
    from procsim.interop import import_bpmn, import_processes
    from procsim.interop.bpmn_import import snake_case

    if time_unit not in ("seconds", "minutes", "hours", "days"):
        raise _fail(f"error: --time-unit: expected seconds, minutes, hours or days, got "
                    f"{time_unit!r}")
    _check_outputs({"--output": out}, inputs=[bpmn_file, params])
    if out is not None and out.exists() and not force and process != "all":
        raise _fail(f"error: {out} exists; pass --force to overwrite it")
    try:
        if process == "all":
            results = import_processes(bpmn_file, params=params, time_unit=time_unit,
                                       search_path=search_path or ())
        else:
            results = [import_bpmn(bpmn_file, params=params, process=process,
                                   time_unit=time_unit, search_path=search_path or ())]
    except ModelError as err:
        raise _fail(str(err)) from None
    targets: list[Path | None] = [out] * len(results)
    if process == "all" and out is not None:
        # Each file named after its pool (participant) or process, unique.
        stems: list[str] = []
        for r in results:
            name = str(r.data.get("name", ""))
            stem = snake_case(name if name != bpmn_file.stem else r.process) or "process"
            stems.append(stem if stem not in stems else f"{stem}_{snake_case(r.process)}")
        targets = [out.with_name(f"{out.stem}-{stem}{out.suffix}") for stem in stems]
        existing = [str(t) for t in targets if t is not None and t.exists()]
        if existing and not force:
            raise _fail(f"error: {', '.join(existing)} exist(s); pass --force to overwrite")
    for result, target in zip(results, targets, strict=True):
        prefix = f"process {result.process}: " if process == "all" else ""
        for warning in result.warnings:
            _echo(prefix + str(warning), err=True)
        if result.placeholders:
            _echo(f"{prefix}{len(result.placeholders)} placeholder(s) to fill in (marked "
                  "PLACEHOLDER in the model):", err=True)
            for path in result.placeholders:
                _echo(f"  {path}", err=True)
        if target is None:
            if process == "all":
                _echo(f"--- # process {result.process}")
            _echo(result.text, nl=False)
            continue
        try:
            result.write(target)
        except OSError as exc:
            raise _fail(f"error: cannot write output: {exc}") from None
        _echo(f"wrote {target}", err=True)


@app.command()
def validate(
    model_files: Annotated[list[Path], typer.Argument(metavar="MODEL.yaml...",
                                                      help="Models to check.")],
) -> None:
    """Check models without running them: schema, names, flow graph and stability."""
    from procsim.model import offered_load
    from procsim.model.check import bare_duration_warning
    from procsim.model.load import find_placeholders

    failed = False
    for path in model_files:
        try:
            model = load_scenario(path)
        except ModelError as err:
            _echo(str(err), err=True)
            failed = True
            continue
        loads = offered_load(model)
        _echo(f"{path}: ok: {model.name} ({len(model.activities)} activities, "
                   f"{len(model.resources)} pools)")
        placeholders = find_placeholders(path)
        # Once per model, and not about the placeholders' stand-ins (warned about below).
        bare = bare_duration_warning(model, ignore_lines={i.line for i in placeholders})
        if bare is not None:
            _echo(str(bare).replace(": error: ", ": warning: ", 1), err=True)
        for issue in placeholders:
            _echo(str(issue).replace(": error: ", ": warning: ", 1), err=True)
        if placeholders:
            _echo(f"{path}: {len(placeholders)} placeholder value(s) to fill in before "
                       "the results mean anything", err=True)
        for name, load in loads.items():
            status = "UNSTABLE" if load.utilization >= 1 else "ok"
            _echo(f"  {name:<20} capacity {load.capacity:>3}  expected utilisation "
                       f"{load.utilization:6.1%}  {status}")
        if any(load.utilization >= 1 for load in loads.values()):
            _echo(f"{path}: error: offered load reaches capacity; `procsim run` refuses it "
                       "unless --allow-unstable", err=True)
            failed = True
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def show(
    model_file: Annotated[Path, typer.Argument(metavar="SCENARIO.yaml",
                                               help="A scenario or a model.")],
) -> None:
    """Print the merged model of a scenario (its base with the changes applied) as YAML."""
    import yaml

    model = _load(model_file)
    lines = [f"# {model.name}"]
    if model.base_file:
        lines.append(f"# {model_file}: base {model.base_file} with {len(model.changes)} "
                     f"change{'s' if len(model.changes) != 1 else ''}:")
        lines += [f"#   {change.describe()}" for change in model.changes]
    _echo("\n".join(lines))
    _echo(yaml.safe_dump(model.source_data, sort_keys=False, allow_unicode=True,
                              default_flow_style=None, width=100).rstrip())


@app.command()
def schema() -> None:
    """Print the JSON Schema of model files (for editor completion and checks)."""
    from procsim.model.schema import Model

    data: dict[str, Any] = Model.model_json_schema()
    data = {"$schema": "https://json-schema.org/draft/2020-12/schema", **data,
            "title": "procsim model"}
    _echo(json.dumps(data, indent=2))


@app.command()
def export(
    model_file: Annotated[Path, typer.Argument(
        metavar="MODEL.yaml", help="The process model, or a scenario (a base model + changes).")],
    bpmn_out: Annotated[Path | None, typer.Option(
        "--bpmn", metavar="OUT.bpmn", help="Write the control flow as BPMN 2.0 XML with a "
        "diagram, for BPMN editors (bpmn.io, Camunda Modeler).")] = None,
) -> None:
    """Write a model in another format: its control flow as BPMN 2.0 (--bpmn)."""
    from procsim.interop.bpmn_export import write_bpmn

    if bpmn_out is None:
        raise _fail("error: nothing to export; give --bpmn OUT.bpmn")
    model = _load(model_file)
    _check_outputs({"--bpmn": bpmn_out}, inputs=[model_file, model.base_file])
    try:
        write_bpmn(model, bpmn_out)
    except OSError as exc:
        raise _fail(f"error: cannot write output: {exc}") from None
    _echo(f"wrote {bpmn_out}", err=True)


@app.command()
def kpis(
    log_file: Annotated[Path, typer.Argument(
        metavar="LOG", help="An event log: CSV or XES, plain or .gz.")],
    okrs: Annotated[Path | None, typer.Option(
        "--okrs", metavar="OKRS.yaml", help="KPI targets (kpis: with target), as compare "
        "--okrs takes them: each judged on the log's measured value.")] = None,
    calendars: Annotated[Path | None, typer.Option(
        "--calendars", metavar="MODEL.yaml", help="A procsim model whose calendars give the "
        "resources' working hours, for utilisation against them: a resource named like a "
        "pool, a person, or a pool after its trailing digits (Clerk-007: pool clerk). "
        "Default: discovered from the log.")] = None,
    fail_on_off_track: Annotated[bool, typer.Option(
        help="Exit 1 when a KPI with a target is off track.")] = False,
    json_out: Annotated[Path | None, typer.Option(
        "--json", metavar="OUT.json", help="Write the KPIs as JSON.")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", metavar="OUT.html|OUT.md|OUT.pdf", help="Write a report with plots "
        "(cycle time, arrivals by hour and weekday, work in progress, waiting per activity): "
        "one self-contained HTML file, Markdown with PNGs beside it, or PDF (procsim[pdf]).")
    ] = None,
    time_unit: Annotated[str, typer.Option(
        "--time-unit", metavar="UNIT", help="seconds, minutes, hours or days.")] = "minutes",
    case: Annotated[str | None, typer.Option(metavar="COLUMN", help="The case id column.")
                    ] = None,
    activity: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    resource: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    start: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    end: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    enabled: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    drop_bad_rows: Annotated[bool, typer.Option(
        help="Leave out (and count) rows that cannot be read, instead of refusing the log.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no table.")] = False,
) -> None:
    """Measure the KPIs of an event log, and their health against targets."""
    from procsim.eventlog import read_log
    from procsim.eventlog.kpis import load_log_targets, log_kpis
    from procsim.output import write_json

    if time_unit not in ("seconds", "minutes", "hours", "days"):
        raise _fail(f"error: --time-unit: expected seconds, minutes, hours or days, got "
                    f"{_quoted(time_unit)}")
    _check_log_report(report)
    _check_outputs({"--json": json_out, "--report": report},
                   inputs=[log_file, okrs, calendars])
    hours_model = None
    if calendars is not None:
        try:
            hours_model = load_scenario(calendars)
        except ModelError as err:
            # A file that is no model at all (an OKR file, the log itself) in one line; a
            # model with mistakes gets every one of them, as every command shows them.
            words = [i.message for i in err.issues]
            if "missing required field 'procsim'" in words:
                raise _fail(f"error: --calendars {calendars}: expected a procsim model with "
                            "calendars: and resources:, got a file without procsim: (OKR "
                            "files go to --okrs)") from None
            if len(err.issues) == 1 and not err.issues[0].path:  # not a model file at all
                raise _fail(f"error: --calendars {calendars}: {words[0]}") from None
            raise _fail(str(err)) from None
    with _log_errors(log_file):
        log = read_log(log_file, case=case, activity=activity, resource=resource, start=start,
                       end=end, enabled=enabled, on_error="drop" if drop_bad_rows else "refuse")
        targets = (None if okrs is None else
                   load_log_targets(okrs, activities=log.frame["activity"].unique().tolist(),
                                    time_unit=time_unit))
        result = log_kpis(log, model=targets, time_unit=time_unit, calendars=hours_model)
    _echo_dropped(log)
    unmatched = [name for name, hours in result.working_hours.items()
                 if hours_model is not None and hours.source != "given"]
    if unmatched:
        shown = ", ".join(unmatched[:5]) + (f" and {len(unmatched) - 5} more"
                                            if len(unmatched) > 5 else "")
        _echo(f"note: --calendars {calendars} names no pool or person for {len(unmatched)} of "
              f"the log's {len(result.working_hours)} resources ({shown}): their working "
              "hours are discovered from the log", err=True)
    if not quiet:
        _echo(result.summary())
    _write_output(json_out, lambda path: write_json(result, path, ensure_ascii=False))
    if report is not None:
        from procsim.report.logs import write_log_report

        _write_output(report, lambda path: write_log_report(result, path))
    if fail_on_off_track and result.off_track:
        _echo(f"error: KPIs off track (--fail-on-off-track): {', '.join(result.off_track)}",
              err=True)
        raise typer.Exit(EXIT_CHECKS_FAILED)


@app.command()
def backtest(
    model_file: Annotated[Path, typer.Argument(metavar="MODEL.yaml",
                                               help="The model to back-test.")],
    log_file: Annotated[Path, typer.Argument(
        metavar="LOG", help="The real event log: CSV or XES, plain or .gz.")],
    replications: Annotated[int, typer.Option(
        "--replications", "-r", min=2, help="Replications.")] = 10,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: drawn, "
                                             "printed).")] = None,
    json_out: Annotated[Path | None, typer.Option(
        "--json", metavar="OUT.json", help="Write distances and KPIs as JSON.")] = None,
    events_dir: Annotated[Path | None, typer.Option(
        "--events-dir", metavar="DIR", help="Write each replication's simulated log as CSV "
        "(replication-001.csv, …; case_id, activity, resource, start_time, end_time in the "
        "log's time zone). DIR is made if missing.")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", metavar="OUT.html|OUT.md|OUT.pdf", help="Write a report with the "
        "distances, the KPIs and overlays of the log and the simulation: one self-contained "
        "HTML file, Markdown with PNGs beside it, or PDF (procsim[pdf]).")] = None,
    test_from: Annotated[str | None, typer.Option(
        "--test-from", metavar="DATE", help="Back-test only on the cases that start at or "
        "after DATE (2026-01-31 or 2026-01-31T09:00, in the log's zone): simulate as many "
        "cases from DATE.")] = None,
    case: Annotated[str | None, typer.Option(metavar="COLUMN", help="The case id column.")
                    ] = None,
    activity: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    resource: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    start: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    end: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    enabled: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    drop_bad_rows: Annotated[bool, typer.Option(
        help="Leave out (and count) rows that cannot be read, instead of refusing the log.")
    ] = False,
    jobs: Jobs = None,
) -> None:
    """Simulate the model over the log's cases and period; report how close it is."""
    from procsim.eventlog import read_log
    from procsim.eventlog.fidelity import backtest_model, write_log_csv
    from procsim.output import write_json

    model = _load(model_file)
    _check_log_report(report)
    _check_outputs({"--json": json_out, "--report": report}, inputs=[model_file, log_file])
    _check_events_dir(events_dir)
    with _log_errors(log_file):
        log = read_log(log_file, case=case, activity=activity, resource=resource, start=start,
                       end=end, enabled=enabled, on_error="drop" if drop_bad_rows else "refuse")
    if test_from is not None:
        from procsim.eventlog.fidelity import cases_from

        try:
            tested = cases_from(log, test_from)
        except ValueError as exc:
            raise _fail(f"error: --test-from: {exc}") from None
        if tested.cases == 0:
            raise _fail(f"error: --test-from {_quoted(test_from)}: no case of {log_file} starts "
                        f"at or after it (its cases start from {log.frame['start'].min()} to "
                        f"{log.frame['start'].max()})")
    with _log_errors(log_file):
        outcome = backtest_model(model, log, replications=replications, seed=seed,
                                 test_from=test_from, jobs=jobs)
    simulated, first = outcome.simulated_logs, outcome.first
    _echo_dropped(log)
    tested_cases = outcome.log_kpis.cases if outcome.log_kpis is not None else log.cases
    _echo(f"{tested_cases} cases from {first}, {replications} replications, "
          f"seed {outcome.seed}")
    _echo(outcome.summary())
    try:
        if json_out is not None:
            data = {"model": str(model_file), "log": str(log_file), "seed": outcome.seed,
                    "test_from": test_from, "first": first.isoformat(), **outcome.to_dict()}
            write_json(data, json_out, ensure_ascii=False)
            _echo(f"wrote {json_out}", err=True)
        if events_dir is not None:
            events_dir.mkdir(exist_ok=True)
            width = max(3, len(str(replications)))
            for r, sim in enumerate(simulated):
                write_log_csv(sim, events_dir / f"replication-{r + 1:0{width}d}.csv")
            _echo(f"wrote {replications} simulated logs in {events_dir}", err=True)
    except OSError as exc:
        raise _fail(f"error: cannot write output: {exc}") from None
    if report is not None:
        from procsim.report.logs import write_backtest_report

        _write_output(report, lambda path: write_backtest_report(
            outcome, path, model=str(model_file), log=str(log_file), seed=outcome.seed,
            first=first.isoformat(), test_from=test_from))


def _check_log_report(path: Path | None) -> None:
    """Refuse a report on a log (kpis, backtest) in a format that cannot be written (an
    unknown suffix, a PDF without WeasyPrint) before any work."""
    if path is None:
        return
    from procsim.report.writer import report_format

    try:
        report_format(path)
    except ProcsimError as err:
        raise _fail(f"error: --report {err}") from None


def _check_events_dir(directory: Path | None) -> None:
    """The folder for the simulated logs exists (or can be made) and takes new files."""
    if directory is None:
        return
    if directory.exists() and not directory.is_dir():
        raise _fail(f"error: --events-dir {directory}: is not a directory")
    if directory.is_dir():
        _check_output(directory / "replication-001.csv", "--events-dir")
    else:
        parent = directory.parent if str(directory.parent) else Path(".")
        if not parent.is_dir():
            raise _fail(f"error: --events-dir {directory}: directory {parent} does not exist")
        _check_output(directory, "--events-dir")


@app.command()
def discover(
    log_file: Annotated[Path, typer.Argument(
        metavar="LOG", help="An event log: CSV or XES, plain or .gz.")],
    out: Annotated[Path, typer.Option(
        "--output", "-o", metavar="MODEL.yaml", help="Where to write the model.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite MODEL.yaml if it exists.")
                     ] = False,
    min_frequency: Annotated[float, typer.Option(
        "--min-frequency", metavar="SHARE", help="Drop transitions taken by less than this "
        "share of their activity's outgoing ones (0 to 1).")] = 0.0,
    case: Annotated[str | None, typer.Option(metavar="COLUMN", help="The case id column.")
                    ] = None,
    activity: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    resource: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    start: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    end: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    enabled: Annotated[str | None, typer.Option(metavar="COLUMN")] = None,
    drop_bad_rows: Annotated[bool, typer.Option(
        help="Leave out (and count) rows that cannot be read, instead of refusing the log.")
    ] = False,
) -> None:
    """Discover a runnable procsim model (flow, arrivals, durations, pools) from an event log."""
    from procsim.eventlog import read_log
    from procsim.eventlog.discover import discover as discover_model
    from procsim.output import atomic_write

    if not (math.isfinite(min_frequency) and 0.0 <= min_frequency < 1.0):
        raise _fail(f"error: --min-frequency: expected a share in [0, 1), got {min_frequency}")
    _check_outputs({"--output": out}, inputs=[log_file])
    if out.exists() and not force:
        raise _fail(f"error: {out} exists; pass --force to overwrite it")
    with _log_errors(log_file):
        log = read_log(log_file, case=case, activity=activity, resource=resource, start=start,
                       end=end, enabled=enabled, on_error="drop" if drop_bad_rows else "refuse")
        text = discover_model(log, min_frequency=min_frequency)
    _echo_dropped(log)
    try:
        atomic_write(out, lambda fh: fh.write(text))
    except OSError as exc:
        raise _fail(f"error: cannot write output: {exc}") from None
    _echo(f"wrote {out} ({log.cases} cases); costs are PLACEHOLDERs: "
          f"procsim validate {out} lists them", err=True)


def main() -> None:
    """Entry point of the ``procsim`` console script."""
    # SIGTERM (kill, systemd, a CI timeout) cleans up like Ctrl-C; only the exit code differs.
    global _main_pid
    _main_pid = os.getpid()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except SystemExit as exc:
        # Click turns a KeyboardInterrupt it catches itself into "Aborted!" and exit 1.
        if _terminated and exc.code not in (EXIT_TERMINATED, EXIT_INTERRUPTED):
            sys.exit(EXIT_TERMINATED)
        raise
    except Terminated:
        _echo("terminated; no output files were written", err=True)
        sys.exit(EXIT_TERMINATED)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        _echo("interrupted; no output files were written", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except MemoryError:
        _echo("error: out of memory: the input or the run is too large for this machine "
              "(try fewer cases or replications)", err=True)
        sys.exit(EXIT_BAD_INPUT)
    finally:
        # Whoever called main() (a test, a notebook) gets its own handler back.
        signal.signal(signal.SIGTERM, previous)
