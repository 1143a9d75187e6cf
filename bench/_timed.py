"""Running a contender's code in a fresh process with its peak memory (for the
same-run comparisons against peers in their own virtual environments)."""

from __future__ import annotations

import json
import re
import subprocess


def run_timed(python: str, code: str, args: dict, env=None) -> dict:
    """``python -c code json(args)`` under ``/usr/bin/time -v``: the JSON the
    code prints after ``RESULT``, plus ``peak_rss_mib``."""
    cmd = ["/usr/bin/time", "-v", python, "-c", code, json.dumps(args)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    m = re.search(r"^RESULT (.*)$", p.stdout, re.M)
    if not m:
        raise RuntimeError(p.stdout[-2000:] + p.stderr[-3000:])
    out = json.loads(m.group(1))
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    out["peak_rss_mib"] = int(rss.group(1)) / 1024 if rss else None
    return out
