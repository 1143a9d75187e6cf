"""Dataset downloads: converters against ../shared/data, and downloads from a local
HTTP server on 127.0.0.1 (the tests refuse to resolve any other host)."""

import dataclasses
import hashlib
import http.server
import socket
import threading

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from vitegraph.cli import commands
from vitegraph.cli.main import main
from vitegraph.datasets import download as dl
from vitegraph.datasets.registry import DATASETS, GITHUB_RAW, downloadable, load_dataset
from vitegraph.errors import InputFormatError, ParameterError, VitegraphError

from conftest import DATA_DIR


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(autouse=True)
def local_network_only(monkeypatch):
    """Fail fast on any host but 127.0.0.1, and keep proxies out of the way."""
    real = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        if host not in ("127.0.0.1", b"127.0.0.1"):
            raise OSError(f"test tried to reach {host!r}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "*")


class Server:
    """Serves a folder on 127.0.0.1 and records the paths requested."""

    def __init__(self, root):
        self.root = root
        root.mkdir()
        self.requests = []
        owner = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):
                owner.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def put(self, source, data: bytes):
        p = self.root / source.path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "www")
    yield s
    s.close()


def patch_entry(monkeypatch, name, *, host=GITHUB_RAW, originals=None, derived=None, **fields):
    """Replace a registry entry for the test: sources served from ``host``, and with
    ``originals`` / ``derived`` (file name -> bytes) their checksums."""
    ds = DATASETS[name]
    files = tuple(dataclasses.replace(
        s, host=host, sha256=sha(originals[s.file]) if originals else s.sha256)
        for s in ds.sources.files)
    new = dataclasses.replace(ds, sources=dataclasses.replace(ds.sources, files=files),
                              sha256={f: sha(b) for f, b in derived.items()} if derived
                              else ds.sha256, **fields)
    monkeypatch.setitem(DATASETS, name, new)
    return new


# A karateclub-style dataset in miniature: unsorted rows, both directions of an edge,
# a duplicate and a self-loop; the expected output follows shared/data's conventions.
TINY_ORIGINALS = {"edges.csv": b"id_1,id_2\n3,1\n0,2\n1,3\n2,2\n0,1\n4,0\n1,0\n",
                  "target.csv": b"id,target\n2,1\n0,0\n1,1\n4,0\n3,2\n"}
TINY_DERIVED = {"edges.txt": b"0 1\n0 2\n0 4\n1 3\n2 2\n",
                "labels.txt": b"0 0\n1 1\n2 1\n3 2\n4 0\n"}


@pytest.fixture
def tiny(server, monkeypatch):
    """'lastfm_asia' replaced by the miniature, its originals on the local server
    (at the real URL paths; the host stays GitHub's, so tests pass base_url)."""
    ds = patch_entry(monkeypatch, "lastfm_asia", originals=TINY_ORIGINALS,
                     derived=TINY_DERIVED, num_nodes=5, num_edges=5, num_classes=3)
    for s in ds.sources.files:
        server.put(s, TINY_ORIGINALS[s.file])
    return ds


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# -- converters: byte-identical to the shared data --------------------------------------

def shared_original(name, file):
    """A dataset's original file in the shared data (karateclub: orig/, blogcatalog: top)."""
    for p in (DATA_DIR / name / "orig" / file, DATA_DIR / name / file):
        if p.is_file():
            return p
    pytest.skip(f"original {file} of {name!r} not found under {DATA_DIR / name} (set "
                "VITEGRAPH_DATA to the folder laid out like shared/data)")


@pytest.mark.parametrize("name", downloadable())
def test_converters_reproduce_shared_files(name, data_dir):
    folder = data_dir(name)
    ds = DATASETS[name]
    originals = {s.file: shared_original(name, s.file) for s in ds.sources.files}
    for s in ds.sources.files:   # the registered source checksums are the shared files'
        assert sha(originals[s.file].read_bytes()) == s.sha256
    out = dl.CONVERTERS[ds.sources.converter](originals)
    assert sorted(out) == sorted(ds.files)
    for fname, data in out.items():
        assert data == (folder / fname).read_bytes(), fname
        assert sha(data) == ds.sha256[fname]


def test_karateclub_converter_conventions(tmp_path):
    paths = {}
    for f, data in TINY_ORIGINALS.items():
        paths[f] = tmp_path / f
        paths[f].write_bytes(data)
    assert dl.convert_karateclub(paths) == TINY_DERIVED
    paths["edges.csv"].write_bytes(b"source,target\n0,1\n")
    with pytest.raises(InputFormatError, match=r"edges.csv, line 1: expected the header "
                                               r"'id_1,id_2', got 'source,target'"):
        dl.convert_karateclub(paths)
    paths["edges.csv"].write_bytes(b"id_1,id_2\n0,x\n")
    with pytest.raises(InputFormatError, match="edges.csv: expected rows of 2 integers"):
        dl.convert_karateclub(paths)


def test_mat_converter_conventions(tmp_path):
    # symmetric adjacency with a self-loop, one explicit zero, weights; 2 labels for node 0
    rows, cols = [0, 1, 0, 2, 3, 1, 2], [1, 0, 2, 0, 3, 2, 1]
    vals = [1.0, 1.0, 2.0, 2.0, 1.0, 0.0, 0.0]
    network = sp.csc_matrix((vals, (rows, cols)), shape=(5, 5))
    group = sp.csc_matrix(([1.0, 1.0, 1.0, 1.0], ([3, 0, 0, 1], [0, 2, 1, 1])), shape=(5, 3))
    path = tmp_path / "g.mat"
    scipy.io.savemat(path, {"network": network, "group": group})
    out = dl.convert_deepwalk_mat({"g.mat": path})
    assert out == {"edges.txt": b"0 1\n0 2\n3 3\n", "labels.txt": b"0 1\n0 2\n1 1\n3 0\n"}
    scipy.io.savemat(path, {"adjacency": network})
    with pytest.raises(InputFormatError, match=r"no variable 'network' \(found: adjacency\)"):
        dl.convert_deepwalk_mat({"g.mat": path})


# -- downloads from the local server -----------------------------------------------------

def test_download_convert_and_load(tiny, server, tmp_path):
    root = tmp_path / "data"
    folder = dl.download_dataset("lastfm_asia", root, base_url=server.url, progress=True)
    assert folder == root / "lastfm_asia"
    assert files_under(folder) == ["edges.txt", "labels.txt", "orig", "orig/edges.csv",
                                   "orig/target.csv"]
    for f, data in TINY_DERIVED.items():
        assert (folder / f).read_bytes() == data
    for f, data in TINY_ORIGINALS.items():
        assert (folder / "orig" / f).read_bytes() == data
    assert sorted(server.requests) == [
        "/benedekrozemberczki/karateclub/master/dataset/node_level/lastfm/edges.csv",
        "/benedekrozemberczki/karateclub/master/dataset/node_level/lastfm/target.csv"]
    g, labels = load_dataset("lastfm_asia", root)
    assert (g.num_nodes, g.num_edges, labels.num_classes) == (5, 5, 3)


def test_cache_and_force(tiny, server, tmp_path):
    root = tmp_path / "data"
    folder = root / "lastfm_asia"
    dl.download_dataset("lastfm_asia", root, base_url=server.url)
    assert len(server.requests) == 2
    dl.download_dataset("lastfm_asia", root, base_url=server.url)      # all present
    (folder / "edges.txt").unlink()
    dl.download_dataset("lastfm_asia", root, base_url=server.url)      # converts the cache
    assert len(server.requests) == 2
    assert (folder / "edges.txt").read_bytes() == TINY_DERIVED["edges.txt"]
    (folder / "labels.txt").write_bytes(b"0 0\n")                       # changed: redone
    (folder / "orig" / "target.csv").write_bytes(b"id,target\n0,1\n")   # stale cache entry
    dl.download_dataset("lastfm_asia", root, base_url=server.url)
    assert len(server.requests) == 3 and server.requests[-1].endswith("/target.csv")
    assert (folder / "labels.txt").read_bytes() == TINY_DERIVED["labels.txt"]
    dl.download_dataset("lastfm_asia", root, base_url=server.url, force=True)
    assert len(server.requests) == 5


def test_load_dataset_downloads_when_asked(server, monkeypatch, tmp_path):
    ds = patch_entry(monkeypatch, "lastfm_asia", host=server.url, originals=TINY_ORIGINALS,
                     derived=TINY_DERIVED, num_nodes=5, num_edges=5, num_classes=3)
    for s in ds.sources.files:
        server.put(s, TINY_ORIGINALS[s.file])
    with pytest.raises(InputFormatError, match="vitegraph download lastfm_asia"):
        load_dataset("lastfm_asia", tmp_path)
    assert server.requests == []
    g, labels = load_dataset("lastfm_asia", tmp_path, download=True)
    assert g.num_edges == 5 and len(server.requests) == 2
    load_dataset("lastfm_asia", tmp_path, download=True)
    assert len(server.requests) == 2


def test_checksum_mismatch_leaves_nothing(tiny, server, tmp_path):
    root = tmp_path / "data"
    server.put(tiny.sources.files[0], b"id_1,id_2\n0,1\n")
    url = tiny.sources.files[0].url(server.url)
    with pytest.raises(InputFormatError) as info:
        dl.download_dataset("lastfm_asia", root, base_url=server.url)
    msg = str(info.value)
    assert url in msg and tiny.sources.files[0].sha256 in msg
    assert sha(b"id_1,id_2\n0,1\n") in msg
    assert not root.exists()
    # a good first file stays in the cache; the bad second one leaves no partial file
    server.put(tiny.sources.files[0], TINY_ORIGINALS["edges.csv"])
    server.put(tiny.sources.files[1], b"id,target\n")
    with pytest.raises(InputFormatError, match="checksum mismatch for .*target.csv"):
        dl.download_dataset("lastfm_asia", root, base_url=server.url)
    assert files_under(root) == ["lastfm_asia", "lastfm_asia/orig",
                                 "lastfm_asia/orig/edges.csv"]


def test_converted_files_must_match_registry(tiny, server, tmp_path, monkeypatch):
    monkeypatch.setitem(DATASETS, "lastfm_asia", dataclasses.replace(
        tiny, sha256={"edges.txt": "0" * 64, "labels.txt": tiny.sha256["labels.txt"]}))
    with pytest.raises(InputFormatError, match="gave edges.txt with sha256 .* nothing was "
                                               "written"):
        dl.download_dataset("lastfm_asia", tmp_path, base_url=server.url)
    assert files_under(tmp_path / "lastfm_asia") == ["orig", "orig/edges.csv",
                                                     "orig/target.csv"]


def test_http_404(tiny, server, tmp_path):
    (server.root / tiny.sources.files[1].path).unlink()
    url = tiny.sources.files[1].url(server.url)
    with pytest.raises(dl.DownloadError) as info:
        dl.download_dataset("lastfm_asia", tmp_path / "data", base_url=server.url)
    msg = str(info.value)
    assert isinstance(info.value, VitegraphError)
    assert f"could not download {url}: HTTP 404" in msg
    assert f"place it by hand in {tmp_path / 'data' / 'lastfm_asia' / 'orig'}" in msg
    assert "as target.csv" in msg
    assert files_under(tmp_path / "data") == ["lastfm_asia", "lastfm_asia/orig",
                                              "lastfm_asia/orig/edges.csv"]


def test_connection_refused(tiny, tmp_path):
    with socket.socket() as s:          # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with pytest.raises(dl.DownloadError, match=rf"could not download {base}/benedekrozemberczki"
                                               r"/.*/edges.csv: .*[Rr]efused.*by hand"):
        dl.download_dataset("lastfm_asia", tmp_path / "data", base_url=base)
    assert not (tmp_path / "data").exists()


def test_not_downloadable(tmp_path):
    with pytest.raises(ParameterError, match=r"a dataset with a download source \("
                                             r"blogcatalog, deezer_europe, .*\). Got 'cora'"):
        dl.download_dataset("cora", tmp_path)
    with pytest.raises(ParameterError, match="did you mean 'cora'"):
        dl.download_dataset("coraa", tmp_path)
    with pytest.raises(InputFormatError, match="dataset 'cora' not found"):
        load_dataset("cora", tmp_path, download=True)
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("name", ["lastfm_asia", "blogcatalog"])
def test_download_real_originals(name, server, monkeypatch, tmp_path, data_dir):
    """Copies of the shared originals, served locally, give the shared files."""
    shared = data_dir(name)
    ds = patch_entry(monkeypatch, name, host=server.url)
    for s in ds.sources.files:
        server.put(s, shared_original(name, s.file).read_bytes())
    g, labels = load_dataset(name, tmp_path, download=True)
    assert (g.num_nodes, g.num_edges, labels.num_classes) == (ds.num_nodes, ds.num_edges,
                                                              ds.num_classes)
    for f in ds.files:
        assert (tmp_path / name / f).read_bytes() == (shared / f).read_bytes()


# -- command line ------------------------------------------------------------------------

def test_cli_download(server, monkeypatch, tmp_path, capsys):
    ds = patch_entry(monkeypatch, "lastfm_asia", host=server.url, originals=TINY_ORIGINALS,
                     derived=TINY_DERIVED, num_nodes=5, num_edges=5, num_classes=3)
    for s in ds.sources.files:
        server.put(s, TINY_ORIGINALS[s.file])
    args = ["download", "lastfm_asia", "--data-dir", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"lastfm_asia: edges.txt, labels.txt in {tmp_path / 'lastfm_asia'}" in out
    assert (tmp_path / "lastfm_asia" / "edges.txt").read_bytes() == TINY_DERIVED["edges.txt"]
    assert main(args) == 0 and len(server.requests) == 2
    assert main(["-q", *args, "--force"]) == 0 and len(server.requests) == 4
    capsys.readouterr()
    assert main(["download", "cora", "--data-dir", str(tmp_path)]) == 1
    assert "download source (blogcatalog" in capsys.readouterr().err
    (server.root / ds.sources.files[0].path).unlink()
    assert main([*args, "--force"]) == 1
    assert "could not download http://127.0.0.1" in capsys.readouterr().err
    assert (tmp_path / "lastfm_asia" / "edges.txt").read_bytes() == TINY_DERIVED["edges.txt"]


def test_cli_baseline_download(server, monkeypatch, tmp_path, capsys):
    ds = patch_entry(monkeypatch, "lastfm_asia", host=server.url, originals=TINY_ORIGINALS,
                     derived=TINY_DERIVED, num_nodes=5, num_edges=5, num_classes=3)
    for s in ds.sources.files:
        server.put(s, TINY_ORIGINALS[s.file])
    runs = []
    monkeypatch.setattr(commands, "_run", lambda args, cfg: runs.append(cfg) or 0)
    base = ["baseline", "lastfm", "deepwalk", "--data-dir", str(tmp_path)]
    assert main(base) == 0 and server.requests == []           # no --download: no fetch
    assert main([*base, "--download"]) == 0
    assert "dataset lastfm_asia not in" in capsys.readouterr().out
    assert len(server.requests) == 2 and len(runs) == 2
    assert main([*base, "--download"]) == 0 and len(server.requests) == 2
    assert np.array_equal(load_dataset("lastfm_asia", tmp_path)[0].indptr, [0, 3, 5, 7, 8, 9])
