"""No silent failure, no lost work: the real ``vitegraph`` command in a
subprocess, as a user meets it (exit codes, one-line errors, Ctrl-C)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def vitegraph(*args, cwd=None, timeout=120, **kw):
    return subprocess.run([sys.executable, "-m", "vitegraph.cli.main", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout, **kw)


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    from vitegraph.datasets import planted_partition
    d = tmp_path_factory.mktemp("graph")
    g, labels = planted_partition(600, 4, 8, 2, seed=1)
    src, dst, _ = g.edges()
    np.savetxt(d / "edges.txt", np.stack([src, dst], 1), fmt="%d")
    np.savetxt(d / "labels.txt", np.stack([np.arange(600), labels.matrix.indices], 1),
               fmt="%d")
    named = d / "named.txt"
    named.write_text("".join(f"node {u}\tnode {v}\n" for u, v in zip(src, dst)))
    return d


def one_line_error(res, *needles):
    assert res.returncode == 1, res.stderr
    err = res.stderr.strip()
    assert "Traceback" not in err, err
    last = err.splitlines()[-1]
    assert last.startswith("vitegraph: error: "), err
    for n in needles:
        assert n in last, last
    return last


def test_divergence_exits_with_the_cause_and_writes_nothing(graph, tmp_path):
    out = tmp_path / "e.npz"
    res = vitegraph("-q", "embed", graph / "edges.txt", "-o", out, "--learning-rate", "1.0",
                    "--epochs", "200")
    one_line_error(res, "diverged", "try learning_rate=0.1")
    assert not out.exists()


def test_output_locations_are_checked_before_training(graph, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    t = time.perf_counter()
    res = vitegraph("-q", "embed", graph / "edges.txt", "-o", blocker / "e.npz")
    one_line_error(res, str(blocker), "is a file")
    # names with whitespace cannot go to the word2vec text format: said before training
    res = vitegraph("-q", "embed", graph / "named.txt", "-o", tmp_path / "e.txt")
    one_line_error(res, "cannot hold the node name 'node 0'", ".npz")
    res = vitegraph("-q", "plot", tmp_path / "missing.npz", "-o", tmp_path / "x.xyz")
    one_line_error(res, "x.xyz", "unknown image format 'xyz'", ".png")
    res = vitegraph("-q", "run", "--help")
    assert res.returncode == 0
    assert time.perf_counter() - t < 60


def test_read_only_output_folder(graph, tmp_path):
    if os.geteuid() == 0:
        if not os.path.isdir("/sys") or os.access("/sys", os.W_OK) and _can_write("/sys"):
            pytest.skip("running as root and no read-only folder to try")
        ro = Path("/sys")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
    res = vitegraph("-q", "embed", graph / "edges.txt", "-o", ro / "e.npz")
    one_line_error(res, str(ro), "cannot write outputs there")


def _can_write(folder) -> bool:
    import tempfile
    try:
        fd, p = tempfile.mkstemp(dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(p)
    return True


def test_list_into_a_closed_pipe_ends_quietly():
    cmd = f"{sys.executable} -m vitegraph.cli.main list | head -1"
    res = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert res.stdout.startswith("config")


def test_every_option_has_help_and_one_default():
    from vitegraph.cli.main import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        for action in p._actions:
            if not action.option_strings or action.dest == "help":
                continue
            text = p.formatter_class(prog="x")._get_help_string(action)
            assert text and text.strip(), f"{name} {action.option_strings} has no help"
            assert text.count("(default") <= 1, f"{name} {action.option_strings}: {text}"


def write_run(tmp_path, graph, out, epochs):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"graph:\n  path: {graph / 'edges.txt'}\n  labels: {graph / 'labels.txt'}\n"
                   f"train:\n  num_epoch: {epochs}\n  dim: 32\n"
                   f"evaluation:\n  repeats: 1\noutput:\n  dir: {out}\n")
    return cfg


def test_rerun_does_not_silently_overwrite_an_interrupted_run(graph, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    cfg = write_run(tmp_path, graph, out, 20)
    # an interrupted run's checkpoint, by a short run stopped with Ctrl-C below;
    # here: any checkpoint file makes a rerun refuse
    from vitegraph.solver.checkpoint import Checkpoint, save_checkpoint
    save_checkpoint(out / "checkpoint.npz", Checkpoint({"vertex": np.zeros((2, 2))}, 3, 300,
                                                       {"model": "deepwalk",
                                                        "total_samples": 1000}, {}, {}))
    res = vitegraph("-q", "run", cfg)
    one_line_error(res, "checkpoint.npz holds an interrupted run of deepwalk (3 episodes, "
                        "30% done)", "--resume", "--restart")
    res = vitegraph("-q", "run", cfg, "--restart")
    assert res.returncode == 0, res.stderr
    assert "--restart: starting over" in res.stderr
    assert not (out / "checkpoint.npz").exists()
    res = vitegraph("run", cfg, "--resume")
    assert res.returncode == 0 and "no checkpoint at" in res.stderr


def test_stale_temporary_files_of_killed_runs_are_removed(graph, tmp_path):
    from vitegraph._atomic import _host
    out = tmp_path / "out"
    out.mkdir()
    host = _host()
    stale = out / f".vitegraph-tmp-{host}-999999999-abc.npz"   # no such process
    stale.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    young = out / f".vitegraph-tmp-{host}-999999998-new.npz"   # too recent to judge
    young.write_bytes(b"x")
    mine = out / f".vitegraph-tmp-{host}-{os.getppid()}-keep"  # a live process
    mine.write_bytes(b"x")
    other = out / ".vitegraph-tmp-otherhost-999999999-x"       # another host's
    other.write_bytes(b"x")
    os.utime(other, (old, old))
    user = out / ".old-2019-dotfiles"                           # not ours at all
    user.mkdir()
    res = vitegraph("-q", "run", write_run(tmp_path, graph, out, 5))
    assert res.returncode == 0, res.stderr
    assert not stale.exists()
    assert young.exists() and mine.exists() and other.exists() and user.exists()


def start(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "vitegraph.cli.main", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def wait_for_training(proc, out: Path, seconds=60):
    """Until the run has trained a little (its progress bar moved)."""
    t = time.time()
    buf = ""
    while time.time() - t < seconds:
        buf += os.read(proc.stderr.fileno(), 4096).decode(errors="replace")
        if "training:" in buf and "sample/s" in buf and "0.00/" not in buf.split("\r")[-1]:
            return buf
    pytest.fail(f"training did not start: {buf[-500:]}")


def test_ctrl_c_stops_within_seconds_saves_and_resumes(graph, tmp_path):
    out = tmp_path / "out"
    cfg = write_run(tmp_path, graph, out, 20000)   # minutes of training
    proc = start(["run", cfg])
    wait_for_training(proc, out)
    t = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    stopped = time.perf_counter() - t
    assert proc.returncode == 130, err
    assert stopped < 5.0, f"Ctrl-C took {stopped:.1f} s"
    assert "checkpoint saved in" in err and "--resume" in err
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.npz"]
    # a second Ctrl-C aborts at once
    proc = start(["run", cfg, "--resume"])
    wait_for_training(proc, out)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    t = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    # 130 from the CLI, or killed by the signal when it came during shutdown
    assert proc.returncode in (130, -signal.SIGINT) and time.perf_counter() - t < 5.0


def test_evaluate_and_plot_read_every_format_embed_writes(graph, tmp_path):
    pytest.importorskip("matplotlib")
    for ext in (".npz", ".txt", ".bin"):
        out = tmp_path / f"e{ext}"
        res = vitegraph("-q", "embed", graph / "edges.txt", "-o", out, "--epochs", "200")
        assert res.returncode == 0, res.stderr
        res = vitegraph("evaluate", out, "--labels", graph / "labels.txt", "--repeats", "1")
        assert res.returncode == 0 and "Micro-F1" in res.stdout, res.stderr
        res = vitegraph("-q", "plot", out, "--labels", graph / "labels.txt", "-o",
                        tmp_path / f"p{ext}.png")
        assert res.returncode == 0 and (tmp_path / f"p{ext}.png").exists(), res.stderr
