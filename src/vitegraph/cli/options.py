"""Command-line options generated from the config schema.

Every ``--option`` of ``embed`` and ``evaluate`` is a schema option (one
declaration: type, default, help), so the command line, ``vitegraph new`` and
YAML run files can never disagree.  Values are read as YAML scalars, like
``--set``, and validated by the schema, so ``--dim x`` fails with the same
message as ``train.dim: x`` in a file.  Options not given stay unset (argparse
``SUPPRESS``): the config's own defaults apply.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Iterable, Mapping, Sequence

SEP = "__"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _yaml_value(text: str):
    import yaml
    try:
        return yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        return text


def _text_value(text: str) -> str:
    # a tab is hard to type: accept the escape
    return "\t" if text in ("\\t", "tab") else text


def add_section_options(parser, section: str, classes: Sequence, *, exclude: Iterable[str] = (),
                        aliases: Mapping[str, Sequence[str]] = (), title: str = "",
                        per_class_groups: bool = False) -> None:
    """Add ``--name`` for every option of ``classes`` (config dataclasses),
    stored as ``<section>__<name>``.  With ``per_class_groups``, options that
    only some classes have are listed in a group per class (titled by the
    class's first doc line)."""
    exclude = set(exclude)
    aliases = dict(aliases)
    seen: dict[str, dataclasses.Field] = {}
    owners: dict[str, list] = {}
    for cls in classes:
        for f in dataclasses.fields(cls):
            if "kind" not in f.metadata or f.name in exclude:
                continue
            seen.setdefault(f.name, f)
            owners.setdefault(f.name, []).append(cls)
    common = parser.add_argument_group(title) if title else parser
    groups = {}
    for name, f in seen.items():
        target = common
        if per_class_groups and len(owners[name]) < len(classes):
            key = tuple(owners[name])
            if key not in groups:
                doc = " / ".join((c.__doc__ or c.__name__).strip().splitlines()[0].rstrip(".")
                                 for c in key)
                groups[key] = parser.add_argument_group(f"only for {doc}")
            target = groups[key]
        meta = f.metadata
        default = f.default
        if isinstance(default, tuple):
            default = " ".join(str(x) for x in default)
        text = f"{meta['help']} (default: {default})"
        flags = [_flag(name), *aliases.get(name, ())]
        dest = section + SEP + name
        if meta["kind"] == "bool":
            target.add_argument(*flags, dest=dest, action=argparse.BooleanOptionalAction,
                                default=argparse.SUPPRESS, help=text)
        elif isinstance(f.default, tuple):
            target.add_argument(*flags, dest=dest, nargs="+", type=_yaml_value,
                                default=argparse.SUPPRESS, metavar="X", help=text)
        else:
            metavar = {"int": "N", "float": "X", "str": "S", "path": "PATH"}[meta["kind"]]
            if meta["choices"]:
                metavar = "{" + ",".join(c if str(c).isalnum() or "_" in str(c) else repr(c)
                                         for c in map(str, meta["choices"])) + "}"
            parse = _text_value if meta["kind"] in ("str", "path") else _yaml_value
            target.add_argument(*flags, dest=dest, type=parse, default=argparse.SUPPRESS,
                                metavar=metavar, help=text)


def section_values(args: argparse.Namespace, section: str) -> dict:
    """The options of ``section`` given on the command line, by name."""
    prefix = section + SEP
    return {k[len(prefix):]: v for k, v in vars(args).items() if k.startswith(prefix)}
