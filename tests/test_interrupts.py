"""Worker processes end with their parent, and an interruption at any point ends cleanly (issue 17, class 6).

Before: killing ``wfsim experiment --workers 2`` with SIGKILL or SIGTERM left the workers and the
multiprocessing resource tracker running for good (~350 MB each); SIGINT during start-up or after the
last block printed a bare traceback. Now workers exit when their parent dies (PR_SET_PDEATHSIG on Linux,
and a watchdog on the parent's pid), SIGTERM is handled like SIGINT, and any interruption ends with
exit 130 and one line.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

import sim.cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "spec_example.yaml"
LONG = {"name": "long", "question": "Runs long enough to be interrupted?", "scenario": str(EXAMPLE),
        "replicates": 2000, "seed": 1, "years": 10, "every": "year", "block": 25,
        "variants": {"baseline": {}, "slower": {"set": {"professions.registered_nurse.leave_rate": 0.07}}}}

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="process-tree checks use Linux semantics")


def start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(LONG), encoding="utf-8")
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "WFSIM_DEBUG"}
    # output to files, not pipes: a pipe held open by an orphaned worker would block the test
    with open(tmp_path / "stdout", "w") as stdout, open(tmp_path / "stderr", "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "experiment", str(path), "--out", str(out), "-q",
                                 *extra], cwd=ROOT, env=env, stdout=stdout, stderr=stderr, start_new_session=True)
    return proc, out


def stderr_of(tmp_path: Path) -> str:
    return (tmp_path / "stderr").read_text()


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def blocks_done(out: Path) -> int:
    try:
        return len(json.loads((out / "manifest.json").read_text()).get("done", {}))
    except (OSError, ValueError):
        return 0


def running_workers(proc: subprocess.Popen, out: Path) -> list[psutil.Process]:
    """Wait until the experiment's workers are computing (a block is done), then list its process tree."""
    wait_for(lambda: blocks_done(out) >= 1 or proc.poll() is not None, 240, "the first block")
    assert proc.poll() is None, "the experiment ended before its workers could be seen"
    tree = descendants(proc.pid)
    assert len(tree) >= 3, tree              # two workers and the resource tracker
    return tree


def cleanup(proc: subprocess.Popen, tree: list[psutil.Process]) -> None:
    """Whatever happened, leave no process of the test behind."""
    for p in alive(tree + descendants(proc.pid)):
        p.kill()
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr[-3000:]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_end_with_their_parent(tmp_path, sig):
    proc, out = start(tmp_path, "--workers", "2")
    tree: list[psutil.Process] = []
    try:
        tree = running_workers(proc, out)
        os.kill(proc.pid, sig)                                  # the parent only, as `kill PID` does
        code = proc.wait(timeout=60)
        err = stderr_of(tmp_path)
        wait_for(lambda: not alive(tree), 30, f"workers to exit: {alive(tree)}")
    finally:
        cleanup(proc, tree)
    if sig == signal.SIGTERM:
        assert code == 130, err
        no_traceback(err)
        assert len(err.strip().splitlines()) == 1 and "interrupted" in err


def test_agents_engine_workers_end_with_their_parent(tmp_path):
    """The agents engine's replicate workers (forked) die with `wfsim run` too."""
    env = {k: v for k, v in os.environ.items() if k != "WFSIM_DEBUG"}
    with open(tmp_path / "stderr", "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", str(EXAMPLE), "--engine", "agents", "-n", "40",
                                 "--threads", "2", "-q", "--out", str(tmp_path / "x.nc")], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    tree: list[psutil.Process] = []
    try:
        wait_for(lambda: len(descendants(proc.pid)) >= 2 or proc.poll() is not None, 120, "the replicate workers")
        assert proc.poll() is None, stderr_of(tmp_path)
        tree = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        wait_for(lambda: not alive(tree), 30, f"workers to exit: {alive(tree)}")
    finally:
        cleanup(proc, tree)


@pytest.mark.parametrize("after", [0.3, "workers"])
def test_ctrl_c_at_any_point_ends_with_one_line(tmp_path, after):
    """SIGINT to the whole process group, as a terminal sends it: during start-up, while workers start."""
    proc, out = start(tmp_path, "--workers", "2")
    tree: list[psutil.Process] = []
    try:
        if after == "workers":
            wait_for(lambda: len(descendants(proc.pid)) >= 2 or proc.poll() is not None, 120, "workers to start")
        else:
            time.sleep(after)
        tree = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(timeout=60)
        err = stderr_of(tmp_path)
        wait_for(lambda: not alive(tree), 30, f"workers to exit: {alive(tree)}")
    finally:
        cleanup(proc, tree)
    assert code == 130, err
    no_traceback(err)
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err, err


def test_ctrl_c_after_the_last_block(monkeypatch, capsys, tmp_path):
    """A real SIGINT while the comparison is being computed: exit 130, one line (in process, via main, which
    restores the previous handlers after)."""
    import sim.experiments as experiments

    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump({**LONG, "replicates": 2, "block": 2, "years": 1}), encoding="utf-8")

    def interrupted(*a, **k):           # Ctrl-C arrives while the comparison is computed
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
        raise AssertionError("SIGINT did not interrupt")

    monkeypatch.setattr(experiments, "comparison", interrupted)
    before = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(sys, "argv", ["wfsim", "experiment", str(path), "--out", str(tmp_path / "o"), "-w", "1", "-q"])
    with pytest.raises(SystemExit) as info:
        sim.cli.main()
    err = capsys.readouterr().err
    assert info.value.code == 130, err
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err
    assert signal.getsignal(signal.SIGINT) is before
