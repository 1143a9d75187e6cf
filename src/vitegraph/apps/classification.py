"""Node classification with the DeepWalk protocol (Perozzi et al., KDD 2014).

For each train ratio r and each of ``repeats`` seeded splits of the *labelled*
nodes, fit one-vs-rest L2-regularised logistic regression (liblinear's model:
C = 1, regularised intercept) on the training nodes; predict for each test node its k highest-scoring labels, k being
its true number of labels; report Micro-F1 and Macro-F1 in percent, mean and
standard deviation over the repeats.  On single-label data top-1 is the argmax
and accuracy is reported too (it equals Micro-F1 there).

Conventions (so numbers can be compared with published ones):

- Splits: repeat j shuffles the labelled nodes with a generator seeded by
  ``(seed, j)``; ratio r trains on the first ``floor(r * n_labelled)`` of that
  order and tests on the rest.  The splits of one repeat are nested across
  ratios, and the result for a ratio does not depend on which other ratios were
  asked for.
- Classes are the label columns with at least one labelled node; empty columns
  (label ids that never occur) are dropped.
- Macro-F1 averages over all those classes.  A class that is neither in a test
  split nor predicted there scores 0, as in scikit-learn's ``f1_score`` on
  indicator matrices with ``zero_division=0`` and in the DeepWalk reference
  scorer.  (BlogCatalog's smallest class has 8 nodes, so at 90% this happens.)
- A class with no positive (or only positive) training nodes in a split gets a
  constant score of -inf (+inf) instead of a fitted classifier.
- Ties between scores are broken towards the lower class index.
- Standard deviations are population standard deviations (``ddof=0``).

Solvers: ``"liblinear"`` fits each class with scikit-learn's
``LogisticRegression(solver="liblinear")``; ``"newton"`` (default) solves the
same convex problem for all classes together (:mod:`._logistic`).  Both reach
the same optimum within liblinear's tolerance: on BlogCatalog (NetMF
embeddings, 3 repeats) their Micro- and Macro-F1 agree within 0.05 points, and
"newton" is about 5 times faster (3 ratios x 5 repeats: about 10 s instead of
about 50 s on 2 busy cores).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from typing import Iterable, Optional, Sequence

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from ..errors import ParameterError
from . import protocols
from ._checks import (as_embedding_matrix, as_int_array, check_bool, check_int, check_n_jobs,
                      check_real, check_seed, describe)
from ._logistic import fit_ovr_logistic

__all__ = ["RatioScores", "ClassificationResult", "label_matrix", "predict_top_k",
           "node_classification"]

logger = logging.getLogger(__name__)

_LABEL_FORMS = ("a scipy.sparse indicator matrix [num_nodes, num_classes], a (k, 2) int "
                "array of (node, label) pairs or a 1-D int array of one label per node "
                "(-1 = unlabelled)")
_SOLVERS = ("newton", "liblinear")


@dataclass(frozen=True)
class RatioScores:
    """Scores at one train ratio, in percent, over ``len(micro_f1_runs)`` repeats.

    ``accuracy`` and ``accuracy_std`` are ``None`` on multi-label data.
    """

    train_ratio: float
    n_train: int
    n_test: int
    micro_f1: float
    micro_f1_std: float
    macro_f1: float
    macro_f1_std: float
    accuracy: Optional[float]
    accuracy_std: Optional[float]
    micro_f1_runs: tuple[float, ...]
    macro_f1_runs: tuple[float, ...]


@dataclass(frozen=True)
class ClassificationResult:
    """What :func:`node_classification` measured, one :class:`RatioScores` per ratio."""

    scores: tuple[RatioScores, ...]
    multilabel: bool
    num_labelled: int
    num_classes: int
    repeats: int
    seed: int
    C: float
    l2_normalize: bool
    solver: str

    def for_ratio(self, train_ratio: float) -> RatioScores:
        """The scores measured at ``train_ratio``."""
        for s in self.scores:
            if math.isclose(s.train_ratio, train_ratio):
                return s
        raise ParameterError("ClassificationResult.for_ratio", "train_ratio",
                             f"one of {[s.train_ratio for s in self.scores]}", train_ratio)

    def to_dict(self) -> dict:
        """Plain dicts, lists, floats and ints, ready for ``json.dump``."""
        d = asdict(self)
        d["scores"] = [dict(s, micro_f1_runs=list(s["micro_f1_runs"]),
                            macro_f1_runs=list(s["macro_f1_runs"])) for s in d["scores"]]
        return d

    def format_table(self) -> str:
        """A fixed-width text table, one row per train ratio."""
        kind = "multi-label" if self.multilabel else "single-label"
        lines = [f"node classification: {kind}, {self.num_labelled} labelled nodes, "
                 f"{self.num_classes} classes, {self.repeats} repeats, C={self.C:g} "
                 f"({self.solver})"
                 + (", L2-normalised" if self.l2_normalize else "")]
        head = f"{'train':>7} {'n_train':>8} {'n_test':>8} {'Micro-F1':>14} {'Macro-F1':>14}"
        if not self.multilabel:
            head += f" {'Accuracy':>14}"
        lines.append(head)
        for s in self.scores:
            row = (f"{s.train_ratio * 100:>6.4g}% {s.n_train:>8d} {s.n_test:>8d} "
                   f"{s.micro_f1:>7.2f} ± {s.micro_f1_std:<4.2f} "
                   f"{s.macro_f1:>7.2f} ± {s.macro_f1_std:<4.2f}")
            if s.accuracy is not None:
                row += f" {s.accuracy:>7.2f} ± {s.accuracy_std:<4.2f}"
            lines.append(row)
        return "\n".join(lines)


def label_matrix(labels, num_nodes: int) -> sp.csr_matrix:
    """Node labels as a boolean CSR indicator matrix ``[num_nodes, num_classes]``.

    ``labels`` is one of:

    - a scipy.sparse matrix ``[num_nodes, num_classes]``: a nonzero entry means the
      node has that label (explicit zeros do not count);
    - a ``(k, 2)`` int array of ``(node, label)`` pairs (repeats are harmless);
      ``num_classes`` is the largest label + 1;
    - a 1-D int array of length ``num_nodes``, one label per node, ``-1`` for a
      node without a label.

    A dense 2-D array is always read as pairs.  Nodes without any label have an
    empty row.
    """
    owner = "label_matrix"
    num_nodes = check_int(owner, "num_nodes", num_nodes, minimum=1)
    if sp.issparse(labels):
        if labels.ndim != 2 or labels.shape[0] != num_nodes:
            raise ParameterError(owner, "labels",
                                 f"a sparse indicator matrix with {num_nodes} rows (one per "
                                 f"node)", f"shape {labels.shape}")
        m = sp.csr_matrix(labels, copy=True)
        m.eliminate_zeros()
        return sp.csr_matrix((np.ones(m.nnz, dtype=bool), m.indices, m.indptr),
                             shape=m.shape)
    try:
        ndim = np.ndim(labels)
    except ValueError:  # ragged nested lists
        ndim = -1
    if ndim not in (1, 2):
        raise ParameterError(owner, "labels", _LABEL_FORMS, type(labels).__name__)
    arr = as_int_array(labels, owner, "labels", ndim=ndim, expected=_LABEL_FORMS)
    if arr.ndim == 1:
        if arr.shape[0] != num_nodes:
            raise ParameterError(owner, "labels",
                                 f"a 1-D label array of length {num_nodes} (one per node)",
                                 f"length {arr.shape[0]}")
        if arr.size and arr.min() < -1:
            raise ParameterError(owner, "labels", "labels >= 0, or -1 for unlabelled",
                                 f"label {int(arr.min())}")
        nodes = np.flatnonzero(arr >= 0)
        classes = arr[nodes]
    else:
        if arr.shape[1] != 2:
            raise ParameterError(owner, "labels", _LABEL_FORMS, describe(arr))
        nodes, classes = arr[:, 0], arr[:, 1]
        if nodes.size and (nodes.min() < 0 or nodes.max() >= num_nodes):
            bad = nodes[(nodes < 0) | (nodes >= num_nodes)][0]
            raise ParameterError(owner, "labels", f"(node, label) pairs with node ids in "
                                 f"[0, {num_nodes})", f"node id {int(bad)}")
        if classes.size and classes.min() < 0:
            raise ParameterError(owner, "labels", "(node, label) pairs with labels >= 0",
                                 f"label {int(classes.min())}")
    num_classes = int(classes.max()) + 1 if classes.size else 0
    m = sp.csr_matrix((np.ones(nodes.size, dtype=bool), (nodes, classes)),
                      shape=(num_nodes, num_classes))
    m.sum_duplicates()
    return m


def predict_top_k(scores, k) -> np.ndarray:
    """Boolean ``[n, C]`` prediction: row i marks its ``k[i]`` highest scores.

    Ties are broken towards the lower column index.  ``k[i]`` must lie in
    ``[0, C]``.
    """
    owner = "predict_top_k"
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ParameterError(owner, "scores", "a 2-D array [n, num_classes]", describe(s))
    kk = as_int_array(k, owner, "k", ndim=1, expected="a 1-D int array with one k per row")
    if kk.shape[0] != s.shape[0]:
        raise ParameterError(owner, "k", f"one value per row of scores ({s.shape[0]})",
                             f"length {kk.shape[0]}")
    if kk.size and (kk.min() < 0 or kk.max() > s.shape[1]):
        raise ParameterError(owner, "k", f"values in [0, {s.shape[1]}]",
                             f"range [{int(kk.min())}, {int(kk.max())}]")
    order = np.argsort(-s, axis=1, kind="stable")
    chosen = np.arange(s.shape[1])[None, :] < kk[:, None]
    pred = np.zeros(s.shape, dtype=bool)
    pred[np.repeat(np.arange(s.shape[0]), kk), order[chosen]] = True
    return pred


def _fit_liblinear(x_train: np.ndarray, y_train: np.ndarray, C: float,
                   seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One scikit-learn liblinear fit per class; constant columns as in
    :func:`~vitegraph.apps._logistic.fit_ovr_logistic`."""
    num_classes = y_train.shape[1]
    coef = np.zeros((num_classes, x_train.shape[1]))
    intercept = np.zeros(num_classes)
    for c in range(num_classes):
        y = y_train[:, c]
        if not y.any() or y.all():
            intercept[c] = math.inf if y.all() else -math.inf
            continue
        clf = LogisticRegression(solver="liblinear", C=C, random_state=seed)
        clf.fit(x_train, y)
        coef[c], intercept[c] = clf.coef_[0], clf.intercept_[0]
    return coef, intercept


def _evaluate_split(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray,
                    C: float, solver: str, seed: int) -> tuple[float, float, float]:
    """Fit on ``train``, predict top-k on ``test``: (Micro-F1, Macro-F1, accuracy)."""
    x_train = np.ascontiguousarray(x[train])
    if solver == "newton":
        coef, intercept = fit_ovr_logistic(x_train, y[train], C)
    else:
        coef, intercept = _fit_liblinear(x_train, y[train], C, seed)
    y_test = y[test]
    finite = np.isfinite(intercept)
    scores = np.empty((test.size, y.shape[1]))
    scores[:, finite] = x[test] @ coef[finite].T + intercept[finite]
    scores[:, ~finite] = intercept[~finite]
    pred = predict_top_k(scores, y_test.sum(axis=1))
    micro, macro = _f1_scores(y_test, pred)
    return micro, macro, float(np.mean((pred & y_test).any(axis=1)))


def _f1_scores(truth: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Micro- and Macro-F1 (fractions) of boolean ``[n, C]`` matrices."""
    tp = np.count_nonzero(truth & pred, axis=0).astype(np.float64)
    fp = np.count_nonzero(pred & ~truth, axis=0)
    fn = np.count_nonzero(truth & ~pred, axis=0)
    denom = 2 * tp + fp + fn
    micro = 2 * tp.sum() / denom.sum() if denom.sum() else 0.0
    per_class = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return float(micro), float(per_class.mean())


def _split_sizes(ratios: Sequence[float], n: int) -> list[int]:
    # the tiny epsilon keeps 0.29 * 100 from flooring to 28
    return [int(math.floor(r * n + 1e-9)) for r in ratios]


def _check_ratios(train_ratios, owner: str) -> tuple[float, ...]:
    expected = "a non-empty sequence of distinct floats in (0, 1)"
    if isinstance(train_ratios, (str, bytes)) or not isinstance(train_ratios, Iterable):
        raise ParameterError(owner, "train_ratios", expected, describe(train_ratios))
    ratios = tuple(train_ratios)
    if not ratios:
        raise ParameterError(owner, "train_ratios", expected, ratios)
    out = tuple(check_real(owner, "train_ratios", r, low=0.0, high=1.0, expected=expected)
                for r in ratios)
    if len(set(out)) != len(out):
        raise ParameterError(owner, "train_ratios", expected, ratios)
    return out


def node_classification(embeddings, labels, *,
                        train_ratios: Sequence[float] = protocols.TRAIN_RATIOS,
                        repeats: int = protocols.REPEATS, C: float = protocols.C,
                        l2_normalize: bool = False,
                        solver: str = "newton", seed: int = 0, n_jobs: Optional[int] = None,
                        progress: bool = False) -> ClassificationResult:
    """Evaluate ``embeddings`` by node classification (DeepWalk protocol).

    Parameters
    ----------
    embeddings : float array [num_nodes, dim]
        Row i is node i (usually the vertex table).
    labels
        See :func:`label_matrix`: a sparse indicator matrix, ``(node, label)``
        pairs, or one label per node with -1 for none.  Nodes without a label
        take no part.
    train_ratios
        Fractions of the labelled nodes used for training, each in (0, 1).
    repeats
        Random splits per ratio (seeded by ``(seed, repeat)``).
    C
        Inverse regularisation strength of the logistic regression, as in
        scikit-learn.
    l2_normalize
        Scale every embedding row to unit length before fitting.  Off by
        default, as in the classic protocol.  Measured on BlogCatalog (3 repeats,
        C = 1) with a spectral embedding (NetMF, window 1, dim 128): it changes
        Micro-F1 by less than one point at every ratio, so raw vectors are kept
        for comparability; it matters more for embeddings whose row norms
        vary with node degree, such as raw SGD vertex tables.
    seed
        Seed of the splits (and of liblinear).  Same inputs, same seed, same
        result, whatever ``n_jobs``.
    n_jobs
        Threads for the per-class fits (joblib; liblinear releases the GIL).
        ``None`` or 1: serial; -1: all cores.
    progress
        Show a tqdm bar over the splits.

    Returns
    -------
    ClassificationResult
        One :class:`RatioScores` per ratio, in the order given.

    Raises
    ------
    ParameterError
        On a malformed argument, fewer than two classes, or a ratio that would
        leave the training or the test split empty.
    """
    owner = "node_classification"
    ratios = _check_ratios(train_ratios, owner)
    repeats = check_int(owner, "repeats", repeats, minimum=1)
    C = check_real(owner, "C", C, low=0.0, high=math.inf, expected="a positive float")
    l2_normalize = check_bool(owner, "l2_normalize", l2_normalize)
    if not isinstance(solver, str) or solver not in _SOLVERS:
        raise ParameterError(owner, "solver", f"one of {_SOLVERS}", solver)
    seed = check_seed(owner, seed)
    n_jobs = check_n_jobs(owner, n_jobs)
    progress = check_bool(owner, "progress", progress)
    x = as_embedding_matrix(embeddings, owner, "embeddings")
    num_nodes = x.shape[0]
    try:
        y_all = label_matrix(labels, num_nodes)
    except ParameterError as e:  # re-own the error: the user called node_classification
        raise ParameterError(owner, "labels", e.expected, e.got) from None

    labelled = np.flatnonzero(np.diff(y_all.indptr) > 0)
    classes = np.flatnonzero(np.bincount(y_all.indices, minlength=y_all.shape[1]) > 0)
    if classes.size < 2:
        raise ParameterError(owner, "labels", "labels of at least 2 classes",
                             f"{classes.size} class(es)")
    y = y_all[labelled][:, classes].toarray()
    x = x[labelled]
    if l2_normalize:
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x = x / np.where(norms > 0, norms, 1.0)
    n = labelled.size
    multilabel = bool((y.sum(axis=1) > 1).any())
    sizes = _split_sizes(ratios, n)
    for r, n_train in zip(ratios, sizes):
        if n_train < 1 or n_train > n - 1:
            raise ParameterError(owner, "train_ratios",
                                 f"ratios that leave at least one of the {n} labelled "
                                 f"nodes in the training and in the test split", r)

    # splits: nested across ratios within one repeat
    splits = []
    for rep in range(repeats):
        order = np.random.default_rng([seed, rep]).permutation(n)
        for i, n_train in enumerate(sizes):
            splits.append((i, rep, order[:n_train], order[n_train:]))
    splits.sort(key=lambda split: -split[2].size)  # largest first: balances the workers

    micro = np.zeros((len(ratios), repeats))
    macro = np.zeros_like(micro)
    acc = np.zeros_like(micro)
    started = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(splits), desc="node classification", unit="split")
    try:
        # one BLAS thread per worker: no oversubscription, and the same
        # arithmetic (so the same result) whatever n_jobs is
        with threadpool_limits(limits=1, user_api="blas"), \
                Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator") as parallel:
            results = parallel(delayed(_evaluate_split)(x, y, train, test, C, solver, seed)
                               for _, _, train, test in splits)
            for (i, rep, _, _), (mi, ma, ac) in zip(splits, results):
                micro[i, rep], macro[i, rep], acc[i, rep] = mi, ma, ac
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    logger.info("node classification: %d splits x %d classes in %.1f s (%s)",
                len(splits), classes.size, time.perf_counter() - started, solver)

    micro, macro, acc = micro * 100, macro * 100, acc * 100
    scores_out = []
    for i, r in enumerate(ratios):
        scores_out.append(RatioScores(
            train_ratio=r, n_train=sizes[i], n_test=n - sizes[i],
            micro_f1=float(micro[i].mean()), micro_f1_std=float(micro[i].std()),
            macro_f1=float(macro[i].mean()), macro_f1_std=float(macro[i].std()),
            accuracy=None if multilabel else float(acc[i].mean()),
            accuracy_std=None if multilabel else float(acc[i].std()),
            micro_f1_runs=tuple(float(v) for v in micro[i]),
            macro_f1_runs=tuple(float(v) for v in macro[i])))
    return ClassificationResult(scores=tuple(scores_out), multilabel=multilabel,
                                num_labelled=int(n), num_classes=int(classes.size),
                                repeats=repeats, seed=seed, C=C, l2_normalize=l2_normalize,
                                solver=solver)
