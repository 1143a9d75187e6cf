"""Tables in a folder, paged through a memory budget: bitwise the in-memory run."""

import os

import numpy as np
import pytest

import vitegraph as vg
from vitegraph.datasets import planted_partition
from vitegraph.errors import ParameterError
from vitegraph.solver.paged import row_order_file
from vitegraph.solver.trainer import rows_in_id_order

KW = dict(num_epoch=8, num_workers=1, threads_per_block=1, num_sampler_threads=1,
          progress=False, seed=3)


@pytest.fixture(scope="module")
def graph():
    g, _ = planted_partition(600, 6, seed=1)
    return g


def one_block(n, dim, P, tables=2):
    """Bytes of the largest block: one partition of each table."""
    return tables * (-(-n // P)) * dim * 4


@pytest.mark.parametrize("model", ["deepwalk", "line"])
def test_paged_run_is_bitwise_the_memory_run(graph, model, tmp_path):
    kw = dict(KW, dim=16, num_partitions=3)
    a = vg.train(graph, model, **kw)
    b = vg.train(graph, model, table_storage=str(tmp_path / "t"),
                 table_memory=one_block(graph.num_nodes, 16, 3), **kw)
    assert b.stats.partition_loads > 9          # partitions were paged in and out
    assert b.stats.partition_evictions > 0
    assert b.stats.bytes_paged_in > 0 and b.stats.bytes_paged_out > 0
    for name in a.tables:
        np.testing.assert_array_equal(a.tables[name], b.tables[name])
    assert sorted(os.listdir(tmp_path / "t")) == ["context.rows.npy", "vertex.rows.npy"]


def test_paged_kg_model_with_relations_in_memory(tmp_path):
    rng = np.random.default_rng(0)
    kg = vg.KnowledgeGraph.from_names({"train": (rng.integers(0, 300, 3000),
                                                 rng.integers(0, 5, 3000),
                                                 rng.integers(0, 300, 3000))})
    kw = dict(num_epoch=3, dim=8, num_partitions=2, num_workers=1, threads_per_block=1,
              num_sampler_threads=1, progress=False, seed=1)
    a = vg.train(kg, "rotate", **kw)
    b = vg.train(kg, "rotate", table_storage=str(tmp_path), table_memory=10**6, **kw)
    for name in a.tables:
        np.testing.assert_array_equal(a.tables[name], b.tables[name])


def test_several_workers_wait_for_room(graph, tmp_path):
    """Two workers, room for a little more than one block: each waits for the
    other's partitions, and threads_per_block=1 keeps the result bitwise."""
    kw = dict(KW, dim=16, num_partitions=4, num_workers=2)
    a = vg.train(graph, "deepwalk", **kw)
    b = vg.train(graph, "deepwalk", table_storage=str(tmp_path),
                 table_memory=one_block(graph.num_nodes, 16, 4) * 3 // 2, **kw)
    for name in a.tables:
        np.testing.assert_array_equal(a.tables[name], b.tables[name])


def test_budget_below_one_block_and_other_backends_refused(graph, tmp_path):
    with pytest.raises(ParameterError, match="table_memory"):
        vg.train(graph, "deepwalk", table_storage=str(tmp_path), table_memory=1000,
                 num_partitions=2, **KW)
    with pytest.raises(ParameterError, match="table_storage"):
        vg.train(graph, "deepwalk", table_storage=str(tmp_path), backend="torch", **KW)


def test_automatic_partitions_fit_the_budget(graph, tmp_path):
    budget = 600 * 16 * 4 // 2     # a quarter of the two tables
    r = vg.train(graph, "deepwalk", dim=16, table_storage=str(tmp_path),
                 table_memory=budget, **KW)
    P = r.config.num_partitions
    assert P == 8                   # a block (one partition of each table) <= budget / 2
    assert one_block(600, 16, P) <= budget // 2
    assert r.stats.partition_evictions > 0


def test_rows_back_in_id_order():
    rng = np.random.default_rng(0)
    order = rng.permutation(1000).astype(np.int32)
    ids = rng.random((1000, 5)).astype(np.float32)       # row r's values
    stored = ids[order].copy()                           # storage order
    np.testing.assert_array_equal(rows_in_id_order(stored.copy(), order), ids)


def test_row_order_file_windows(tmp_path):
    rng = np.random.default_rng(1)
    order = rng.permutation(777)
    ids = rng.random((777, 3)).astype(np.float32)
    out = row_order_file(ids[order], order, str(tmp_path / "x.npy"), window_bytes=100)
    np.testing.assert_array_equal(out, ids)
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), ids)


def test_saved_tables_and_graphs_load_memory_mapped(graph, tmp_path):
    from vitegraph.cli.main import main
    emb = vg.DeepWalk(dim=8, num_epoch=2, progress=False, num_workers=1).fit(graph).embeddings_
    emb.save(tmp_path / "e.npz")
    mapped = vg.Embeddings.load(tmp_path / "e.npz", mmap=True)
    base = mapped.vectors
    while not isinstance(base, np.memmap):
        base = base.base
    np.testing.assert_array_equal(mapped.vectors, emb.vectors)
    np.testing.assert_array_equal(mapped.context, emb.context)
    assert mapped.metadata == vg.Embeddings.load(tmp_path / "e.npz").metadata

    src, dst, _ = graph.edges()
    text = tmp_path / "g.txt"
    text.write_text("".join(f"{a} {b}\n" for a, b in zip(src, dst)))
    assert main(["-q", "convert", str(text), str(tmp_path / "g.graph")]) == 0
    g = vg.Graph.load(tmp_path / "g.graph", mmap=True)
    assert isinstance(g.indices, np.memmap)
    np.testing.assert_array_equal(g.indices, vg.read_edgelist(text).indices)
    assert main(["-q", "embed", str(tmp_path / "g.graph"), "-o", str(tmp_path / "x.npz"),
                 "--epochs", "1", "--dim", "8"]) == 0
    assert main(["-q", "convert", str(text), str(text)]) != 0      # never over the input
