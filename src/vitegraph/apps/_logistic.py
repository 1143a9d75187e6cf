"""One-vs-rest L2-regularised logistic regression for many classes at once.

Solves, for every label column c independently, the problem liblinear solves
for ``LogisticRegression(solver="liblinear", C=C)`` (its primal L2R_LR
formulation, intercept as an extra constant-1 feature that is regularised too)::

    min_w  0.5 * ||w||^2 + C * sum_i log(1 + exp(-s_ic * w . [x_i, 1]))

with ``s_ic = +1`` where node i has label c and -1 otherwise.  The objective is
strictly convex, so both solvers land on the same optimum up to their stopping
tolerance; the tests check that the coefficients agree with scikit-learn's
liblinear to a small relative error and that the F1 scores coincide.

Why a second solver: liblinear fits one class at a time with scalar loops over
its own sparse copy of the data.  Here all classes of a block advance together
(truncated Newton: Jacobi-preconditioned conjugate gradients for the Newton
step, Armijo backtracking per class), so every Hessian-vector product is two
dense matrix products over the whole block.  On BlogCatalog (39 classes, d=128)
that is about 5 times faster than liblinear, and 4-8 times at a 90% split.

Stopping rule, as in liblinear's primal solver: class c stops when
``||grad|| <= tol * max(min(pos_c, neg_c), 1) / n * ||grad at w = 0||``.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.special import expit, log_expit

logger = logging.getLogger(__name__)

_CLASS_BLOCK = 64       # classes solved together: bounds the [n, block] work arrays
_MAX_CG_STEPS = 250
_MAX_HALVINGS = 40
_ARMIJO = 1e-4
_CG_RELATIVE_TOL = 0.1  # inexact Newton: solve each step to 10% of the gradient


def fit_ovr_logistic(x: np.ndarray, y: np.ndarray, C: float, *, tol: float = 1e-4,
                     max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Fit one binary classifier per column of the boolean ``y[n, K]``.

    Returns ``(coef[K, d], intercept[K])``.  A column with no positive (or no
    negative) row gets zero coefficients and intercept -inf (+inf): it is never
    (always) ranked first, as no classifier can be fitted to one class.
    """
    n, d = x.shape
    num_classes = y.shape[1]
    xa = np.empty((n, d + 1))
    xa[:, :d] = x
    xa[:, d] = 1.0
    coef = np.zeros((num_classes, d))
    intercept = np.zeros(num_classes)
    positives = np.count_nonzero(y, axis=0)
    fit = np.flatnonzero((positives > 0) & (positives < n))
    intercept[positives == 0] = -np.inf
    intercept[positives == n] = np.inf
    for lo in range(0, fit.size, _CLASS_BLOCK):
        cols = fit[lo:lo + _CLASS_BLOCK]
        w = _newton_block(xa, y[:, cols], positives[cols], C, tol, max_iter)
        coef[cols] = w[:d].T
        intercept[cols] = w[d]
    return coef, intercept


def _objective(w: np.ndarray, margins: np.ndarray, C: float) -> np.ndarray:
    return 0.5 * np.einsum("ij,ij->j", w, w) - C * log_expit(margins).sum(axis=0)


def _newton_block(xa: np.ndarray, y: np.ndarray, positives: np.ndarray, C: float,
                  tol: float, max_iter: int) -> np.ndarray:
    """Weights ``[d + 1, k]`` for the k columns of ``y`` (each with both classes)."""
    n, p = xa.shape
    k = y.shape[1]
    sign = np.where(y, 1.0, -1.0)
    w = np.zeros((p, k))
    stop = tol * np.maximum(np.minimum(positives, n - positives), 1) / n
    xa_sq = xa * xa
    active = np.arange(k)
    margins = np.zeros((n, k))         # sign * (xa @ w) of the active columns
    first_norm = None
    for it in range(max_iter):
        s = sign[:, active]
        wa = w[:, active]
        loss_slope = expit(-margins)   # 1 - sigmoid(margin)
        grad = wa - C * (xa.T @ (s * loss_slope))
        grad_norm = np.sqrt(np.einsum("ij,ij->j", grad, grad))
        if first_norm is None:
            first_norm = grad_norm.copy()
        going = grad_norm > stop[active] * first_norm[active]
        if not going.any():
            return w
        if not going.all():
            active, s, wa = active[going], s[:, going], wa[:, going]
            margins, loss_slope = margins[:, going], loss_slope[:, going]
            grad, grad_norm = grad[:, going], grad_norm[going]
        curvature = loss_slope * (1.0 - loss_slope)
        step = _newton_step(xa, xa_sq, curvature, grad, grad_norm, C)
        # Armijo backtracking, per column
        f0 = _objective(wa, margins, C)
        slope = np.einsum("ij,ij->j", grad, step)
        move = s * (xa @ step)
        t = np.ones(active.size)
        for _ in range(_MAX_HALVINGS):
            w_try = wa + t * step
            m_try = margins + t * move
            fail = _objective(w_try, m_try, C) > f0 + _ARMIJO * t * slope
            if not fail.any():
                break
            t = np.where(fail, 0.5 * t, t)
        else:
            t = np.where(fail, 0.0, t)  # no decrease left at this precision
        w[:, active] = wa + t * step
        margins = margins + t * move
        stuck = t == 0.0
        if stuck.any():
            active, margins = active[~stuck], margins[:, ~stuck]
            if active.size == 0:
                return w
    logger.warning("logistic regression: %d of %d classes did not converge in %d Newton "
                   "iterations", active.size, k, max_iter)
    return w


def _newton_step(xa: np.ndarray, xa_sq: np.ndarray, curvature: np.ndarray,
                 grad: np.ndarray, grad_norm: np.ndarray, C: float) -> np.ndarray:
    """Approximately solve ``(I + C xa^T diag(curvature_j) xa) step_j = -grad_j``
    for every column j by preconditioned conjugate gradients."""
    precond = 1.0 + C * (xa_sq.T @ curvature)
    step = np.zeros_like(grad)
    resid = -grad
    z = resid / precond
    direction = z.copy()
    rz = np.einsum("ij,ij->j", resid, z)
    target = _CG_RELATIVE_TOL * grad_norm
    for _ in range(_MAX_CG_STEPS):  # finished columns are frozen, not removed
        going = np.sqrt(np.einsum("ij,ij->j", resid, resid)) > target
        if not going.any():
            break
        h_dir = direction + C * (xa.T @ (curvature * (xa @ direction)))
        with np.errstate(divide="ignore", invalid="ignore"):  # frozen columns only
            alpha = np.where(going, rz / np.einsum("ij,ij->j", direction, h_dir), 0.0)
        step += alpha * direction
        resid -= alpha * h_dir
        z = resid / precond
        rz_new = np.einsum("ij,ij->j", resid, z)
        beta = np.where(going, rz_new / np.where(rz > 0, rz, 1.0), 0.0)
        direction = np.where(going, z + beta * direction, direction)
        rz = np.where(going, rz_new, rz)
    return step
