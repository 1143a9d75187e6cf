"""Baseline configs shipped with vitegraph: one YAML file per (model, dataset).

They read the standard datasets from the data folder (``--data-dir``, then
``$VITEGRAPH_DATA``, then ``~/.vitegraph/data``); ``vitegraph baseline
blogcatalog deepwalk`` picks the config whose name holds every keyword.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import ConfigError

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Baseline:
    name: str
    model: str
    dataset: str
    path: Path


def list_baselines() -> list[Baseline]:
    import yaml
    out = []
    for p in sorted(HERE.glob("*.yaml")):
        data = yaml.safe_load(p.read_text())
        out.append(Baseline(p.stem, data["train"]["model"], data["graph"]["dataset"], p))
    return out


def find_baseline(keywords: Sequence[str]) -> Baseline:
    """The one baseline whose name contains every keyword (case-insensitive)."""
    words = [k.lower() for k in keywords]
    hits = [b for b in list_baselines() if all(w in b.name.lower() for w in words)]
    if len(hits) == 1:
        return hits[0]
    names = ", ".join(b.name for b in (hits or list_baselines()))
    if not hits:
        raise ConfigError(f"no baseline config matches {' '.join(keywords)!r}; "
                          f"known: {names}")
    exact = [b for b in hits if b.name.lower() == "_".join(words)]
    if len(exact) == 1:
        return exact[0]
    raise ConfigError(f"{' '.join(keywords)!r} matches several baseline configs ({names}); "
                      "add a keyword")


def load_baseline(b: Baseline, overrides: Sequence[str] = (), output_dir: str | None = None):
    from ..config.run import load_run_config
    cfg = load_run_config(b.path, overrides)
    if output_dir is not None:
        cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, dir=output_dir))
    return cfg
