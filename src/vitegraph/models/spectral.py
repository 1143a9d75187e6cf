"""ProNE (Zhang et al., IJCAI 2019): a spectral model, solved without samples.

A :class:`~vitegraph.models.spec.DirectModel`: the engine's sampler, pools and
kernels are not involved; :meth:`ProNEModel.solve` computes the table from the
graph in two linear-algebra steps (:mod:`vitegraph.spectral`): a randomised
truncated SVD of ProNE's sparse proximity matrix, then the spectral
propagation (a Chebyshev-expanded band-pass filter of the graph's normalised
Laplacian), which :func:`vitegraph.propagate` also applies to any other
embedding and the ``propagate`` option of DeepWalk, LINE and node2vec applies
after their training.

Defaults are ProNE's published settings (10 Chebyshev terms, theta 0.5,
mu 0.2, negative exponent 0.75, 5 power iterations); ``dim`` is 128 like the
other models (``nodevectors`` defaults to 32).  Unlike ProNE's code, edge
weights enter the proximity matrix as the paper defines it (``p_ij = A_ij /
D_i``): in the reference code they cancel out of every entry.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from ..config.schema import AUTO, option
from .._threads import cpu_count
from ..config.train import PROPAGATE_HELP, PropagationConfig, model_field
from ..errors import ParameterError
from ..graph import Graph
from .estimator import Estimator
from .registry import register_model
from .spec import HEAD, DataInfo, DirectModel, GraphInput, Table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProNEConfig(PropagationConfig):
    """ProNE: sparse matrix factorisation, then spectral propagation."""

    model: str = model_field("prone")
    propagate: bool = option(True, "bool", PROPAGATE_HELP)
    negative_exponent: float = option(0.75, "float", "the proximity matrix's negative "
                                      "term is proportional to (in-weight of the random "
                                      "walk's steps) ** negative_exponent", minimum=0)
    svd_iterations: int = option(5, "int", "power iterations of the randomised SVD",
                                 minimum=0)
    num_threads: object = option(AUTO, "int", "threads of the sparse products; auto = CPU "
                                 "count", minimum=1, allow_auto=True)


class ProNEModel(GraphInput, DirectModel):
    name = "prone"
    title = "ProNE"
    summary = "spectral: sparse matrix factorisation + spectral propagation (no samples)"
    Config = ProNEConfig
    primary = "vertex"
    table_specs = (Table("vertex", HEAD),)

    def describe(self, graph: Graph) -> DataInfo:
        return DataInfo(num_nodes=graph.num_nodes, epoch_size=graph.num_edges,
                        partition_weight=np.empty(0), fingerprint=graph.fingerprint(),
                        vocabulary=graph.vocabulary, summary=graph.summary())

    def resolve(self, config, info: DataInfo) -> dict:
        if config.dim > info.num_nodes:
            raise ParameterError(config._owner, "dim", f"at most the number of nodes "
                                 f"({info.num_nodes})", config.dim)
        threads = cpu_count() if config.num_threads == AUTO else int(config.num_threads)
        return {"num_threads": threads}

    def memory_items(self, info: DataInfo, rc) -> list:
        n, d = info.num_nodes, rc.dim
        nnz = int(info.summary.get("num_stored_edges", 0))
        block = 4 * n * (d + 10)
        items = [("proximity matrix and its transpose", 2 * (12 * nnz + 8 * n), "-"),
                 ("n x dim blocks of the SVD and the propagation", 7 * block,
                  f"lower dim ({d})")]
        if rc.propagate:
            items.append(("propagation operators", 12 * (nnz + n) + 8 * n, "-"))
        return items

    def solve(self, graph: Graph, rc) -> dict:
        from ..spectral import factorize, propagate_matrix, proximity_matrix
        t0 = time.perf_counter()
        matrix = proximity_matrix(graph, rc.negative_exponent)
        x = factorize(matrix, rc.dim, seed=rc.seed, n_iter=rc.svd_iterations,
                      num_threads=rc.num_threads)
        del matrix
        t1 = time.perf_counter()
        log.info("ProNE factorisation: %d x %d in %.2f s", x.shape[0], x.shape[1], t1 - t0)
        if rc.propagate:
            x = propagate_matrix(graph, x, steps=rc.propagation_steps,
                                 theta=rc.propagation_theta, mu=rc.propagation_mu,
                                 num_threads=rc.num_threads)
        return {"vertex": x}

    def score(self, tables, heads, tails):
        """``vertex[u] . vertex[v]`` for each pair."""
        v = tables["vertex"]
        return np.einsum("nd,nd->n", v[np.asarray(heads)], v[np.asarray(tails)])


PRONE = register_model(ProNEModel())


class ProNE(Estimator):
    """ProNE: ``vg.ProNE(dim=128).fit(graph)``; ``embeddings_`` holds the vertex
    table.  Solved in closed form (seconds), no training samples."""

    model = PRONE
