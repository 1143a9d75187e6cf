"""2-D pictures of embeddings coloured by label (matplotlib, an optional extra)."""

from __future__ import annotations

import os

import numpy as np

from .._atomic import atomic_write, check_output_file
from ..errors import ParameterError


def project_2d(vectors: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """``vectors`` [n, d] -> [n, 2] by PCA or t-SNE (scikit-learn)."""
    x = np.asarray(vectors, dtype=np.float64)
    if method == "pca":
        from sklearn.decomposition import PCA
        return PCA(n_components=2, random_state=seed).fit_transform(x)
    if method == "tsne":
        from sklearn.manifold import TSNE
        perplexity = float(min(30.0, max(2.0, (x.shape[0] - 1) / 3.0)))
        return TSNE(n_components=2, init="pca", random_state=seed,
                    perplexity=perplexity).fit_transform(x)
    raise ParameterError("project_2d", "method", "'pca' or 'tsne'", method)


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ParameterError("plot_embeddings", "matplotlib", "installed (pip install "
                             "'vitegraph[plot]')", "not installed") from None
    return plt


def image_format(path) -> str:
    """The image format of ``path`` by its extension (png when it has none), or
    an :class:`~vitegraph.errors.OutputError` listing the formats matplotlib
    writes.  Call it before the work that the image shows."""
    from ..errors import OutputError
    plt = _pyplot()
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    fig = plt.figure()
    try:
        known = fig.canvas.get_supported_filetypes()
    finally:
        plt.close(fig)
    if fmt not in known:
        raise OutputError(f"{path}: unknown image format {fmt!r}; use one of "
                          + ", ".join(f".{k}" for k in sorted(known)))
    return fmt


def plot_embeddings(embeddings, path, *, labels=None, method: str = "pca",
                    max_points: int = 10_000, seed: int = 0) -> None:
    """Draw ``embeddings`` (an :class:`~vitegraph.embeddings.Embeddings` or array)
    projected to 2-D into ``path``; nodes coloured by their first label when
    ``labels`` (a :class:`~vitegraph.graph.Labels`) is given.  Written to a
    temporary file and renamed."""
    plt = _pyplot()
    path = os.fspath(path)
    fmt = image_format(path)
    check_output_file(path)
    if not isinstance(max_points, int) or max_points < 2:
        raise ParameterError("plot_embeddings", "max_points", "an int >= 2", max_points)
    x = np.asarray(getattr(embeddings, "vectors", embeddings))
    rng = np.random.default_rng(seed)
    idx = np.arange(x.shape[0])
    if labels is not None:
        idx = idx[labels.labelled]
    if idx.size > max_points:
        idx = np.sort(rng.choice(idx, max_points, replace=False))
    xy = project_2d(x[idx], method, seed)
    fig, ax = plt.subplots(figsize=(7, 7), dpi=120)
    if labels is not None:
        m = labels.matrix[idx]
        first = np.asarray(m.argmax(axis=1)).ravel()
        k = labels.num_classes
        cmap = plt.get_cmap("tab20" if k > 10 else "tab10")
        ax.scatter(xy[:, 0], xy[:, 1], s=3, c=first % cmap.N, cmap=cmap, alpha=0.7,
                   linewidths=0)
        ax.set_title(f"{idx.size:,} nodes, {method.upper()}, coloured by label ({k} classes)")
    else:
        ax.scatter(xy[:, 0], xy[:, 1], s=3, alpha=0.6, linewidths=0)
        ax.set_title(f"{idx.size:,} nodes, {method.upper()}")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    try:
        atomic_write(path, lambda f: fig.savefig(f, format=fmt))
    finally:
        plt.close(fig)
