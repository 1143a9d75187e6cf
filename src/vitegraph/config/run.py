"""Run configs: one YAML file per run, validated against the one schema.

A run file has up to five sections; every option has a type, a default and
help text (``vitegraph new`` writes them all, commented)::

    graph:        # where the graph comes from (a file or a named dataset)
    train:        # TrainConfig: model and training options
    evaluation:   # node classification, link prediction, or none
    output:       # where results go

Unknown keys are errors with a "did you mean" hint; wrong types name the key
path (``train.dim: must be a positive int, got 'x'``).  ``--set train.dim=64``
overrides are parsed as YAML scalars and applied before validation.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

from .._validate import did_you_mean
from ..apps import protocols
from ..graph.io import read_edgelist
from ..graph.labels import read_labels
from ..errors import ConfigError, ParameterError
from .schema import AUTO, default_of, from_mapping, option, options_help, validate
from .train import DEFAULT_MODEL, TrainConfig, unknown_option_hint

SECTIONS = ("graph", "train", "evaluation", "output")
TASKS = ("auto", "node_classification", "link_prediction", "kg_completion", "none")


def _read(name: str):
    return default_of(read_edgelist, name)


@dataclass(frozen=True)
class GraphSection:
    """Where the graph (and labels) come from."""

    dataset: Optional[str] = option(None, "str", "name of a standard dataset in the data "
                                    "folder (see `vitegraph list --datasets`; knowledge "
                                    "graphs: its folder name, e.g. fb15k-237); instead of "
                                    "path", allow_none=True)
    path: Optional[str] = option(None, "path", "edge list (.txt/.csv/.tsv, optionally .gz/.bz2/"
                                 ".xz), .mat, or a saved graph (.npz or folder); for "
                                 "knowledge graphs a folder of train/valid/test.txt; relative "
                                 "to the config file",
                                 allow_none=True)
    labels: Optional[str] = option(None, "path", "node labels, 'node label' per line "
                                   "(several lines per node for multi-label)",
                                   allow_none=True)
    directed: bool = option(_read("directed"), "bool", "read edges as directed")
    weighted: object = option(_read("weighted"), "bool", "auto: a third column is a weight",
                              allow_auto=True)
    delimiter: str = option(_read("delimiter"), "str", "field separator",
                            choices=(AUTO, " ", "\t", ","))
    node_type: str = option(_read("node_type"), "str", "node names: ints, strings, or auto",
                            choices=(AUTO, "int", "str"))
    duplicates: str = option(_read("duplicates"), "str", "repeated edges: sum weights, keep "
                             "first, error; auto = first if unweighted else sum",
                             choices=(AUTO, "sum", "first", "error"))
    self_loops: str = option(_read("self_loops"), "str", "self-loops: keep or drop",
                             choices=("keep", "drop"))
    header: object = option(_read("header"), "bool", "the first line is a header; auto = "
                            "when one of its fields is not a number where the next line "
                            "has one", allow_auto=True)
    multilabel: object = option(default_of(read_labels, "multilabel"), "bool", "labels: "
                                "several lines of a node are several labels; auto = yes, "
                                "with a warning when few nodes have several", allow_auto=True)

    def __post_init__(self):
        validate(self, owner="graph")


@dataclass(frozen=True)
class EvaluationSection:
    """How the embeddings are evaluated."""

    task: str = option(AUTO, "str", "node_classification, link_prediction, kg_completion, "
                       "none; auto = kg_completion for knowledge-graph models, node "
                       "classification when labels are given, else none", choices=TASKS)
    train_ratios: object = option(protocols.TRAIN_RATIOS, "float", "node classification: labelled "
                                  "fractions used for training")
    repeats: int = option(protocols.REPEATS, "int", "node classification: seeded random splits per ratio",
                          minimum=1)
    C: float = option(protocols.C, "float", "node classification: inverse regularisation of the "
                      "logistic regression", minimum=0, exclusive_minimum=True)
    l2_normalize: bool = option(False, "bool", "node classification: unit-length rows first")
    test_fraction: float = option(protocols.TEST_FRACTION, "float", "link prediction: fraction of edges held out",
                                  minimum=0, exclusive_minimum=True, maximum=0.9)
    seed: int = option(0, "int", "seed of the splits", minimum=0)

    def __post_init__(self):
        ratios = self.train_ratios
        if isinstance(ratios, (int, float)):
            ratios = (ratios,)
        try:
            ratios = tuple(float(r) for r in ratios)
        except (TypeError, ValueError):
            raise ParameterError("evaluation", "train_ratios", "a list of numbers in (0, 1)",
                                 self.train_ratios) from None
        if not ratios or any(not 0 < r < 1 for r in ratios):
            raise ParameterError("evaluation", "train_ratios", "a list of numbers in (0, 1)",
                                 self.train_ratios)
        object.__setattr__(self, "train_ratios", ratios)
        validate(self, owner="evaluation", skip=("train_ratios",))


@dataclass(frozen=True)
class OutputSection:
    """Where results go.  A run writes ``embeddings.npz``, ``results.json`` and
    ``config.yaml`` (the resolved config) into ``dir``, each atomically."""

    dir: str = option("vitegraph-run", "path", "output folder, relative to the current folder "
                      "(created if missing)")
    word2vec: bool = option(False, "bool", "also export embeddings.w2v (word2vec text format)")
    checkpoint: bool = option(True, "bool", "write checkpoint.npz during training so an "
                              "interrupted run can resume (`vitegraph run --resume`)")

    def __post_init__(self):
        validate(self, owner="output")


@dataclass(frozen=True)
class RunConfig:
    graph: GraphSection = field(default_factory=GraphSection)
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluation: EvaluationSection = field(default_factory=EvaluationSection)
    output: OutputSection = field(default_factory=OutputSection)

    def to_dict(self) -> dict:
        out = {}
        for name in SECTIONS:
            sec = dataclasses.asdict(getattr(self, name))
            out[name] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in sec.items()}
        return out


_SECTION_CLASSES = {"graph": GraphSection, "train": TrainConfig,
                    "evaluation": EvaluationSection, "output": OutputSection}


def run_config_from_mapping(data: Mapping, source: str = "config") -> RunConfig:
    """Validate a parsed YAML document; errors name ``source`` and the key path."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected sections {', '.join(SECTIONS)}; got a "
                          f"{type(data).__name__}")
    for key in data:
        if key not in SECTIONS:
            raise ConfigError(f"{source}: {key}: unknown section" + did_you_mean(key, SECTIONS)
                              + f"; sections are {', '.join(SECTIONS)}")
    parts = {}
    for name, cls in _SECTION_CLASSES.items():
        try:
            if name == "train":
                parts[name] = train_section(data.get(name) or {})
                continue
            parts[name] = from_mapping(cls, data.get(name) or {}, name)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        except ParameterError as exc:
            raise ConfigError(f"{source}: {name}.{exc.name}: must be {exc.expected}, got "
                              f"{exc.got!r}") from None
    g = parts["graph"]
    if (g.dataset is None) == (g.path is None):
        raise ConfigError(f"{source}: graph: give exactly one of 'dataset' or 'path'")
    return RunConfig(**parts)


def train_section(data: Mapping, path: str = "train") -> TrainConfig:
    """The ``train:`` section: the named model's config section, every key
    checked against that model's options."""
    from ..models import get_model
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping of options, got "
                          f"{type(data).__name__}")
    name = data.get("model", DEFAULT_MODEL)
    try:
        cls = get_model(name).Config
    except ParameterError as exc:
        raise ConfigError(f"{path}.model: must be {exc.expected}, got {exc.got!r}") from None
    known = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in known:
            hint = unknown_option_hint(cls, key)
            if hint.startswith("one of its options"):
                hint = "unknown option" + hint[len("one of its options"):] + \
                    f"; known options: {', '.join(known)}"
            raise ConfigError(f"{path}.{key}: {hint}")
    return from_mapping(cls, data, path)


def parse_overrides(items: Sequence[str]) -> list[tuple[list[str], Any]]:
    """``["train.dim=64", ...]`` -> ``[(["train", "dim"], 64), ...]`` (values as YAML)."""
    import yaml
    out = []
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected SECTION.KEY=VALUE")
        path = key.strip().split(".")
        if len(path) != 2:
            raise ConfigError(f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. train.dim=64")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        out.append((path, value))
    return out


def apply_overrides(data: Optional[Mapping], overrides, source: str = "config") -> dict:
    if data is not None and not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected sections {', '.join(SECTIONS)}; got a "
                          f"{type(data).__name__}")
    data = {k: dict(v) if isinstance(v, Mapping) else v for k, v in (data or {}).items()}
    for (section, key), value in overrides:
        sec = data.get(section)
        if sec is None:
            sec = data[section] = {}
        if not isinstance(sec, dict):
            raise ConfigError(f"--set {section}.{key}: section {section!r} is not a mapping")
        sec[key] = value
    return data


def load_run_config(path, overrides: Sequence[str] = ()) -> RunConfig:
    """Read, override and validate a YAML run file.  Errors name the file (and
    the line, for YAML syntax errors)."""
    import yaml
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, expected a YAML file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{where}: not valid YAML ({problem})") from None
    data = apply_overrides(data, parse_overrides(overrides), path)
    cfg = run_config_from_mapping(data, path)
    # relative paths in a config file are relative to the file
    base = os.path.dirname(os.path.abspath(path))
    g = cfg.graph
    fix = {}
    for name in ("path", "labels"):
        v = getattr(g, name)
        if v is not None and not os.path.isabs(os.path.expanduser(v)):
            fix[name] = os.path.join(base, v)
        elif v is not None:
            fix[name] = os.path.expanduser(v)
    if fix:
        cfg = dataclasses.replace(cfg, graph=dataclasses.replace(g, **fix))
    return cfg


def template(model: str = DEFAULT_MODEL) -> str:
    """A commented YAML template with every option of a run training ``model``,
    with its default and help."""
    from ..models import get_model
    spec = get_model(model)
    lines = ["# vitegraph run config. Run it with:  vitegraph run this.yaml",
             "# Every option is listed with its default; delete what you do not change.",
             "# Override on the command line with --set SECTION.KEY=VALUE.", ""]
    examples = {"graph": {"path": "edges.txt", "labels": "labels.txt"}}
    if "relation" in spec.columns:   # a knowledge graph: a folder of splits, no labels
        examples = {"graph": {"path": "my_kg/"}}
    classes = dict(_SECTION_CLASSES, train=spec.Config)
    for name, cls in classes.items():
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        if name == "train":
            doc = f"{spec.title}: {spec.summary}"
        lines.append(f"{name}:  # {doc}")
        for opt, default, expect, help_ in options_help(cls):
            value = examples.get(name, {}).get(opt, default)
            if isinstance(value, tuple):
                value = list(value)
            lines.append(f"  # {help_} ({expect})")
            rendered = _yaml_scalar(value)
            prefix = "  " if (name == "graph" and opt in examples["graph"]) or \
                name != "graph" or value is not None else "  # "
            lines.append(f"{prefix}{opt}: {rendered}")
        lines.append("")
    return "\n".join(lines)


def _yaml_scalar(value) -> str:
    import yaml
    text = yaml.safe_dump(value, default_flow_style=True).strip()
    if text.endswith("..."):
        text = text[:-3].strip()
    return text
