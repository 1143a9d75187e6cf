"""The ``vitegraph`` command.  Only this package prints and configures logging.

Commands: demo, run, new, list, baseline, download, embed, extend, propagate, convert,
evaluate, plot, visualize,
info.
Each is a thin layer over the library: parse arguments, call one function, print.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Optional, Sequence

from .._version import __version__
from ..config.run import EvaluationSection, GraphSection
from ..config.train import DEFAULT_MODEL
from ..datasets.registry import downloadable
from ..errors import VitegraphError
from ..models import get_model, model_names
from . import commands
from .options import add_section_options


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Adds "(default: X)" where a default says something (not None, False or
    empty) and the help text does not already give it (schema options do)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if ("(default" in text or default is None or default is False
                or default is argparse.SUPPRESS or default == [] or not action.option_strings):
            return text
        return f"{text} (default: {default})"


def _add_train_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="SECTION.KEY=VALUE",
                   help="override a config option, e.g. --set train.num_epoch=100 "
                        "(repeatable; values are YAML)")


def _add_graph_input(p) -> None:
    p.add_argument("graph", help="edge list 'u v [w]' (.txt/.csv/.tsv, .gz/.bz2/.xz), .mat, "
                                 ".npz or saved graph folder")


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default=None,
                   help="folder of datasets laid out like <dir>/<name>/edges.txt "
                        "(default: $VITEGRAPH_DATA, then ~/.vitegraph/data)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vitegraph", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fast graph embeddings (" + ", ".join(get_model(m).title for m in
                                                         model_names()) + ") on CPUs and GPUs.",
        epilog="Start with `vitegraph demo`; `vitegraph COMMAND --help` explains each "
               "command.")
    parser.add_argument("--version", action="version", version=f"vitegraph {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bars, warnings and errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    # -q / -v work after the subcommand too (SUPPRESS keeps the top-level value)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="more log output (-vv for debug)")
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bars, warnings and errors only")

    def add(name, help_, description, func):
        p = sub.add_parser(name, help=help_, description=description,
                           formatter_class=_Formatter, parents=[common])
        p.set_defaults(func=func)
        return p

    p = add("demo", "train and evaluate DeepWalk on a built-in synthetic graph",
            "Build a labelled planted-partition graph (no download), train DeepWalk on it, "
            "evaluate node classification and print a table with timings.",
            commands.cmd_demo)
    p.add_argument("--nodes", type=int, default=10_000, help="nodes in the demo graph")
    p.add_argument("--communities", type=int, default=20, help="communities (= classes)")
    p.add_argument("--seed", type=int, default=0, help="random seed")

    p = add("run", "run a YAML config: load, train, evaluate, save",
            "Run one config file (see `vitegraph new`). Writes embeddings.npz, results.json "
            "and the resolved config.yaml into output.dir; each file is complete or absent.",
            commands.cmd_run)
    p.add_argument("config", help="YAML run config")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from its checkpoint")
    p.add_argument("--restart", action="store_true",
                   help="start over even if the output folder holds an interrupted run's "
                        "checkpoint")
    _add_train_overrides(p)
    _add_data_dir(p)

    p = add("new", "write a commented config template",
            "Write a YAML run config listing every option with its default and help text.",
            commands.cmd_new)
    p.add_argument("path", nargs="?", default="-", help="file to write ('-': standard output)")
    p.add_argument("--model", default=DEFAULT_MODEL, choices=model_names(),
                   help="the model whose options the train section lists")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")

    p = add("list", "list the baseline configs shipped with vitegraph (or datasets, models)",
            "List the baseline configs (model x dataset) that `vitegraph baseline` runs; "
            "with --datasets, the standard datasets and whether the data folder has them; "
            "with --models, the models.",
            commands.cmd_list)
    what = p.add_mutually_exclusive_group()
    what.add_argument("--datasets", action="store_true", help="list datasets instead")
    what.add_argument("--models", action="store_true", help="list models instead")
    _add_data_dir(p)

    p = add("baseline", "run a shipped baseline config chosen by keywords",
            "Run the baseline config whose name contains every keyword, e.g. "
            "`vitegraph baseline blogcatalog deepwalk`.",
            commands.cmd_baseline)
    p.add_argument("keywords", nargs="+", help="words that pick one config (see `vitegraph list`)")
    p.add_argument("-o", "--output", default=None,
                   help="output folder (default: runs/<config name>)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.add_argument("--restart", action="store_true",
                   help="start over even if the output folder holds an interrupted run's "
                        "checkpoint")
    p.add_argument("--show", action="store_true", help="print the config and exit")
    p.add_argument("--download", action="store_true",
                   help="download the dataset first if the data folder lacks it "
                        "(see `vitegraph download`)")
    _add_train_overrides(p)
    _add_data_dir(p)

    p = add("download", "download a standard dataset from its original source",
            "Download a dataset's original files into <data dir>/<name>/orig/ (checked "
            "against their SHA-256; files already there are not downloaded again) and "
            "convert them into edges.txt and labels.txt. Downloadable: "
            + ", ".join(downloadable()) + ". Without network access, place the original "
            "files in orig/ by hand and run this to convert them.",
            commands.cmd_download)
    p.add_argument("name", help="dataset name (see `vitegraph list --datasets`)")
    p.add_argument("--force", action="store_true",
                   help="download and convert again even if the files are present")
    _add_data_dir(p)

    p = add("embed", "train embeddings of an edge list in one line",
            "Read an edge list (or .mat / saved graph), train a model and save the "
            "embeddings. Every option below is a config option (see `vitegraph new`); "
            "values are read as in YAML.",
            commands.cmd_embed)
    _add_graph_input(p)
    p.add_argument("-o", "--output", required=True,
                   help="embeddings file: .npz (vitegraph), .txt / .w2v (word2vec text) or "
                        ".bin (word2vec binary)")
    p.add_argument("--model", default=DEFAULT_MODEL, choices=model_names(),
                   help="; ".join(f"{m}: {get_model(m).summary}" for m in model_names()))
    p.add_argument("--checkpoint", default=None,
                   help="checkpoint file, written during training so that Ctrl-C keeps the "
                        "work (default: OUTPUT.checkpoint.npz; removed when the run ends)")
    p.add_argument("--no-checkpoint", action="store_true",
                   help="write no checkpoint (Ctrl-C then loses the run)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    p.add_argument("--restart", action="store_true",
                   help="start over even if the checkpoint of an interrupted run exists")
    p.add_argument("--init", default=None, metavar="EMBEDDINGS",
                   help="start from these trained embeddings (.npz of `embed`/`run`): their "
                        "tables' rows, matched by node name")
    p.add_argument("--freeze-existing", action="store_true",
                   help="with --init: keep its rows exactly and train only the nodes it "
                        "lacks (new nodes of a grown graph; see also `vitegraph extend`)")
    _add_train_overrides(p)
    add_section_options(p, "graph", [GraphSection], exclude=("dataset", "path", "labels"),
                        title="reading the graph")
    add_section_options(p, "train", [get_model(m).Config for m in model_names()],
                        exclude=("model", "progress"), aliases={"num_epoch": ["--epochs"]},
                        title="training (every model)", per_class_groups=True)

    p = add("extend", "embed the new nodes of a grown graph, keeping the trained rows",
            "Give every node of GRAPH that EMBEDDINGS lacks (matched by node name) a row, "
            "leaving the others exactly as they are: --method neighbours (default: each new "
            "node the mean of its neighbours' rows, solved over chains of new nodes; no "
            "training, instant) or --method train (a short run of the embeddings' model "
            "that trains the new rows only: closer to a retrain, seconds). New nodes with "
            "no path to an old one get zero rows (neighbours).",
            commands.cmd_extend)
    p.add_argument("embeddings", help="trained embeddings (.npz of `embed` or `run`)")
    _add_graph_input(p)
    p.add_argument("-o", "--output", required=True,
                   help="embeddings file for every node of GRAPH: .npz, .txt / .w2v or .bin")
    p.add_argument("--method", choices=("neighbours", "train"), default="neighbours",
                   help="closed form from the neighbours (default) or a frozen short run")
    _add_train_overrides(p)
    add_section_options(p, "graph", [GraphSection], exclude=("dataset", "path", "labels"),
                        title="reading the graph")

    p = add("propagate", "apply ProNE's spectral propagation to saved embeddings",
            "Filter saved embeddings of GRAPH's nodes through ProNE's spectral propagation "
            "(a Chebyshev-expanded band-pass filter of the graph's Laplacian), which lifts "
            "DeepWalk, LINE and node2vec output; writes the propagated table (the context "
            "table no longer pairs with it and is left out).",
            commands.cmd_propagate)
    p.add_argument("embeddings", help="embeddings of the graph's nodes: .npz, .txt/.w2v or .bin")
    _add_graph_input(p)
    p.add_argument("-o", "--output", required=True,
                   help="embeddings file: .npz, .txt / .w2v or .bin")
    p.add_argument("--steps", type=int, default=10, help="Chebyshev terms (default: 10)")
    p.add_argument("--theta", type=float, default=0.5, help="filter width (default: 0.5)")
    p.add_argument("--mu", type=float, default=0.2, help="filter centre (default: 0.2)")
    p.add_argument("--vertex-only", action="store_true",
                   help="propagate the vertex table alone (default: vertex + context when "
                        "the file has a context table, as --propagate does in training)")
    add_section_options(p, "graph", [GraphSection], exclude=("dataset", "path", "labels"),
                        title="reading the graph")

    p = add("convert", "read a graph once and save it for fast, memory-mapped reuse",
            "Read an edge list (or .mat / scipy .npz / saved graph) and save it as a "
            "vitegraph graph: a folder of .npy files (loaded memory-mapped by `embed` and "
            "`run`, so a second run on a big graph starts in seconds) or one .npz file.",
            commands.cmd_convert)
    _add_graph_input(p)
    p.add_argument("output", help="a folder (memory-mappable) or a path ending in .npz")
    add_section_options(p, "graph", [GraphSection], exclude=("dataset", "path", "labels"),
                        title="reading the graph")

    p = add("evaluate", "evaluate saved embeddings (node classification, or "
            "knowledge-graph completion)",
            "Node classification (DeepWalk protocol: one-vs-rest logistic regression, top-k "
            "prediction, seeded splits) of saved embeddings (any file `embed` writes) "
            "against a label file; or, with --kg, filtered link prediction of a saved "
            "knowledge-graph model (embeddings.npz of `vitegraph run`) on a split of the "
            "knowledge graph it was trained on. Link prediction of node embeddings needs a "
            "held-out split made before training: use `vitegraph run` with "
            "evaluation.task: link_prediction.",
            commands.cmd_evaluate)
    p.add_argument("embeddings", help="embeddings: .npz, .txt/.w2v/.vec or .bin")
    p.add_argument("--labels", default=None, help="label file, 'node label' per line")
    p.add_argument("--kg", default=None, help="knowledge graph folder (train/valid/test.txt) "
                   "of a knowledge-graph model's embeddings")
    p.add_argument("--split", default="test", help="with --kg: the split to rank "
                   "(default test)")
    p.add_argument("--json", default=None, help="also write the scores to this JSON file")
    add_section_options(p, "evaluation", [EvaluationSection],
                        exclude=("task", "test_fraction"),
                        aliases={"train_ratios": ["--ratios"]}, title="evaluation")

    p = add("plot", "draw a 2-D picture of embeddings coloured by label",
            "Project embeddings to 2-D (PCA, or t-SNE from scikit-learn) and draw them "
            "coloured by label. Needs matplotlib (pip install 'vitegraph[plot]').",
            commands.cmd_plot)
    p.add_argument("embeddings", help="embeddings: .npz, .txt/.w2v/.vec or .bin")
    p.add_argument("-o", "--output", required=True, help="image file (.png, .pdf, .svg)")
    p.add_argument("--labels", default=None, help="label file for colours")
    p.add_argument("--method", choices=["pca", "tsne"], default="pca", help="projection")
    p.add_argument("--max-points", type=int, default=10_000,
                   help="draw a random subset of at most this many nodes")
    p.add_argument("--seed", type=int, default=0, help="seed of the subset and t-SNE")

    p = add("visualize", "lay out vectors in 2-D or 3-D with LargeVis and draw them",
            "Build the KNN graph of the vectors (exact, or NN-descent for large inputs), "
            "weigh it by perplexity, train a LargeVis layout and draw it coloured by label. "
            "Input: .npy, .npz (also embeddings from `vitegraph embed`), .csv/.tsv/.txt "
            "(optionally .gz), .w2v/.vec/.bin. The coordinates are saved beside the picture "
            "(<output name>.coords.npz: coordinates, labels, names). Needs matplotlib for the "
            "picture.",
            commands.cmd_visualize)
    p.add_argument("vectors", help="vectors to lay out, one row per point")
    p.add_argument("-o", "--output", required=True,
                   help="picture (.png, .pdf, .svg); the coordinates go to the same name "
                        "with .coords.npz")
    p.add_argument("--labels", default=None,
                   help="colours: one label per line in row order, a .npy array, or for "
                        "named embeddings a 'node label' file")
    p.add_argument("--label-column", type=int, default=None,
                   help="for a text table: the column holding the labels (-1 = last)")
    p.add_argument("--rotate", action="store_true",
                   help="with --dim 3: also write a turning view as <output>.gif")
    add_section_options(p, "train", [get_model("largevis").Config],
                        exclude=("model",), title="LargeVis options")

    add("info", "versions of the libraries vitegraph uses, CPUs and GPUs",
        "Print the versions of vitegraph's dependencies, the CPU count and whether a CUDA "
        "GPU is visible.", commands.cmd_info)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.quiet else [logging.INFO, logging.INFO,
                                                logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(message)s" if args.verbose == 0 else
                        "%(levelname)s %(name)s: %(message)s")
    if args.verbose == 0 and not args.quiet:
        # the library's INFO lines are for -v; keep the default output to the tables
        logging.getLogger("vitegraph").setLevel(logging.WARNING)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except VitegraphError as exc:
        print(f"vitegraph: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `vitegraph list | head`: the reader left; end quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:  # a file-system error the checks did not foresee
        where = exc.filename or ""
        print(f"vitegraph: error: {where}{': ' if where else ''}"
              f"{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        ckpt = getattr(args, "_checkpoint", None)
        hint = ""
        if ckpt and os.path.exists(ckpt):
            hint = f"; checkpoint saved in {ckpt}: run again with --resume to continue"
        print(f"vitegraph: interrupted{hint}", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
