"""One run of a YAML config: load the graph, train, evaluate, write the results.

Outputs (in ``output.dir``), each written to a temporary sibling and renamed,
so every file is complete or absent (on several processes, by rank 0 only):

- ``embeddings.npz`` (vertex and context tables, node names, metadata);
- ``embeddings.w2v`` (word2vec text format) when ``output.word2vec``;
- ``results.json`` (graph summary, training statistics, evaluation scores);
- ``config.yaml`` (the resolved config: every option, ``auto`` values filled in).

``checkpoint.npz`` is written during training when ``output.checkpoint`` is on;
an interrupted run (Ctrl-C) leaves the checkpoint and none of the outputs
above, and ``resume=True`` continues it.  A finished run removes its checkpoint.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Optional

import numpy as np

from ._version import __version__
from .config.run import RunConfig
from ._atomic import atomic_write, check_output_file, prepare_output_dir
from .errors import ConfigError, InputFormatError
from .graph import Graph, Labels, read_edgelist, read_labels, read_mat, read_mat_labels

log = logging.getLogger(__name__)


def load_graph(section, data_dir=None) -> tuple[Graph, Optional[Labels]]:
    """The graph and labels a ``graph:`` section names."""
    if section.dataset is not None:
        from .datasets.registry import load_dataset
        g, labels = load_dataset(section.dataset, data_dir)
        if section.labels is not None:
            labels = read_labels(section.labels, g, multilabel=section.multilabel)
        return g, labels
    path = section.path
    kw = dict(duplicates=section.duplicates, self_loops=section.self_loops)
    labels = None
    if path.endswith(".mat"):
        g = read_mat(path, directed=section.directed or None, **kw)
        if section.labels is None:
            try:
                labels = read_mat_labels(path, g)
            except InputFormatError:
                labels = None
    elif os.path.isdir(path) or path.endswith(".npz"):
        g = Graph.load(path, mmap=os.path.isdir(path))   # a folder maps its arrays
    else:
        g = read_edgelist(path, directed=section.directed, weighted=section.weighted,
                          delimiter=section.delimiter, node_type=section.node_type,
                          header=section.header, **kw)
    if section.labels is not None:
        labels = read_labels(section.labels, g, multilabel=section.multilabel)
    return g, labels


def _write_json(path: str, obj) -> None:
    text = json.dumps(obj, indent=1, default=_json_default).encode()
    atomic_write(path, lambda f: f.write(text))


def _json_default(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, tuple):
        return list(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _write_yaml(path: str, obj) -> None:
    import yaml
    text = yaml.safe_dump(obj, sort_keys=False).encode()
    atomic_write(path, lambda f: f.write(text))


def check_checkpoint(path: Optional[str], resume: bool, restart: bool) -> None:
    """Refuse to start over silently on an interrupted run's checkpoint; say so
    when ``resume`` finds none."""
    from .solver.checkpoint import checkpoint_summary
    if path is None:
        return
    if os.path.exists(path):
        if not (resume or restart):
            raise ConfigError(f"{path} holds {checkpoint_summary(path)}: continue it with "
                              "--resume, or start over with --restart")
        if restart and not resume:
            log.warning("--restart: starting over; %s will be replaced", path)
    elif resume:
        log.warning("--resume: no checkpoint at %s, so the run starts from the beginning",
                    path)


def prepare_outputs(config: RunConfig, resume: bool, restart: bool):
    """``(output folder, checkpoint path or None)``: where the results go is
    checked before any work, and an interrupted run is neither lost nor
    silently continued (see :func:`check_checkpoint`)."""
    out = config.output.dir
    if resume and not config.output.checkpoint:
        raise ConfigError("--resume needs output.checkpoint: true (this config writes no "
                          "checkpoint)")
    prepare_output_dir(out)
    ckpt = os.path.join(out, "checkpoint.npz") if config.output.checkpoint else None
    check_checkpoint(ckpt, resume, restart)
    return out, ckpt


def run(config: RunConfig, *, data_dir=None, resume: bool = False, restart: bool = False,
        progress: Optional[bool] = None) -> dict:
    """Execute ``config``; returns the results dict also written to results.json.

    An existing ``checkpoint.npz`` in the output folder (an interrupted run) is
    continued with ``resume=True`` or replaced with ``restart=True``; with
    neither, the run refuses to start (a :class:`ConfigError` saying so)."""
    from .apps import link_prediction, node_classification, sample_non_edges, split_edges
    from .solver import train

    if _is_kg_model(config.train.model):
        return run_kg(config, data_dir=data_dir, resume=resume, restart=restart,
                      progress=progress)
    t0 = time.perf_counter()
    out, ckpt = prepare_outputs(config, resume, restart)
    if config.output.word2vec:
        check_output_file(os.path.join(out, "embeddings.w2v"))
    g, labels = load_graph(config.graph, data_dir)
    if config.output.word2vec:
        from .embeddings import check_word2vec_names
        check_word2vec_names(g.vocabulary, os.path.join(out, "embeddings.w2v"))
    t_load = time.perf_counter() - t0
    ev = config.evaluation
    task = ev.task
    if task == "auto":
        task = "node_classification" if labels is not None else "none"
    if task == "node_classification" and labels is None:
        raise ConfigError("evaluation.task is node_classification but the graph has no labels "
                          "(set graph.labels)")
    tc = config.train
    if progress is not None:
        tc = tc.replace(progress=progress)

    train_graph, test_pos = g, None
    if task == "link_prediction":
        if g.directed:
            raise ConfigError("evaluation.task link_prediction needs an undirected graph")
        src, dst, w = g.edges()
        keep = src != dst
        edges = np.stack([src[keep], dst[keep]], axis=1).astype(np.int64)
        weights = None if w is None else np.asarray(w)[keep]
        train_edges, test_pos = split_edges(edges, g.num_nodes, ev.test_fraction, seed=ev.seed)
        train_w = None
        if weights is not None:
            # split_edges keeps rows in input order: find each training edge's weight
            key = edges[:, 0] * g.num_nodes + edges[:, 1]
            order = np.argsort(key)
            pos = order[np.searchsorted(key[order], train_edges[:, 0] * g.num_nodes +
                                        train_edges[:, 1])]
            train_w = weights[pos]
        train_graph = Graph._from_ids(train_edges[:, 0], train_edges[:, 1], train_w,
                                      g.vocabulary, directed=False, duplicates="first",
                                      self_loops="keep")

    t1 = time.perf_counter()
    result = train(train_graph, tc, checkpoint=ckpt, resume=resume)
    t_train = time.perf_counter() - t1
    from .solver.distributed import is_main_process
    if not is_main_process():      # several processes: rank 0 evaluates and writes
        return {"main": False, "scores": None}
    emb = result.embeddings()

    scores = None
    t2 = time.perf_counter()
    if task == "node_classification":
        scores = node_classification(emb.vectors, labels.matrix, train_ratios=ev.train_ratios,
                                     repeats=ev.repeats, C=ev.C, l2_normalize=ev.l2_normalize,
                                     seed=ev.seed)
        log.info("\n%s", scores.format_table())
    elif task == "link_prediction":
        src, dst, _ = g.edges()
        full = np.stack([src, dst], axis=1).astype(np.int64)
        full = full[full[:, 0] != full[:, 1]]
        neg = sample_non_edges(full, g.num_nodes, len(test_pos), seed=ev.seed)
        scores = link_prediction(emb.vectors, emb.context, test_pos, neg, seed=ev.seed,
                                 known_edges=full)
        log.info("\n%s", scores.format_table())
    t_eval = time.perf_counter() - t2

    resolved = config.to_dict()
    # the resolved training options ('auto' filled in), as TrainConfig fields only,
    # so the written config.yaml runs again as it is
    resolved["train"] = {k: v for k, v in result.config.to_dict().items()
                         if k in resolved["train"]}
    resolved["evaluation"]["task"] = task
    results = {
        "vitegraph": __version__,
        "graph": g.summary(),
        "task": task,
        "evaluation": None if scores is None else scores.to_dict(),
        "training": result.stats.to_dict(),
        "seconds": {"load": t_load, "train": t_train, "evaluate": t_eval,
                    "total": time.perf_counter() - t0},
    }
    emb.save(os.path.join(out, "embeddings.npz"))
    if config.output.word2vec:
        emb.to_word2vec(os.path.join(out, "embeddings.w2v"))
    _write_yaml(os.path.join(out, "config.yaml"), resolved)
    _write_json(os.path.join(out, "results.json"), results)
    if ckpt is not None:
        from .solver.checkpoint import remove_checkpoint
        remove_checkpoint(ckpt)   # and its shards (several processes)
    results["scores"] = scores
    return results


def _is_kg_model(name: str) -> bool:
    from .models import get_model
    from .models.kge import KGEModel
    return isinstance(get_model(name), KGEModel)


def load_knowledge_graph(section, data_dir=None):
    """The knowledge graph a ``graph:`` section names: ``dataset`` (a folder of
    the data folder) or ``path`` (a folder of train/valid/test.txt)."""
    from .graph.triplets import read_knowledge_graph
    if section.dataset is not None:
        from .datasets.registry import data_dir as default_dir
        folder = default_dir(data_dir) / section.dataset
        if not folder.is_dir():
            raise ConfigError(f"graph.dataset: no folder {folder} (the data folder is "
                              "--data-dir, then $VITEGRAPH_DATA, then ~/.vitegraph/data)")
        return read_knowledge_graph(folder)
    if section.path is None:
        raise ConfigError("graph: give dataset or path (a folder of train/valid/test.txt)")
    return read_knowledge_graph(section.path)


def run_kg(config: RunConfig, *, data_dir=None, resume: bool = False, restart: bool = False,
           progress: Optional[bool] = None) -> dict:
    """A knowledge-graph run: train on the train split, rank valid and test
    (filtered, both protocols), write embeddings.npz (entity and relation
    tables with their names), results.json and config.yaml."""
    from .apps.kg_eval import evaluate_kg
    from .models import get_model
    from .solver import train

    t0 = time.perf_counter()
    out, ckpt = prepare_outputs(config, resume, restart)
    if config.output.word2vec:
        raise ConfigError("output.word2vec: knowledge-graph runs write embeddings.npz only; "
                          "export tables with Embeddings.read(path).to_tsv(out, "
                          "table='entity' or 'relation')")
    task = config.evaluation.task
    if task == "auto":
        task = "kg_completion"
    if task not in ("kg_completion", "none"):
        raise ConfigError(f"evaluation.task {task} does not apply to a knowledge-graph model "
                          "(use kg_completion or none)")
    kg = load_knowledge_graph(config.graph, data_dir)
    log.info("%s", kg)
    t_load = time.perf_counter() - t0
    tc = config.train if progress is None else config.train.replace(progress=progress)
    t1 = time.perf_counter()
    result = train(kg, tc, checkpoint=ckpt, resume=resume)
    t_train = time.perf_counter() - t1
    from .solver.distributed import is_main_process
    if not is_main_process():      # several processes: rank 0 evaluates and writes
        return {"main": False, "scores": None}
    emb = result.embeddings()
    t2 = time.perf_counter()
    evaluation = {}
    reports = []
    model = get_model(tc.model)
    if task == "kg_completion":
        for split in ("valid", "test"):
            if split in kg.splits:
                ev = evaluate_kg(model, result.tables, kg, split)
                reports.append(ev)
                evaluation[split] = ev.to_dict()
    t_eval = time.perf_counter() - t2
    resolved = config.to_dict()
    resolved["train"] = {k: v for k, v in result.config.to_dict().items()
                         if k in resolved["train"]}
    resolved["evaluation"]["task"] = task
    results = {"vitegraph": __version__, "knowledge_graph": kg.summary(), "task": task,
               "evaluation": evaluation or None, "training": result.stats.to_dict(),
               "seconds": {"load": t_load, "train": t_train, "evaluate": t_eval,
                           "total": time.perf_counter() - t0}}
    emb.save(os.path.join(out, "embeddings.npz"))
    _write_yaml(os.path.join(out, "config.yaml"), resolved)
    _write_json(os.path.join(out, "results.json"), results)
    if ckpt is not None:
        from .solver.checkpoint import remove_checkpoint
        remove_checkpoint(ckpt)   # and its shards (several processes)
    results["scores"] = _Reports(reports) if reports else None
    return results


class _Reports:
    """The evaluations of a run, printable as the CLI prints scores."""

    def __init__(self, reports):
        self.reports = reports

    def format_table(self) -> str:
        return "\n".join(r.summary() for r in self.reports)
