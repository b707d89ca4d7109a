"""A network X -> Y (and one Y -> X) trained against same-label rows of the other view.

With no pairs, each row of X can only be trained towards rows of Y that share its label. Drawn
at random (``matching="random"``), those targets make the squared error minimal at the class
mean of Y, so the network collapses to class means (tests/test_labels.py shows it). With
``matching="assignment"`` (the default) each row of X is instead matched to *one* row of Y of
its class by an optimal assignment: within each class, the network's current outputs for the
X rows and the real Y rows are split into blocks of at most ``block_size`` rows, and each
block is solved by scipy's ``linear_sum_assignment`` on squared Euclidean distances (a class
with fewer Y than X rows repeats its Y rows). The targets are re-matched every
``rematch_every`` epochs after ``warmup`` epochs of random targets. The outputs then spread
over real rows of the class instead of sitting at its mean. The assignment is made in Y's own
space, through the network's predictions, so no space shared by both views is needed.

The targets live in the network's state (a buffer of assigned row indices), so checkpoints
and resume stay exact.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..deep.estimator import TRAIN_PARAM_CONSTRAINTS
from ..deep.nets import SIZES, as_sizes, mlp
from .deep_base import DeepLabelLinkedModel


def assign_within_classes(P, p_codes, T, t_codes, n_classes, block_size, rng) -> np.ndarray:
    """For each row of ``P`` (predictions), the index of one row of ``T`` of the same class.

    Within each class the rows of P and of T are shuffled and cut into the same number of
    blocks of at most ``block_size`` rows; each pair of blocks is an optimal assignment on
    squared Euclidean distances (``scipy.optimize.linear_sum_assignment``), with T's rows
    repeated where the block has more rows of P. Blocks keep the cost near-linear in the rows
    (an exact assignment of n rows costs O(n^3)).
    """
    out = np.empty(len(P), dtype=np.int64)
    for c in range(n_classes):
        pi = rng.permutation(np.flatnonzero(p_codes == c))
        ti = rng.permutation(np.flatnonzero(t_codes == c))
        n_blocks = max(1, int(np.ceil(max(len(pi), len(ti)) / block_size)))
        for pb, tb in zip(np.array_split(pi, n_blocks), np.array_split(ti, n_blocks)):
            if len(pb) == 0:
                continue
            reps = int(np.ceil(len(pb) / max(len(tb), 1)))
            tb = np.tile(tb, reps)
            cost = (P[pb] ** 2).sum(1)[:, None] - 2 * P[pb] @ T[tb].T + (T[tb] ** 2).sum(1)[None, :]
            rows, cols = linear_sum_assignment(cost)
            out[pb[rows]] = tb[cols]
    return out


class _Direction(nn.Module):
    """One network source -> target and the targets it is trained towards."""

    def __init__(self, n_in, n_out, hidden, act):
        super().__init__()
        self.net = mlp([n_in, *hidden, n_out], act)
        # the target row of each source row (-1: none yet); saved, so that resume is exact
        self.register_buffer("assigned", torch.zeros(0, dtype=torch.long))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + "assigned"
        if key in state_dict:  # one entry per training row: take the saved size
            self.assigned = torch.empty_like(state_dict[key])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def set_data(self, S, s_codes, T, t_codes, n_classes, pinned):
        """The training rows of both views (buffers, so they follow the module's device) and
        the known pairs ``pinned = (source rows, target rows)``, kept as fixed targets."""
        counts = torch.bincount(t_codes, minlength=n_classes)
        data = {
            "S": S,
            "s_codes": s_codes,
            "T": T,
            "by_class": torch.argsort(t_codes, stable=True),
            "counts": counts,
            "offsets": torch.cumsum(counts, 0) - counts,
            "pinned_rows": pinned[0],
            "pinned_targets": pinned[1],
        }
        for name, value in data.items():
            self.register_buffer(name, value, persistent=False)
        self.s_codes_np, self.t_codes_np = s_codes.numpy(), t_codes.numpy()
        self.n_classes = n_classes
        if self.assigned.numel() != len(S):
            self.assigned = torch.full((len(S),), -1, dtype=torch.long)
            self.assigned[pinned[0]] = pinned[1]

    def targets(self, idx):
        """Assigned target rows of source rows ``idx``; random same-class rows where none is."""
        chosen = self.assigned[idx]
        c = self.s_codes[idx]
        draw = self.offsets[c] + (torch.rand(len(idx), device=idx.device) * self.counts[c]).long()
        random_rows = self.by_class[draw.clamp(max=len(self.by_class) - 1)]
        return self.T[torch.where(chosen >= 0, chosen, random_rows)]

    def rematch(self, block_size, rng, batch=8192):
        """Assign every source row a target row of its class (see assign_within_classes)."""
        with torch.no_grad():
            P = torch.cat([self.net(self.S[i : i + batch]) for i in range(0, len(self.S), batch)])
        found = assign_within_classes(
            P.cpu().double().numpy(),
            self.s_codes_np,
            self.T.cpu().double().numpy(),
            self.t_codes_np,
            self.n_classes,
            block_size,
            rng,
        )
        assigned = torch.from_numpy(found).to(self.assigned.device)
        assigned[self.pinned_rows] = self.pinned_targets
        self.assigned = assigned


class LabelGroupModule(nn.Module):
    """Both directions' networks; ``forward`` is the squared error to each row's target."""

    def __init__(
        self,
        n_x,
        n_y,
        n_classes,
        x_hidden,
        y_hidden,
        act,
        matching,
        warmup,
        rematch_every,
        block_size,
        seed,
    ):
        super().__init__()
        self.x_to_y = _Direction(n_x, n_y, x_hidden, act)
        self.y_to_x = _Direction(n_y, n_x, y_hidden, act)
        self.n_classes = n_classes
        self.matching = matching
        self.warmup = warmup
        self.rematch_every = rematch_every
        self.block_size = block_size
        self.seed = seed

    def start_epoch(self, epoch: int) -> None:
        """Re-match the targets by assignment when the schedule says so."""
        due = epoch >= self.warmup and (epoch - self.warmup) % self.rematch_every == 0
        if self.matching != "assignment" or not due:
            return
        was = self.training
        self.eval()
        for k, d in enumerate((self.x_to_y, self.y_to_x)):
            d.rematch(self.block_size, np.random.default_rng([self.seed, epoch, k]))
        self.train(was)

    def forward(self, ix, iy):
        out = {}
        for name, d, idx in (("x_to_y", self.x_to_y, ix), ("y_to_x", self.y_to_x, iy)):
            pred = d.net(d.S[idx])
            out[name] = ((pred - d.targets(idx)) ** 2).sum(dim=1).mean()
        out["loss"] = out["x_to_y"] + out["y_to_x"]
        return out


class LabelGroupMap(DeepLabelLinkedModel):
    """Translate between label-linked views with networks trained on same-label targets.

    Parameters
    ----------
    x_hidden : int or tuple of int, default=(256, 32)
        Hidden layers of the X -> Y network; the last, narrower than the input, is the
        bottleneck.
    y_hidden : int, tuple of int or None, default=None
        Hidden layers of the Y -> X network; None: the same as ``x_hidden``.
    activation : str, default="relu"
        Activation of the hidden layers.
    matching : {"assignment", "random"}, default="assignment"
        How each row's target is chosen among the other view's rows of its class: an optimal
        assignment of the network's outputs to real rows, re-matched during training, or a
        fresh random row each step (which converges to the class mean).
    warmup : int, default=5
        Epochs of random targets before the first assignment.
    rematch_every : int, default=5
        Epochs between assignments.
    block_size : int, default=500
        The most rows of one class in one assignment problem.
    epochs, batch_size, optimizer, learning_rate, lr_schedule, precision, weight_decay,
    patience, device, random_state, verbose, checkpoint_dir, resume
        Training settings, as for every deep method (:func:`crossview.deep.trainer.train`);
        ``epochs="auto"`` trains for about 10,000 steps (at least 30 epochs).
    """

    auto_steps = 10_000

    _parameter_constraints: dict = {
        "x_hidden": SIZES,
        "y_hidden": [*SIZES, None],
        "activation": [str],
        "matching": [StrOptions({"assignment", "random"})],
        "warmup": [Interval(Integral, 0, None, closed="left")],
        "rematch_every": [Interval(Integral, 1, None, closed="left")],
        "block_size": [Interval(Integral, 2, None, closed="left")],
        **TRAIN_PARAM_CONSTRAINTS,
    }

    def __init__(
        self,
        x_hidden=(256, 32),
        y_hidden=None,
        activation="relu",
        matching="assignment",
        warmup=5,
        rematch_every=5,
        block_size=500,
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
        self.x_hidden = x_hidden
        self.y_hidden = y_hidden
        self.activation = activation
        self.matching = matching
        self.warmup = warmup
        self.rematch_every = rematch_every
        self.block_size = block_size
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

    def _build_module(self, n_x: int, n_y: int) -> LabelGroupModule:
        x_hidden = as_sizes(self.x_hidden, "x_hidden")
        y_hidden = x_hidden if self.y_hidden is None else as_sizes(self.y_hidden, "y_hidden")
        seed = 0 if self.random_state is None else int(self.random_state)
        return LabelGroupModule(
            n_x,
            n_y,
            len(self.classes_),
            x_hidden,
            y_hidden,
            self.activation,
            self.matching,
            int(self.warmup),
            int(self.rematch_every),
            int(self.block_size),
            seed,
        )

    def fit(self, X, x_labels, Y, y_labels, pairs=None):
        """Train both networks towards same-label rows of the other view (known pairs are
        kept as fixed targets of their rows)."""
        data = self._check_data(X, x_labels, Y, y_labels, pairs)
        t = torch.from_numpy
        Xt, Yt, cx, cy = t(data.X), t(data.Y), t(data.x_codes), t(data.y_codes)
        C, P = len(data.classes), data.pairs
        px, py = t(P[:, 0].copy()), t(P[:, 1].copy())

        def setup(module):
            module.x_to_y.set_data(Xt, cx, Yt, cy, C, (px, py))
            module.y_to_x.set_data(Yt, cy, Xt, cx, C, (py, px))

        n_max = max(len(Xt), len(Yt))
        sets = [(torch.arange(len(Xt)),), (torch.arange(len(Yt)),)]
        self._train_module(data.X.shape[1], data.Y.shape[1], sets, None, n_max, setup=setup)
        return self

    def predict(self, X) -> np.ndarray:
        """Translate rows of X into rows of Y."""
        check_is_fitted(self, "module_")
        return self._run(self.module_.x_to_y.net, self._check_x(X, np.float32))

    def predict_x(self, Y) -> np.ndarray:
        """Translate rows of Y into rows of X."""
        check_is_fitted(self, "module_")
        return self._run(self.module_.y_to_x.net, self._check_y(Y, np.float32))
