"""The multimodal (bimodal) autoencoder of Ngiam et al. 2011: one shared code from either view."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..base import CrossviewError
from .estimator import DeepTwoViewModel, StandardizedCodesMixin
from .losses import mse
from .nets import activation as make_activation
from .nets import as_sizes, mlp


class _MAENet(nn.Module):
    """Encoders per view, a shared code layer, decoders per view; trained with view dropout.

    code = a(c_x(x) + c_y(y) + b), where c_v is view v's encoder followed by a bias-free linear
    map to the code (so a missing view contributes exactly 0, as a zero input does in the
    one-layer model a(W x + V y + b)), or, with a ``view_activation`` g, by an affine map and g
    (c_v(v) = g(W_v e_v(v) + b_v); a missing view still contributes 0). Each forward pass
    encodes the batch three ways — both views, X alone, Y alone — and reconstructs both views
    from each code.
    """

    def __init__(self, n_x, n_y, x_hidden, y_hidden, n_components, activation, code_activation,
                 output_activation, view_activation=None):
        super().__init__()
        self.contrib_x = self._contribution(n_x, x_hidden, n_components, activation,
                                            view_activation)
        self.contrib_y = self._contribution(n_y, y_hidden, n_components, activation,
                                            view_activation)
        self.code_bias = nn.Parameter(torch.zeros(n_components))
        self.code_activation = make_activation(code_activation)
        self.decoder_x = mlp([n_components, *reversed(x_hidden), n_x], activation,
                             output_activation)
        self.decoder_y = mlp([n_components, *reversed(y_hidden), n_y], activation,
                             output_activation)

    @staticmethod
    def _contribution(n_in, hidden, n_components, activation, view_activation):
        layers = [mlp([n_in, *hidden], activation, activation)] if hidden else []
        layers.append(nn.Linear(hidden[-1] if hidden else n_in, n_components,
                                bias=view_activation is not None))
        if view_activation is not None:
            layers.append(make_activation(view_activation))
        return layers[0] if len(layers) == 1 else nn.Sequential(*layers)

    def _code(self, pre):
        return self.code_activation(pre + self.code_bias)

    def encode_x(self, x):
        return self._code(self.contrib_x(x))

    def encode_y(self, y):
        return self._code(self.contrib_y(y))

    def forward(self, x, y):
        cx, cy = self.contrib_x(x), self.contrib_y(y)
        codes = {"rec_both": self._code(cx + cy), "rec_from_x": self._code(cx),
                 "rec_from_y": self._code(cy)}
        terms = {name: mse(self.decoder_x(h), x) + mse(self.decoder_y(h), y)
                 for name, h in codes.items()}
        return {"loss": sum(terms.values()), **terms}


class MultimodalAE(StandardizedCodesMixin, DeepTwoViewModel):
    """Multimodal autoencoder: a shared code that either view alone can fill; translates X <-> Y.

    Ngiam, Khosla, Kim, Nam, Lee and Ng 2011, "Multimodal Deep Learning", ICML, sec. 3.2 (the
    bimodal deep autoencoder); "MAE" in the tables of Chandar et al. 2016 (CorrNet, Neural
    Computation), where it is the CorrNet network trained without the correlation term.
    Each view has an encoder (``x_hidden``/``y_hidden`` hidden layers); the shared layer of
    ``n_components`` units is h = a(c_x(x) + c_y(y) + b), with c_v a bias-free linear map of
    view v's last hidden layer (of the input itself when there are no hidden layers, which gives
    the one-layer model h = a(W x + V y + b) of the CorrNet paper); one decoder per view (the
    encoder widths reversed) reconstructs that view from h.

    Training follows Ngiam et al.'s presentation of examples with one modality missing: every
    batch is encoded three ways — both views, X alone, Y alone — and both views are
    reconstructed from each code, so the loss is the sum of three terms ``rec_both``,
    ``rec_from_x``, ``rec_from_y`` (each the squared error summed over the features of both
    views, averaged over rows; deterministic, rather than dropping a view at random). This is
    CorrNet's reconstruction objective (Chandar et al. 2016) without its correlation term.

    A missing view contributes nothing to the shared layer: with no hidden layers that is
    exactly a zero input, as in the papers. With hidden layers, feeding zeros through a view's
    encoder would instead add a constant to the code of the other view, shifting the codes of X
    alone away from those of Y alone; in the transfer protocol (a classifier standardised on one
    view's codes, applied to the other's) such shifts can push accuracy to chance.

    :meth:`transform` gives the code of X alone, :meth:`transform_y` that of Y alone;
    :meth:`predict` decodes Y from the code of X alone and :meth:`predict_x` the reverse.

    Parameters
    ----------
    n_components : int
        Size of the shared code.
    x_hidden, y_hidden : sequence of int
        Hidden widths of the encoders (decoders mirror them); ``y_hidden=None`` uses ``x_hidden``;
        ``()`` gives the one-layer model of the CorrNet paper.
    activation : str
        Hidden activation.
    view_activation : str or None
        Activation of each view's contribution before the two are added (None: the papers'
        a(W x + V y + b); 'sigmoid' adds two sigmoid branches, as CorrNet's
        ``view_activation="sigmoid"`` does). A missing view contributes 0 either way.
    code_activation : str or None
        Activation of the shared code layer ('sigmoid', as in both papers; None: linear).
    output_activation : str or None
        Activation of the decoders' last layer (e.g. 'sigmoid' for pixels in [0, 1]).
    standardize_codes : bool
        Standardise each view's code with its training mean and standard deviation (default);
        see :class:`~crossview.deep.estimator.StandardizedCodesMixin`. ``False`` gives the raw
        codes. Translation is unaffected.
    epochs, batch_size, optimizer, learning_rate, lr_schedule, precision, weight_decay, patience,
    device, random_state, verbose, checkpoint_dir, resume
        Passed to :func:`crossview.deep.trainer.train` (``lr_schedule`` "constant" or "cosine";
        ``precision`` "float32" or "bfloat16" mixed precision).
    """

    translates = True

    def __init__(self, n_components=50, x_hidden=(500,), y_hidden=None, activation="relu",
                 view_activation=None, code_activation="sigmoid", output_activation=None,
                 standardize_codes=True, epochs=40, batch_size=100, optimizer="adam",
                 learning_rate=1e-3, lr_schedule="constant", precision="float32",
                 weight_decay=0.0, patience=None, device="auto", random_state=None,
                 verbose=False, checkpoint_dir=None,
                 resume=False):
        self.n_components = n_components
        self.x_hidden = x_hidden
        self.y_hidden = y_hidden
        self.activation = activation
        self.view_activation = view_activation
        self.code_activation = code_activation
        self.output_activation = output_activation
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

    def _build_module(self, n_x, n_y):
        k = self.n_components
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise CrossviewError(f"n_components must be a positive integer, got {k!r}")
        x_hidden = as_sizes(self.x_hidden, "x_hidden")
        y_hidden = x_hidden if self.y_hidden is None else as_sizes(self.y_hidden, "y_hidden")
        return _MAENet(n_x, n_y, x_hidden, y_hidden, int(k), self.activation,
                       self.code_activation, self.output_activation, self.view_activation)

    def transform(self, X):
        """Return the shared code computed from view X alone, shape (n, n_components)."""
        return self._codes(self._check_x(X), "x")

    def transform_y(self, Y):
        """Return the shared code computed from view Y alone, shape (n, n_components)."""
        return self._codes(self._check_y(Y), "y")

    def _raw_code_x(self, t):
        return self.module_.encode_x(t)

    def _raw_code_y(self, t):
        return self.module_.encode_y(t)

    def predict(self, X):
        """Translate view X into view Y: decode Y from the code of X alone."""
        return self._run(lambda x: self.module_.decoder_y(self.module_.encode_x(x)),
                         self._check_x(X))

    def predict_x(self, Y):
        """Translate view Y into view X: decode X from the code of Y alone."""
        return self._run(lambda y: self.module_.decoder_x(self.module_.encode_y(y)),
                         self._check_y(Y))
