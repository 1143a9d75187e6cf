"""The Embeddings object: lookup, similarity, save/load, word2vec export."""

import numpy as np
import pytest

from vitegraph.embeddings import Embeddings
from vitegraph.errors import InputFormatError, OutputError, ParameterError, UnknownNodeError
from vitegraph.graph import Vocabulary


@pytest.fixture
def emb():
    v = np.array([[1, 0], [0.9, 0.1], [0, 1], [-1, 0]], dtype=np.float32)
    return Embeddings(v, Vocabulary(np.array(["a", "b", "c", "d"]), 4), context=v * 2,
                      metadata={"config": {"model": "deepwalk"}})


def test_lookup_and_array(emb):
    assert emb["c"].tolist() == [0, 1]
    assert np.asarray(emb).shape == (4, 2) and len(emb) == 4 and emb.dim == 2
    assert "a" in emb and "z" not in emb
    with pytest.raises(UnknownNodeError, match="'z'"):
        emb["z"]


def test_most_similar(emb):
    top = emb.most_similar("a", k=2)
    assert [n for n, _ in top] == ["b", "c"]
    assert top[0][1] == pytest.approx(0.9 / np.hypot(0.9, 0.1), rel=1e-5)
    assert len(emb.most_similar("a", k=10)) == 3  # capped, itself excluded
    with pytest.raises(ParameterError, match="'k'"):
        emb.most_similar("a", k=0)


def test_save_load(tmp_path, emb):
    p = tmp_path / "emb.npz"
    emb.save(p)
    back = Embeddings.load(p)
    assert np.array_equal(back.vectors, emb.vectors) and np.array_equal(back.context, emb.context)
    assert back.node_names.tolist() == ["a", "b", "c", "d"]
    assert back.metadata["config"]["model"] == "deepwalk" and back.metadata["vitegraph"]
    with pytest.raises(InputFormatError, match="no such file"):
        Embeddings.load(tmp_path / "missing.npz")


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_roundtrip_and_gensim(tmp_path, emb, binary):
    p = tmp_path / ("emb.bin" if binary else "emb.txt")
    emb.to_word2vec(p, binary=binary)
    back = Embeddings.from_word2vec(p, binary=binary)
    assert back.node_names.tolist() == ["a", "b", "c", "d"]
    assert np.allclose(back.vectors, emb.vectors, atol=1e-6)
    gensim = pytest.importorskip("gensim")
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(p), binary=binary)
    assert kv.index_to_key == ["a", "b", "c", "d"]
    assert np.allclose(kv["b"], emb["b"], atol=1e-6)


def test_word2vec_rejects_names_with_spaces(tmp_path):
    e = Embeddings(np.zeros((1, 2), np.float32), Vocabulary(np.array(["a b"]), 1))
    with pytest.raises(OutputError, match="cannot hold the node name 'a b'"):
        e.to_word2vec(tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()


def test_shape_checks():
    with pytest.raises(ParameterError, match="2-D"):
        Embeddings(np.zeros(3))
    with pytest.raises(ParameterError, match="context"):
        Embeddings(np.zeros((3, 2)), context=np.zeros((2, 2)))


# ------------------------------------------------------------ named tables

def _kg():
    """Entities with string names, a context alias, relations with their own names."""
    ent = np.arange(12, dtype=np.float32).reshape(4, 3)
    rel = np.ones((2, 3), np.float32)
    return Embeddings(ent, Vocabulary(np.array(["a", "b", "c", "d"]), 4), primary="entity",
                      tables={"context": ent, "relation": rel},
                      vocabularies={"relation": Vocabulary(np.array(["likes", "knows"]), 2)},
                      metadata={"config": {"model": "transe"}, "stat": np.float32(1.5)})


def test_tables_api():
    e = _kg()
    assert e.primary == "entity" and list(e.tables) == ["entity", "context", "relation"]
    assert e.context is e.vectors and e.table("context") is e.vectors
    assert e.vocabulary_of("relation").names.tolist() == ["likes", "knows"]
    assert e.vocabulary_of("context") is e.vocabulary
    assert e.most_similar("likes", k=1, table="relation")[0][0] == "knows"
    assert "relation" in repr(e) and "context=entity" in repr(e)
    with pytest.raises(ParameterError, match="'entity', 'context', 'relation'"):
        e.table("nope")
    v = np.zeros((3, 2), np.float32)
    line = Embeddings(v, context=v)
    assert line.primary == "vertex" and line.context is line.vectors
    assert "vertex" not in repr(Embeddings(v))  # one table: no list


def test_save_load_tables(tmp_path):
    e = _kg()
    p = tmp_path / "kg.npz"
    e.save(p)
    with np.load(p) as z:  # the alias is stored once
        assert sorted(z.files) == ["metadata", "names.entity", "names.relation",
                                   "table.entity", "table.relation"]
    back = Embeddings.load(p)
    assert back.primary == "entity" and list(back.tables) == ["entity", "context", "relation"]
    assert back.context is back.vectors
    assert np.array_equal(back.table("relation"), e.table("relation"))
    assert back.vocabulary_of("relation").names.tolist() == ["likes", "knows"]
    assert back["c"].tolist() == e["c"].tolist()
    assert back.metadata["config"] == {"model": "transe"} and back.metadata["stat"] == 1.5
    assert back.metadata["vitegraph"]
    # int names stay ints, identity vocabularies are not stored
    ints = Embeddings(np.eye(3, dtype=np.float32), Vocabulary(np.array([7, 3, 5]), 3),
                      context=np.zeros((3, 3), np.float32))
    ints.save(p)
    back = Embeddings.load(p)
    assert back.node_names.tolist() == [7, 3, 5] and back.context is not back.vectors
    assert back[3].tolist() == [0, 1, 0]


def test_load_version_1(tmp_path):
    import json
    v = np.eye(2, dtype=np.float32)
    p = tmp_path / "old.npz"
    meta = {"format": "vitegraph.embeddings", "format_version": 1, "vitegraph": "0.0.9",
            "config": {"model": "line"}}
    np.savez(p, metadata=np.array(json.dumps(meta)), vectors=v, context=v * 3,
             node_names=np.array(["x", "y"]))
    e = Embeddings.load(p)
    assert e.primary == "vertex" and list(e.tables) == ["vertex", "context"]
    assert e["y"].tolist() == [0, 1] and e.context.tolist() == (v * 3).tolist()
    assert e.metadata == {"vitegraph": "0.0.9", "config": {"model": "line"}}
    np.savez(p, metadata=np.array(json.dumps(meta)), vectors=v)  # no names, no context
    e = Embeddings.load(p)
    assert e.context is None and e.node_names.tolist() == [0, 1]


def test_load_refuses_other_files(tmp_path):
    import json
    p = tmp_path / "x.npz"
    meta = {"format": "vitegraph.embeddings", "format_version": 3, "vitegraph": "9.0"}
    np.savez(p, metadata=np.array(json.dumps(meta)), vectors=np.eye(2))
    with pytest.raises(InputFormatError, match="newer vitegraph.*9.0.*version 3"):
        Embeddings.load(p)
    np.savez(p, metadata=np.array(json.dumps({"format": "other"})))
    with pytest.raises(InputFormatError, match="no format tag"):
        Embeddings.load(p)
    np.savez(p, vectors=np.eye(2))
    with pytest.raises(InputFormatError, match="not a saved vitegraph embedding"):
        Embeddings.load(p)
    np.save(tmp_path / "a.npy", np.eye(2))
    with pytest.raises(InputFormatError, match="not a saved vitegraph embedding"):
        Embeddings.load(tmp_path / "a.npy")
    (tmp_path / "t.npz").write_text("hello")
    with pytest.raises(InputFormatError, match="t.npz: not a saved vitegraph embedding"):
        Embeddings.load(tmp_path / "t.npz")


def test_table_checks():
    v = np.zeros((3, 2))
    with pytest.raises(ParameterError, match="'relation'.*2 rows"):
        Embeddings(v, tables={"relation": np.zeros((3, 2))},
                   vocabularies={"relation": Vocabulary(None, 2)})
    with pytest.raises(ParameterError, match="'hidden'.*3 rows"):
        Embeddings(v, tables={"hidden": np.zeros((4, 2))})
    with pytest.raises(ParameterError, match="'hidden'.*2-D"):
        Embeddings(v, tables={"hidden": np.zeros(3)})
    with pytest.raises(ParameterError, match="'context'.*either"):
        Embeddings(v, context=v, tables={"context": v})
    with pytest.raises(ParameterError, match="'vertex'"):
        Embeddings(v, tables={"vertex": v})
    with pytest.raises(ParameterError, match="'vocabularies'"):
        Embeddings(v, vocabularies={"nope": Vocabulary(None, 3)})
    with pytest.raises(ParameterError, match="'tables'"):
        Embeddings(v, tables={"a/b": v})


def test_word2vec_of_other_table(tmp_path):
    e = _kg()
    p = tmp_path / "rel.txt"
    e.to_word2vec(p, table="relation")
    back = Embeddings.from_word2vec(p)
    assert back.node_names.tolist() == ["likes", "knows"]
    assert np.array_equal(back.vectors, e.table("relation"))
    with pytest.raises(ParameterError, match="'table'"):
        e.to_word2vec(p, table="nope")


@pytest.mark.parametrize("ext", [".npz", ".txt", ".w2v", ".vec", ".bin"])
def test_read_by_extension(tmp_path, ext):
    v = np.array([[1, 2], [3, 4], [5, 6]], np.float32)
    e = Embeddings(v, Vocabulary(np.array([10, 2, 30]), 3))
    p = tmp_path / f"emb{ext}"
    if ext == ".npz":
        e.save(p)
    else:
        e.to_word2vec(p, binary=ext == ".bin")
    back = Embeddings.read(p)
    assert back.node_names.tolist() == [10, 2, 30]  # ints again, matching int node ids
    assert back[30].tolist() == [5, 6]
    if ext != ".npz":  # names that are not all ints stay strings
        s = Embeddings(v, Vocabulary(np.array(["1", "007", "x"]), 3))
        s.to_word2vec(p, binary=ext == ".bin")
        assert Embeddings.read(p).node_names.tolist() == ["1", "007", "x"]


def test_read_errors(tmp_path):
    with pytest.raises(InputFormatError, match=r"emb\.csv.*\.npz, \.txt, \.w2v, \.vec, \.bin"):
        Embeddings.read(tmp_path / "emb.csv")
    with pytest.raises(InputFormatError, match="no such file"):
        Embeddings.read(tmp_path / "missing.txt")
    p = tmp_path / "bad.txt"
    p.write_text("2 2\na 1 2\nb 1\n")
    with pytest.raises(InputFormatError, match=r"bad\.txt, line 3: expected a name and 2"):
        Embeddings.read(p)
    p.write_text("1 2\na 1 x\n")
    with pytest.raises(InputFormatError, match=r"line 2: values must be numbers"):
        Embeddings.read(p)
    b = tmp_path / "bad.bin"
    b.write_bytes(b"2 2\na " + np.ones(2, np.float32).tobytes() + b"\nb " + b"\0" * 3)
    with pytest.raises(InputFormatError, match=r"bad\.bin: .*(ends|bytes)"):
        Embeddings.read(b)
    b.write_bytes(b"oops\n")
    with pytest.raises(InputFormatError, match=r"bad\.bin, line 1: expected a 'count dim'"):
        Embeddings.read(b)


def test_read_binary_without_newlines(tmp_path):
    # gensim writes binary rows back to back, without the C tool's newline
    rows = np.array([[1, 2], [3, 4]], np.float32)
    p = tmp_path / "g.bin"
    p.write_bytes(b"2 2\n0 " + rows[0].tobytes() + b"1 " + rows[1].tobytes())
    e = Embeddings.read(p)
    assert e.node_names.tolist() == [0, 1] and np.array_equal(e.vectors, rows)
