"""Deep Correlational Neural Network (Chandar et al., "Correlational Neural Networks", Neural
Computation 28(2), 2016; Deep CorrNet: section 5).

Each view has an encoder (a stack such as 500-300-50); the common code is
``h(x, y) = f(Ex(x) + Ey(y))`` (the last layers' biases are the paper's ``b``), and decoders
reconstruct both views from ``h``. A missing view is fed as zeros, as in the paper, so
``h(x, 0) = f(Ex(x) + Ey(0))`` where ``Ey(0)`` is one constant vector: it is computed once per
batch instead of once per row. The loss (paper eq. 3) adds, each switchable:

- L1 self-reconstruction: both views from ``h(x, y)``;
- L2 cross-reconstruction: both views from ``h(x, 0)``;
- L3 cross-reconstruction: both views from ``h(0, y)``;
- L4 correlation: ``-lam * sum_j corr(h_j(x, 0), h_j(0, y))`` over the minibatch.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn

from ..base import CrossviewError
from .estimator import DeepTwoViewModel, StandardizedCodesMixin
from .losses import correlation_sum, mse
from .nets import activation, as_sizes, mlp


class CorrNetModule(nn.Module):
    """The CorrNet network: two encoders, a combined code and two decoders."""

    def __init__(self, n_x: int, n_y: int, x_hidden, y_hidden, n_components: int,
                 hidden_activation: str, view_activation: str | None, code_activation: str,
                 decoder_hidden,
                 output_activation: str | None, losses: tuple[bool, bool, bool, bool],
                 lam: float, batch_norm: bool, dropout: float):
        super().__init__()
        self.enc_x = mlp((n_x, *x_hidden, n_components), hidden_activation, view_activation,
                         dropout, batch_norm)
        self.enc_y = mlp((n_y, *y_hidden, n_components), hidden_activation, view_activation,
                         dropout, batch_norm)
        self.code_act = activation(code_activation)
        self.dec_x = mlp((n_components, *decoder_hidden, n_x), hidden_activation,
                         output_activation)
        self.dec_y = mlp((n_components, *decoder_hidden, n_y), hidden_activation,
                         output_activation)
        self.losses = tuple(bool(b) for b in losses)
        self.lam = float(lam)
        self.n_x, self.n_y = n_x, n_y

    def _zero_code(self, enc: nn.Module, n_features: int, like: torch.Tensor) -> torch.Tensor:
        """The encoder output of an all-zero input: one row, shared by every row of the batch."""
        was_training = enc.training
        enc.eval()  # batch norm cannot take a batch of one; the zero row is a fixed input
        try:
            return enc(like.new_zeros(1, n_features))
        finally:
            enc.train(was_training)

    def encode(self, x: torch.Tensor | None, y: torch.Tensor | None) -> torch.Tensor:
        """The common code h(x, y), with None standing for a missing (all-zero) view."""
        if x is None and y is None:
            raise ValueError("need at least one view")
        ref = x if x is not None else y
        zx = self.enc_x(x) if x is not None else self._zero_code(self.enc_x, self.n_x, ref)
        zy = self.enc_y(y) if y is not None else self._zero_code(self.enc_y, self.n_y, ref)
        return self.code_act(zx + zy)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return the total loss and each active term (L1 self, L2/L3 cross, L4 correlation)."""
        use_self, use_from_x, use_from_y, use_corr = self.losses
        zx, zy = self.enc_x(x), self.enc_y(y)
        out: dict[str, torch.Tensor] = {}
        codes = []
        if use_self:
            codes.append(("self_rec", self.code_act(zx + zy)))
        if use_from_x or use_corr:
            h_x = self.code_act(zx + self._zero_code(self.enc_y, self.n_y, x))
        if use_from_y or use_corr:
            h_y = self.code_act(self._zero_code(self.enc_x, self.n_x, y) + zy)
        if use_from_x:
            codes.append(("rec_from_x", h_x))
        if use_from_y:
            codes.append(("rec_from_y", h_y))
        total = x.new_zeros(())
        if codes:
            n = x.shape[0]
            h = torch.cat([c for _, c in codes], dim=0)  # decode every code in one pass
            xr, yr = self.dec_x(h), self.dec_y(h)
            for i, (name, _) in enumerate(codes):
                part = slice(i * n, (i + 1) * n)
                term = mse(xr[part], x) + mse(yr[part], y)
                out[name] = term
                total = total + term
        if use_corr:
            corr = correlation_sum(h_x, h_y)
            out["corr"] = corr
            total = total - self.lam * corr
        if not any(self.losses):
            # no term switched on: a zero loss that still reaches every weight (a no-op step)
            total = total + 0.0 * sum(p.sum() for p in self.parameters())
        out["loss"] = total
        return out


class CorrNet(StandardizedCodesMixin, DeepTwoViewModel):
    """Deep Correlational Neural Network: a common code of two views that also translates.

    Parameters
    ----------
    n_components : size of the common code (50 in the paper's MNIST experiments).
    x_hidden, y_hidden : hidden layer sizes of each view's encoder before the code
        (``(500, 300)`` gives Deep CorrNet 500-300-50; ``()`` gives the one-layer CorrNet).
        ``y_hidden=None`` uses ``x_hidden``.
    activation : hidden-layer nonlinearity.
    view_activation : nonlinearity on each view's encoder output before the two are added
        (``None``: the paper's ``h = f(Wx + Vy + b)``; ``"sigmoid"`` as in the well-known Keras
        reproduction, which adds two sigmoid branches).
    code_activation : ``f`` in ``h = f(Ex(x) + Ey(y))`` (``"identity"``, ``"relu"``, ``"sigmoid"``...).
    decoder_hidden : hidden sizes of the decoders (``()`` = linear decoders, as in the paper).
    output_activation : decoder output nonlinearity (``None``, or ``"sigmoid"`` for data in [0, 1]).
    loss_self, loss_from_x, loss_from_y, loss_corr : switch the paper's L1, L2, L3 and L4 terms
        (all 16 combinations are allowed; the paper's ablation uses L2+L3, L1+L2+L3, L2+L3+L4,
        L1+L2+L3+L4).
    lam : weight of the correlation term L4.
    batch_norm, dropout : optional regularisation of the encoders' hidden layers.
    standardize_codes : if True (default), ``transform`` and ``transform_y`` return each view's
        code standardised per dimension with that view's training mean and standard deviation.
        The correlation objective fixes codes only up to a per-dimension scale and shift, so
        the two views' raw codes can sit at different offsets; standardising them (as DCCA's
        final CCA does) makes codes of X and Y directly comparable, e.g. for a classifier trained
        on one view and applied to the other. Correlations are unchanged. ``False`` returns the
        paper's raw codes h(x, 0) and h(0, y). Translation (``predict``) is unaffected.
    epochs, batch_size, optimizer, learning_rate, lr_schedule, precision, weight_decay, patience,
    device, random_state, verbose, checkpoint_dir, resume : training, passed to the shared
        trainer (:func:`crossview.deep.trainer.train`; ``lr_schedule`` "constant" or "cosine",
        ``precision`` "float32" or "bfloat16" mixed precision).
    """

    translates = True

    def __init__(self, n_components=50, x_hidden=(500, 300), y_hidden=None, activation="relu",
                 view_activation=None, code_activation="identity", decoder_hidden=(),
                 output_activation=None, loss_self=True, loss_from_x=True, loss_from_y=True,
                 loss_corr=True, lam=2.0, batch_norm=False, dropout=0.0, standardize_codes=True,
                 epochs=50,
                 batch_size=100, optimizer="adam", learning_rate=1e-3, lr_schedule="constant",
                 precision="float32", weight_decay=0.0, patience=None, device="auto",
                 random_state=None, verbose=True, checkpoint_dir=None, resume=False):
        self.n_components = n_components
        self.x_hidden = x_hidden
        self.y_hidden = y_hidden
        self.activation = activation
        self.view_activation = view_activation
        self.code_activation = code_activation
        self.decoder_hidden = decoder_hidden
        self.output_activation = output_activation
        self.loss_self = loss_self
        self.loss_from_x = loss_from_x
        self.loss_from_y = loss_from_y
        self.loss_corr = loss_corr
        self.lam = lam
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.standardize_codes = standardize_codes
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

    @property
    def loss_terms(self) -> str:
        """The active terms in the paper's notation, e.g. ``"L1+L2+L3+L4"``."""
        on = [f"L{i + 1}" for i, b in enumerate(self._losses()) if b]
        return "+".join(on) or "none"

    def _losses(self) -> tuple[bool, bool, bool, bool]:
        return (bool(self.loss_self), bool(self.loss_from_x), bool(self.loss_from_y),
                bool(self.loss_corr))

    def _build_module(self, n_x: int, n_y: int) -> CorrNetModule:
        k = self.n_components
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise CrossviewError(f"n_components must be a positive integer, got {k!r}")
        try:
            lam = float(self.lam)
        except (TypeError, ValueError):
            raise CrossviewError(f"lam must be a number >= 0, got {self.lam!r}") from None
        if not np.isfinite(lam) or lam < 0:
            raise CrossviewError(f"lam must be a finite number >= 0, got {self.lam!r}")
        if self.loss_corr and self.batch_size < 2:
            raise CrossviewError("the correlation term needs batch_size >= 2")
        x_hidden = as_sizes(self.x_hidden, "x_hidden")
        y_hidden = x_hidden if self.y_hidden is None else as_sizes(self.y_hidden, "y_hidden")
        if not any(self._losses()):
            warnings.warn("CorrNet with every loss term switched off learns nothing",
                          UserWarning, stacklevel=3)
        return CorrNetModule(n_x, n_y, x_hidden, y_hidden, int(self.n_components),
                             self.activation, self.view_activation, self.code_activation,
                             as_sizes(self.decoder_hidden, "decoder_hidden"),
                             self.output_activation, self._losses(), self.lam,
                             bool(self.batch_norm), float(self.dropout))

    def _raw_code_x(self, t: torch.Tensor) -> torch.Tensor:
        return self.module_.encode(t, None)

    def _raw_code_y(self, t: torch.Tensor) -> torch.Tensor:
        return self.module_.encode(None, t)

    # ---- codes and translations ------------------------------------------------------------
    def transform(self, X) -> np.ndarray:
        """Return the common code of X alone, h(x, 0) (standardised if ``standardize_codes``)."""
        return self._codes(self._check_x(X), "x")

    def transform_y(self, Y) -> np.ndarray:
        """Return the common code of Y alone, h(0, y) (standardised if ``standardize_codes``)."""
        return self._codes(self._check_y(Y), "y")

    def transform_joint(self, X, Y) -> np.ndarray:
        """Return the raw common code of both views together, h(x, y)."""
        X, Y = self._check_x(X), self._check_y(Y)
        if X.shape[0] != Y.shape[0]:
            raise CrossviewError(f"X has {X.shape[0]} rows and Y {Y.shape[0]}; expected the same")
        both = np.concatenate([X, Y], axis=1)
        nx = X.shape[1]
        return self._run(lambda t: self.module_.encode(t[:, :nx], t[:, nx:]), both)

    def predict(self, X) -> np.ndarray:
        """Reconstruct view Y from view X alone (decode h(x, 0))."""
        X = self._check_x(X)
        return self._run(lambda t: self.module_.dec_y(self.module_.encode(t, None)), X)

    def predict_x(self, Y) -> np.ndarray:
        """Reconstruct view X from view Y alone (decode h(0, y))."""
        Y = self._check_y(Y)
        return self._run(lambda t: self.module_.dec_x(self.module_.encode(None, t)), Y)
