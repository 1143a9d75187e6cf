"""The standard node-embedding datasets: names, files, statistics, checksums,
citations, download sources; loaded from a data folder laid out like the
project's shared/data::

    <data dir>/blogcatalog/edges.txt     # "u v" per line, 0-based ids
    <data dir>/blogcatalog/labels.txt    # "node label" per line
    <data dir>/blogcatalog/orig/...      # downloaded originals (the download cache)

The data folder is ``data_dir`` if given, else ``$VITEGRAPH_DATA``, else
``~/.vitegraph/data``.  A missing dataset is an error that names the folder and
the files expected in it, unless ``load_dataset(..., download=True)`` is asked to
fetch it: datasets with ``sources`` can be downloaded from their original files
and converted (see :mod:`vitegraph.datasets.download`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..errors import InputFormatError, ParameterError


GITHUB_RAW = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class Source:
    """One original file of a dataset, as published upstream."""
    file: str                 # saved as <data dir>/<dataset>/orig/<file>
    path: str                 # URL path under ``host``
    sha256: str               # checksum of the original file
    host: str = GITHUB_RAW

    def url(self, base_url: Optional[str] = None) -> str:
        """The file's URL; ``base_url`` replaces the host (a mirror, a test server)."""
        return f"{(base_url or self.host).rstrip('/')}/{self.path.lstrip('/')}"


@dataclass(frozen=True)
class Sources:
    """Where a dataset's originals come from and how they become edges.txt /
    labels.txt: ``converter`` names a function in ``download.CONVERTERS``."""
    converter: str
    files: tuple[Source, ...]


@dataclass(frozen=True)
class Dataset:
    name: str
    num_nodes: int
    num_edges: int            # undirected edges, self-loops included
    num_classes: int          # 0: no labels
    multilabel: bool
    sha256: dict              # file name -> checksum
    description: str
    citation: str
    sources: Optional[Sources] = None   # None: no download; place the files by hand

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(self.sha256)


def _ds(name, n, m, c, multi, edges_sha, labels_sha, description, citation, sources=None):
    sha = {"edges.txt": edges_sha}
    if labels_sha:
        sha["labels.txt"] = labels_sha
    return Dataset(name, n, m, c, multi, sha, description, citation, sources)


# Originals on GitHub (master branch; the checksums catch any upstream change).
_DEEPWALK_BLOGCATALOG = Sources("deepwalk_mat", (
    Source("blogcatalog.mat", "phanein/deepwalk/master/example_graphs/blogcatalog.mat",
           "d4f4fb89ce1ccd4b7e2a183386c000773cc9362cc61f1be5b246a6d9c259da8f"),))


def _karateclub(folder, edges_sha, target_sha):
    base = f"benedekrozemberczki/karateclub/master/dataset/node_level/{folder}/"
    return Sources("karateclub_csv", (Source("edges.csv", base + "edges.csv", edges_sha),
                                      Source("target.csv", base + "target.csv", target_sha)))


_ROZ = ("B. Rozemberczki, C. Allen, R. Sarkar, Multi-scale Attributed Node Embedding, "
        "J. Complex Networks 2021")
_FEATHER = ("B. Rozemberczki, R. Sarkar, Characteristic Functions on Graphs: Birds of a "
            "Feather, CIKM 2020")
_PLANETOID = ("Z. Yang, W. Cohen, R. Salakhutdinov, Revisiting Semi-Supervised Learning with "
              "Graph Embeddings, ICML 2016")

DATASETS: dict[str, Dataset] = {d.name: d for d in [
    _ds("blogcatalog", 10312, 333983, 39, True,
        "9856c2e495aa0bd75290f7253b3408dee1c70b2b1cd189199e6013b98f6f66db",
        "1b4142d3e6fd88854569a76062ed73a5020dd15d49f989755b56d29c9dea31b1",
        "BlogCatalog social network, 39 overlapping interest groups",
        "L. Tang, H. Liu, Relational Learning via Latent Social Dimensions, KDD 2009",
        _DEEPWALK_BLOGCATALOG),
    _ds("cora", 2708, 5278, 7, False,
        "75e53a6dd7ff2ead7b2fcc3e31e6319debdb33f5537eeb24054e16535cfa277e",
        "f6abf39402ba4af3b629d7da7504788d4dec289ef15aac2cb393d499e0e907f5",
        "Cora citation graph, 7 topics", _PLANETOID),
    _ds("citeseer", 3327, 4676, 6, False,
        "ac5b10a238718c62164256e54b35c508aacdc4424c261fdc1f76410f4a6bd5ab",
        "6b1ee171342363c98f44b3eb12314c467338ec32e6b36d49bf07bf3aee38715e",
        "Citeseer citation graph, 6 topics (15 nodes unlabelled)", _PLANETOID),
    _ds("pubmed", 19717, 44327, 3, False,
        "49a03309008298717f2ea8197624c95e5cfbfce99c3ca8e29c683f1bccef3951",
        "c9f94ccfe5b86622f684ca3b3b7d0cc92caa691d0e6e90aaaa5dbf7c61f38ba8",
        "Pubmed diabetes citation graph, 3 classes", _PLANETOID),
    _ds("facebook_page_page", 22470, 171002, 4, False,
        "5662c79e1547904eac7d44f9af72150e390055b2e482fda4d9e69bfe7aaa7104",
        "1ab31365a3239aa2f70f9ff4bd2ee329d18bdf2f52016cca4cabf4297a008042",
        "Facebook page-page graph, 4 page types", _ROZ,
        _karateclub("facebook",
                    "7c50d8f02a75cc0829577814a1fc14535164daa38d79c3612340c9e9cdbd4022",
                    "95987f6c9246f461511673041c88aa20cbd8596bc52b9688fdaab7bd5a720000")),
    _ds("github_social", 37700, 289003, 2, False,
        "ca3bf1bcefc78b7503c98240f3dbd6a0e83e77756bc1d774fce30568fca0e9a7",
        "9caa42983957b9e8591520d3bf5682f6d47dc4be6629a6dac8d054c738fc43df",
        "GitHub developers, web vs machine learning", _ROZ,
        _karateclub("github",
                    "34c57382246949d1b3b7fa641a8532672001ecae8e9558f0b3c113cc035bd781",
                    "2e733f092fd69ef436c68883907d2c184ded3cb95a89b33e435cbd2f2678355b")),
    _ds("lastfm_asia", 7624, 27806, 18, False,
        "0bbcf1a040b683ecbeaa1c369a4962571fdade1984baece4ab6eab1c79b905d9",
        "a3d659c3af3c1cbf78678d15511b61a247edd0a0764efd23508e8f1a2d6320ff",
        "LastFM Asia users, 18 countries", _FEATHER,
        _karateclub("lastfm",
                    "4a6f555d2ccbbbaf1aa4f46b10b0e612aa515730a513d3e1ac951e1e4dcd733c",
                    "91f19215f6eca8321feec038bd32900cf13fd4f7e041a9976cf202807c72ac16")),
    _ds("deezer_europe", 28281, 92752, 2, False,
        "ced8ddd0291ea3598656cd130a23038b90fde1c2e9599985e127b5b7f4ae2194",
        "4889972fd44bc453bacb92e3d52e33679f9e553a2c092ae433b6984ff2d8d25c",
        "Deezer Europe users, gender", _FEATHER,
        _karateclub("deezer",
                    "78c3d3fc62d12ccd2a637e0151283d9ced1b4c9400dc6c0e0b0f71fcbe314091",
                    "9d5c5736e1d55361e9caa5ae4f96ea5f40c3a70a8cfaad332defac9d84c6b2c6")),
    _ds("twitch_engb", 7126, 35324, 2, False,
        "5b01543d1bfabc482cdc9ded76002bca731f954201b46edbe11148b3e8b7dceb",
        "ddf6bab1265f3e4b562de98db6a1fe50ee46f0a553e82c21480da1f5af0c7701",
        "Twitch ENGB streamers, mature content", _ROZ,
        _karateclub("twitch",
                    "90ab33e0426913171302dee0bdac35322596f07bee7431aeabaca648bdda7245",
                    "635c3aedd9865b48baa27aae4f5bc54b913100aee026589ec3a7bb4dcfcc8b44")),
    _ds("wikipedia_crocodile", 11631, 170918, 2, False,
        "2e4099fd49011323a16a9b0dcd479318d7b10befce45bf2d777ad25b3c50d838",
        "2bc377adfa32d70c6c7c51d185d7ca36efea43595430215bf03acefdfc4d561b",
        "Wikipedia crocodile pages, binarised traffic", _ROZ,
        _karateclub("wikipedia",
                    "d73dcbbdace474b0f6c5ac55425d281a0ab2967411c4e0d5437bfa5fa75e88ba",
                    "19d61f7d5093b5bd1f3a0cb61fa6375a78f5d675a6f0e59bc38cd8350a00a958")),
    _ds("email_eu_core", 1005, 16706, 42, False,
        "a11dd814971bef17674db87f7a8165779b46bd96f451a30a4c58755357da36eb",
        "91a089f21ee35eb224066456fa5322c8ad57c0f07b2da7a58a3220c72b5d54b5",
        "EU research institution e-mail, 42 departments",
        "H. Yin, A. Benson, J. Leskovec, D. Gleich, Local Higher-order Graph Clustering, "
        "KDD 2017"),
    _ds("karate", 34, 78, 2, False,
        "2095f3a8d35c292020188d1a0fd641effd209a09bc854973d8d6425604f91f6c",
        "111a82b36c4b3d53c2e11ac1189fe425650c5eb08002366d498f287ea8e1bccb",
        "Zachary's karate club, 2 factions",
        "W. W. Zachary, An Information Flow Model for Conflict and Fission in Small Groups, "
        "1977"),
    _ds("p2p_gnutella08", 6301, 20777, 0, False,
        "3806af16aefb071bd291d79477013a9f03b477d204b3c12b57c3871de890a0b6", None,
        "Gnutella peer-to-peer network (no labels; link prediction)",
        "M. Ripeanu, I. Foster, A. Iamnitchi, IEEE Internet Computing 2002"),
]}


def data_dir(path=None) -> Path:
    """The data folder: ``path``, else ``$VITEGRAPH_DATA``, else ``~/.vitegraph/data``."""
    if path is not None:
        return Path(os.path.expanduser(os.fspath(path)))
    env = os.environ.get("VITEGRAPH_DATA")
    if env:
        return Path(os.path.expanduser(env))
    return Path.home() / ".vitegraph" / "data"


def get_dataset(name: str) -> Dataset:
    if name in DATASETS:
        return DATASETS[name]
    from .._validate import did_you_mean
    hint = did_you_mean(name, DATASETS)
    expected = ("a known dataset" + hint if hint else "one of " + ", ".join(sorted(DATASETS)))
    raise ParameterError("load_dataset", "name", expected, name)


def downloadable() -> list[str]:
    """Names of the datasets that :func:`~vitegraph.datasets.download.download_dataset`
    can fetch."""
    return sorted(n for n, d in DATASETS.items() if d.sources is not None)


def missing_files(name: str, path=None) -> list[str]:
    """The dataset's files (edges.txt, labels.txt) not present in the data folder."""
    ds = get_dataset(name)
    folder = data_dir(path) / name
    return [f for f in ds.files if not (folder / f).is_file()]


def dataset_files(name: str, path=None) -> dict[str, Path]:
    """Paths of the dataset's files; raises an error naming what is missing."""
    ds = get_dataset(name)
    folder = data_dir(path) / name
    files = {f: folder / f for f in ds.files}
    missing = [f for f, p in files.items() if not p.is_file()]
    if missing:
        hint = (f"; or download it: `vitegraph download {name}`, or "
                "load_dataset(..., download=True)" if ds.sources is not None else "")
        raise InputFormatError(
            f"dataset {name!r} not found: expected {', '.join(missing)} in this folder "
            "(set --data-dir or VITEGRAPH_DATA to a folder laid out like "
            f"<dir>/<dataset>/edges.txt{hint})", folder)
    return files


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_dataset(name: str, data_dir_path=None, *, verify: bool = True,
                 download: bool = False):
    """``(Graph, Labels or None)`` of a standard dataset from the data folder.

    ``verify`` checks the files' SHA-256 against the registry first (a changed
    file is an error naming it).  ``download=True`` fetches a missing dataset
    from its original source first (:func:`~vitegraph.datasets.download.download_dataset`;
    only for the datasets listed by :func:`downloadable`).
    """
    from ..graph import read_edgelist, read_labels
    ds = get_dataset(name)
    if download and ds.sources is not None and missing_files(name, data_dir_path):
        from .download import download_dataset
        download_dataset(name, data_dir_path)
    files = dataset_files(name, data_dir_path)
    if verify:
        for fname, p in files.items():
            if _sha256(p) != ds.sha256[fname]:
                raise InputFormatError(f"checksum mismatch for dataset {name!r}: the file "
                                       "differs from the registered one", p)
    g = read_edgelist(files["edges.txt"], num_nodes=ds.num_nodes)
    labels = read_labels(files["labels.txt"], g) if "labels.txt" in files else None
    return g, labels
