"""Dataset registry (against ../shared/data when present) and synthetic graphs."""

import numpy as np
import pytest

from vitegraph.datasets import planted_partition
from vitegraph.datasets.registry import DATASETS, data_dir, dataset_files, load_dataset
from vitegraph.errors import InputFormatError, ParameterError

from conftest import DATA_DIR


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_registry_matches_files(name, data_dir):
    folder = data_dir(name)
    g, labels = load_dataset(name, folder.parent)
    d = DATASETS[name]
    assert (g.num_nodes, g.num_edges) == (d.num_nodes, d.num_edges)
    assert (labels.num_classes if labels else 0) == d.num_classes
    if labels is not None:
        assert labels.is_multilabel == d.multilabel


def test_missing_dataset_names_folder_and_files(tmp_path):
    with pytest.raises(InputFormatError, match=r"cora: dataset 'cora' not found: expected "
                                               r"edges.txt, labels.txt"):
        dataset_files("cora", tmp_path)
    with pytest.raises(ParameterError, match="did you mean 'cora'"):
        load_dataset("coraa", tmp_path)


def test_checksum_mismatch(tmp_path):
    (tmp_path / "karate").mkdir()
    (tmp_path / "karate" / "edges.txt").write_text("0 1\n")
    (tmp_path / "karate" / "labels.txt").write_text("0 0\n")
    with pytest.raises(InputFormatError, match="checksum mismatch"):
        load_dataset("karate", tmp_path)


def test_data_dir_resolution(monkeypatch, tmp_path):
    assert data_dir(tmp_path) == tmp_path
    monkeypatch.setenv("VITEGRAPH_DATA", str(tmp_path / "env"))
    assert data_dir() == tmp_path / "env"
    monkeypatch.delenv("VITEGRAPH_DATA")
    assert str(data_dir()).endswith(".vitegraph/data")
    assert DATA_DIR  # the tests' own default


def test_planted_partition_structure():
    g, labels = planted_partition(1000, 10, degree_in=12, degree_out=3, seed=1)
    assert g.num_nodes == 1000 and labels.num_classes == 10 and not labels.is_multilabel
    comm = labels.matrix.argmax(axis=1).A1
    src, dst, _ = g.edges()
    inside = np.mean(comm[src] == comm[dst])
    assert 0.75 < inside < 0.85  # 12 / (12 + 3) = 0.8 expected
    assert abs(2 * g.num_edges / 1000 - 15) < 1.0
    g2, _ = planted_partition(1000, 10, degree_in=12, degree_out=3, seed=1)
    assert np.array_equal(g.indices, g2.indices)


def test_planted_partition_bad_arguments():
    with pytest.raises(ParameterError, match="num_communities"):
        planted_partition(10, 6)
    with pytest.raises(ParameterError, match="degree_in"):
        planted_partition(10, 2, degree_in=-1)


def test_power_law_communities():
    from vitegraph.datasets import power_law_communities
    g, labels = power_law_communities(20_000, 100_000, 10, mixing=0.3, seed=1)
    assert g.num_nodes == 20_000 and 90_000 < g.num_edges <= 100_000
    deg = np.diff(g.indptr)
    assert deg.max() > 20 * np.median(deg[deg > 0]), "heavy-tailed degrees"
    comm = labels.matrix.indices
    src = np.repeat(np.arange(g.num_nodes), deg)
    inside = (comm[src] == comm[g.indices]).mean()
    assert abs(inside - (0.7 + 0.3 / 10)) < 0.03
    with pytest.raises(ParameterError, match="'exponent'"):
        power_law_communities(100, 200, 2, exponent=1.5)
