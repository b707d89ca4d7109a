"""The multimodal (bimodal) autoencoder of Ngiam et al. 2011: one shared code from either view."""

from __future__ import annotations

from numbers import Integral

import torch
from sklearn.utils._param_validation import Interval
from torch import nn

from .estimator import TRAIN_PARAM_CONSTRAINTS, DeepTwoViewModel, StandardizedCodesMixin
from .losses import mse
from .nets import SIZES, as_sizes, mlp
from .nets import activation as make_activation


class _MAENet(nn.Module):
    """Encoders per view, a shared code layer, decoders per view; trained with view dropout.

    code = a(c_x(x) + c_y(y) + b), where c_v is view v's encoder followed by a bias-free linear
    map to the code (so a missing view contributes exactly 0, as a zero input does in the
    one-layer model a(W x + V y + b)), or, with a ``view_activation`` g, by an affine map and g
    (c_v(v) = g(W_v e_v(v) + b_v); a missing view still contributes 0). Each forward pass
    encodes the batch three ways — both views, X alone, Y alone — and reconstructs both views
    from each code.
    """

    def __init__(
        self,
        n_x,
        n_y,
        x_hidden,
        y_hidden,
        n_components,
        activation,
        code_activation,
        output_activation,
        view_activation=None,
    ):
        super().__init__()
        self.contrib_x = self._contribution(
            n_x, x_hidden, n_components, activation, view_activation
        )
        self.contrib_y = self._contribution(
            n_y, y_hidden, n_components, activation, view_activation
        )
        self.code_bias = nn.Parameter(torch.zeros(n_components))
        self.code_activation = make_activation(code_activation)
        self.decoder_x = mlp(
            [n_components, *reversed(x_hidden), n_x], activation, output_activation
        )
        self.decoder_y = mlp(
            [n_components, *reversed(y_hidden), n_y], activation, output_activation
        )

    @staticmethod
    def _contribution(n_in, hidden, n_components, activation, view_activation):
        layers = [mlp([n_in, *hidden], activation, activation)] if hidden else []
        layers.append(
            nn.Linear(
                hidden[-1] if hidden else n_in, n_components, bias=view_activation is not None
            )
        )
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
        codes = {
            "rec_both": self._code(cx + cy),
            "rec_from_x": self._code(cx),
            "rec_from_y": self._code(cy),
        }
        terms = {
            name: mse(self.decoder_x(h), x) + mse(self.decoder_y(h), y) for name, h in codes.items()
        }
        return {"loss": sum(terms.values()), **terms}


class MultimodalAE(StandardizedCodesMixin, DeepTwoViewModel):
    """Learn a shared code that either view alone can fill, and decode both views from it.

    Ngiam, Khosla, Kim, Nam, Lee and Ng 2011, "Multimodal Deep Learning", ICML, sec. 3.2 (the
    bimodal deep autoencoder); "MAE" in the tables of Chandar et al. 2016 (CorrNet, Neural
    Computation), where it is the CorrNet network trained without the correlation term.
    Each view has an encoder (``x_hidden``/``y_hidden`` hidden layers); the shared layer of
    ``n_components`` units is h = a(c_x(x) + c_y(y) + b), with c_v view v's contribution: a
    bias-free linear map of its last hidden layer (of the input itself when there are no hidden
    layers), passed through ``view_activation`` (default sigmoid; with ``view_activation=None``
    and no hidden layers this is the one-layer model h = a(W x + V y + b) of the CorrNet paper);
    one decoder per view (the encoder widths reversed) reconstructs that view from h.

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
    n_components : int, default=50
        Size of the shared code.
    x_hidden : int or sequence of int, default=(500,)
        Hidden widths of the X encoder (the X decoder has them in reverse order); ``()`` with
        ``view_activation=None`` gives the one-layer model of the CorrNet paper.
    y_hidden : int, sequence of int or None, default=None
        Hidden widths of the Y encoder; None uses ``x_hidden``.
    activation : str, default="relu"
        Hidden activation of the encoders and decoders.
    view_activation : str or None, default="sigmoid"
        Activation of each view's contribution before the two are added ("sigmoid" adds two
        sigmoid branches, as CorrNet's ``view_activation="sigmoid"`` does; None: the papers'
        a(W x + V y + b)). A missing view contributes 0 either way.
    code_activation : str or None, default="sigmoid"
        Activation ``a`` of the shared code layer ("sigmoid", as in both papers; None: linear).
    output_activation : str or None, default=None
        Activation of the decoders' last layer (e.g. "sigmoid" for pixels in [0, 1]).
    standardize_codes : bool, default=True
        Standardise each view's code with its training mean and standard deviation in
        ``transform`` / ``transform_y``; see
        :class:`~crossview.deep.estimator.StandardizedCodesMixin`. ``False`` gives the raw
        codes. Translation is unaffected.
    epochs : int or "auto", default="auto"
        Passes over the training data. "auto" trains for about 15,000 optimiser steps, at
        least 30 and at most 1000 epochs (:func:`~crossview.deep.trainer.resolve_epochs`):
        30 epochs of 50,000 rows in batches of 100, 1000 epochs of a thousand rows.
    batch_size : int, default=100
        Rows per optimiser step; at most the number of training rows.
    optimizer : {"adam", "adamw", "rmsprop", "sgd"}, default="adam"
        The torch optimiser ("sgd" with momentum 0.9).
    learning_rate : float, default=2e-3
        Step size of the optimiser (the starting value with ``lr_schedule="cosine"``).
    lr_schedule : {"constant", "cosine"}, default="cosine"
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
    code_mean_x_, code_std_x_, code_mean_y_, code_std_y_ : ndarray of shape (n_components,)
        Per-dimension mean and standard deviation of each view's raw training codes, used by
        ``standardize_codes`` (computed either way).
    module_ : torch.nn.Module
        The trained network (on the CPU after ``fit``).
    history_ : crossview.deep.trainer.History
        Every loss term per epoch, on the training and (if given) the validation views.
    n_features_in_, n_features_in_y_ : int
        Number of columns of X and of Y seen in ``fit``.
    """

    _parameter_constraints: dict = {
        **TRAIN_PARAM_CONSTRAINTS,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "x_hidden": SIZES,
        "y_hidden": [*SIZES, None],
        # activation names are checked where the network is built (crossview.deep.nets)
        "activation": [str, None],
        "view_activation": [str, None],
        "code_activation": [str, None],
        "output_activation": [str, None],
        "standardize_codes": ["boolean"],
    }
    # epochs="auto": 15,000 steps, 30 epochs of MNIST halves in batches of 100, where the
    # defaults were chosen (docs/benchmarks.md, "Defaults")
    auto_steps = 15_000

    def __init__(
        self,
        n_components=50,
        x_hidden=(500,),
        y_hidden=None,
        activation="relu",
        view_activation="sigmoid",
        code_activation="sigmoid",
        output_activation=None,
        standardize_codes=True,
        epochs="auto",
        batch_size=100,
        optimizer="adam",
        learning_rate=2e-3,
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
        x_hidden = as_sizes(self.x_hidden, "x_hidden")
        y_hidden = x_hidden if self.y_hidden is None else as_sizes(self.y_hidden, "y_hidden")
        return _MAENet(
            n_x,
            n_y,
            x_hidden,
            y_hidden,
            int(self.n_components),
            self.activation,
            self.code_activation,
            self.output_activation,
            self.view_activation,
        )

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
        return self._run(
            lambda x: self.module_.decoder_y(self.module_.encode_x(x)), self._check_x(X)
        )

    def predict_x(self, Y):
        """Translate view Y into view X: decode X from the code of Y alone."""
        return self._run(
            lambda y: self.module_.decoder_x(self.module_.encode_y(y)), self._check_y(Y)
        )
