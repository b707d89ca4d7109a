"""A neural map from one embedding space to another (X -> Y, optionally also Y -> X)."""

from __future__ import annotations

import functools
from numbers import Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from torch import nn

from ..linear._common import StreamingMoments
from .estimator import TRAIN_PARAM_CONSTRAINTS, DeepTwoViewModel, row_chunks
from .losses import cosine_distance, info_nce, mae, mse
from .nets import SIZES, as_sizes, mlp
from .nets import activation as activation_layer

LOSSES = {"mse": mse, "cosine": cosine_distance, "mae": mae, "contrastive": info_nce}


class _Direction(nn.Module):
    """One map A -> B: an MLP, plus (``residual``) a linear path that starts as the
    least-squares map, the MLP's last layer starting at zero, so training starts from the best
    linear map and the network learns the non-linear correction on top of it."""

    def __init__(self, n_in, n_out, hidden, activation, output_activation, residual):
        super().__init__()
        self.residual = bool(residual and hidden)
        self.net = mlp(
            [n_in, *hidden, n_out], activation, None if self.residual else output_activation
        )
        self.linear = nn.Linear(n_in, n_out) if self.residual else None
        self.out = (
            activation_layer(output_activation)
            if self.residual and output_activation not in (None, "none", "identity", "linear")
            else nn.Identity()
        )

    def init_linear(self, weight: np.ndarray, bias: np.ndarray) -> None:
        """Set the linear path to ``x @ weight + bias`` and zero the MLP's last layer."""
        with torch.no_grad():
            self.linear.weight.copy_(torch.as_tensor(weight.T, dtype=torch.float32))
            self.linear.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
            last = [m for m in self.net if isinstance(m, nn.Linear)][-1]
            last.weight.zero_()
            last.bias.zero_()

    def forward(self, x):
        if not self.residual:
            return self.net(x)
        return self.out(self.linear(x) + self.net(x))


class _MapNet(nn.Module):
    """One map X -> Y (and one Y -> X when bidirectional), each trained on its own loss term."""

    def __init__(
        self,
        n_x,
        n_y,
        hidden,
        activation,
        output_activation,
        loss,
        bidirectional,
        residual,
        temperature=0.05,
    ):
        super().__init__()
        args = (hidden, activation, output_activation, residual)
        self.x_to_y = _Direction(n_x, n_y, *args)
        self.y_to_x = _Direction(n_y, n_x, *args) if bidirectional else None
        self.loss_fn = LOSSES[loss]
        if loss == "contrastive":
            self.loss_fn = functools.partial(info_nce, temperature=float(temperature))

    def forward(self, x, y):
        terms = {"x_to_y": self.loss_fn(self.x_to_y(x), y)}
        if self.y_to_x is not None:
            terms["y_to_x"] = self.loss_fn(self.y_to_x(y), x)
        return {"loss": sum(terms.values()), **terms}


def _least_squares(mom: StreamingMoments, src: int, dst: int, rel_alpha: float = 1e-4):
    """Ridge map ``B ~ A W + b`` from the moments of blocks ``src`` (A) and ``dst`` (B), with a
    tiny ridge (``rel_alpha`` times the mean variance of A) so that collinear or few rows still
    give a finite answer."""
    G = mom.scatter[(src, src)].copy()
    G[np.diag_indices_from(G)] += rel_alpha * max(np.trace(G) / G.shape[0], 1e-12)
    C = mom.scatter[(src, dst)] if src < dst else mom.scatter[(dst, src)].T
    W = np.linalg.solve(G, C)
    return W, mom.means[dst] - mom.means[src] @ W


def _paired_moments(X, Y) -> StreamingMoments:
    """Means and scatter matrices of two views (arrays or rows on disk), chunk by chunk."""
    mom = StreamingMoments((X.shape[1], Y.shape[1]), ((0, 0), (0, 1), (1, 1)))
    for cx, cy in zip(row_chunks(X), row_chunks(Y)):
        mom.add_rows((cx, cy))
    return mom


def _learns_y_to_x(model) -> bool:
    if not model.bidirectional:
        raise AttributeError(
            "this MLPMap has bidirectional=False, so it has no Y -> X map (predict_x); "
            "fit it with bidirectional=True for one"
        )
    return True


class MLPMap(DeepTwoViewModel):
    """Learn a non-linear map from view X to view Y (and back with ``bidirectional=True``).

    A multilayer perceptron regression between embedding spaces, the non-linear counterpart of
    the linear translation matrix of Mikolov, Le and Sutskever 2013 ("Exploiting similarities
    among languages for machine translation": min_W sum_i ||W x_i - y_i||^2); with
    ``loss="cosine"`` it minimises 1 - cos(f(x_i), y_i), the objective that matches retrieval by
    cosine similarity (Xing et al. 2015). ``hidden=()`` gives an affine map.

    :meth:`predict` maps X into Y's space, :meth:`predict_x` maps Y into X's space (only when
    ``bidirectional``). As a common representation, the code of X is its image in Y's space
    (:meth:`transform` = :meth:`predict`) and the code of Y is Y itself (:meth:`transform_y`).
    Retrieving the nearest Y item (cosine or CSLS) is done by ``crossview.evaluation.retrieval``.

    Parameters
    ----------
    hidden : int or sequence of int, default=(512,)
        Hidden layer widths (used for both directions); ``()`` gives an affine map.
    activation : str, default="relu"
        Hidden activation.
    output_activation : str or None, default=None
        None for unbounded outputs; "tanh" for targets in (-1, 1), "sigmoid" for (0, 1).
    loss : {"mse", "cosine", "mae", "contrastive"}, default="mse"
        Squared error (summed over features, averaged over rows), cosine distance
        ``1 - cos(f(x), y)`` (averaged over rows), absolute error (summed over features,
        averaged over rows), or the in-batch contrastive loss InfoNCE
        (:func:`~crossview.deep.losses.info_nce`: each row's target against the other targets
        of its batch, by cosine; for retrieval, where larger batches give more negatives).
    temperature : float, default=0.05
        Temperature of ``loss="contrastive"`` (ignored by the other losses).
    bidirectional : bool, default=False
        Also learn the map Y -> X (a second network, trained with the same loss), which
        :meth:`predict_x` needs.
    residual : bool, default=True
        Add a linear path beside the hidden layers, started at the least-squares map of the
        training rows, with the last hidden-to-output layer started at zero: training starts
        from the best linear map and learns a non-linear correction (with an output
        activation, it applies to the sum). Ignored when ``hidden=()``.
    epochs : int or "auto", default=100
        Passes over the training data. "auto" trains for about 30,000 optimiser steps, at
        least 30 and at most 1000 epochs (:func:`~crossview.deep.trainer.resolve_epochs`).
    batch_size : int, default=128
        Rows per optimiser step; at most the number of training rows.
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
    module_ : torch.nn.Module
        The trained network (``x_to_y``, and ``y_to_x`` when ``bidirectional``), on the CPU
        after ``fit``.
    history_ : crossview.deep.trainer.History
        Every loss term per epoch, on the training and (if given) the validation views.
    n_features_in_, n_features_in_y_ : int
        Number of columns of X and of Y seen in ``fit``.
    """

    _parameter_constraints: dict = {
        **TRAIN_PARAM_CONSTRAINTS,
        "hidden": SIZES,
        "activation": [str, None],  # the names are checked where the network is built
        "output_activation": [str, None],
        "loss": [StrOptions(set(LOSSES))],
        "bidirectional": ["boolean"],
        "residual": ["boolean"],
        "temperature": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        hidden=(512,),
        activation="relu",
        output_activation=None,
        loss="mse",
        bidirectional=False,
        residual=True,
        temperature=0.05,
        epochs=100,
        batch_size=128,
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
        self.hidden = hidden
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.bidirectional = bidirectional
        self.residual = residual
        self.temperature = temperature
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

    def _new_module(self, n_x, n_y):
        return _MapNet(
            n_x,
            n_y,
            as_sizes(self.hidden, "hidden"),
            self.activation,
            self.output_activation,
            self.loss,
            bool(self.bidirectional),
            bool(self.residual),
            float(self.temperature),
        )

    def _before_fit(self, X, Y):
        """Start the residual linear paths at the least-squares maps of the training rows."""
        self._linear_start = None
        if self.residual and as_sizes(self.hidden, "hidden"):
            mom = _paired_moments(X, Y)
            self._linear_start = (
                _least_squares(mom, 0, 1),
                _least_squares(mom, 1, 0) if self.bidirectional else None,
            )

    def _build_module(self, n_x, n_y):
        module = self._new_module(n_x, n_y)
        start = getattr(self, "_linear_start", None)
        if start is not None:
            module.x_to_y.init_linear(*start[0])
            if start[1] is not None:
                module.y_to_x.init_linear(*start[1])
        return module

    def _after_fit(self, X, Y):
        self._linear_start = None

    def predict(self, X):
        """Map view X into the space of view Y, shape (n, n_features_y)."""
        X = self._check_x(X)  # first: it raises NotFittedError before fit
        return self._run(self.module_.x_to_y, X)

    @available_if(_learns_y_to_x)
    def predict_x(self, Y):
        """Map view Y into the space of view X (only with ``bidirectional=True``)."""
        Y = self._check_y(Y)
        return self._run(self.module_.y_to_x, Y)

    def score(self, X, Y) -> float:
        """R^2 of ``predict(X)`` against Y (scikit-learn's ``r2_score``, columns averaged)."""
        from sklearn.metrics import r2_score

        return float(r2_score(self._check_y(Y), self.predict(X)))

    def transform(self, X):
        """Return the code of X: its image in Y's space (same as :meth:`predict`)."""
        return self.predict(X)

    def transform_y(self, Y):
        """Return the code of Y: Y itself (validated, float32), the space X is mapped into."""
        return self._check_y(Y)
