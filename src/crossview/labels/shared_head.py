"""Two classifiers that share their last layers: a shared space learned from labels alone.

View-specific encoders f (for X) and g (for Y) map each view into an h-dimensional code; the
*same* head c(.) turns either code into class scores. Trained jointly on both views' labels
(minibatches drawn from the two unpaired sets by the shared trainer), the head forces the two
encoders to put same-class rows of both views where it expects that class:

    L = CE(c(f(x)), label_x) + CE(c(g(y)), label_y)
        + align * mean_k ||mean_batch f(x | k) - mean_batch g(y | k)||^2   (classes k in both)
        + pair_weight * ||f(x_i) - g(y_j)||^2                               (known pairs)

"squared" replaces the cross-entropies by the squared error between class probabilities and
one-hot labels. After training, a ridge regression from the code to each view is fitted on that
view's own rows (g(Y) -> Y, f(X) -> X), so ``predict(X) = ridge_Y(f(X))`` and
``predict_x(Y) = ridge_X(g(Y))``; ``transform`` / ``transform_y`` give the shared codes and
``predict_proba`` the head's class probabilities.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import RidgeCV
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..deep.estimator import TRAIN_PARAM_CONSTRAINTS
from ..deep.nets import SIZES, as_sizes, mlp
from .deep_base import DeepLabelLinkedModel

_ALPHAS = np.logspace(-4, 4, 17)


class SharedHeadModule(nn.Module):
    """Encoders f, g into a shared code and one class head; ``forward`` returns the loss terms."""

    def __init__(
        self,
        n_x,
        n_y,
        n_classes,
        x_hidden,
        y_hidden,
        code,
        head_hidden,
        act,
        dropout,
        loss,
        align,
        pair_weight,
    ):
        super().__init__()
        self.enc_x = mlp([n_x, *x_hidden, code], act, dropout=dropout)
        self.enc_y = mlp([n_y, *y_hidden, code], act, dropout=dropout)
        self.head = mlp([code, *head_hidden, n_classes], act, dropout=dropout)
        self.n_classes = n_classes
        self.loss = loss
        self.align = align
        self.pair_weight = pair_weight

    def _class_loss(self, logits, labels):
        if self.loss == "cross-entropy":
            return F.cross_entropy(logits, labels)
        onehot = F.one_hot(labels, self.n_classes).to(logits.dtype)
        return ((logits.softmax(dim=1) - onehot) ** 2).sum(dim=1).mean()

    def _alignment(self, zx, lx, zy, ly):
        """Mean squared distance between the two views' batch class means (classes in both)."""
        ox = F.one_hot(lx, self.n_classes).to(zx.dtype)
        oy = F.one_hot(ly, self.n_classes).to(zy.dtype)
        cx, cy = ox.sum(0), oy.sum(0)
        both = (cx > 0) & (cy > 0)
        if not both.any():
            return zx.new_zeros(())
        mx = (ox.T @ zx)[both] / cx[both, None]
        my = (oy.T @ zy)[both] / cy[both, None]
        return ((mx - my) ** 2).sum(dim=1).mean()

    def forward(self, x, lx, y, ly, px=None, py=None):
        zx, zy = self.enc_x(x), self.enc_y(y)
        out = {
            "class_x": self._class_loss(self.head(zx), lx),
            "class_y": self._class_loss(self.head(zy), ly),
        }
        if self.align > 0:
            out["align"] = self._alignment(zx, lx, zy, ly)
        if px is not None and self.pair_weight > 0:
            out["pairs"] = ((self.enc_x(px) - self.enc_y(py)) ** 2).sum(dim=1).mean()
        weights = {"align": self.align, "pairs": self.pair_weight}
        out["loss"] = sum(v * weights.get(k, 1.0) for k, v in out.items())
        return out


class SharedHeadNet(DeepLabelLinkedModel):
    """Translate between label-linked views through encoders that share one class head.

    Parameters
    ----------
    n_components : int, default=64
        Width h of the shared code.
    x_hidden : int or tuple of int, default=(256,)
        Hidden layers of the X encoder (``()`` for a single linear layer, for small data).
    y_hidden : int, tuple of int or None, default=None
        Hidden layers of the Y encoder; None: the same as ``x_hidden``.
    head_hidden : int or tuple of int, default=()
        Hidden layers of the shared head (``()``: one linear layer h -> classes).
    activation : str, default="relu"
        Activation of the hidden layers.
    dropout : float, default=0.0
        Dropout after each hidden layer.
    loss : {"cross-entropy", "squared"}, default="cross-entropy"
        The classification loss of both views.
    align : float, default=1.0
        Weight of the class-conditional alignment term (0: off).
    pair_weight : float, default=1.0
        Weight of the code agreement of known pairs (used when ``pairs`` are given).
    epochs, batch_size, optimizer, learning_rate, lr_schedule, precision, weight_decay,
    patience, device, random_state, verbose, checkpoint_dir, resume
        Training settings, as for every deep method (:func:`crossview.deep.trainer.train`);
        ``epochs="auto"`` trains for about 10,000 steps (at least 30 epochs, at most 1000); a
        step takes ``batch_size`` rows of each view.
    """

    #: ``epochs="auto"``: classification needs fewer steps than CorrNet's 30,000
    auto_steps = 10_000

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "x_hidden": SIZES,
        "y_hidden": [*SIZES, None],
        "head_hidden": SIZES,
        "activation": [str],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "loss": [StrOptions({"cross-entropy", "squared"})],
        "align": [Interval(Real, 0, None, closed="left")],
        "pair_weight": [Interval(Real, 0, None, closed="left")],
        **TRAIN_PARAM_CONSTRAINTS,
    }

    def __init__(
        self,
        n_components=64,
        x_hidden=(256,),
        y_hidden=None,
        head_hidden=(),
        activation="relu",
        dropout=0.0,
        loss="cross-entropy",
        align=1.0,
        pair_weight=1.0,
        epochs="auto",
        batch_size=100,
        optimizer="adam",
        learning_rate=1e-3,
        lr_schedule="cosine",
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
        self.head_hidden = head_hidden
        self.activation = activation
        self.dropout = dropout
        self.loss = loss
        self.align = align
        self.pair_weight = pair_weight
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

    def _build_module(self, n_x: int, n_y: int) -> SharedHeadModule:
        x_hidden = as_sizes(self.x_hidden, "x_hidden")
        y_hidden = x_hidden if self.y_hidden is None else as_sizes(self.y_hidden, "y_hidden")
        head = as_sizes(self.head_hidden, "head_hidden")
        return SharedHeadModule(
            n_x,
            n_y,
            len(self.classes_),
            x_hidden,
            y_hidden,
            int(self.n_components),
            head,
            self.activation,
            float(self.dropout),
            self.loss,
            float(self.align),
            float(self.pair_weight),
        )

    def fit(self, X, x_labels, Y, y_labels, pairs=None):
        """Train the encoders and the shared head on both views' labels, then the ridge maps."""
        data = self._check_data(X, x_labels, Y, y_labels, pairs)
        t = torch.from_numpy
        sets = [(t(data.X), t(data.x_codes)), (t(data.Y), t(data.y_codes))]
        if len(data.pairs):
            sets.append((t(data.X[data.pairs[:, 0]]), t(data.Y[data.pairs[:, 1]])))
        n_max = max(len(data.X), len(data.Y))
        self._train_module(data.X.shape[1], data.Y.shape[1], sets, None, n_max)
        self._fit_maps(data.X, data.Y)
        return self

    def _fit_maps(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Ridge maps from each view's codes back to that view, fitted on its own rows."""
        for view, A, enc in (("y", Y, self.module_.enc_y), ("x", X, self.module_.enc_x)):
            r = RidgeCV(alphas=_ALPHAS).fit(self._run(enc, A).astype(np.float64), A)
            setattr(self, f"coef_{view}_", np.atleast_2d(r.coef_).T.astype(np.float32))
            setattr(self, f"intercept_{view}_", np.atleast_1d(r.intercept_).astype(np.float32))

    # ---- codes, classes, translations ------------------------------------------------------
    def transform(self, X) -> np.ndarray:
        """The shared code f(x) of rows of X."""
        return self._run(self.module_.enc_x, self._check_x(X, np.float32))

    def transform_y(self, Y) -> np.ndarray:
        """The shared code g(y) of rows of Y."""
        return self._run(self.module_.enc_y, self._check_y(Y, np.float32))

    def predict_proba(self, X) -> np.ndarray:
        """P(class | row of X) from the shared head, one column per entry of ``classes_``."""
        Z = self.transform(X)
        return self._run(lambda z: self.module_.head(z).softmax(dim=1), Z)

    def predict_proba_y(self, Y) -> np.ndarray:
        """P(class | row of Y) from the shared head."""
        Z = self.transform_y(Y)
        return self._run(lambda z: self.module_.head(z).softmax(dim=1), Z)

    def predict_label(self, X) -> np.ndarray:
        """The most probable class of each row of X."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def predict_label_y(self, Y) -> np.ndarray:
        """The most probable class of each row of Y."""
        return self.classes_[self.predict_proba_y(Y).argmax(axis=1)]

    def predict(self, X) -> np.ndarray:
        """Translate rows of X into rows of Y: the ridge map of Y's codes applied to f(x)."""
        check_is_fitted(self, "coef_y_")
        return self.transform(X) @ self.coef_y_ + self.intercept_y_

    def predict_x(self, Y) -> np.ndarray:
        """Translate rows of Y into rows of X."""
        check_is_fitted(self, "coef_x_")
        return self.transform_y(Y) @ self.coef_x_ + self.intercept_x_

    # ---- model files -----------------------------------------------------------------------
    _MAPS = ("coef_x_", "intercept_x_", "coef_y_", "intercept_y_")

    def _extra_state(self):
        return {n: getattr(self, n) for n in self._MAPS}, {}

    def _load_extra_state(self, arrays, extra):
        for name in self._MAPS:
            setattr(self, name, np.asarray(arrays[name]))
