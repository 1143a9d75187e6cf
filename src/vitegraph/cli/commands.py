"""Implementations of the ``vitegraph`` subcommands (argument parsing is in main.py)."""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from ..errors import ConfigError, ParameterError


def _progress(args) -> bool:
    return not args.quiet


def _print_scores(results: dict) -> None:
    scores = results.get("scores")
    if scores is not None:
        print(scores.format_table())
    s = results["seconds"]
    tr = results["training"]
    speed = (f" ({tr['samples_per_second'] / 1e6:.1f} M samples/s)" if tr["samples"]
             else " (solved, no samples)")
    print(f"timings: load {s['load']:.1f} s, train {s['train']:.1f} s{speed}, "
          f"evaluate {s['evaluate']:.1f} s, total {s['total']:.1f} s")


def cmd_info(args) -> int:
    from .info import collect_info
    info = collect_info()
    width = max(len(k) for k in info)
    for k, v in info.items():
        print(f"{k:<{width}}  {v}")
    return 0


def cmd_demo(args) -> int:
    import vitegraph as vg
    from ..apps import node_classification
    from ..datasets import planted_partition

    t0 = time.perf_counter()
    g, labels = planted_partition(args.nodes, args.communities, degree_in=7.0,
                                  degree_out=13.0, seed=args.seed)
    t_graph = time.perf_counter() - t0
    print(f"demo graph: planted partition, {g.num_nodes:,} nodes, {g.num_edges:,} edges, "
          f"{args.communities} communities (only 35% of each node's edges stay inside its "
          "community)")
    model = vg.DeepWalk(seed=args.seed, progress=_progress(args))
    t1 = time.perf_counter()
    model.fit(g)
    t_train = time.perf_counter() - t1
    rc = model.config_
    print(f"DeepWalk: dim {rc.dim}, {rc.num_epoch} epochs = {model.stats_.samples:,} positive "
          f"samples, augmentation step {rc.augmentation_step}, {rc.num_workers} worker "
          f"thread(s), backend {rc.backend}")
    t2 = time.perf_counter()
    scores = node_classification(model.embeddings_.vectors, labels.matrix, repeats=3,
                                 seed=args.seed)
    t_eval = time.perf_counter() - t2
    print(scores.format_table())
    print(f"chance level: {100 / args.communities:.1f}% accuracy")
    print(f"timings: graph {t_graph:.1f} s, train {t_train:.1f} s "
          f"({model.stats_.samples / t_train / 1e6:.1f} M samples/s), evaluate {t_eval:.1f} s, "
          f"total {time.perf_counter() - t0:.1f} s")
    print("next: `vitegraph embed edges.txt -o emb.npz` for your own graph, or "
          "`vitegraph new run.yaml` for a config")
    return 0


def cmd_run(args) -> int:
    from ..config.run import load_run_config
    cfg = load_run_config(args.config, args.overrides)
    return _run(args, cfg)


def _run(args, cfg) -> int:
    from ..runner import run
    if cfg.output.checkpoint:
        args._checkpoint = os.path.join(cfg.output.dir, "checkpoint.npz")
    results = run(cfg, data_dir=args.data_dir, resume=args.resume, restart=args.restart,
                  progress=False if args.quiet else None)
    if not results.get("main", True):
        return 0                    # another rank of a run on several processes
    _print_scores(results)
    print(f"results in {cfg.output.dir}/ (embeddings.npz, results.json, config.yaml)")
    return 0


def cmd_new(args) -> int:
    from ..config.run import template
    text = template(args.model) + "\n"
    if args.path == "-":
        sys.stdout.write(text)
        return 0
    if os.path.exists(args.path) and not args.force:
        raise ConfigError(f"{args.path}: exists; pass --force to overwrite")
    from .._atomic import atomic_write
    atomic_write(args.path, lambda f: f.write(text.encode()))
    print(f"wrote {args.path}: edit graph.path, then `vitegraph run {args.path}`")
    return 0


def cmd_list(args) -> int:
    if args.models:
        from ..models import get_model, model_names
        print(f"{'model':<12}{'tables':<22}description")
        for name in model_names():
            m = get_model(name)
            tables = ", ".join(t.name for t in m.tables(m.Config()) if t.saved)
            print(f"{name:<12}{tables:<22}{m.summary}")
        print("options of one: `vitegraph new --model NAME`")
        return 0
    if args.datasets:
        from ..datasets.registry import DATASETS, data_dir
        root = data_dir(args.data_dir)
        print(f"data folder: {root}")
        print(f"{'name':<22}{'nodes':>9}{'edges':>10}{'classes':>9}  present  description")
        for d in DATASETS.values():
            present = "yes" if all((root / d.name / f).is_file() for f in d.files) else "no"
            print(f"{d.name:<22}{d.num_nodes:>9,}{d.num_edges:>10,}{d.num_classes:>9}  "
                  f"{present:<7}  {d.description}")
        return 0
    from ..baselines import list_baselines
    print(f"{'config':<32}{'model':<10}dataset")
    for b in list_baselines():
        print(f"{b.name:<32}{b.model:<10}{b.dataset}")
    print("run one with `vitegraph baseline KEYWORDS...`, e.g. `vitegraph baseline "
          "blogcatalog deepwalk`")
    return 0


def cmd_baseline(args) -> int:
    from ..baselines import find_baseline, load_baseline
    b = find_baseline(args.keywords)
    if args.show:
        sys.stdout.write(b.path.read_text())
        return 0
    out = args.output or os.path.join("runs", b.name)
    cfg = load_baseline(b, args.overrides, output_dir=out)
    print(f"baseline {b.name}: {b.model} on {b.dataset}")
    from ..datasets.registry import DATASETS
    if args.download and cfg.graph.dataset in DATASETS:
        from ..datasets.registry import data_dir, missing_files
        if missing_files(cfg.graph.dataset, args.data_dir):
            from ..datasets.download import download_dataset
            print(f"dataset {cfg.graph.dataset} not in {data_dir(args.data_dir)}: downloading")
            download_dataset(cfg.graph.dataset, args.data_dir,
                             progress=None if _progress(args) else False)
    return _run(args, cfg)


def cmd_download(args) -> int:
    from ..datasets.download import download_dataset
    from ..datasets.registry import get_dataset
    folder = download_dataset(args.name, args.data_dir, force=args.force,
                              progress=None if _progress(args) else False)
    files = ", ".join(get_dataset(args.name).files)
    print(f"{args.name}: {files} in {folder} (checksums verified)")
    return 0


def cmd_convert(args) -> int:
    from .._atomic import check_output_file
    from ..config.run import GraphSection
    from ..config.schema import from_mapping
    from ..runner import load_graph
    from .options import section_values

    out = os.fspath(args.output)
    if os.path.abspath(out) == os.path.abspath(args.graph):
        raise ParameterError("vitegraph convert", "output", "a path other than the input",
                             out)
    if out.endswith(".npz"):
        check_output_file(out)
    elif os.path.exists(out) and not os.path.isdir(out):
        raise ParameterError("vitegraph convert", "output", "a folder or a .npz path", out)
    section = from_mapping(GraphSection, {"path": args.graph, **section_values(args, "graph")},
                           "graph")
    t0 = time.perf_counter()
    g, _ = load_graph(section)
    t_read = time.perf_counter() - t0
    g.save(out)
    print(f"{args.graph}: {g!r}, read in {t_read:.1f} s; saved to {out} in "
          f"{time.perf_counter() - t0 - t_read:.1f} s")
    return 0


def _embedding_format(out: str, owner: str) -> str:
    """npz, w2v or bin from an output path, checked writable before any work."""
    from .._atomic import check_output_file
    fmt = ("npz" if out.endswith(".npz") else "bin" if out.endswith(".bin")
           else "w2v" if out.endswith((".txt", ".w2v", ".vec")) else None)
    if fmt is None:
        raise ParameterError(owner, "--output", "a path ending in .npz, .txt, .w2v, .vec or "
                             ".bin", out)
    check_output_file(out)
    return fmt


def _write_embeddings(emb, out: str, fmt: str) -> None:
    if fmt == "npz":
        emb.save(out)
    else:
        emb.to_word2vec(out, binary=fmt == "bin")


def _read_graph_arg(args):
    from ..config.run import GraphSection
    from ..config.schema import from_mapping
    from ..runner import load_graph
    from .options import section_values
    section = from_mapping(GraphSection, {"path": args.graph, **section_values(args, "graph")},
                           "graph")
    return load_graph(section)[0]


def cmd_extend(args) -> int:
    from ..config.run import apply_overrides, parse_overrides
    from ..embeddings import Embeddings, check_word2vec_names
    from ..extend import embed_new_nodes
    overrides = parse_overrides(args.overrides)
    bad = [".".join(p) for p, _ in overrides if p[0] != "train"]
    if bad:
        raise ConfigError(f"--set {bad[0]}: extend takes train.KEY=VALUE overrides only")
    if overrides and args.method != "train":
        raise ConfigError("--set train.KEY=VALUE applies to --method train only")
    options = apply_overrides({"train": {}}, overrides)["train"]
    fmt = _embedding_format(args.output, "vitegraph extend")
    emb = Embeddings.read(args.embeddings)
    t0 = time.perf_counter()
    g = _read_graph_arg(args)
    if fmt in ("w2v", "bin"):
        check_word2vec_names(g.vocabulary, args.output)
    print(f"{args.graph}: {g!r}, read in {time.perf_counter() - t0:.1f} s")
    if args.quiet:
        options.setdefault("progress", False)
    out = embed_new_nodes(emb, g, method=args.method, **options)
    info = out.metadata["new_nodes"]
    _write_embeddings(out, args.output, fmt)
    print(f"{info['count']:,} new node(s) embedded by {args.method} in {info['seconds']:.1f} s"
          + (f" ({info['unreachable']:,} with no path to an old node: "
             + ("zero rows)" if args.method == "neighbours" else "placed by training alone)")
             if info["unreachable"] else "") + f"; wrote {args.output}")
    return 0


def cmd_propagate(args) -> int:
    from ..embeddings import Embeddings, check_word2vec_names
    from ..spectral import propagate
    fmt = _embedding_format(args.output, "vitegraph propagate")
    emb = Embeddings.read(args.embeddings)
    g = _read_graph_arg(args)
    if fmt in ("w2v", "bin"):
        check_word2vec_names(g.vocabulary, args.output)
    t0 = time.perf_counter()
    out = propagate(emb, g, steps=args.steps, theta=args.theta, mu=args.mu,
                    with_context=not args.vertex_only)
    _write_embeddings(out, args.output, fmt)
    print(f"propagated {out.vectors.shape[0]:,} x {out.vectors.shape[1]} in "
          f"{time.perf_counter() - t0:.1f} s; wrote {args.output}")
    return 0


def cmd_embed(args) -> int:
    from .._atomic import check_output_file
    from ..embeddings import check_word2vec_names
    from ..config.run import GraphSection, apply_overrides, parse_overrides, train_section
    from ..config.schema import from_mapping
    from ..runner import check_checkpoint, load_graph
    from ..solver import train
    from .options import section_values

    overrides = parse_overrides(args.overrides)
    bad = [".".join(p) for p, _ in overrides if p[0] != "train"]
    if bad:
        raise ConfigError(f"--set {bad[0]}: embed takes train.KEY=VALUE overrides only")
    data = {"model": args.model, **section_values(args, "train")}
    if args.quiet:
        data["progress"] = False
    cfg = train_section(apply_overrides({"train": data}, overrides)["train"])
    out = args.output
    fmt = _embedding_format(out, "vitegraph embed")
    if args.freeze_existing and args.init is None:
        raise ParameterError("vitegraph embed", "--freeze-existing", "used with --init "
                             "(the trained embeddings whose rows stay)", "without --init")
    init = None
    if args.init is not None:
        from ..embeddings import Embeddings
        init = Embeddings.read(args.init)
    ckpt = None if args.no_checkpoint else (args.checkpoint or out + ".checkpoint.npz")
    if ckpt is not None:
        check_output_file(ckpt)
    elif args.resume:
        raise ParameterError("vitegraph embed", "--resume", "used without --no-checkpoint",
                             "--resume --no-checkpoint")
    check_checkpoint(ckpt, args.resume, args.restart)
    section = from_mapping(GraphSection, {"path": args.graph, **section_values(args, "graph")},
                           "graph")
    t0 = time.perf_counter()
    g, _ = load_graph(section)
    print(f"{args.graph}: {g!r}, read in {time.perf_counter() - t0:.1f} s")
    if fmt in ("w2v", "bin"):
        check_word2vec_names(g.vocabulary, out)
    args._checkpoint = ckpt
    result = train(g, cfg, checkpoint=ckpt, resume=args.resume, init=init,
                   freeze_existing=args.freeze_existing)
    from ..solver.distributed import is_main_process
    if not is_main_process():
        return 0                    # several processes: rank 0 writes
    st = result.stats
    if result.model.direct:
        print(f"solved {result.model.title} in {st.seconds:.1f} s (no training samples)")
    else:
        print(f"trained {st.samples:,} samples: setup {st.setup_seconds:.1f} s, training "
              f"{st.seconds - st.setup_seconds:.1f} s ({st.samples_per_second / 1e6:.2f} M "
              f"samples/s)" + (f"; paged {st.bytes_paged_in / 2**30:.1f} GiB in, "
                               f"{st.bytes_paged_out / 2**30:.1f} GiB out in "
                               f"{st.paging_seconds:.1f} s" if st.bytes_paged_in else ""))
    t_save = time.perf_counter()
    emb = result.embeddings({"source": os.path.abspath(args.graph)})
    _write_embeddings(emb, out, fmt)
    if ckpt is not None:
        from ..solver.checkpoint import remove_checkpoint
        remove_checkpoint(ckpt)   # and its shards (several processes)
    print(f"wrote {out}: {g.num_nodes:,} x {cfg.dim} ({cfg.model}) in "
          f"{time.perf_counter() - t_save:.1f} s; {time.perf_counter() - t0:.1f} s in all")
    return 0


def cmd_evaluate(args) -> int:
    from .._atomic import check_output_file
    from ..apps import node_classification
    from ..config.run import EvaluationSection
    from ..config.schema import from_mapping
    from ..embeddings import Embeddings
    from ..graph import read_labels
    from .options import section_values

    if (args.labels is None) == (args.kg is None):
        raise ConfigError("evaluate: give --labels (node classification) or --kg (a "
                          "knowledge-graph model), not both")
    if args.json:
        check_output_file(args.json)
    if args.kg is not None:
        return _evaluate_kg(args)
    ev = from_mapping(EvaluationSection, section_values(args, "evaluation"), "evaluation")
    emb = Embeddings.read(args.embeddings)
    labels = read_labels(args.labels, emb.vocabulary)
    scores = node_classification(emb.vectors, labels.matrix, train_ratios=ev.train_ratios,
                                 repeats=ev.repeats, C=ev.C, l2_normalize=ev.l2_normalize,
                                 seed=ev.seed)
    print(scores.format_table())
    if args.json:
        from ..runner import _write_json
        _write_json(args.json, scores.to_dict())
    return 0


def _evaluate_kg(args) -> int:
    """Filtered ranking of a saved knowledge-graph model's tables."""
    from ..apps.kg_eval import evaluate_kg
    from ..embeddings import Embeddings
    from ..graph.triplets import read_knowledge_graph
    from ..models import get_model
    from ..models.kge import KGEModel
    emb = Embeddings.read(args.embeddings)
    name = (emb.metadata or {}).get("model")
    model = get_model(name) if name else None
    if not isinstance(model, KGEModel) or "relation" not in emb.tables:
        raise ConfigError(f"{args.embeddings}: not a knowledge-graph model's embeddings "
                          f"(model {name!r}); --kg needs the embeddings.npz of a "
                          "knowledge-graph run")
    kg = read_knowledge_graph(args.kg)
    ents = emb.vocabulary.ids_of(kg.entities.names)
    rels = emb.vocabulary_of("relation").ids_of(kg.relations.names)
    tables = {"entity": np.ascontiguousarray(emb.vectors[ents]),
              "relation": np.ascontiguousarray(emb.table("relation")[rels])}
    ev = evaluate_kg(model, tables, kg, args.split)
    print(ev.summary())
    if args.json:
        from ..runner import _write_json
        _write_json(args.json, ev.to_dict())
    return 0


def cmd_plot(args) -> int:
    from .._atomic import check_output_file
    from ..apps.plot import image_format, plot_embeddings
    from ..embeddings import Embeddings
    from ..graph import read_labels

    image_format(args.output)
    check_output_file(args.output)
    emb = Embeddings.read(args.embeddings)
    labels = read_labels(args.labels, emb.vocabulary) if args.labels else None
    plot_embeddings(emb, args.output, labels=labels, method=args.method,
                    max_points=args.max_points, seed=args.seed)
    print(f"wrote {args.output}")
    return 0


def coordinates_path(picture: str) -> str:
    """Where `visualize` saves the coordinates: beside the picture, ``NAME.coords.npz``."""
    return os.path.splitext(picture)[0] + ".coords.npz"


def cmd_visualize(args) -> int:
    from .._atomic import atomic_write, check_output_file
    from ..apps.plot import image_format, plot_layout
    from ..models.largevis import LargeVis
    from ..vectors import read_row_labels, read_vectors
    from .options import section_values

    image_format(args.output)
    check_output_file(args.output)
    base = coordinates_path(args.output)
    for out in (args.output, base):
        if os.path.abspath(out) == os.path.abspath(args.vectors):
            raise ParameterError("visualize", "output", "a name other than the input's (it "
                                 "would overwrite the vectors)", out)
    X, labels, vocab = read_vectors(args.vectors, label_column=args.label_column)
    if args.labels:
        labels = read_row_labels(args.labels, np.shape(X)[0], vocab)
    opts = {k: v for k, v in section_values(args, "train").items() if v is not None}
    if args.quiet:
        opts["progress"] = False
    est = LargeVis(**opts)
    coords = est.fit_transform(X)
    arrays = {"coordinates": coords}
    if labels is not None:
        arrays["labels"] = np.asarray(labels).astype(str)
    if vocab is not None and not vocab.is_identity:
        arrays["names"] = np.asarray(vocab.names).astype(str)
    atomic_write(base, lambda f: np.savez(f, **arrays))
    written = plot_layout(coords, args.output, labels=labels, rotate=args.rotate,
                          seed=est.config_.seed)
    ks = est.knn_stats_
    st = est.stats_
    print(f"{coords.shape[0]:,} points: KNN graph ({ks['method']}, K={ks['n_neighbors']}, "
          f"{est.knn_graph_.num_edges:,} edges) {ks['knn_s'] + ks['weights_s']:.1f} s, layout "
          f"{st.seconds:.1f} s")
    for path in [base, *written]:
        print(f"wrote {path}")
    return 0
