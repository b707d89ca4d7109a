"""Deep CCA (Andrew et al. 2013) and deep canonically correlated autoencoders (Wang et al. 2015).

Both learn one encoder per view whose outputs are maximally correlated in the CCA sense: the
loss is minus the sum of the canonical correlations of each minibatch
(:func:`crossview.deep.losses.cca_loss`). The encoder outputs are correlated but not aligned
(any invertible linear map of one view's code keeps the objective), so, as in the paper, a
linear CCA fitted on the training codes after training turns them into a common space.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from torch import nn

from ..exceptions import CrossviewError
from ..linear._common import CCA_PAIRS, StreamingMoments, least_squares_map, regularized_cca
from .estimator import TRAIN_PARAM_CONSTRAINTS, DeepTwoViewModel, row_chunks
from .losses import canonical_correlations, relative_mse
from .nets import SIZES, as_sizes, mlp


def _code_moments(Fx: np.ndarray, Fy: np.ndarray) -> StreamingMoments:
    """Means and covariances (float64) of two code matrices with paired rows."""
    mom = StreamingMoments((Fx.shape[1], Fy.shape[1]), CCA_PAIRS)
    mom.add_rows((Fx, Fy))
    return mom


def _cca_of_moments(mom: StreamingMoments, eps: float):
    """The final linear CCA of :func:`_linear_cca`, from the codes' moments."""
    k = min(mom.sizes)
    Wx, Wy, rho = regularized_cca(mom.cov(0, 0), mom.cov(1, 1), mom.cov(0, 1), k, eps, eps)
    return mom.means[0], Wx, mom.means[1], Wy, rho


def _linear_cca(Fx: np.ndarray, Fy: np.ndarray, eps: float):
    """Regularised linear CCA of two code matrices, in float64 (crossview's shared CCA code).

    Hotelling (1936) in the whitening form used by Andrew et al. 2013 (sec. 2): with
    S11 = Cx'Cx/(n-1) + eps I, S22 likewise and S12 = Cx'Cy/(n-1) on centred codes, the SVD
    T = S11^{-1/2} S12 S22^{-1/2} = U diag(rho) V' gives the projections
    Wx = S11^{-1/2} U and Wy = S22^{-1/2} V (:func:`crossview.linear._common.regularized_cca`,
    which also fixes the signs as :class:`crossview.linear.CCA` does). Returns
    ``(x_mean, Wx, y_mean, Wy, rho)`` with ``min(dx, dy)`` components, largest ``rho`` first.
    """
    return _cca_of_moments(_code_moments(Fx, Fy), eps)


def _ridge_bridge(mom: StreamingMoments, source: int, eps: float):
    """Affine ridge regression of one code on the other, ``G ~ F B + b``; returns ``(B, b)``.

    ``source`` is the block of F in ``mom`` (0 or 1), G is the other. ``B = (cov(F) + eps I)^-1
    cov(F, G)``: the least-squares map of :func:`~crossview.linear._common.least_squares_map`
    from the codes themselves (identity weights) with the ridge on their covariance.
    """
    target = 1 - source
    C_self = mom.cov(source, source) + eps * np.eye(mom.sizes[source])
    C_cross = mom.cov(0, 1) if source == 0 else mom.cov(0, 1).T
    B = least_squares_map(np.eye(mom.sizes[source]), C_self, C_cross)
    return B, mom.means[target] - mom.means[source] @ B


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

    def __init__(
        self, n_x, n_y, x_hidden, y_hidden, n_components, activation, eps, lam, output_activation
    ):
        super().__init__(n_x, n_y, x_hidden, y_hidden, n_components, activation, eps)
        self.decoder_x = mlp(
            [n_components, *reversed(x_hidden), n_x], activation, output_activation
        )
        self.decoder_y = mlp(
            [n_components, *reversed(y_hidden), n_y], activation, output_activation
        )
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
    """Train one network per view so that their outputs are maximally correlated (deep CCA).

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
    n_components : int, default=50
        Number of output units per view (the code size).
    x_hidden : int or sequence of int, default=(500, 500)
        Hidden layer widths of the X encoder.
    y_hidden : int, sequence of int or None, default=None
        Hidden layer widths of the Y encoder; None uses ``x_hidden``.
    activation : str, default="relu"
        Hidden activation ("relu", "sigmoid", "tanh", ...); the code layer is linear.
    eps : float, default=1e-4
        Ridge r1 = r2 added to the code covariances, in the loss and in the final CCA.
    final_cca : bool, default=True
        Project the codes on the canonical directions of the training codes in
        ``transform`` / ``transform_y``; False returns the raw network outputs.
    epochs : int or "auto", default="auto"
        Passes over the training data. "auto" trains for about 4,000 optimiser steps, at
        least 40 and at most 1000 epochs (:func:`~crossview.deep.trainer.resolve_epochs`):
        40 epochs of 50,000 rows in batches of 500, 1000 epochs of a thousand rows.
    batch_size : int, default=500
        Rows per optimiser step, at most the number of training rows; it must exceed
        ``n_components``, as each step estimates the code covariances from one batch.
    optimizer : {"adam", "adamw", "rmsprop", "sgd"}, default="adam"
        The torch optimiser ("sgd" with momentum 0.9).
    learning_rate : float, default=1e-3
        Step size of the optimiser (the starting value with ``lr_schedule="cosine"``).
    lr_schedule : {"constant", "cosine"}, default="constant"
        Keep the learning rate fixed, or anneal it towards 0 over ``epochs`` (cosine).
    precision : {"float32", "bfloat16"}, default="float32"
        "bfloat16" trains with mixed precision (forward and backward passes in bfloat16,
        weights and losses in float32); inference is always float32.
    weight_decay : float, default=0.0
        Weight decay of the optimiser (decoupled for "adamw", an L2 term otherwise).
    patience : int or None, default=None
        With ``X_val`` / ``Y_val`` given to ``fit``, stop after this many epochs without a lower
        validation loss (the best epoch's weights are restored either way); None: no early stop.
    device : str or torch.device, default="auto"
        Where to train: "auto" (a CUDA GPU if there is one, else the CPU), "cpu", "cuda" or
        "cuda:N". The fitted network is moved to the CPU afterwards (see ``to``).
    random_state : int or None, default=None
        Seed of weight initialisation and batch shuffling; None: not reproducible.
    verbose : bool, default=True
        Show a progress bar over the epochs.
    checkpoint_dir : str, path-like or None, default=None
        Folder to write a checkpoint to after every epoch; None: no checkpoints.
    resume : bool, default=False
        Continue from the checkpoint in ``checkpoint_dir`` if there is one.

    Attributes
    ----------
    canonical_correlations_ : ndarray of shape (n_components,)
        Canonical correlations of the training codes (regularised by ``eps``), largest first.
    x_mean_, y_mean_, x_weights_, y_weights_ : ndarray
        The final linear CCA: ``Zx = (f(X) - x_mean_) @ x_weights_`` (computed whatever
        ``final_cca`` is; applied only when it is True).
    module_ : torch.nn.Module
        The trained network (``encoder_x``, ``encoder_y``), on the CPU after ``fit``.
    history_ : crossview.deep.trainer.History
        Every loss term per epoch, on the training and (if given) the validation views
        (``corr`` is the summed batch correlation).
    n_features_in_, n_features_in_y_ : int
        Number of columns of X and of Y seen in ``fit``.
    """

    _parameter_constraints: dict = {
        **TRAIN_PARAM_CONSTRAINTS,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "x_hidden": SIZES,
        "y_hidden": [*SIZES, None],
        "activation": [str, None],  # the name is checked where the network is built
        "eps": [Interval(Real, 0, None, closed="left")],
        "final_cca": ["boolean"],
    }
    # epochs="auto": DCCA's step budget; its batches of 500 take far fewer steps than
    # CorrNet's of 50 (docs/benchmarks.md, "Defaults")
    auto_steps = 4_000
    auto_epochs = (40, 1000)

    def __init__(
        self,
        n_components=50,
        x_hidden=(500, 500),
        y_hidden=None,
        activation="relu",
        eps=1e-4,
        final_cca=True,
        epochs="auto",
        batch_size=500,
        optimizer="adam",
        learning_rate=1e-3,
        lr_schedule="constant",
        precision="float32",
        weight_decay=0.0,
        patience=None,
        device="auto",
        random_state=None,
        verbose=True,
        checkpoint_dir=None,
        resume=False,
    ):
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
        x_hidden = as_sizes(self.x_hidden, "x_hidden")
        y_hidden = x_hidden if self.y_hidden is None else as_sizes(self.y_hidden, "y_hidden")
        return int(self.n_components), x_hidden, y_hidden

    def _build_module(self, n_x, n_y):
        k, x_hidden, y_hidden = self._sizes()
        return _DCCANet(n_x, n_y, x_hidden, y_hidden, k, self.activation, self.eps)

    def _before_fit(self, X, Y):
        k, _, _ = self._sizes()
        if self.batch_size <= k:
            raise CrossviewError(
                f"batch_size={self.batch_size} must exceed n_components={k}: DCCA estimates "
                f"{k}x{k} code covariances from each batch (use about 10x n_components)"
            )

    def _after_fit(self, X, Y):
        k = int(self.n_components)
        mom = StreamingMoments((k, k), CCA_PAIRS)
        net = self.module_
        for cx, cy in zip(row_chunks(X), row_chunks(Y)):
            mom.add_rows((self._run(net.encoder_x, cx), self._run(net.encoder_y, cy)))
        self._fit_linear(mom)

    def _fit_linear(self, mom: StreamingMoments) -> None:
        """Fit the final linear CCA from the moments of the training codes."""
        (
            self.x_mean_,
            self.x_weights_,
            self.y_mean_,
            self.y_weights_,
            self.canonical_correlations_,
        ) = _cca_of_moments(mom, float(self.eps))

    # ---- inference ----------------------------------------------------------------------------
    def _project(self, F, mean, weights):
        if not self.final_cca:
            return F
        return ((F.astype(np.float64) - mean) @ weights).astype(np.float32)

    def transform(self, X):
        """Return the code of view X (canonical variates if ``final_cca``), (n, n_components)."""
        X = self._check_x(X)
        F = self._run(self.module_.encoder_x, X)
        return self._project(F, self.x_mean_, self.x_weights_)

    def transform_y(self, Y):
        """Return the code of view Y (canonical variates if ``final_cca``), (n, n_components)."""
        Y = self._check_y(Y)
        F = self._run(self.module_.encoder_y, Y)
        return self._project(F, self.y_mean_, self.y_weights_)

    # ---- model files --------------------------------------------------------------------------
    _EXTRA = ("x_mean_", "x_weights_", "y_mean_", "y_weights_", "canonical_correlations_")

    def _extra_state(self):
        return {name: getattr(self, name) for name in self._EXTRA}, {}

    def _load_extra_state(self, arrays, extra):
        for name in self._EXTRA:
            setattr(self, name, np.asarray(arrays[name]))


class DCCAE(DCCA):
    """Train correlated encoders and a decoder per view, and translate X <-> Y (DCCAE).

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
    after training (ridge ``eps`` on the code covariance, the same regulariser as the CCA), and
    ``predict_x(Y)`` is the same the other way. The decoders are trained only on their own
    view's code, as in the paper; the linear bridge is needed because DCCA codes are correlated,
    not equal (the canonical directions of the two views differ).

    Parameters
    ----------
    n_components : int, default=50
        Number of output units per view (the code size).
    x_hidden : int or sequence of int, default=(500, 500)
        Hidden layer widths of the X encoder (the X decoder has them in reverse order).
    y_hidden : int, sequence of int or None, default=None
        Hidden layer widths of the Y encoder; None uses ``x_hidden``.
    activation : str, default="relu"
        Hidden activation of the encoders and decoders ("relu", "sigmoid", "tanh", ...); the
        code layer is linear.
    eps : float, default=1e-4
        Ridge r1 = r2 added to the code covariances: in the loss, in the final CCA and in the
        least-squares bridges used by ``predict`` / ``predict_x``.
    final_cca : bool, default=True
        Project the codes on the canonical directions of the training codes in
        ``transform`` / ``transform_y``; False returns the raw network outputs.
    lam : float, default=1.0
        Weight of the relative reconstruction term against the mean canonical correlation
        (``>= 0``, see above); 0 gives DCCA.
    output_activation : str or None, default=None
        Activation of the decoders' last layer (e.g. "sigmoid" for pixels in [0, 1]).
    epochs : int or "auto", default="auto"
        Passes over the training data. "auto" trains for about 4,000 optimiser steps, at
        least 40 and at most 1000 epochs (:func:`~crossview.deep.trainer.resolve_epochs`):
        40 epochs of 50,000 rows in batches of 500, 1000 epochs of a thousand rows.
    batch_size : int, default=500
        Rows per optimiser step, at most the number of training rows; it must exceed
        ``n_components``, as each step estimates the code covariances from one batch.
    optimizer : {"adam", "adamw", "rmsprop", "sgd"}, default="adam"
        The torch optimiser ("sgd" with momentum 0.9).
    learning_rate : float, default=1e-3
        Step size of the optimiser (the starting value with ``lr_schedule="cosine"``).
    lr_schedule : {"constant", "cosine"}, default="constant"
        Keep the learning rate fixed, or anneal it towards 0 over ``epochs`` (cosine).
    precision : {"float32", "bfloat16"}, default="float32"
        "bfloat16" trains with mixed precision (forward and backward passes in bfloat16,
        weights and losses in float32); inference is always float32.
    weight_decay : float, default=0.0
        Weight decay of the optimiser (decoupled for "adamw", an L2 term otherwise).
    patience : int or None, default=None
        With ``X_val`` / ``Y_val`` given to ``fit``, stop after this many epochs without a lower
        validation loss (the best epoch's weights are restored either way); None: no early stop.
    device : str or torch.device, default="auto"
        Where to train: "auto" (a CUDA GPU if there is one, else the CPU), "cpu", "cuda" or
        "cuda:N". The fitted network is moved to the CPU afterwards (see ``to``).
    random_state : int or None, default=None
        Seed of weight initialisation and batch shuffling; None: not reproducible.
    verbose : bool, default=True
        Show a progress bar over the epochs.
    checkpoint_dir : str, path-like or None, default=None
        Folder to write a checkpoint to after every epoch; None: no checkpoints.
    resume : bool, default=False
        Continue from the checkpoint in ``checkpoint_dir`` if there is one.

    Attributes
    ----------
    canonical_correlations_ : ndarray of shape (n_components,)
        Canonical correlations of the training codes (regularised by ``eps``), largest first.
    x_mean_, y_mean_, x_weights_, y_weights_ : ndarray
        The final linear CCA: ``Zx = (f(X) - x_mean_) @ x_weights_`` (computed whatever
        ``final_cca`` is; applied only when it is True).
    xy_coef_, xy_intercept_, yx_coef_, yx_intercept_ : ndarray
        The least-squares maps between the raw codes used by :meth:`predict` / :meth:`predict_x`.
    module_ : torch.nn.Module
        The trained network (``encoder_x``, ``encoder_y``, ``decoder_x``, ``decoder_y``), on
        the CPU after ``fit``.
    history_ : crossview.deep.trainer.History
        Every loss term per epoch, on the training and (if given) the validation views
        (``corr``, ``rec_x``, ``rec_y`` and the total ``loss``).
    n_features_in_, n_features_in_y_ : int
        Number of columns of X and of Y seen in ``fit``.
    """

    _parameter_constraints: dict = {
        **DCCA._parameter_constraints,
        "lam": [Interval(Real, 0, None, closed="left")],
        "output_activation": [str, None],
    }

    def __init__(
        self,
        n_components=50,
        x_hidden=(500, 500),
        y_hidden=None,
        activation="relu",
        eps=1e-4,
        final_cca=True,
        lam=1.0,
        output_activation=None,
        epochs="auto",
        batch_size=500,
        optimizer="adam",
        learning_rate=1e-3,
        lr_schedule="constant",
        precision="float32",
        weight_decay=0.0,
        patience=None,
        device="auto",
        random_state=None,
        verbose=True,
        checkpoint_dir=None,
        resume=False,
    ):
        super().__init__(
            n_components=n_components,
            x_hidden=x_hidden,
            y_hidden=y_hidden,
            activation=activation,
            eps=eps,
            final_cca=final_cca,
            epochs=epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            learning_rate=learning_rate,
            lr_schedule=lr_schedule,
            precision=precision,
            weight_decay=weight_decay,
            patience=patience,
            device=device,
            random_state=random_state,
            verbose=verbose,
            checkpoint_dir=checkpoint_dir,
            resume=resume,
        )
        self.lam = lam
        self.output_activation = output_activation

    def _build_module(self, n_x, n_y):
        k, x_hidden, y_hidden = self._sizes()
        return _DCCAENet(
            n_x,
            n_y,
            x_hidden,
            y_hidden,
            k,
            self.activation,
            self.eps,
            self.lam,
            self.output_activation,
        )

    def _fit_linear(self, mom: StreamingMoments) -> None:
        """Fit the final CCA and the ridge maps between the two codes (for translation)."""
        super()._fit_linear(mom)
        eps = float(self.eps)
        self.xy_coef_, self.xy_intercept_ = _ridge_bridge(mom, 0, eps)
        self.yx_coef_, self.yx_intercept_ = _ridge_bridge(mom, 1, eps)

    def _bridge(self, F, coef, intercept):
        return (F.astype(np.float64) @ coef + intercept).astype(np.float32)

    def predict(self, X):
        """Translate view X into view Y: decode Y from the shared-space code of X."""
        X = self._check_x(X)  # first: it raises NotFittedError before fit
        F = self._run(self.module_.encoder_x, X)
        return self._run(self.module_.decoder_y, self._bridge(F, self.xy_coef_, self.xy_intercept_))

    def predict_x(self, Y):
        """Translate view Y into view X: decode X from the shared-space code of Y."""
        Y = self._check_y(Y)
        F = self._run(self.module_.encoder_y, Y)
        return self._run(self.module_.decoder_x, self._bridge(F, self.yx_coef_, self.yx_intercept_))

    _EXTRA = DCCA._EXTRA + ("xy_coef_", "xy_intercept_", "yx_coef_", "yx_intercept_")
