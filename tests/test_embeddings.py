"""The Embeddings object: lookup, similarity, save/load, word2vec export."""

import numpy as np
import pytest

from vitegraph.embeddings import Embeddings
from vitegraph.errors import InputFormatError, ParameterError, UnknownNodeError
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
    with pytest.raises(ParameterError, match="without whitespace"):
        e.to_word2vec(tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()


def test_shape_checks():
    with pytest.raises(ParameterError, match="2-D"):
        Embeddings(np.zeros(3))
    with pytest.raises(ParameterError, match="context"):
        Embeddings(np.zeros((3, 2)), context=np.zeros((2, 2)))
