"""ProNE peer: the ``nodevectors`` package's ProNE on an edge list, timed.

Run with the peer venv's interpreter (nodevectors needs numpy < 2, pandas < 3;
see the venv at bench/_work/prone-venv):

    bench/_work/prone-venv/bin/python bench/prone_peer.py \
        ../shared/data/blogcatalog out.npy [--dim 128] [--seed 0]

EDGES is an edge-list file (``u v`` or ``u v w`` per line, whitespace separated,
0-based integer ids) or a dataset folder holding ``edges.txt``.  The graph is
undirected: each listed pair is put in both directions of a scipy
``csr_matrix`` (n x n, n = max id + 1 or ``--num-nodes``), duplicates collapse
and every stored entry is 1 (``--weighted`` keeps a third column as the weight
instead, duplicates summed).  The matrix is float32, as nodevectors' own
networkx path makes it (that path is broken with networkx >= 3:
``nx.adj_matrix`` is gone, so a CSR matrix is passed directly; csrgraph
requires ``scipy.sparse.csr_matrix``, not ``csr_array``).  With a CSR input
csrgraph names node i by i and keeps row order, and ``fit_transform`` returns
rows in that order, so output row i = node id i.

ProNE(n_components=dim, step=10, mu=0.2, theta=0.5, exponent=0.75) -- the
constructor's parameters (``--step/--mu/--theta/--exponent`` override).
ProNE has no seed parameter: its randomized SVD uses ``random_state=None``,
i.e. numpy's global RandomState, so ``--seed`` calls ``np.random.seed`` before
fitting, which makes runs repeatable (``--seed -1``: leave it unseeded).

Prints one JSON line: seconds for ``import`` (numpy, scipy, nodevectors),
``graph`` (read file + build CSR), ``fit``, ``save`` and ``total`` (from the
first statement of this script, before any import, to after the save;
interpreter start-up is excluded).  ``since_exec_s`` adds the interpreter
start, from /proc/self/stat (10 ms resolution; null if unavailable).
"""

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


def _since_exec():
    """Wall seconds since this process was exec'd (Linux /proc), else None."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 (starttime), after pid and comm
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except Exception:
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("edges", help="edge-list file, or a folder holding edges.txt")
    ap.add_argument("output", help=".npy path for the float32 embedding (row i = node i)")
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0,
                    help="np.random.seed before fit (ProNE has no seed of its own); -1: none")
    ap.add_argument("--step", type=int, default=10)
    ap.add_argument("--mu", type=float, default=0.2)
    ap.add_argument("--theta", type=float, default=0.5)
    ap.add_argument("--exponent", type=float, default=0.75)
    ap.add_argument("--num-nodes", type=int, default=None,
                    help="node count (default: max id + 1)")
    ap.add_argument("--weighted", action="store_true",
                    help="use a third column as edge weight (default: unweighted)")
    args = ap.parse_args(argv)

    t = time.perf_counter()
    import numpy as np
    from scipy import sparse
    from nodevectors import ProNE
    t_import = time.perf_counter() - t

    t = time.perf_counter()
    path = args.edges
    if os.path.isdir(path):
        path = os.path.join(path, "edges.txt")
    flat = np.fromfile(path, sep=" ")  # any whitespace separates
    with open(path) as f:
        ncol = len(f.readline().split())
    if ncol not in (2, 3) or flat.size % ncol:
        sys.exit(f"{path}: expected 2 or 3 columns per line")
    tab = flat.reshape(-1, ncol)
    u = tab[:, 0].astype(np.int64)
    v = tab[:, 1].astype(np.int64)
    n = args.num_nodes if args.num_nodes is not None else int(max(u.max(), v.max())) + 1
    if args.weighted:
        if ncol < 3:
            sys.exit("--weighted needs a third column")
        w = tab[:, 2].astype(np.float32)
        off = u != v  # self-loops once, other pairs both ways
        rows = np.concatenate([u, v[off]])
        cols = np.concatenate([v, u[off]])
        vals = np.concatenate([w, w[off]])
        mat = sparse.csr_matrix((vals, (rows, cols)), shape=(n, n), dtype=np.float32)
    else:
        rows = np.concatenate([u, v])
        cols = np.concatenate([v, u])
        mat = sparse.csr_matrix((np.ones(rows.size, np.float32), (rows, cols)),
                                shape=(n, n), dtype=np.float32)
        mat.data[:] = 1.0  # duplicates and self-loops: one entry of 1
    mat.sort_indices()
    t_graph = time.perf_counter() - t

    t = time.perf_counter()
    if args.seed >= 0:
        np.random.seed(args.seed)
    model = ProNE(n_components=args.dim, step=args.step, mu=args.mu, theta=args.theta,
                  exponent=args.exponent, verbose=False)
    emb = model.fit_transform(mat)
    fit_dtype = str(np.asarray(emb).dtype)
    emb = np.ascontiguousarray(emb, dtype=np.float32)
    t_fit = time.perf_counter() - t
    if emb.shape != (n, args.dim):
        sys.exit(f"unexpected embedding shape {emb.shape}")

    t = time.perf_counter()
    np.save(args.output, emb)
    t_save = time.perf_counter() - t
    total = time.perf_counter() - T0
    since_exec = _since_exec()

    print(json.dumps({
        "peer": "nodevectors.ProNE",
        "nodes": n, "nnz": int(mat.nnz), "dim": args.dim, "step": args.step,
        "mu": args.mu, "theta": args.theta, "exponent": args.exponent,
        "seed": args.seed if args.seed >= 0 else None,
        "fit_output_dtype": fit_dtype,
        "import_s": round(t_import, 4), "graph_s": round(t_graph, 4),
        "fit_s": round(t_fit, 4), "save_s": round(t_save, 4),
        "total_s": round(total, 4),
        "since_exec_s": round(since_exec, 2) if since_exec is not None else None,
        "output": args.output,
    }))


if __name__ == "__main__":
    main()
