"""Deep CCA (Andrew et al. 2013) and deep canonically correlated autoencoders (Wang et al. 2015).

Both learn one encoder per view whose outputs are maximally correlated in the CCA sense: the
loss is minus the sum of the canonical correlations of each minibatch
(:func:`crossview.deep.losses.cca_loss`). The encoder outputs are correlated but not aligned
(any invertible linear map of one view's code keeps the objective), so, as in the paper, a
linear CCA fitted on the training codes after training turns them into a common space.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..base import CrossviewError
from .estimator import DeepTwoViewModel
from .losses import canonical_correlations, relative_mse
from .nets import as_sizes, mlp


def _inv_sqrt_sym(S: np.ndarray, floor: float = 1e-12) -> np.ndarray:
    """Symmetric inverse square root of a symmetric positive definite matrix (eigenvalues
    clamped below at ``floor``)."""
    lam, V = np.linalg.eigh(S)
    return (V / np.sqrt(np.maximum(lam, floor))) @ V.T


def _linear_cca(Fx: np.ndarray, Fy: np.ndarray, eps: float):
    """Regularised linear CCA of two code matrices, in float64.

    Hotelling (1936) in the whitening form used by Andrew et al. 2013 (sec. 2): with
    S11 = Cx'Cx/(n-1) + eps I, S22 likewise and S12 = Cx'Cy/(n-1) on centred codes, the SVD
    T = S11^{-1/2} S12 S22^{-1/2} = U diag(rho) V' gives the projections
    Wx = S11^{-1/2} U and Wy = S22^{-1/2} V. Returns
    ``(x_mean, Wx, y_mean, Wy, rho)`` with ``min(dx, dy)`` components, largest ``rho`` first.
    """
    Fx = np.asarray(Fx, dtype=np.float64)
    Fy = np.asarray(Fy, dtype=np.float64)
    n = Fx.shape[0]
    mx, my = Fx.mean(axis=0), Fy.mean(axis=0)
    Cx, Cy = Fx - mx, Fy - my
    Kx = _inv_sqrt_sym(Cx.T @ Cx / (n - 1) + eps * np.eye(Fx.shape[1]))
    Ky = _inv_sqrt_sym(Cy.T @ Cy / (n - 1) + eps * np.eye(Fy.shape[1]))
    U, rho, Vt = np.linalg.svd(Kx @ (Cx.T @ Cy / (n - 1)) @ Ky)
    k = min(Fx.shape[1], Fy.shape[1])
    return mx, Kx @ U[:, :k], my, Ky @ Vt[:k].T, rho[:k]


def _least_squares(F: np.ndarray, G: np.ndarray, ridge: float):
    """Affine ridge regression G ~ F B + b in float64; returns ``(B, b)``."""
    F = np.asarray(F, dtype=np.float64)
    G = np.asarray(G, dtype=np.float64)
    mf, mg = F.mean(axis=0), G.mean(axis=0)
    Cf, Cg = F - mf, G - mg
    B = np.linalg.solve(Cf.T @ Cf + ridge * np.eye(F.shape[1]), Cf.T @ Cg)
    return B, mg - mf @ B


class _DCCANet(nn.Module):
    """Two encoders trained with the DCCA loss: ``{"loss": -corr, "corr": sum of correlations}``."""

    def __init__(self, n_x, n_y, x_hidden, y_hidden, n_components, activation, eps):
        super().__init__()
        self.encoder_x = mlp([n_x, *x_hidden, n_components], activation)
        self.encoder_y = mlp([n_y, *y_hidden, n_components], activation)
        self.eps = float(eps)

    def correlations(self, x, y):
        return canonical_correlations(self.encoder_x(x), self.encoder_y(y), eps=self.eps)

    def forward(self, x, y):
        corr = self.correlations(x, y).sum()
        return {"loss": -corr, "corr": corr}


class _DCCAENet(_DCCANet):
    """DCCA encoders plus one decoder per view (Wang et al. 2015, the DCCAE objective).

    loss = -(1/k) sum_i rho_i + lam * (rec_x + rec_y) / 2, where rho are the batch canonical
    correlations of the k code units and rec_v is view v's squared reconstruction error
    divided by the view's total training variance (1 for the mean predictor).
    """

    def __init__(self, n_x, n_y, x_hidden, y_hidden, n_components, activation, eps, lam,
                 output_activation):
        super().__init__(n_x, n_y, x_hidden, y_hidden, n_components, activation, eps)
        self.decoder_x = mlp([n_components, *reversed(x_hidden), n_x], activation,
                             output_activation)
        self.decoder_y = mlp([n_components, *reversed(y_hidden), n_y], activation,
                             output_activation)
        self.lam = float(lam)
        self.n_components = int(n_components)
        # total variance of each training view (set before training, saved with the weights)
        self.register_buffer("var_x", torch.ones(()))
        self.register_buffer("var_y", torch.ones(()))

    def forward(self, x, y):
        fx, fy = self.encoder_x(x), self.encoder_y(y)
        corr = canonical_correlations(fx, fy, eps=self.eps).sum()
        rec_x = relative_mse(self.decoder_x(fx), x, self.var_x)
        rec_y = relative_mse(self.decoder_y(fy), y, self.var_y)
        loss = -corr / self.n_components + self.lam * 0.5 * (rec_x + rec_y)
        return {"loss": loss, "corr": corr, "rec_x": rec_x, "rec_y": rec_y}


class DCCA(DeepTwoViewModel):
    """Deep canonical correlation analysis: two networks whose outputs are maximally correlated.

    Andrew, Arora, Bilmes and Livescu 2013, "Deep Canonical Correlation Analysis", ICML. Each
    view goes through its own MLP (``x_hidden``/``y_hidden`` hidden layers, ``n_components``
    linear outputs); training maximises the total canonical correlation of each minibatch,
    corr(H1, H2) = ||S11^{-1/2} S12 S22^{-1/2}||_tr (the trace norm, their sec. 3), with ridge
    ``eps`` (r1 = r2) on the covariances. After training a linear CCA is fitted on the codes of
    the whole training set (their sec. 3); with ``final_cca=True`` :meth:`transform` /
    :meth:`transform_y` return the codes projected on its canonical directions, so column j of
    both views is the j-th canonical pair (what sum correlation and transfer measure); with
    ``final_cca=False`` they return the raw network outputs, which are correlated but not
    aligned.

    DCCA learns no decoder, so it does not translate (``predict`` raises); see :class:`DCCAE`.

    Parameters
    ----------
    n_components : int
        Number of output units per view (the code size).
    x_hidden, y_hidden : sequence of int
        Hidden layer widths of the X and Y encoders; ``y_hidden=None`` uses ``x_hidden``.
    activation : str
        Hidden activation ('relu', 'sigmoid', 'tanh', ...).
    eps : float
        Ridge r1 = r2 added to the code covariances, in the loss and in the final CCA.
    final_cca : bool
        Project the codes on the canonical directions of the training codes.
    epochs, batch_size, optimizer, learning_rate, lr_schedule, precision, weight_decay, patience,
    device, random_state, verbose, checkpoint_dir, resume
        Passed to :func:`crossview.deep.trainer.train` (``lr_schedule`` "constant" or "cosine";
        ``precision`` "float32" or "bfloat16" mixed precision). ``batch_size`` must exceed
        ``n_components``: each step estimates code covariances from one batch.

    Attributes
    ----------
    canonical_correlations_ : ndarray (n_components,)
        Canonical correlations of the training codes (regularised by ``eps``), largest first.
    x_mean_, y_mean_, x_weights_, y_weights_ : ndarray
        The final linear CCA: ``Zx = (f(X) - x_mean_) @ x_weights_`` (computed whatever
        ``final_cca`` is; applied only when it is True).
    module_ : torch.nn.Module
        The trained network (``encoder_x``, ``encoder_y``).
    history_ : History
        Every loss term per epoch (``corr`` is the summed batch correlation).
    """

    def __init__(self, n_components=50, x_hidden=(500, 500), y_hidden=None, activation="relu",
                 eps=1e-4, final_cca=True, epochs=40, batch_size=500, optimizer="adam",
                 learning_rate=1e-3, lr_schedule="constant", precision="float32",
                 weight_decay=0.0, patience=None, device="auto", random_state=None,
                 verbose=False, checkpoint_dir=None, resume=False):
        self.n_components = n_components
        self.x_hidden = x_hidden
        self.y_hidden = y_hidden
        self.activation = activation
        self.eps = eps
        self.final_cca = final_cca
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.precision = precision
        self.weight_decay = weight_decay
        self.patience = patience
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume

    # ---- building and training ---------------------------------------------------------------
    def _sizes(self):
        k = self.n_components
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise CrossviewError(f"n_components must be a positive integer, got {k!r}")
        x_hidden = as_sizes(self.x_hidden, "x_hidden")
        y_hidden = x_hidden if self.y_hidden is None else as_sizes(self.y_hidden, "y_hidden")
        if not self.eps >= 0:
            raise CrossviewError(f"eps must be >= 0, got {self.eps!r}")
        return int(k), x_hidden, y_hidden

    def _build_module(self, n_x, n_y):
        k, x_hidden, y_hidden = self._sizes()
        return _DCCANet(n_x, n_y, x_hidden, y_hidden, k, self.activation, self.eps)

    def _before_fit(self, X, Y):
        k, _, _ = self._sizes()
        if self.batch_size <= k:
            raise CrossviewError(
                f"batch_size={self.batch_size} must exceed n_components={k}: DCCA estimates "
                f"{k}x{k} code covariances from each batch (use about 10x n_components)")

    def _codes(self, X, Y):
        return (self._run(self.module_.encoder_x, X), self._run(self.module_.encoder_y, Y))

    def _after_fit(self, X, Y):
        Fx, Fy = self._codes(X, Y)
        (self.x_mean_, self.x_weights_, self.y_mean_, self.y_weights_,
         self.canonical_correlations_) = _linear_cca(Fx, Fy, float(self.eps))

    # ---- inference ----------------------------------------------------------------------------
    def _project(self, F, mean, weights):
        if not self.final_cca:
            return F
        return ((F.astype(np.float64) - mean) @ weights).astype(np.float32)

    def transform(self, X):
        """Return the code of view X (canonical variates if ``final_cca``), (n, n_components)."""
        F = self._run(self.module_.encoder_x, self._check_x(X))
        return self._project(F, self.x_mean_, self.x_weights_)

    def transform_y(self, Y):
        """Return the code of view Y (canonical variates if ``final_cca``), (n, n_components)."""
        F = self._run(self.module_.encoder_y, self._check_y(Y))
        return self._project(F, self.y_mean_, self.y_weights_)

    # ---- model files --------------------------------------------------------------------------
    _EXTRA = ("x_mean_", "x_weights_", "y_mean_", "y_weights_", "canonical_correlations_")

    def _extra_state(self):
        return {name: getattr(self, name) for name in self._EXTRA}, {}

    def _load_extra_state(self, arrays, extra):
        for name in self._EXTRA:
            setattr(self, name, np.asarray(arrays[name]))


class DCCAE(DCCA):
    """Deep canonically correlated autoencoders: DCCA plus a decoder per view; translates X <-> Y.

    Wang, Arora, Livescu and Bilmes 2015, "On Deep Multi-View Representation Learning", ICML,
    the DCCAE model: the DCCA encoders f, g are trained together with decoders p, q that reconstruct
    each view from its own code. Here the objective is scaled so that ``lam`` weighs two
    quantities on the same [0, 1] scale::

        loss = -(1/k) sum_i rho_i  +  lam * (rec_x + rec_y) / 2

    where rho_i are the k batch canonical correlations (the mean is in [0, 1]) and
    rec_v = ||v - decoder_v(code_v)||^2 / (total variance of view v on the training data), the
    fraction of view v's variance left unexplained (1 for the mean predictor). ``lam=1``
    weighs correlation and reconstruction equally, whatever the number and scale of the
    features; ``lam=0`` gives DCCA. (cca-zoo's DCCAE adds a per-element MSE to the summed
    correlation, so its default is DCCA in practice.)

    Translation goes through the shared space: ``predict(X) = decoder_y(f(X) B + b)``, where
    (B, b) is the least-squares map from the X code to the Y code fitted on the training codes
    after training (ridge ``eps * (n - 1)``, the same regulariser as the CCA), and
    ``predict_x(Y)`` is the same the other way. The decoders are trained only on their own
    view's code, as in the paper; the linear bridge is needed because DCCA codes are correlated,
    not equal (the canonical directions of the two views differ).

    Parameters
    ----------
    lam : float
        Weight of the (relative) reconstruction term, see above.
    output_activation : str or None
        Activation of the decoders' last layer (e.g. 'sigmoid' for pixels in [0, 1]).
    (other parameters and attributes: see :class:`DCCA`)

    Attributes
    ----------
    xy_coef_, xy_intercept_, yx_coef_, yx_intercept_ : ndarray
        The least-squares maps between the raw codes used by :meth:`predict` / :meth:`predict_x`.
    """

    translates = True

    def __init__(self, n_components=50, x_hidden=(500, 500), y_hidden=None, activation="relu",
                 eps=1e-4, final_cca=True, lam=1.0, output_activation=None, epochs=40,
                 batch_size=500, optimizer="adam", learning_rate=1e-3, lr_schedule="constant",
                 precision="float32", weight_decay=0.0, patience=None, device="auto",
                 random_state=None, verbose=False, checkpoint_dir=None, resume=False):
        super().__init__(n_components=n_components, x_hidden=x_hidden, y_hidden=y_hidden,
                         activation=activation, eps=eps, final_cca=final_cca, epochs=epochs,
                         batch_size=batch_size, optimizer=optimizer, learning_rate=learning_rate,
                         lr_schedule=lr_schedule, precision=precision,
                         weight_decay=weight_decay, patience=patience, device=device,
                         random_state=random_state, verbose=verbose,
                         checkpoint_dir=checkpoint_dir, resume=resume)
        self.lam = lam
        self.output_activation = output_activation

    def _build_module(self, n_x, n_y):
        k, x_hidden, y_hidden = self._sizes()
        if not self.lam >= 0:
            raise CrossviewError(f"lam must be >= 0, got {self.lam!r}")
        net = _DCCAENet(n_x, n_y, x_hidden, y_hidden, k, self.activation, self.eps, self.lam,
                        self.output_activation)
        if getattr(self, "_view_variances", None) is not None:
            net.var_x.fill_(self._view_variances[0])
            net.var_y.fill_(self._view_variances[1])
        return net

    def _before_fit(self, X, Y):
        super()._before_fit(X, Y)
        # guard against a constant view (variance 0): its relative error is then plain MSE
        self._view_variances = tuple(
            max(float(A.astype(np.float64).var(axis=0, ddof=0).sum()), 1e-12) for A in (X, Y))

    def _after_fit(self, X, Y):
        super()._after_fit(X, Y)
        del self._view_variances
        Fx, Fy = self._codes(X, Y)
        ridge = float(self.eps) * (X.shape[0] - 1)
        self.xy_coef_, self.xy_intercept_ = _least_squares(Fx, Fy, ridge)
        self.yx_coef_, self.yx_intercept_ = _least_squares(Fy, Fx, ridge)

    def _bridge(self, F, coef, intercept):
        return (F.astype(np.float64) @ coef + intercept).astype(np.float32)

    def predict(self, X):
        """Translate view X into view Y: decode Y from the shared-space code of X."""
        F = self._run(self.module_.encoder_x, self._check_x(X))
        return self._run(self.module_.decoder_y, self._bridge(F, self.xy_coef_, self.xy_intercept_))

    def predict_x(self, Y):
        """Translate view Y into view X: decode X from the shared-space code of Y."""
        F = self._run(self.module_.encoder_y, self._check_y(Y))
        return self._run(self.module_.decoder_x, self._bridge(F, self.yx_coef_, self.yx_intercept_))

    _EXTRA = DCCA._EXTRA + ("xy_coef_", "xy_intercept_", "yx_coef_", "yx_intercept_")
