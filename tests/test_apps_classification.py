"""Node classification (DeepWalk protocol): metrics, label forms, splits, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from vitegraph.apps import (ClassificationResult, label_matrix, node_classification,
                            predict_top_k)
from vitegraph.apps._logistic import fit_ovr_logistic
from vitegraph.apps.classification import _f1_scores
from vitegraph.errors import ParameterError, VitegraphError


def _data_dir() -> Path:
    env = os.environ.get("VITEGRAPH_DATA")
    return Path(env) if env else Path(__file__).parents[1] / ".." / "shared" / "data"


def _single_label_data(n_per_class=20, num_classes=3, dim=6, noise=0.1, seed=0):
    """Embeddings that separate the classes perfectly: class c sits at 5 * e_c."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(num_classes), n_per_class)
    rng.shuffle(y)
    x = noise * rng.standard_normal((y.size, dim))
    x[np.arange(y.size), y] += 5.0
    return x, y


# --- top-k prediction and F1 ----------------------------------------------------

def test_predict_top_k_hand_made():
    scores = np.array([[0.1, 0.9, 0.5, -1.0],
                       [3.0, 2.0, 1.0, 0.0],
                       [-5.0, -1.0, -2.0, -3.0],
                       [0.0, 0.0, 0.0, 0.0]])
    pred = predict_top_k(scores, [2, 1, 3, 0])
    expected = np.array([[0, 1, 1, 0],
                         [1, 0, 0, 0],
                         [0, 1, 1, 1],
                         [0, 0, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(pred, expected)


def test_predict_top_k_breaks_ties_towards_lower_index_and_handles_inf():
    scores = np.array([[1.0, 2.0, 2.0, 2.0], [-np.inf, 0.0, np.inf, 0.0]])
    pred = predict_top_k(scores, [2, 2])
    np.testing.assert_array_equal(pred, [[0, 1, 1, 0], [0, 1, 1, 0]])


def test_predict_top_k_rejects_bad_k():
    with pytest.raises(ParameterError) as err:
        predict_top_k(np.zeros((2, 3)), [1, 4])
    assert err.value.name == "k"
    with pytest.raises(ParameterError):
        predict_top_k(np.zeros((2, 3)), [1])


def test_f1_matches_sklearn_on_indicator_matrices():
    rng = np.random.default_rng(3)
    truth = rng.random((50, 6)) < 0.3
    pred = rng.random((50, 6)) < 0.3
    truth[:, 4] = False  # a class absent from truth ...
    pred[:, 4] = False   # ... and never predicted: counts as 0 in Macro-F1
    micro, macro = _f1_scores(truth, pred)
    assert micro == pytest.approx(f1_score(truth, pred, average="micro", zero_division=0))
    assert macro == pytest.approx(f1_score(truth, pred, average="macro", zero_division=0))


# --- label forms -------------------------------------------------------------------

def test_label_matrix_three_forms_agree():
    per_node = np.array([2, -1, 0, 1, -1, 2])
    pairs = np.array([[0, 2], [2, 0], [3, 1], [5, 2], [5, 2]])  # a repeat is harmless
    dense = np.zeros((6, 3))
    dense[[0, 2, 3, 5], [2, 0, 1, 2]] = 1
    a = label_matrix(per_node, 6).toarray()
    b = label_matrix(pairs, 6).toarray()
    c = label_matrix(sp.csr_matrix(dense), 6).toarray()
    np.testing.assert_array_equal(a, dense.astype(bool))
    np.testing.assert_array_equal(b, a)
    np.testing.assert_array_equal(c, a)


def test_node_classification_label_forms_give_identical_results():
    x, y = _single_label_data(noise=2.0)
    pairs = np.stack([np.arange(y.size), y], axis=1)
    ind = sp.csr_matrix((np.ones(y.size), (np.arange(y.size), y)))
    kw = dict(train_ratios=(0.3, 0.7), repeats=2, seed=4)
    r1 = node_classification(x, y, **kw)
    assert node_classification(x, pairs, **kw) == r1
    assert node_classification(x, ind, **kw) == r1


def test_unlabelled_nodes_are_left_out():
    x, y = _single_label_data(noise=2.0)
    kw = dict(train_ratios=(0.5,), repeats=2, seed=1)
    base = node_classification(x, y, **kw)
    # interleave 25 unlabelled nodes with wild embeddings
    rng = np.random.default_rng(9)
    n = y.size + 25
    where = np.sort(rng.choice(n, size=y.size, replace=False))
    x2 = 100 * rng.standard_normal((n, x.shape[1]))
    y2 = np.full(n, -1)
    x2[where], y2[where] = x, y
    with_unlabelled = node_classification(x2, y2, **kw)
    assert with_unlabelled == base
    assert with_unlabelled.num_labelled == y.size
    s = with_unlabelled.scores[0]
    assert s.n_train + s.n_test == y.size


def test_empty_label_columns_are_dropped():
    x, y = _single_label_data()
    r = node_classification(x, y + 1, train_ratios=(0.5,), repeats=1)  # label 0 unused
    assert r.num_classes == 3


# --- quality on constructed embeddings ----------------------------------------------

def test_separable_single_label_scores_100():
    x, y = _single_label_data()
    r = node_classification(x, y, train_ratios=(0.2, 0.5), repeats=3)
    assert not r.multilabel
    for s in r.scores:
        assert s.micro_f1 == pytest.approx(100.0)
        assert s.macro_f1 == pytest.approx(100.0)
        assert s.accuracy == pytest.approx(100.0)
        assert s.micro_f1_std == pytest.approx(0.0)


def test_separable_multi_label_scores_100():
    rng = np.random.default_rng(2)
    n, c = 120, 4
    y = rng.random((n, c)) < 0.35
    y[~y.any(axis=1), 0] = True
    x = 4.0 * y + 0.1 * rng.standard_normal((n, c))
    r = node_classification(x, sp.csr_matrix(y), train_ratios=(0.5,), repeats=2)
    assert r.multilabel
    s = r.scores[0]
    assert s.accuracy is None and s.accuracy_std is None
    assert s.micro_f1 == pytest.approx(100.0)
    assert s.macro_f1 == pytest.approx(100.0)


def test_random_embeddings_score_near_chance():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 4, size=600)
    x = rng.standard_normal((600, 16))
    r = node_classification(x, y, train_ratios=(0.5,), repeats=3)
    s = r.scores[0]
    assert 15.0 < s.accuracy < 35.0  # chance is 25
    assert s.accuracy == pytest.approx(s.micro_f1)


def test_accuracy_equals_micro_f1_on_single_label():
    x, y = _single_label_data(noise=3.0)
    r = node_classification(x, y, train_ratios=(0.3, 0.6), repeats=2)
    for s in r.scores:
        assert s.accuracy == pytest.approx(s.micro_f1)


def test_class_missing_from_training_split_is_handled():
    x, y = _single_label_data()
    y = y.copy()
    y[0] = 7  # a class with a single node: absent from most training splits
    r = node_classification(x, y, train_ratios=(0.1, 0.9), repeats=3)
    assert r.num_classes == 4


def test_l2_normalize_ignores_row_scale():
    x, y = _single_label_data(noise=3.0)
    scale = np.random.default_rng(1).uniform(0.1, 10.0, size=(y.size, 1))
    kw = dict(train_ratios=(0.5,), repeats=2, l2_normalize=True)
    assert node_classification(x * scale, y, **kw).scores == \
        node_classification(x, y, **kw).scores


# --- the two solvers ---------------------------------------------------------------

@pytest.mark.parametrize("C", [0.1, 1.0, 10.0])
def test_newton_solver_matches_sklearn_liblinear(C):
    rng = np.random.default_rng(int(C * 10))
    n, d, k = 400, 8, 5
    x = rng.standard_normal((n, d)) * rng.uniform(0.2, 5.0, size=d)  # uneven scales
    w_true = rng.standard_normal((d, k))
    y = (x @ w_true + rng.standard_normal((n, k)) > 1.0)
    y[:, 4] = False  # no positive: never fitted
    coef, intercept = fit_ovr_logistic(x, y, C)
    assert intercept[4] == -np.inf and not coef[4].any()
    for c in range(4):
        ref = LogisticRegression(solver="liblinear", C=C).fit(x, y[:, c])
        scale = np.abs(ref.coef_[0]).max()
        np.testing.assert_allclose(coef[c], ref.coef_[0], atol=2e-3 * scale)
        assert intercept[c] == pytest.approx(ref.intercept_[0], abs=2e-3 * max(scale, 1))


def test_solvers_give_the_same_scores():
    rng = np.random.default_rng(8)
    n, c = 300, 5
    y = rng.random((n, c)) < 0.3
    y[~y.any(axis=1), 0] = True
    x = y @ rng.standard_normal((c, 12)) + 1.5 * rng.standard_normal((n, 12))
    kw = dict(train_ratios=(0.2, 0.7), repeats=2, seed=3)
    a = node_classification(x, sp.csr_matrix(y), solver="newton", **kw)
    b = node_classification(x, sp.csr_matrix(y), solver="liblinear", **kw)
    assert a.solver == "newton" and b.solver == "liblinear"
    for sa, sb in zip(a.scores, b.scores):
        assert sa.micro_f1_runs == pytest.approx(sb.micro_f1_runs, abs=0.5)
        assert sa.macro_f1_runs == pytest.approx(sb.macro_f1_runs, abs=0.5)


# --- determinism, splits, result object --------------------------------------------

def test_deterministic_given_seed_and_independent_of_n_jobs():
    x, y = _single_label_data(noise=3.0)
    kw = dict(train_ratios=(0.3, 0.6), repeats=3)
    a = node_classification(x, y, seed=11, n_jobs=1, **kw)
    assert node_classification(x, y, seed=11, n_jobs=2, **kw) == a
    b = node_classification(x, y, seed=12, **kw)
    assert b.scores[0].micro_f1_runs != a.scores[0].micro_f1_runs


def test_ratio_result_does_not_depend_on_other_ratios():
    x, y = _single_label_data(noise=3.0)
    both = node_classification(x, y, train_ratios=(0.3, 0.6), repeats=2)
    one = node_classification(x, y, train_ratios=(0.6,), repeats=2)
    assert both.for_ratio(0.6) == one.scores[0]


def test_split_sizes_floor_of_ratio():
    x, y = _single_label_data(n_per_class=10)  # 30 labelled nodes
    r = node_classification(x, y, train_ratios=(0.1, 0.29, 0.9), repeats=1)
    assert [(s.n_train, s.n_test) for s in r.scores] == [(3, 27), (8, 22), (27, 3)]


def test_result_to_dict_and_table():
    x, y = _single_label_data(noise=2.0)
    r = node_classification(x, y, train_ratios=(0.5,), repeats=2)
    assert isinstance(r, ClassificationResult)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["num_classes"] == 3 and d["repeats"] == 2
    assert d["scores"][0]["micro_f1"] == pytest.approx(r.scores[0].micro_f1)
    assert len(d["scores"][0]["micro_f1_runs"]) == 2
    table = r.format_table()
    assert "Micro-F1" in table and "Accuracy" in table and "50%" in table
    with pytest.raises(ParameterError):
        r.for_ratio(0.25)


# --- bad input ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, name", [
    (dict(embeddings=np.zeros(6)), "embeddings"),
    (dict(embeddings=np.full((6, 2), np.nan)), "embeddings"),
    (dict(embeddings=np.zeros((5, 2))), "labels"),           # one row short
    (dict(labels=np.array([0, 1, 0, 1, 0, -2])), "labels"),
    (dict(labels=np.array([[0, 1], [9, 0]])), "labels"),      # node id out of range
    (dict(labels=np.array([[0, -1], [1, 0]])), "labels"),     # negative label
    (dict(labels=np.array([[0, 1, 2]])), "labels"),           # 3 columns
    (dict(labels=np.zeros(6, dtype=int)), "labels"),          # one class only
    (dict(labels=np.array([0.5, 1, 0, 1, 0, 1])), "labels"),
    (dict(train_ratios=(0.0,)), "train_ratios"),
    (dict(train_ratios=(0.5, 1.0)), "train_ratios"),
    (dict(train_ratios=()), "train_ratios"),
    (dict(train_ratios="0.5"), "train_ratios"),
    (dict(train_ratios=(0.05,)), "train_ratios"),            # empty training split
    (dict(repeats=0), "repeats"),
    (dict(repeats=2.0), "repeats"),
    (dict(C=0.0), "C"),
    (dict(C=float("nan")), "C"),
    (dict(seed=-1), "seed"),
    (dict(n_jobs=0), "n_jobs"),
    (dict(l2_normalize="yes"), "l2_normalize"),
    (dict(solver="lbfgs"), "solver"),
])
def test_bad_arguments_raise_parameter_error_naming_them(kwargs, name):
    args = dict(embeddings=np.eye(6, 2), labels=np.array([0, 1, 0, 1, 0, 1]),
                train_ratios=(0.5,), repeats=1)
    args.update(kwargs)
    with pytest.raises(ParameterError) as err:
        node_classification(args.pop("embeddings"), args.pop("labels"), **args)
    assert err.value.name == name
    assert "node_classification" in str(err.value)
    assert isinstance(err.value, VitegraphError)


# --- real data ---------------------------------------------------------------------

_BLOGCATALOG = _data_dir() / "blogcatalog"


@pytest.mark.slow
@pytest.mark.skipif(not (_BLOGCATALOG / "labels.txt").is_file(),
                    reason=f"BlogCatalog not found at {_BLOGCATALOG} "
                           f"(set VITEGRAPH_DATA to the shared data folder)")
def test_blogcatalog_random_embeddings_near_chance():
    pairs = np.loadtxt(_BLOGCATALOG / "labels.txt", dtype=np.int64)
    num_nodes = 10312
    y = label_matrix(pairs, num_nodes)
    assert y.shape == (num_nodes, 39)
    x = np.random.default_rng(0).standard_normal((num_nodes, 128))
    r = node_classification(x, pairs, train_ratios=(0.1, 0.5), repeats=1, n_jobs=2)
    assert r.multilabel and r.num_labelled == num_nodes and r.num_classes == 39
    assert [s.n_train for s in r.scores] == [1031, 5156]
    # Chance level: predicting each test node's k most frequent classes gives
    # Micro-F1 about 16 and Macro-F1 about 2.5; random embeddings give 8-14 and
    # about 4.5 (measured); DeepWalk reaches 36-42 Micro-F1.
    for s in r.scores:
        assert 3.0 < s.micro_f1 < 20.0
        assert 0.5 < s.macro_f1 < 8.0
