"""The ``vitegraph`` command (more commands arrive with the CLI issue)."""

import subprocess
import sys
from pathlib import Path

import vitegraph as vg
from vitegraph.cli.main import main


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"vitegraph {vg.__version__}"


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for key in ("vitegraph", "numpy", "numba", "torch", "cpus", "cuda"):
        assert any(line.split()[0] == key for line in out.splitlines()), key


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage: vitegraph" in capsys.readouterr().out


def test_console_script_installed():
    script = Path(sys.executable).parent / "vitegraph"
    assert script.exists(), "pip install puts the vitegraph command beside python"
    r = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == f"vitegraph {vg.__version__}"
