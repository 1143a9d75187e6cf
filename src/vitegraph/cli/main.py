"""The ``vitegraph`` command.  Only this package prints and configures logging."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

from .._version import __version__
from ..errors import VitegraphError


def _cmd_info(args) -> int:
    from .info import collect_info
    info = collect_info()
    width = max(len(k) for k in info)
    for k, v in info.items():
        print(f"{k:<{width}}  {v}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vitegraph",
        description="Fast graph embeddings (DeepWalk, LINE, node2vec) on CPUs and GPUs.")
    parser.add_argument("--version", action="version", version=f"vitegraph {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="versions of the libraries vitegraph uses, CPUs and GPUs",
                       description="Print the versions of vitegraph's dependencies, the CPU "
                                   "count and whether a CUDA GPU is visible.")
    p.set_defaults(func=_cmd_info)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except VitegraphError as exc:
        print(f"vitegraph: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("vitegraph: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
