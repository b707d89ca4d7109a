"""A neural map from one embedding space to another (X -> Y, optionally also Y -> X)."""

from __future__ import annotations

from torch import nn

from ..base import CrossviewError
from .estimator import DeepTwoViewModel
from .losses import cosine_distance, mae, mse
from .nets import as_sizes, mlp

LOSSES = {"mse": mse, "cosine": cosine_distance, "mae": mae}


class _MapNet(nn.Module):
    """One MLP X -> Y (and one Y -> X when bidirectional), each trained on its own loss term."""

    def __init__(self, n_x, n_y, hidden, activation, output_activation, loss, bidirectional):
        super().__init__()
        self.x_to_y = mlp([n_x, *hidden, n_y], activation, output_activation)
        self.y_to_x = (mlp([n_y, *hidden, n_x], activation, output_activation)
                       if bidirectional else None)
        self.loss_fn = LOSSES[loss]

    def forward(self, x, y):
        terms = {"x_to_y": self.loss_fn(self.x_to_y(x), y)}
        if self.y_to_x is not None:
            terms["y_to_x"] = self.loss_fn(self.y_to_x(y), x)
        return {"loss": sum(terms.values()), **terms}


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
    hidden : sequence of int
        Hidden layer widths (used for both directions).
    activation : str
        Hidden activation.
    output_activation : str or None
        None for unbounded outputs; 'tanh' for targets in (-1, 1), 'sigmoid' for (0, 1).
    loss : {'mse', 'cosine', 'mae'}
        Squared error (summed over features, averaged over rows), cosine distance, or absolute
        error (summed over features, averaged over rows).
    bidirectional : bool
        Also learn the map Y -> X (a second network, trained with the same loss).
    epochs, batch_size, optimizer, learning_rate, lr_schedule, precision, weight_decay, patience,
    device, random_state, verbose, checkpoint_dir, resume
        Passed to :func:`crossview.deep.trainer.train` (``lr_schedule`` "constant" or "cosine";
        ``precision`` "float32" or "bfloat16" mixed precision).
    """

    translates = True

    def __init__(self, hidden=(512,), activation="relu", output_activation=None, loss="mse",
                 bidirectional=False, epochs=100, batch_size=128, optimizer="adam",
                 learning_rate=1e-3, lr_schedule="constant", precision="float32",
                 weight_decay=0.0, patience=None, device="auto", random_state=None,
                 verbose=True, checkpoint_dir=None, resume=False):
        self.hidden = hidden
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.bidirectional = bidirectional
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
        if self.loss not in LOSSES:
            raise CrossviewError(
                f"unknown loss {self.loss!r}; expected one of {', '.join(sorted(LOSSES))}")
        return _MapNet(n_x, n_y, as_sizes(self.hidden, "hidden"), self.activation,
                       self.output_activation, self.loss, bool(self.bidirectional))

    def predict(self, X):
        """Map view X into the space of view Y, shape (n, n_features_y)."""
        return self._run(self.module_.x_to_y, self._check_x(X))

    def predict_x(self, Y):
        """Map view Y into the space of view X (needs ``bidirectional=True``)."""
        Y = self._check_y(Y)
        if self.module_.y_to_x is None:
            raise CrossviewError(
                "this MLPMap was fitted with bidirectional=False, so it has no Y -> X map; "
                "refit with bidirectional=True to use predict_x")
        return self._run(self.module_.y_to_x, Y)

    def transform(self, X):
        """Return the code of X: its image in Y's space (same as :meth:`predict`)."""
        return self.predict(X)

    def transform_y(self, Y):
        """Return the code of Y: Y itself (validated, float32), the space X is mapped into."""
        return self._check_y(Y)
