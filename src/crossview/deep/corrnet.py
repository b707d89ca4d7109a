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

Each reconstruction error is divided by its view's total training variance (1 for a decoder
that outputs the mean), where the paper sums squared errors over features: the same ``lam``
then serves views of any width and scale (see docs/corrnet-tuning.md).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ..exceptions import CrossviewError
from .estimator import TRAIN_PARAM_CONSTRAINTS, DeepTwoViewModel, StandardizedCodesMixin
from .losses import correlation_sum, relative_mse
from .nets import SIZES, activation, as_sizes, mlp


@torch.no_grad()
def nearest_both_ways(A: torch.Tensor, B: torch.Tensor, chunk: int | None = None):
    """For each row of A its nearest row of B (Euclidean), and for each row of B its nearest
    row of A, in blocks of ``chunk`` rows of A (memory ``chunk x len(B)``; by default blocks
    of about 2**25 distances, 128 MiB).

    Returns ``(a_to_b, b_to_a)``; rows i and j are mutual nearest neighbours where
    ``a_to_b[i] == j`` and ``b_to_a[j] == i``. Written here rather than calling
    :func:`crossview.evaluation.retrieval.nearest`, which ranks by cosine and searches one
    direction per pass: this takes both directions from one pass of Euclidean distances.
    """
    if chunk is None:
        chunk = max(1, min(len(A), 2**25 // max(1, len(B))))
    b_sq = (B * B).sum(1)
    a_to_b = torch.empty(len(A), dtype=torch.long)
    best = torch.full((len(B),), torch.inf)
    b_to_a = torch.zeros(len(B), dtype=torch.long)
    for start in range(0, len(A), chunk):
        a = A[start : start + chunk]
        # squared distances up to the row's own |a|^2, which is constant along a row
        d = b_sq[None, :] - 2.0 * a @ B.T
        a_to_b[start : start + len(a)] = d.argmin(1)
        d = d + (a * a).sum(1, keepdim=True)
        low, arg = d.min(0)
        better = low < best
        best = torch.where(better, low, best)
        b_to_a = torch.where(better, arg + start, b_to_a)
    return a_to_b, b_to_a


class CorrNetModule(nn.Module):
    """The CorrNet network: two encoders, a combined code and two decoders."""

    def __init__(
        self,
        n_x: int,
        n_y: int,
        x_hidden,
        y_hidden,
        n_components: int,
        hidden_activation: str,
        view_activation: str | None,
        code_activation: str,
        decoder_hidden,
        output_activation: str | None,
        losses: tuple[bool, bool, bool, bool],
        lam: float,
        batch_norm: bool,
        dropout: float,
    ):
        super().__init__()
        self.enc_x = mlp(
            (n_x, *x_hidden, n_components), hidden_activation, view_activation, dropout, batch_norm
        )
        self.enc_y = mlp(
            (n_y, *y_hidden, n_components), hidden_activation, view_activation, dropout, batch_norm
        )
        self.code_act = activation(code_activation)
        self.dec_x = mlp((n_components, *decoder_hidden, n_x), hidden_activation, output_activation)
        self.dec_y = mlp((n_components, *decoder_hidden, n_y), hidden_activation, output_activation)
        self.losses = tuple(bool(b) for b in losses)
        self.lam = float(lam)
        self.n_x, self.n_y = n_x, n_y
        # total variance of each training view (set before training, saved with the weights):
        # the reconstruction terms are relative errors, so ``lam`` does not depend on the
        # number or the scale of the features
        self.register_buffer("var_x", torch.ones(()))
        self.register_buffer("var_y", torch.ones(()))
        # which views the extra batches of single-view rows hold, in order (set for training
        # with ``X_only`` / ``Y_only``), and the weight of their self-reconstruction terms
        self.single_views: tuple[str, ...] = ()
        self.unpaired_weight = 1.0
        # pseudo-pairs between the single-view rows of X and of Y (semi-paired training with
        # both): their weight, the first epoch that matches them, the rows (kept for training
        # only, never saved) and, per view, each row's partner and whether it has one
        self.pseudo_weight = 0.0
        self.pseudo_start = 0
        self.pseudo_match = "nearest"
        self.single_rows: dict[str, torch.Tensor] = {}
        self.partners: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None

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

    def forward(self, x: torch.Tensor, y: torch.Tensor, *singles) -> dict[str, torch.Tensor]:
        """Return the total loss and each active term (L1 self, L2/L3 cross, L4 correlation).

        ``singles`` are, for each view named by ``single_views``, a batch of rows seen in that
        view only and their row numbers. Each batch adds the error of its view reconstructed
        from its own code, ``g_x(h(x, 0))`` against x or ``g_y(h(0, y))`` against y, relative
        to the view's variance like the other terms (terms ``single_x`` / ``single_y``). Once
        :meth:`start_epoch` has matched pseudo-pairs, the rows of the batch that have a partner
        also train with it on the paired terms L1-L4 (term ``pseudo``, weight
        ``pseudo_weight``).
        """
        out = self._paired_terms(x, y)
        pseudo = x.new_zeros(())
        for k, view in enumerate(self.single_views):
            batch, rows = singles[2 * k], singles[2 * k + 1]
            if view == "x":
                term = relative_mse(self.dec_x(self.encode(batch, None)), batch, self.var_x)
            else:
                term = relative_mse(self.dec_y(self.encode(None, batch)), batch, self.var_y)
            out[f"single_{view}"] = term
            out["loss"] = out["loss"] + self.unpaired_weight * term
            if self.training and self.partners is not None:
                pseudo = pseudo + self._pseudo_terms(view, batch, rows)
        if self.pseudo_weight > 0 and len(self.single_views) == 2:
            out["pseudo"] = pseudo
            out["loss"] = out["loss"] + self.pseudo_weight * pseudo
        return out

    def _pseudo_terms(self, view: str, batch: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """The paired terms of the batch rows that have a pseudo-partner, with their partners."""
        partner, matched = self.partners[view]
        rows = rows.cpu()
        keep = matched[rows]
        if int(keep.sum()) < 2:  # the correlation needs two rows
            return batch.new_zeros(())
        other = self.single_rows["y" if view == "x" else "x"][partner[rows[keep]]]
        mine = batch[keep.to(batch.device)]
        other = other.to(batch.device, batch.dtype)
        x, y = (mine, other) if view == "x" else (other, mine)
        return self._paired_terms(x, y)["loss"]

    def start_epoch(self, epoch: int) -> None:
        """From ``pseudo_start`` on, re-match the pseudo-pairs before every epoch.

        Each single-view row of X and each of Y is coded alone (``h(x, 0)``, ``h(0, y)``,
        each view's codes standardised over its rows). With ``pseudo_match="nearest"`` every
        row is paired with its nearest row of the other view in that space (in each direction,
        so a row can be the partner of several); with ``"mutual"`` only rows that are each
        other's nearest neighbour are paired, the matching's confident part.
        """
        if self.pseudo_weight <= 0 or set(self.single_views) != {"x", "y"}:
            self.partners = None
            return
        if epoch < self.pseudo_start:
            self.partners = None
            return
        zx = self._standard_codes(self.single_rows["x"], "x")
        zy = self._standard_codes(self.single_rows["y"], "y")
        x_to_y, y_to_x = nearest_both_ways(zx, zy)
        if self.pseudo_match == "mutual":
            x_matched = y_to_x[x_to_y] == torch.arange(len(zx))
            y_matched = x_to_y[y_to_x] == torch.arange(len(zy))
        else:
            x_matched = torch.ones(len(zx), dtype=torch.bool)
            y_matched = torch.ones(len(zy), dtype=torch.bool)
        self.partners = {"x": (x_to_y, x_matched), "y": (y_to_x, y_matched)}

    @torch.no_grad()
    def _standard_codes(self, rows: torch.Tensor, view: str, chunk: int = 8192) -> torch.Tensor:
        """The codes of one view's rows alone, standardised per dimension (on the CPU)."""
        was_training = self.training
        self.eval()
        try:
            dev = next(self.parameters()).device
            codes = []
            for part in rows.split(chunk):
                part = part.to(dev)
                z = self.encode(part, None) if view == "x" else self.encode(None, part)
                codes.append(z.float().cpu())
        finally:
            self.train(was_training)
        z = torch.cat(codes)
        return (z - z.mean(0)) / (z.std(0) + 1e-6)

    def _paired_terms(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """The terms L1-L4 on a batch of paired rows, and their total ``"loss"``."""
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
                term = relative_mse(xr[part], x, self.var_x) + relative_mse(yr[part], y, self.var_y)
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
    """Learn a common code from which either view alone reconstructs both views (Deep CorrNet).

    Chandar, Khapra, Larochelle and Ravindran 2016, "Correlational Neural Networks", Neural
    Computation 28(2). The code of X alone, ``h(x, 0)``, and of Y alone, ``h(0, y)``, are
    trained to reconstruct both views and to be correlated with each other (the paper's loss
    terms L1-L4, described in this module's docstring). :meth:`transform` / :meth:`transform_y`
    return the codes of one view alone; :meth:`predict` decodes Y from the code of X alone and
    :meth:`predict_x` the reverse.

    Parameters
    ----------
    n_components : int, default=50
        Size of the common code (50 in the paper's MNIST experiments).
    x_hidden : int or sequence of int, default=(500, 300)
        Hidden layer widths of the X encoder before the code (``(500, 300)`` gives Deep
        CorrNet 500-300-50; ``()`` gives the one-layer CorrNet).
    y_hidden : int, sequence of int or None, default=None
        Hidden layer widths of the Y encoder; None uses ``x_hidden``.
    activation : str, default="relu"
        Nonlinearity of the hidden layers of the encoders and decoders.
    view_activation : str or None, default="sigmoid"
        Nonlinearity on each view's encoder output before the two are added (None: the paper's
        ``h = f(Wx + Vy + b)``; "sigmoid" adds two sigmoid branches, as the well-known Keras
        reproduction does).
    code_activation : str or None, default="identity"
        ``f`` in ``h = f(Ex(x) + Ey(y))`` ("identity", "relu", "sigmoid", ...; None: identity).
    decoder_hidden : int or sequence of int, default=()
        Hidden layer widths of the decoders; ``()`` gives linear decoders, as in the paper.
    output_activation : str or None, default=None
        Nonlinearity of the decoders' outputs (None, or "sigmoid" for data in [0, 1]).
    loss_self : bool, default=False
        Use L1: reconstruct both views from the joint code ``h(x, y)``.
    loss_from_x : bool, default=True
        Use L2: reconstruct both views from ``h(x, 0)``.
    loss_from_y : bool, default=True
        Use L3: reconstruct both views from ``h(0, y)``.
    loss_corr : bool, default=True
        Use L4: the correlation of ``h(x, 0)`` and ``h(0, y)``. All 16 combinations of the four
        switches are allowed (the paper's ablation uses L2+L3, L1+L2+L3, L2+L3+L4, L1+L2+L3+L4).
    lam : float, default=0.5
        Weight of the correlation term L4 against the reconstruction terms (``>= 0``). Each
        reconstruction error is relative to its view's total training variance (see the module
        docstring), so ``lam`` does not depend on the width or scale of the views; see
        docs/corrnet-tuning.md.
    unpaired_weight : float, default=1.0
        Weight of the self-reconstruction terms of the single-view rows given to ``fit`` as
        ``X_only`` / ``Y_only`` (semi-paired training); unused without them.
    pseudo_pair_weight : float, default=1.0
        Semi-paired training with both ``X_only`` and ``Y_only``: weight of the paired terms
        on pseudo-pairs, each row of ``X_only`` with its nearest row of ``Y_only`` in the
        common code space and back (matched again before every epoch from
        ``pseudo_pair_start`` on). 0 trains the single-view rows on their self-reconstruction
        alone. Each matching codes both sets and computes their ``len(X_only) x len(Y_only)``
        code distances once.
        See docs/benchmarks.md (label-linked, C) for what the pseudo-pairs add.
    pseudo_pair_match : {"nearest", "mutual"}, default="nearest"
        Which rows become pseudo-pairs: every single-view row with its nearest neighbour in
        the other view, or only rows that are each other's nearest neighbour.
    pseudo_pair_start : float, default=0.3
        Share of the epochs trained before the first matching (``0 <= pseudo_pair_start <
        1``): the codes must already be aligned by the true pairs for their nearest
        neighbours to mean something.
    batch_norm : bool, default=False
        Batch normalisation on the hidden layers of the encoders.
    dropout : float, default=0.0
        Dropout rate on the hidden layers of the encoders (``0 <= dropout < 1``).
    standardize_codes : bool, default=True
        If True, ``transform`` and ``transform_y`` return each view's code standardised per
        dimension with that view's training mean and standard deviation. The correlation
        objective fixes codes only up to a per-dimension scale and shift, so the two views' raw
        codes can sit at different offsets; standardising them (as DCCA's final CCA does) makes
        codes of X and Y directly comparable, e.g. for a classifier trained on one view and
        applied to the other. Correlations are unchanged. ``False`` returns the paper's raw
        codes h(x, 0) and h(0, y). Translation (``predict``) is unaffected.
    epochs : int or "auto", default="auto"
        Passes over the training data. "auto" trains for about 30,000 optimiser steps, at
        least 30 and at most 1000 epochs (:func:`~crossview.deep.trainer.resolve_epochs`).
    batch_size : int, default=50
        Rows per optimiser step, at most the number of training rows; at least 2 when
        ``loss_corr`` is on (the correlation is taken over each batch).
    optimizer : {"adam", "adamw", "rmsprop", "sgd"}, default="adam"
        The torch optimiser ("sgd" with momentum 0.9).
    learning_rate : float, default=1e-3
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
        Seed of weight initialisation, dropout and batch shuffling; None: not reproducible.
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
        "decoder_hidden": SIZES,
        "output_activation": [str, None],
        "loss_self": ["boolean"],
        "loss_from_x": ["boolean"],
        "loss_from_y": ["boolean"],
        "loss_corr": ["boolean"],
        "lam": [Interval(Real, 0, None, closed="left")],
        "unpaired_weight": [Interval(Real, 0, None, closed="left")],
        "pseudo_pair_weight": [Interval(Real, 0, None, closed="left")],
        "pseudo_pair_start": [Interval(Real, 0, 1, closed="left")],
        "pseudo_pair_match": [StrOptions({"nearest", "mutual"})],
        "batch_norm": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "standardize_codes": ["boolean"],
    }

    def __init__(
        self,
        n_components=50,
        x_hidden=(500, 300),
        y_hidden=None,
        activation="relu",
        view_activation="sigmoid",
        code_activation="identity",
        decoder_hidden=(),
        output_activation=None,
        loss_self=False,
        loss_from_x=True,
        loss_from_y=True,
        loss_corr=True,
        lam=0.5,
        unpaired_weight=1.0,
        pseudo_pair_weight=1.0,
        pseudo_pair_start=0.3,
        pseudo_pair_match="nearest",
        batch_norm=False,
        dropout=0.0,
        standardize_codes=True,
        epochs="auto",
        batch_size=50,
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
        self.unpaired_weight = unpaired_weight
        self.pseudo_pair_weight = pseudo_pair_weight
        self.pseudo_pair_start = pseudo_pair_start
        self.pseudo_pair_match = pseudo_pair_match
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

    def fit(self, X, Y, X_val=None, Y_val=None, *, X_only=None, Y_only=None):
        """Train on paired views X and Y, plus rows seen in one view only (semi-paired).

        ``X_only`` / ``Y_only`` are extra rows of X alone and of Y alone (any number, no
        partner): each trains its view's encoder and decoder through the reconstruction of
        that view from its own code, ``h(x, 0)`` or ``h(0, y)``, weighted by
        ``unpaired_weight``. Given both, each row of ``X_only`` also trains as a pair with its
        nearest row of ``Y_only`` in the code space, and back (pseudo-pairs, re-matched every
        epoch after the first ``pseudo_pair_start`` share of them, weighted by
        ``pseudo_pair_weight``; ``pseudo_pair_match``). Each training step takes a batch of the
        paired rows and of each single-view set; an epoch is one pass over the largest of them
        (smaller sets repeat). ``X_val`` / ``Y_val`` (paired) are scored with the same terms,
        pseudo-pairs aside.
        """
        try:
            return self._fit(X, Y, X_val, Y_val, X_only=X_only, Y_only=Y_only)
        finally:  # the network keeps no training rows
            module = getattr(self, "module_", None)
            if module is not None:
                module.single_rows, module.partners = {}, None

    def _prepare_single_rows(self, module, rows, n_rows):
        super()._prepare_single_rows(module, rows, n_rows)
        module.single_rows = rows
        module.pseudo_weight = float(self.pseudo_pair_weight)
        module.pseudo_match = self.pseudo_pair_match
        epochs = self._train_kwargs(n_rows)["epochs"]
        module.pseudo_start = int(round(self.pseudo_pair_start * epochs))

    @property
    def loss_terms(self) -> str:
        """The active terms in the paper's notation, e.g. ``"L1+L2+L3+L4"``."""
        on = [f"L{i + 1}" for i, b in enumerate(self._losses()) if b]
        return "+".join(on) or "none"

    def _losses(self) -> tuple[bool, bool, bool, bool]:
        return (
            bool(self.loss_self),
            bool(self.loss_from_x),
            bool(self.loss_from_y),
            bool(self.loss_corr),
        )

    def _build_module(self, n_x: int, n_y: int) -> CorrNetModule:
        if self.loss_corr and self.batch_size < 2:
            raise CrossviewError("the correlation term needs batch_size >= 2")
        x_hidden = as_sizes(self.x_hidden, "x_hidden")
        y_hidden = x_hidden if self.y_hidden is None else as_sizes(self.y_hidden, "y_hidden")
        if not any(self._losses()):
            warnings.warn(
                "CorrNet with every loss term switched off learns nothing",
                UserWarning,
                stacklevel=3,
            )
        module = CorrNetModule(
            n_x,
            n_y,
            x_hidden,
            y_hidden,
            int(self.n_components),
            self.activation,
            self.view_activation,
            self.code_activation,
            as_sizes(self.decoder_hidden, "decoder_hidden"),
            self.output_activation,
            self._losses(),
            self.lam,
            bool(self.batch_norm),
            float(self.dropout),
        )
        module.unpaired_weight = float(self.unpaired_weight)
        return module

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

    # ---- variants: some loss terms only, named as in the paper (``corrnet[L2+L3]``) ----------
    #: the paper's loss terms (eq. 3) -> the switch of each
    LOSS_TERMS = {"L1": "loss_self", "L2": "loss_from_x", "L3": "loss_from_y", "L4": "loss_corr"}
    #: the loss combinations of the paper's ablation table (``crossview benchmark --ablation``)
    ABLATION = ("L2+L3", "L1+L2+L3", "L2+L3+L4", "L1+L2+L3+L4")
    #: how a table of variants is headed: what they are, the column naming them, a note
    VARIANT_TABLE = {
        "kind": "loss combinations",
        "column": "loss terms",
        "note": "L1: self-reconstruction; L2 / L3: reconstruction of both views "
        "from X alone / Y alone; L4: correlation of the two codes "
        "(Chandar et al. 2016, eq. 3).",
    }

    @classmethod
    def variant_name(cls, variant: str) -> str:
        """The usual spelling of a loss combination: ``"l3+L2"`` -> ``"L2+L3"``."""
        terms = [t.strip().upper() for t in str(variant).split("+")]
        if any(t not in cls.LOSS_TERMS for t in terms) or len(set(terms)) != len(terms):
            raise CrossviewError(
                f"cannot read CorrNet loss combination {variant!r}; expected "
                "distinct terms from L1, L2, L3, L4 joined by '+', e.g. L2+L3"
            )
        return "+".join(t for t in cls.LOSS_TERMS if t in terms)

    @classmethod
    def variant_params(cls, variant: str) -> dict:
        """The loss switches of a combination such as ``"L2+L3"``: its terms on, the rest off."""
        terms = cls.variant_name(variant).split("+")
        return {switch: term in terms for term, switch in cls.LOSS_TERMS.items()}
