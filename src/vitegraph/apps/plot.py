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


def point_style(n: int) -> tuple[float, float]:
    """Marker area and alpha for ``n`` points: large and opaque for a thousand,
    small and faint for a million, so dense clusters still show their shape."""
    size = float(np.clip(20000.0 / max(n, 1), 0.05, 12.0))
    alpha = float(np.clip(30000.0 / max(n, 1), 0.15, 0.9))
    return size, alpha


def _label_colours(labels, plt):
    """Class index of each point and the class names (sorted; "" = unlabelled)."""
    lab = np.asarray(labels).astype(str)
    classes, index = np.unique(lab, return_inverse=True)
    try:                      # numeric labels in numeric order (2 before 10)
        order = np.argsort([float(c) if c else np.inf for c in classes], kind="stable")
    except ValueError:
        return index, classes
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[index], classes[order]


def plot_layout(coords, path, *, labels=None, title: str = "", elev: float = 20.0,
                azim: float = -60.0, rotate: bool = False, frames: int = 72,
                max_animated: int = 50_000, seed: int = 0) -> list:
    """Draw a 2-D or 3-D layout ``coords`` [n, 2|3] into ``path``, points
    coloured by ``labels`` (one per point; ``""`` = unlabelled, drawn grey)
    with a legend of up to 30 classes.  A 3-D layout is drawn from ``elev``,
    ``azim``; with ``rotate`` a turning view is also written as a GIF beside
    ``path`` (at most ``max_animated`` points, a random subset).  Files are
    written to temporary names and renamed.  Returns the paths written."""
    plt = _pyplot()
    path = os.fspath(path)
    fmt = image_format(path)
    check_output_file(path)
    xy = np.asarray(coords, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] not in (2, 3):
        raise ParameterError("plot_layout", "coords", "an [n, 2] or [n, 3] array",
                             f"shape {xy.shape}")
    n, dim = xy.shape
    if labels is not None and len(labels) != n:
        raise ParameterError("plot_layout", "labels", f"one label per point ({n})",
                             len(labels))
    size, alpha = point_style(n)
    fig = plt.figure(figsize=(8, 8), dpi=130)
    ax = fig.add_subplot(projection="3d" if dim == 3 else None)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)       # no class is drawn wholly on top of another
    written = []

    def draw(ax, idx, s):
        pts = xy[idx]
        kw = dict(s=s, alpha=alpha, linewidths=0, rasterized=n > 20_000)
        if labels is None:
            ax.scatter(*pts.T, c="#1f77b4", **kw)
            return
        index, classes = _label_colours(labels, plt)
        k = len(classes)
        cmap = plt.get_cmap("tab10" if k <= 10 else "tab20" if k <= 20 else "turbo")
        colours = cmap(np.arange(k) % cmap.N) if k <= 20 else cmap(np.linspace(0, 1, k))
        col = colours[index[idx]]
        col[np.asarray(labels).astype(str)[idx] == ""] = (0.6, 0.6, 0.6, 1.0)
        ax.scatter(*pts.T, c=col, **kw)
        if k <= 30:
            from matplotlib.lines import Line2D
            handles = [Line2D([], [], marker="o", linestyle="", color=colours[c],
                              markersize=6, label=str(classes[c]) or "(none)")
                       for c in range(k)]
            ax.legend(handles=handles, loc="best", fontsize=8, frameon=False,
                      ncol=1 if k <= 15 else 2, markerscale=1.0)

    draw(ax, order, size)
    if dim == 3:
        ax.view_init(elev=elev, azim=azim)
    ax.set_title(title or f"{n:,} points" + (f", {len(np.unique(np.asarray(labels).astype(str)))}"
                                             " classes" if labels is not None else ""))
    for a in ("x", "y") + (("z",) if dim == 3 else ()):
        getattr(ax, f"set_{a}ticks")([])
    if dim == 2:
        ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    try:
        atomic_write(path, lambda f: fig.savefig(f, format=fmt))
        written.append(path)
    finally:
        plt.close(fig)
    if rotate and dim == 3:
        written.append(_rotating_gif(xy, path, draw, order[:max_animated], size, elev,
                                     frames, plt))
    return written


def _rotating_gif(xy, path, draw, idx, size, elev, frames, plt):
    """A turning view of a 3-D layout as ``<path stem>.gif`` (pillow)."""
    from matplotlib.animation import FuncAnimation, PillowWriter
    gif = os.path.splitext(path)[0] + ".gif"
    fig = plt.figure(figsize=(6, 6), dpi=90)
    ax = fig.add_subplot(projection="3d")
    draw(ax, idx, size)
    for a in ("x", "y", "z"):
        getattr(ax, f"set_{a}ticks")([])

    def turn(i):
        ax.view_init(elev=elev, azim=360.0 * i / frames)
        return ()
    anim = FuncAnimation(fig, turn, frames=frames, interval=80)
    try:
        import tempfile
        fd, tmp = tempfile.mkstemp(suffix=".gif", dir=os.path.dirname(os.path.abspath(gif)))
        os.close(fd)
        try:
            anim.save(tmp, writer=PillowWriter(fps=12))
            from .._atomic import _umask
            os.chmod(tmp, 0o666 & ~_umask())      # mkstemp makes it private
            os.replace(tmp, gif)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    finally:
        plt.close(fig)
    return gif
