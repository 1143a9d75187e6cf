"""The streamed edge-list reader: integer-id files parsed in batches give the
graph an array build gives, and anything it cannot take falls back to the
whole-file reader with the same result or error."""

import gzip

import numpy as np
import pytest

import vitegraph as vg
import vitegraph.graph.io as gio
from vitegraph.errors import GraphError, InputFormatError


@pytest.fixture(params=[23, 200, 1 << 25], ids=["tiny-blocks", "small-blocks", "one-block"])
def block(request, monkeypatch):
    monkeypatch.setattr(gio, "STREAM_BLOCK", request.param)
    return request.param


def same(g, h):
    assert g.num_nodes == h.num_nodes
    assert g.num_edges == h.num_edges
    assert g.directed == h.directed
    np.testing.assert_array_equal(g.indptr, h.indptr)
    np.testing.assert_array_equal(g.indices, h.indices)
    assert (g.weights is None) == (h.weights is None)
    if g.weights is not None:
        np.testing.assert_array_equal(g.weights, h.weights)
    np.testing.assert_array_equal(g.node_names, h.node_names)


def write(path, lines, opener=open):
    with opener(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    return path


def edges(seed=0, n=400, m=3000, gaps=True):
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(3 * n, n, replace=False)) if gaps else np.arange(n)
    return ids[rng.integers(0, n, (m, 2))]


def test_gapped_ids_comments_and_blanks(tmp_path, block):
    e = edges()
    lines = []
    for k, (a, b) in enumerate(e):
        if k % 97 == 0:
            lines.append("# a comment line")
        if k % 131 == 0:
            lines.append("")
        lines.append(f"{a}  {b}" if k % 7 == 0 else f"{a} {b}")
    g = vg.read_edgelist(write(tmp_path / "g.txt", lines))
    same(g, vg.Graph.from_edges(e))


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("duplicates", ["sum", "first"])
def test_weighted_duplicates_directed(tmp_path, block, directed, duplicates):
    e = edges(1, n=50, m=2000, gaps=False)
    w = np.round(np.random.default_rng(2).random(len(e)) + 0.1, 3)
    p = write(tmp_path / "w.tsv", [f"{a}\t{b}\t{x}" for (a, b), x in zip(e, w)])
    g = vg.read_edgelist(p, directed=directed, duplicates=duplicates)
    same(g, vg.Graph.from_edges(e, w, directed=directed, duplicates=duplicates))


def test_unweighted_sum_counts_and_dropped_loops(tmp_path, block):
    e = edges(3, n=30, m=800, gaps=False)
    p = write(tmp_path / "c.csv", [f"{a},{b}" for a, b in e])
    g = vg.read_edgelist(p, duplicates="sum", self_loops="drop")
    same(g, vg.Graph.from_edges(e, duplicates="sum", self_loops="drop"))
    assert g.weights is not None and g.weights.max() > 1


def test_header_sparse_ids_num_nodes_and_gzip(tmp_path, block):
    e = edges(4)
    p = write(tmp_path / "h.txt", ["source target"] + [f"{a} {b}" for a, b in e])
    same(vg.read_edgelist(p), vg.Graph.from_edges(e))
    big = e.astype(np.int64) * 10**9 + 7        # ids far apart: sorted unique names
    p = write(tmp_path / "s.txt", [f"{a} {b}" for a, b in big])
    g = vg.read_edgelist(p)
    same(g, vg.Graph.from_edges(big))
    assert g.node_names.max() == big.max()
    p = write(tmp_path / "n.txt.gz", [f"{a} {b}" for a, b in e], gzip.open)
    same(vg.read_edgelist(p, num_nodes=2000), vg.Graph.from_edges(e, num_nodes=2000))


def test_errors_in_a_later_block_name_their_line(tmp_path, block):
    lines = [f"{k} {k + 1}" for k in range(300)]
    lines[250] = "250 x1 3 4"
    with pytest.raises(InputFormatError) as err:
        vg.read_edgelist(write(tmp_path / "bad.txt", lines))
    assert err.value.line == 251
    lines = [f"{k} {k + 1} 1.5" for k in range(300)]
    lines[250] = "250 251 -1.5"
    with pytest.raises(InputFormatError, match="negative edge weight") as err:
        vg.read_edgelist(write(tmp_path / "badw.txt", lines))
    assert err.value.line == 251
    with pytest.raises(InputFormatError, match="out of range") as err:
        vg.read_edgelist(write(tmp_path / "ok.txt", [f"{k} {k + 1}" for k in range(300)]),
                         num_nodes=200)
    assert err.value.line == 200
    with pytest.raises(InputFormatError, match="no edges"):
        vg.read_edgelist(write(tmp_path / "empty.txt", ["# nothing"] * 50))
    with pytest.raises(GraphError, match="duplicate edge"):
        vg.read_edgelist(write(tmp_path / "dup.txt", ["1 2"] * 40 + ["2 1"]),
                         duplicates="error")


def test_names_after_integer_ids_are_read_as_names(tmp_path, block):
    lines = [f"{k} {k + 1}" for k in range(300)] + ["alice bob", "bob 3"]
    g = vg.read_edgelist(write(tmp_path / "mixed.txt", lines))
    assert g.num_nodes == 303
    assert "alice" in set(g.node_names.tolist())
    assert g.node_names.dtype.kind == "U"


def test_streamed_reader_is_the_one_used(tmp_path, monkeypatch):
    """Integer ids never go through the whole-file reader."""
    monkeypatch.setattr(gio, "STREAM_BLOCK", 64)

    def no_whole_file(path):
        raise AssertionError("read the whole file")

    monkeypatch.setattr(gio, "read_bytes", no_whole_file)
    g = vg.read_edgelist(write(tmp_path / "g.txt", [f"{k} {k + 1}" for k in range(100)]))
    assert g.num_edges == 100
