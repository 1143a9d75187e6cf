"""Readers: text edge lists (formats, compression, errors), scipy, networkx,
edge_index, .mat files and labels; and the real BlogCatalog files."""

import bz2
import gzip
import lzma

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

import vitegraph as vg
from vitegraph.errors import InputFormatError, ParameterError, VitegraphError




def write(tmp_path, text, name="edges.txt"):
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def triangle_csr(g):
    return g.indptr.tolist(), g.indices.tolist()


@pytest.mark.parametrize("text", [
    "0 1\n1 2\n2 0\n",
    "0\t1\n1\t2\n2\t0\n",
    "0,1\n1,2\n2,0\n",
    "# a comment\n% another\n0 1\n\n1   2\n  2 0  \n",
    "0 1\r\n1 2\r\n2 0\r\n",
    "0 1\n1 2\n2 0",  # no final newline
])
def test_text_formats(tmp_path, text):
    g = vg.read_edgelist(write(tmp_path, text))
    assert triangle_csr(g) == ([0, 2, 4, 6], [1, 2, 0, 2, 0, 1])
    assert g.num_edges == 3 and not g.is_weighted


def test_irregular_blanks_after_first_block(tmp_path):
    body = "".join(f"{i} {i + 1}\n" for i in range(9000))  # > 64 KiB of clean lines
    g = vg.read_edgelist(write(tmp_path, body + "9000   9001\n 9001 9002 \n"))
    assert g.num_edges == 9002


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"),
                                           (lzma.open, ".xz")])
def test_compressed(tmp_path, opener, suffix):
    p = tmp_path / ("edges.txt" + suffix)
    with opener(p, "wb") as f:
        f.write(b"0 1 0.5\n1 2 2\n")
    g = vg.read_edgelist(p)
    assert g.is_weighted and g.weights.tolist() == [0.5, 0.5, 2.0, 2.0]


def test_weighted_columns(tmp_path):
    p = write(tmp_path, "a b 1.5\nb c 2\n")
    g = vg.read_edgelist(p)
    assert g.node_names.tolist() == ["a", "b", "c"] and g.weights.tolist() == [1.5, 1.5, 2, 2]
    assert not vg.read_edgelist(p, weighted=False).is_weighted
    with pytest.raises(InputFormatError, match=r"line 1: expected 3 columns, got 2"):
        vg.read_edgelist(write(tmp_path, "0 1\n", "u.txt"), weighted=True)


def test_non_integer_numeric_ids_are_an_error_unless_strings(tmp_path):
    """'2.5' among integer ids is more likely a typo than a name: an error
    naming the line, instead of silently turning every id into a string."""
    path = write(tmp_path, "0 1\n1 2\n2 2.5\n")
    with pytest.raises(InputFormatError, match=r"line 3: node id '2.5' is a number but not "
                                               r"an integer; pass node_type='str'"):
        vg.read_edgelist(path)
    g = vg.read_edgelist(write(tmp_path, "1.5 2.5\n2.5 3\n", "f.txt"), node_type="str")
    assert g.node_names.tolist() == ["1.5", "2.5", "3"]
    # negative integers are integer names like any other
    g = vg.read_edgelist(write(tmp_path, "0 1\n1 -1\n", "n.txt"))
    assert g.node_names.tolist() == [-1, 0, 1]


def test_string_ids_and_numeric_looking_names(tmp_path):
    g = vg.read_edgelist(write(tmp_path, "1 2\n2 x\n"))  # mixed: all names are strings
    assert g.node_names.tolist() == ["1", "2", "x"]
    g = vg.read_edgelist(write(tmp_path, "007 1\n", "z.txt"), node_type="str")
    assert g.node_names.tolist() == ["007", "1"]


def test_directed_and_num_nodes(tmp_path):
    g = vg.read_edgelist(write(tmp_path, "0 1\n1 0\n0 2\n"), directed=True, num_nodes=5)
    assert g.num_nodes == 5 and g.num_edges == 3 and g.degree.tolist() == [2, 1, 0, 0, 0]


@pytest.mark.parametrize("text,line,match", [
    ("0 1\n1 2 3 4\n", 2, "expected 2 or 3 columns, got 4"),
    ("0 1 1.0\n1 2\n", 2, "columns"),
    ("0 1 1.0\n1 2 abc\n", 2, "weight 'abc' is not a number"),
    ("0 1 1.0\n1 2 nan\n", 2, "NaN edge weight"),
    ("# c\n0 1 1.0\n1 2 -3\n", 3, "negative edge weight"),
    ("0 1 1.0\n1 2 inf\n", 2, "infinite edge weight"),
    ("0 1\n1 2 3 4 5\n", 2, "columns"),
])
def test_bad_lines_are_named(tmp_path, text, line, match):
    p = write(tmp_path, text)
    with pytest.raises(InputFormatError, match=match) as info:
        vg.read_edgelist(p)
    assert info.value.line == line and info.value.path == str(p)
    assert str(info.value).startswith(f"{p}, line {line}: ")


def test_non_numeric_id_with_int_type(tmp_path):
    p = write(tmp_path, "0 1\n1 b\n")
    with pytest.raises(InputFormatError, match=r"line 2: node id 'b' is not an integer"):
        vg.read_edgelist(p, node_type="int")


def test_out_of_range_for_num_nodes(tmp_path):
    p = write(tmp_path, "0 1\n# skip\n1 7\n")
    with pytest.raises(InputFormatError, match=r"line 3: node id 7 out of range"):
        vg.read_edgelist(p, num_nodes=3)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_empty_input(tmp_path, text):
    with pytest.raises(InputFormatError, match="no edges"):
        vg.read_edgelist(write(tmp_path, text))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputFormatError, match="missing.txt: no such file"):
        vg.read_edgelist(tmp_path / "missing.txt")
    with pytest.raises(InputFormatError, match="is a folder"):
        vg.read_edgelist(tmp_path)


def test_corrupt_gzip(tmp_path):
    p = write(tmp_path, b"\x1f\x8b\x08\x00garbage", "e.gz")
    with pytest.raises(InputFormatError, match="cannot decompress"):
        vg.read_edgelist(p)


def test_bad_reader_options(tmp_path):
    p = write(tmp_path, "0 1\n")
    with pytest.raises(ParameterError, match="'delimiter' parameter of read_edgelist"):
        vg.read_edgelist(p, delimiter=";")
    with pytest.raises(ParameterError, match="'num_nodes'"):
        vg.read_edgelist(p, num_nodes=-1)


def test_unknown_node_in_nodes_list(tmp_path):
    p = write(tmp_path, "a b\nb q\n")
    with pytest.raises(InputFormatError, match=r"line 2: node 'q' is not in the given 'nodes'"):
        vg.read_edgelist(p, nodes=["a", "b", "c"])
    g = vg.read_edgelist(p, nodes=["q", "b", "a", "c"])
    assert g.num_nodes == 4 and g.neighbors("c").size == 0


def test_duplicates_error_names_file(tmp_path):
    p = write(tmp_path, "0 1\n1 0\n")
    with pytest.raises(VitegraphError, match=r"edges.txt: duplicate edge"):
        vg.read_edgelist(p, duplicates="error")


# ---------------------------------------------------------- other builders
def test_from_scipy_symmetric_and_directed():
    A = sp.csr_matrix(np.array([[0, 2, 0], [2, 0, 1], [0, 1, 1]], dtype=float))
    g = vg.from_scipy(A)
    assert not g.directed and g.num_edges == 3 and g.weights.tolist() == [2, 2, 1, 1, 1]
    B = sp.csr_matrix(np.array([[0, 1], [0, 0]]))
    d = vg.from_scipy(B)
    assert d.directed and d.num_edges == 1 and not d.is_weighted
    with pytest.raises(ParameterError, match="square"):
        vg.from_scipy(sp.csr_matrix((2, 3)))


def test_from_networkx():
    nx = pytest.importorskip("networkx")
    G = nx.Graph()
    G.add_nodes_from(["lonely"])
    G.add_edge("a", "b", weight=2.0)
    G.add_edge("b", "c")
    g = vg.from_networkx(G)
    assert g.node_names.tolist() == ["lonely", "a", "b", "c"]
    assert g.num_edges == 2 and g.weights.tolist() == [2.0, 2.0, 1.0, 1.0]
    D = nx.DiGraph([(0, 1), (1, 2)])
    d = vg.from_networkx(D)
    assert d.directed and d.num_edges == 2


def test_from_networkx_karate_matches_edgelist(data_dir):
    nx = pytest.importorskip("networkx")
    g1 = vg.from_networkx(nx.karate_club_graph(), weight=None)
    g2 = vg.read_edgelist(data_dir("karate") / "edges.txt")
    assert triangle_csr(g1) == triangle_csr(g2) and g1.num_edges == 78


def test_from_edge_index_numpy_and_torch():
    ei = np.array([[0, 1, 1, 2], [1, 0, 2, 1]])  # PyG style: both directions
    g = vg.from_edge_index(ei)
    assert g.num_edges == 2 and g.num_stored_edges == 4
    torch = pytest.importorskip("torch")
    g2 = vg.from_edge_index(torch.tensor(ei), num_nodes=5)
    assert g2.num_nodes == 5 and triangle_csr(g2)[1] == triangle_csr(g)[1]
    d = vg.from_edge_index(torch.tensor(ei), directed=True)
    assert d.num_edges == 4
    with pytest.raises(ParameterError, match=r"shape \(2, E\)"):
        vg.from_edge_index(np.zeros((3, 4), dtype=int))


def test_mat_roundtrip(tmp_path):
    A = sp.csc_matrix(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=float))
    Y = sp.csc_matrix(np.array([[1, 0], [0, 1], [1, 1]], dtype=float))
    p = tmp_path / "g.mat"
    scipy.io.savemat(p, {"network": A, "group": Y})
    g = vg.read_mat(p)
    assert g.num_edges == 2 and not g.is_weighted
    L = vg.read_mat_labels(p, g)
    assert L.num_classes == 2 and L.is_multilabel and L.matrix.toarray().tolist() == \
        [[1, 0], [0, 1], [1, 1]]
    with pytest.raises(InputFormatError, match="no variable 'adj'"):
        vg.read_mat(p, variable="adj")
    bad = write(tmp_path, "not a mat file", "bad.mat")
    with pytest.raises(InputFormatError, match="bad.mat: not a readable MATLAB file"):
        vg.read_mat(bad)


# ------------------------------------------------------------------ labels
def test_labels_multi_and_string(tmp_path):
    g = vg.from_edges(np.array([["a", "b"], ["b", "c"]]))
    p = write(tmp_path, "a x\na y\nc x\n", "labels.txt")
    L = vg.read_labels(p, g)
    assert L.classes.tolist() == ["x", "y"] and L.is_multilabel
    assert L.matrix.toarray().tolist() == [[1, 1], [0, 0], [1, 0]]
    assert L.labelled.tolist() == [True, False, True]


def test_labels_unknown_node_named(tmp_path):
    g = vg.from_edges([[0, 1], [1, 2]])
    p = write(tmp_path, "0 1\n# c\n9 0\n", "labels.txt")
    with pytest.raises(InputFormatError, match=r"labels.txt, line 3: node 9 is not a node"):
        vg.read_labels(p, g)
    with pytest.raises(InputFormatError, match="columns"):
        vg.read_labels(write(tmp_path, "0 1 2\n", "l2.txt"), g)


# -------------------------------------------------------------- real data
def test_blogcatalog_mat_equals_edgelist(data_dir):
    d = data_dir("blogcatalog")
    g1 = vg.read_edgelist(d / "edges.txt")
    g2 = vg.read_mat(d / "blogcatalog.mat")
    for g in (g1, g2):
        assert (g.num_nodes, g.num_edges, g.num_stored_edges) == (10312, 333983, 667966)
        assert not g.directed and not g.is_weighted
    assert np.array_equal(g1.indptr, g2.indptr) and np.array_equal(g1.indices, g2.indices)
    L1 = vg.read_labels(d / "labels.txt", g1)
    L2 = vg.read_mat_labels(d / "blogcatalog.mat", g2)
    assert L1.num_classes == L2.num_classes == 39
    assert (L1.matrix != L2.matrix).nnz == 0 and L1.matrix.nnz == 14476


# ---------------------------------------------------------------- silent failures

def test_duplicates_sum_on_an_unweighted_file_counts_lines(tmp_path):
    path = write(tmp_path, "0 1\n1 2\n2 1\n1 2\n2 0\n")
    g = vg.read_edgelist(path, duplicates="sum")
    assert g.is_weighted and g.num_edges == 3
    assert g.weights[g.indptr[1]:g.indptr[2]].tolist() == [1.0, 3.0]   # 1-0 once, 1-2 three times
    assert not vg.read_edgelist(path).is_weighted                      # auto: first
    assert not vg.read_edgelist(write(tmp_path, "0 1\n1 2\n", "u.txt"),
                                duplicates="sum").is_weighted          # nothing repeats


@pytest.mark.parametrize("text,names", [
    ("source,target\n0,1\n1,2\n", [0, 1, 2]),
    ("u v w\n0 1 0.5\n1 2 2\n", [0, 1, 2]),
    ("# comment\nfrom\tto\n5\t6\n", [5, 6]),
])
def test_header_lines_are_detected(tmp_path, text, names):
    g = vg.read_edgelist(write(tmp_path, text))
    assert g.node_names.tolist() == names


def test_header_option_and_line_numbers_after_a_header(tmp_path):
    path = write(tmp_path, "a b\nx y\n")        # string names: a header cannot be told
    assert vg.read_edgelist(path).num_nodes == 4
    assert vg.read_edgelist(path, header=True).node_names.tolist() == ["x", "y"]
    with pytest.raises(InputFormatError, match=r"line 3: edge weight 1e\+40 is too large"):
        vg.read_edgelist(write(tmp_path, "u,v,w\n0,1,1\n1,2,1e40\n", "h.csv"))
    with pytest.raises(ParameterError, match="'header'"):
        vg.read_edgelist(path, header="yes")


def test_weights_beyond_float32_name_file_and_line(tmp_path):
    with pytest.raises(InputFormatError, match=r"big.txt, line 2: edge weight 1e\+40 is too "
                                               r"large: weights are stored as float32"):
        vg.read_edgelist(write(tmp_path, "0 1 1\n1 2 1e40\n", "big.txt"))


def test_labels_name_the_line_of_a_string_node_and_detect_headers(tmp_path):
    g = vg.read_edgelist(write(tmp_path, "0 1\n1 2\n2 0\n"))
    with pytest.raises(InputFormatError, match=r"l.txt, line 3: node 'x' is not an integer"):
        vg.read_labels(write(tmp_path, "0 a\n1 b\nx c\n", "l.txt"), g)
    labels = vg.read_labels(write(tmp_path, "node,label\n0,a\n1,b\n2,a\n", "h.csv"), g)
    assert labels.num_classes == 2 and labels.labelled.all()


def test_several_labels_of_a_node_are_said(tmp_path, caplog):
    g = vg.read_edgelist(write(tmp_path, "\n".join(f"{i} {i + 1}" for i in range(40)) + "\n"))
    lines = "".join(f"{i} {i % 3}\n" for i in range(41))
    # one node of 41 with a second label: multi-label, with a warning naming the line
    path = write(tmp_path, lines + "7 2\n", "l.txt")
    with caplog.at_level("WARNING", logger="vitegraph"):
        labels = vg.read_labels(path, g)
    assert labels.is_multilabel
    assert "1 of 41 labelled nodes have several labels, first on line 42" in caplog.text
    with pytest.raises(InputFormatError, match="line 42: a second label for a node"):
        vg.read_labels(path, g, multilabel=False)
    caplog.clear()
    with caplog.at_level("WARNING", logger="vitegraph"):
        vg.read_labels(path, g, multilabel=True)
        # a line repeated word for word is one label
        same = vg.read_labels(write(tmp_path, lines + "7 1\n", "s.txt"), g)
    assert not same.is_multilabel and caplog.text == ""
