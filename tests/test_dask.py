"""Replications on a real Dask cluster give the numbers of a local run.

The module starts a ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1 (on
free ports), runs a comparison through them from the command line and a simulation through
the library, checks both against local runs, and shuts the cluster down.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import procsim
from procsim.cli import app
from procsim.simulate import ClusterError, dask_executor

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": ROOT}
    processes = [subprocess.Popen(
        [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard"], **quiet)]
    try:
        processes += [subprocess.Popen(
            [sys.executable, "-m", "dask", "worker", address, "--nworkers", "1", "--nthreads",
             "1", "--no-dashboard", "--host", "127.0.0.1"], **quiet) for _ in range(2)]
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in reversed(processes):  # the workers first
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_comparison_on_the_cluster_equals_the_local_one(scheduler: str,
                                                          tmp_path: Path) -> None:
    outs = {}
    for name, where in (("local", ["--jobs", "2"]),
                        ("dask", ["--executor", "dask", "--scheduler", scheduler])):
        out = tmp_path / f"{name}.json"
        result = runner.invoke(app, [
            "compare", str(ROOT / "models/service_desk.yaml"),
            str(ROOT / "scenarios/service_desk_more_agents.yaml"),
            str(ROOT / "scenarios/service_desk_specialist_on_call.yaml"),
            "-r", "4", "--cases", "1500", "--seed", "5", "--json", str(out), "-q", *where])
        assert result.exit_code == 0, result.output
        outs[name] = json.loads(out.read_text())
    assert outs["dask"] == outs["local"]
    assert len(outs["local"]["scenarios"]) == 2


def test_simulate_on_the_cluster_gives_the_same_records(scheduler: str) -> None:
    model = procsim.load_model(ROOT / "models" / "loan_application.yaml")
    local = procsim.simulate(model, replications=3, cases=500, seed=2, keep_records=True)
    with dask_executor(scheduler) as executor:
        remote = procsim.simulate(model, replications=3, cases=500, seed=2, keep_records=True,
                                  executor=executor)
    assert json.dumps(remote.to_dict()) == json.dumps(local.to_dict())
    assert local.records is not None and remote.records is not None
    for a, b in zip(local.records, remote.records, strict=True):
        assert np.array_equal(a.instance_end, b.instance_end)
        assert np.array_equal(a.busy_area, b.busy_area)


def test_the_scheduler_can_come_from_the_environment(scheduler: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCSIM_DASK_SCHEDULER", scheduler)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["run", str(ROOT / "models/service_desk.yaml"), "-r", "2",
                                 "--cases", "1500", "--seed", "1", "--executor", "dask",
                                 "--json", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["replications"] == 2


# --- errors a user can make -----------------------------------------------------------------------


def test_dask_without_a_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROCSIM_DASK_SCHEDULER", raising=False)
    result = runner.invoke(app, ["run", str(ROOT / "models/service_desk.yaml"),
                                 "--executor", "dask"])
    assert result.exit_code == 2
    assert "error: --executor dask needs --scheduler tcp://HOST:8786" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--scheduler", "tcp://127.0.0.1:1"], "error: --scheduler needs --executor dask"),
    (["--executor", "spark"], "error: --executor: expected local or dask, got 'spark'"),
])
def test_bad_executor_options(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["run", str(ROOT / "models/service_desk.yaml"), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_an_unreachable_scheduler_is_a_clear_error() -> None:
    address = f"tcp://127.0.0.1:{free_port()}"  # nobody listens there
    with pytest.raises(ClusterError, match=f"cannot reach the Dask scheduler at {address}"):
        with dask_executor(address, timeout=2):
            pass


def test_without_distributed_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    result = runner.invoke(app, ["run", str(ROOT / "models/service_desk.yaml"),
                                 "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2
    assert "pip install 'procsim[dask]'" in result.output
