"""The multimodal (bimodal) autoencoder of Ngiam et al. 2011: one shared code from either view."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..base import CrossviewError
from .estimator import DeepTwoViewModel
from .losses import mse
from .nets import activation as make_activation
from .nets import as_sizes, mlp


class _MAENet(nn.Module):
    """Encoders per view, a shared code layer, decoders per view; trained with view dropout.

    code(x, y) = a(W_x e_x(x) + W_y e_y(y) + b) (a linear layer on the concatenation of the two
    encoder outputs); each forward pass encodes the batch three times — both views, X alone (Y
    set to zeros), Y alone (X set to zeros) — and reconstructs both views from each code.
    """

    def __init__(self, n_x, n_y, x_hidden, y_hidden, n_components, activation, code_activation,
                 output_activation):
        super().__init__()
        self.n_x, self.n_y = n_x, n_y
        self.encoder_x = mlp([n_x, *x_hidden], activation, activation) if x_hidden else None
        self.encoder_y = mlp([n_y, *y_hidden], activation, activation) if y_hidden else None
        width_x = x_hidden[-1] if x_hidden else n_x
        width_y = y_hidden[-1] if y_hidden else n_y
        self.code = nn.Sequential(nn.Linear(width_x + width_y, n_components),
                                  make_activation(code_activation))
        self.decoder_x = mlp([n_components, *reversed(x_hidden), n_x], activation,
                             output_activation)
        self.decoder_y = mlp([n_components, *reversed(y_hidden), n_y], activation,
                             output_activation)

    def encode(self, x, y):
        hx = x if self.encoder_x is None else self.encoder_x(x)
        hy = y if self.encoder_y is None else self.encoder_y(y)
        return self.code(torch.cat([hx, hy], dim=1))

    def encode_x(self, x):
        return self.encode(x, x.new_zeros(x.shape[0], self.n_y))

    def encode_y(self, y):
        return self.encode(y.new_zeros(y.shape[0], self.n_x), y)

    def forward(self, x, y):
        m = x.shape[0]
        zx, zy = torch.zeros_like(x), torch.zeros_like(y)
        code = self.encode(torch.cat([x, x, zx]), torch.cat([y, zy, y]))
        rx, ry = self.decoder_x(code), self.decoder_y(code)
        terms = {}
        for i, name in enumerate(("rec_both", "rec_from_x", "rec_from_y")):
            sl = slice(i * m, (i + 1) * m)
            terms[name] = mse(rx[sl], x) + mse(ry[sl], y)
        return {"loss": sum(terms.values()), **terms}


class MultimodalAE(DeepTwoViewModel):
    """Multimodal autoencoder: a shared code that either view alone can fill; translates X <-> Y.

    Ngiam, Khosla, Kim, Nam, Lee and Ng 2011, "Multimodal Deep Learning", ICML, sec. 3.2 (the
    bimodal deep autoencoder; "MAE" in the tables of Chandar et al. 2016, CorrNet). Each view has
    an encoder (``x_hidden``/``y_hidden``); a shared layer of ``n_components`` units reads both
    encoder outputs, and one decoder per view (the encoder widths reversed) reconstructs that
    view from the shared code. Following Ngiam et al.'s training with one modality zeroed,
    every batch is presented three ways — both views, X only (Y = 0), Y only (X = 0) — and
    both views are reconstructed from each code, so the loss is the sum of three terms
    ``rec_both``, ``rec_from_x``, ``rec_from_y``, each the squared error summed over the
    features of both views, averaged over rows (deterministic, rather than dropping a view at
    random). The three presentations are the same objective as CorrNet's reconstruction terms
    (Chandar et al. 2016, eq. 2) without its correlation term.

    :meth:`transform` gives the code of X with Y zeroed, :meth:`transform_y` that of Y with X
    zeroed; :meth:`predict` decodes Y from the code of X alone and :meth:`predict_x` the reverse.
    Zeros stand for a missing view, so inputs should be scaled so that 0 is a neutral value
    (pixels in [0, 1], or centred features).

    Parameters
    ----------
    n_components : int
        Size of the shared code.
    x_hidden, y_hidden : sequence of int
        Hidden widths of the encoders (decoders mirror them); ``y_hidden=None`` uses ``x_hidden``.
    activation : str
        Hidden activation.
    code_activation : str or None
        Activation of the shared code layer (None: linear).
    output_activation : str or None
        Activation of the decoders' last layer (e.g. 'sigmoid' for pixels in [0, 1]).
    epochs, batch_size, optimizer, learning_rate, weight_decay, patience, device, random_state,
    verbose, checkpoint_dir, resume
        Passed to :func:`crossview.deep.trainer.train`.
    """

    translates = True

    def __init__(self, n_components=50, x_hidden=(500,), y_hidden=None, activation="relu",
                 code_activation=None, output_activation=None, epochs=40, batch_size=100,
                 optimizer="adam", learning_rate=1e-3, weight_decay=0.0, patience=None,
                 device="auto", random_state=None, verbose=False, checkpoint_dir=None,
                 resume=False):
        self.n_components = n_components
        self.x_hidden = x_hidden
        self.y_hidden = y_hidden
        self.activation = activation
        self.code_activation = code_activation
        self.output_activation = output_activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.patience = patience
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume

    def _build_module(self, n_x, n_y):
        k = self.n_components
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise CrossviewError(f"n_components must be a positive integer, got {k!r}")
        x_hidden = as_sizes(self.x_hidden, "x_hidden")
        y_hidden = x_hidden if self.y_hidden is None else as_sizes(self.y_hidden, "y_hidden")
        return _MAENet(n_x, n_y, x_hidden, y_hidden, int(k), self.activation,
                       self.code_activation, self.output_activation)

    def transform(self, X):
        """Return the shared code computed from view X alone (Y zeroed), shape (n, n_components)."""
        return self._run(self.module_.encode_x, self._check_x(X))

    def transform_y(self, Y):
        """Return the shared code computed from view Y alone (X zeroed), shape (n, n_components)."""
        return self._run(self.module_.encode_y, self._check_y(Y))

    def predict(self, X):
        """Translate view X into view Y: decode Y from the code of X alone."""
        return self._run(lambda x: self.module_.decoder_y(self.module_.encode_x(x)),
                         self._check_x(X))

    def predict_x(self, Y):
        """Translate view Y into view X: decode X from the code of Y alone."""
        return self._run(lambda y: self.module_.decoder_x(self.module_.encode_y(y)),
                         self._check_y(Y))
