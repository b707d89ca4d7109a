"""One network that gives every item of a set a category and groups the set into clusters.

An item encoder maps each item to a ``dim``-wide vector; a set encoder (Set Transformer blocks,
Lee et al. 2019, or DeepSets) lets every item see the rest of its set; two heads read the
result:

- a **category head**, trained with cross-entropy on the items' categories;
- a **pairwise head** giving P(same cluster) for every pair of items of a set. Cluster ids are
  only defined up to a permutation, so the head is trained on the pairwise relation they
  induce, which is invariant to it (Hsu, Lv & Kira, ICLR 2018; Hsu et al., ICLR 2019):
    - ``pair_loss="bce"``: P_ij = sigmoid(a cos(u_i, u_j) + b) from projections u of the item
      vectors (a, b learned), binary cross-entropy against s_ij = [same cluster];
    - ``"mcl"``: the meta classification likelihood of Hsu et al. (2019, eq. 5): each item gets
      a distribution q_i over ``pair_dim`` slots, P_ij = q_i . q_j, binary cross-entropy;
    - ``"kcl"``: KCL (Hsu et al. 2018, eq. 2-3): KL(q_i* || q_j) + KL(q_j* || q_i), each
      target q* held fixed (no gradient), pulled to 0 for same-cluster pairs and pushed past a
      hinge margin of 2 for the others; for decoding P_ij = exp(-(KL(q_i || q_j) +
      KL(q_j || q_i)) / 2): 1 for equal distributions, at most e^-2 past the margin.
  Pairs of different categories are apart by definition: by default they are left out of the
  pairwise loss (``cross_category="mask"``), so it spends itself on the hard pairs.

The training objective of a batch of sets is CE + ``pair_weight`` * pairwise loss (means over
real items and over the pairs counted). Decoding
(:func:`crossview.clustering.decode.decode_clusters`) clusters each predicted category of a set
on 1 - P_ij, so a predicted cluster never mixes predicted categories and the number of clusters
follows from the threshold.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..base import check_view
from ..deep.estimator import TRAIN_PARAM_CONSTRAINTS, TorchModelMixin
from ..deep.losses import full_precision
from ..deep.nets import SIZES, as_sizes
from ..exceptions import CrossviewError
from .base import (
    SetArrays,
    SetClusteringModel,
    check_sets,
    labels_from_json,
    labels_to_json,
    pad_sets,
)
from .decode import DECODERS, decode_clusters
from .set_layers import ITEM_ENCODERS, SET_ENCODERS, item_encoder, set_encoder

#: the values of ``pair_loss=``
PAIR_LOSSES = ("bce", "mcl", "kcl")
#: the thresholds ``threshold="auto"`` tries on the validation sets
THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.05), 2)
_KCL_MARGIN = 2.0


class SetClusterNet(nn.Module):
    """Item encoder, set encoder, category head and pairwise head; ``forward`` gives the losses."""

    def __init__(
        self,
        n_features: int,
        n_categories: int,
        encoder: nn.Module,
        dim: int,
        blocks: nn.ModuleList,
        pair_loss: str,
        pair_dim: int,
        pair_weight: float,
        cross_category: str,
    ):
        super().__init__()
        self.encoder = encoder
        self.blocks = blocks
        self.category_head = nn.Linear(dim, n_categories)
        self.pair_proj = nn.Linear(dim, pair_dim)
        self.pair_loss = pair_loss
        self.pair_weight = pair_weight
        self.cross_category = cross_category
        self.dim = dim
        # P_ij = sigmoid(scale * cos + bias) for pair_loss="bce"
        self.pair_scale = nn.Parameter(torch.tensor(10.0))
        self.pair_bias = nn.Parameter(torch.tensor(-5.0))

    def embed(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Item vectors in the context of their set, (B, L, dim); padding rows are zero."""
        z = x.new_zeros(*mask.shape, self.dim)
        z[mask] = self.encoder(x[mask]).to(z.dtype)
        for block in self.blocks:
            z = block(z, mask)
        return z * mask.unsqueeze(-1)

    def heads(self, z: torch.Tensor):
        """Category logits (B, L, C) and the pairwise head's output: the P(same) logits
        (``"bce"``) or the slot log-probabilities (``"mcl"`` / ``"kcl"``), in float32."""
        return self.category_head(z), self._pair_scores(self.pair_proj(z))

    @full_precision
    def _pair_scores(self, u: torch.Tensor) -> torch.Tensor:
        if self.pair_loss == "bce":
            u = F.normalize(u, dim=-1)
            return self.pair_scale * (u @ u.transpose(1, 2)) + self.pair_bias
        return u.log_softmax(dim=-1)

    @full_precision
    def pair_proba(self, pair: torch.Tensor) -> torch.Tensor:
        """P(same cluster) for every pair, (B, L, L), from :meth:`heads`' pairwise output."""
        if self.pair_loss == "bce":
            return torch.sigmoid(pair)
        q = pair.exp()
        if self.pair_loss == "mcl":
            return q @ q.transpose(1, 2)
        kl = (q * pair).sum(-1).unsqueeze(-1) - q @ pair.transpose(1, 2)  # KL(q_i || q_j)
        return torch.exp(-(kl + kl.transpose(1, 2)).clamp_min(0) / 2)

    @full_precision
    def _pair_loss(self, pair, same, valid):
        if self.pair_loss == "bce":
            loss = F.binary_cross_entropy_with_logits(pair, same, reduction="none")
        elif self.pair_loss == "mcl":
            q = pair.exp()
            p = (q @ q.transpose(1, 2)).clamp(1e-7, 1 - 1e-7)
            loss = -(same * p.log() + (1 - same) * (1 - p).log())
        else:  # KCL: KL(q_i* || q_j) with the target q_i* held fixed (Hsu et al. 2018, eq. 2-3)
            q, lq = pair.exp().detach(), pair.detach()
            kl = (q * lq).sum(-1).unsqueeze(-1) - q @ pair.transpose(1, 2)  # KL(q_i* || q_j)
            kl_t = kl.transpose(1, 2)  # KL(q_j* || q_i)
            apart = F.relu(_KCL_MARGIN - kl) + F.relu(_KCL_MARGIN - kl_t)
            loss = same * (kl + kl_t) + (1 - same) * apart
        w = valid.to(loss.dtype)
        return (loss * w).sum() / w.sum().clamp_min(1.0)

    def forward(self, x, mask, codes, clusters):
        n = int(mask.sum(1).max())  # trim the batch to its largest set
        x, mask, codes, clusters = x[:, :n], mask[:, :n], codes[:, :n], clusters[:, :n]
        z = self.embed(x, mask)
        logits, pair = self.heads(z)
        cat = F.cross_entropy(logits[mask], codes[mask])
        same = (clusters.unsqueeze(2) == clusters.unsqueeze(1)).to(z.dtype)
        valid = mask.unsqueeze(2) & mask.unsqueeze(1)
        valid &= ~torch.eye(n, dtype=torch.bool, device=x.device)
        if self.cross_category == "mask":
            valid &= codes.unsqueeze(2) == codes.unsqueeze(1)
        pl = self._pair_loss(pair, same, valid)
        return {"loss": cat + self.pair_weight * pl, "category": cat, "pair": pl}


class SetClusterer(TorchModelMixin, SetClusteringModel):
    """Categorise the items of sets and cluster each set, supervised by permutation-invariant
    cluster ids, with one network.

    Parameters
    ----------
    item_encoder : {"mlp", "cnn"} or torch.nn.Module, default="mlp"
        What maps one item's features to a ``dim``-wide vector: an MLP with ``hidden`` layers,
        a small CNN for images (``image_shape``, or square images), or any module taking
        (n, n_features) and returning (n, dim) (a model with a custom module cannot be saved).
    hidden : int or tuple of int, default=(256,)
        Hidden layers of the MLP item encoder.
    dim : int, default=128
        Width of the item vectors and of the set encoder.
    set_encoder : {"transformer", "deepsets"} or None, default="transformer"
        How items see their set: Set Transformer blocks (SAB, or ISAB with ``n_inducing``
        inducing points for large sets), DeepSets layers, or None (each item alone; an
        ablation).
    n_blocks : int, default=2
        Number of set-encoder blocks.
    n_heads : int, default=4
        Attention heads of the Set Transformer blocks (must divide ``dim``).
    n_inducing : int or None, default=None
        Inducing points of ISAB blocks; None: full self-attention (SAB).
    pair_loss : {"bce", "mcl", "kcl"}, default="bce"
        The permutation-invariant pairwise objective (see the module docstring).
    pair_dim : int, default=64
        Width of the pairwise projection (the number of slots for "mcl" / "kcl").
    pair_weight : float, default=1.0
        Weight of the pairwise loss against the category cross-entropy.
    cross_category : {"mask", "include"}, default="mask"
        Whether pairs of items with different (true) categories are left out of the pairwise
        loss during training, or included as negatives.
    threshold : float in (0, 1) or "auto", default="auto"
        Decoding cut on the distance 1 - P(same); "auto" picks, from 0.05 to 0.95, the value
        with the best mean adjusted Rand index on the validation sets (0.5 without them).
        The value used is ``threshold_``.
    decode : {"average", "components"}, default="average"
        Average-linkage agglomerative clustering, or connected components.
    image_shape : tuple of int or None, default=None
        (height, width) of an item for ``item_encoder="cnn"``; None: square.
    validation_fraction : float in [0, 1), default=0.1
        Fraction of the training sets held out (seeded by ``random_state``) to watch the
        validation loss (early stopping with ``patience``) and tune ``threshold="auto"``;
        0 trains on every set.
    epochs, batch_size, optimizer, learning_rate, lr_schedule, precision, weight_decay,
    patience, device, random_state, verbose, checkpoint_dir, resume
        Training settings, as for every deep method (:func:`crossview.deep.trainer.train`);
        ``batch_size`` counts sets; ``epochs="auto"`` trains for about 3,000 steps (at least 5
        epochs, at most 1000).

    Attributes
    ----------
    classes_ : ndarray
        The categories, in the order of ``predict_proba``'s columns.
    threshold_ : float
        The decoding threshold in use.
    """

    #: ``epochs="auto"``: optimiser steps (batches of sets), in at least 5 epochs
    auto_steps = 3_000
    auto_epochs = (5, 1000)
    #: validation steps of 64 sets (a row is a whole padded set)
    eval_batch_size = 64

    _parameter_constraints: dict = {
        "item_encoder": [StrOptions(set(ITEM_ENCODERS)), nn.Module],
        "hidden": SIZES,
        "dim": [Interval(Integral, 1, None, closed="left")],
        "set_encoder": [StrOptions(set(SET_ENCODERS)), None],
        "n_blocks": [Interval(Integral, 0, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "n_inducing": [Interval(Integral, 1, None, closed="left"), None],
        "pair_loss": [StrOptions(set(PAIR_LOSSES))],
        "pair_dim": [Interval(Integral, 1, None, closed="left")],
        "pair_weight": [Interval(Real, 0, None, closed="left")],
        "cross_category": [StrOptions({"mask", "include"})],
        "threshold": [Interval(Real, 0, 1, closed="neither"), StrOptions({"auto"})],
        "decode": [StrOptions(set(DECODERS))],
        "image_shape": ["array-like", None],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        **TRAIN_PARAM_CONSTRAINTS,
    }

    def __init__(
        self,
        item_encoder="mlp",
        hidden=(256,),
        dim=128,
        set_encoder="transformer",
        n_blocks=2,
        n_heads=4,
        n_inducing=None,
        pair_loss="bce",
        pair_dim=64,
        pair_weight=1.0,
        cross_category="mask",
        threshold="auto",
        decode="average",
        image_shape=None,
        validation_fraction=0.1,
        epochs="auto",
        batch_size=16,
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
        self.item_encoder = item_encoder
        self.hidden = hidden
        self.dim = dim
        self.set_encoder = set_encoder
        self.n_blocks = n_blocks
        self.n_heads = n_heads
        self.n_inducing = n_inducing
        self.pair_loss = pair_loss
        self.pair_dim = pair_dim
        self.pair_weight = pair_weight
        self.cross_category = cross_category
        self.threshold = threshold
        self.decode = decode
        self.image_shape = image_shape
        self.validation_fraction = validation_fraction
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

    # ---- network ---------------------------------------------------------------------------
    def _build_module(self, n_features: int, n_y: int = 0) -> SetClusterNet:
        dim = int(self.dim)
        shape = None if self.image_shape is None else tuple(int(s) for s in self.image_shape)
        enc = item_encoder(
            self.item_encoder, n_features, as_sizes(self.hidden, "hidden"), dim, shape
        )
        blocks = set_encoder(
            self.set_encoder, dim, int(self.n_blocks), int(self.n_heads), self.n_inducing
        )
        return SetClusterNet(
            n_features,
            len(self.classes_),
            enc,
            dim,
            blocks,
            self.pair_loss,
            int(self.pair_dim),
            float(self.pair_weight),
            self.cross_category,
        )

    def _module_widths(self) -> tuple[int, int]:
        return self.n_features_in_, 0

    # ---- fit -------------------------------------------------------------------------------
    def fit(self, X, categories, clusters, sets):
        """Train on a long table of items: features ``X``, each item's category, cluster id
        (within its set) and set id. Returns self."""
        self._validate_params()
        data = check_sets(X, sets, categories, clusters, dtype=np.float32)
        self.n_features_in_ = data.X.shape[1]
        self.classes_ = data.classes
        train_idx, val_idx = self._split(data.n_sets)
        if self.batch_size > len(train_idx):
            raise CrossviewError(
                f"batch_size={self.batch_size} is larger than the {len(train_idx)} training sets"
            )

        def part(idx):  # the sets idx, padded, as the trainer's tensors
            padded = pad_sets(_select_sets(data, idx))
            keys = ("X", "mask", "codes", "clusters")
            return tuple(torch.from_numpy(padded[k]) for k in keys)

        train, val = part(train_idx), part(val_idx) if len(val_idx) else None
        self._train_module(self.n_features_in_, 0, train, val, len(train_idx))
        self.threshold_ = self._tune_threshold(data, val_idx)
        self.n_sets_fit_ = int(len(train_idx))
        return self

    def _split(self, n_sets: int) -> tuple[np.ndarray, np.ndarray]:
        """Training and validation set indices (``validation_fraction`` of the sets, seeded)."""
        n_val = int(round(self.validation_fraction * n_sets))
        if self.validation_fraction > 0 and n_sets - n_val < 1:
            raise CrossviewError(
                f"validation_fraction={self.validation_fraction} leaves no training set of {n_sets}"
            )
        perm = np.random.default_rng(self.random_state).permutation(n_sets)
        return np.sort(perm[n_val:]), np.sort(perm[:n_val])

    def _tune_threshold(self, data: SetArrays, val_idx: np.ndarray) -> float:
        if self.threshold != "auto":
            return float(self.threshold)
        if len(val_idx) == 0:
            return 0.5
        from ..evaluation.clustering_metrics import adjusted_rand

        outs = self._set_outputs(data, val_idx)
        best, best_ari = 0.5, -np.inf
        for th in THRESHOLDS:
            ari = np.mean(
                [
                    adjusted_rand(
                        data.clusters[data.rows(s)],
                        decode_clusters(P, cats, float(th), self.decode),
                    )
                    for s, (cats, P) in zip(val_idx, outs)
                ]
            )
            if ari > best_ari + 1e-12:
                best, best_ari = float(th), ari
        return best

    # ---- inference -------------------------------------------------------------------------
    def _raw_outputs(self, data: SetArrays, set_idx=None, chunk: int = 256):
        """Per set (in ``set_idx`` order): (category probabilities (n, C), P(same) (n, n)),
        rows in table order of the set; ``chunk`` sets go through the network at once."""
        check_is_fitted(self, "module_")
        set_idx = np.arange(data.n_sets) if set_idx is None else np.asarray(set_idx)
        self.module_.eval()
        dev = next(self.module_.parameters()).device
        out = []
        with torch.no_grad():
            for start in range(0, len(set_idx), chunk):
                sub = _select_sets(data, set_idx[start : start + chunk])
                padded = pad_sets(sub, fill_codes=False)
                x = torch.from_numpy(padded["X"]).to(dev)
                mask = torch.from_numpy(padded["mask"]).to(dev)
                logits, pair = self.module_.heads(self.module_.embed(x, mask))
                proba = logits.float().softmax(-1).cpu().numpy()
                P = self.module_.pair_proba(pair).float().cpu().numpy()
                for j, n in enumerate(sub.sizes):
                    out.append((proba[j, :n], P[j, :n, :n]))
        return out

    def _set_outputs(self, data: SetArrays, set_idx=None):
        """Per set: (predicted category codes, P(same) with 0 across predicted categories)."""
        out = []
        for proba, P in self._raw_outputs(data, set_idx):
            codes = proba.argmax(1)
            out.append((codes, _apart(P, codes)))
        return out

    def predict(self, X, sets):
        """Predict each item's category and cluster: ``(categories, clusters)``, one per row of
        X; cluster ids count 0, 1, ... within each set by first appearance (in table order)."""
        data = self._check_predict(X, sets)
        cats = np.empty(len(data.X), dtype=np.int64)
        clus = np.empty(len(data.X), dtype=np.int64)
        th = float(getattr(self, "threshold_", 0.5))
        for s, (codes, P) in enumerate(self._set_outputs(data)):
            rows = data.rows(s)
            cats[rows] = codes
            clus[rows] = decode_clusters(P, codes, th, self.decode)
        return self.classes_[cats], clus

    def predict_proba(self, X, sets) -> np.ndarray:
        """P(category | item, its set): one row per item, one column per ``classes_`` entry."""
        data = self._check_predict(X, sets)
        out = np.empty((len(data.X), len(self.classes_)), dtype=np.float32)
        for s, (proba, _) in enumerate(self._raw_outputs(data)):
            out[data.rows(s)] = proba
        return out

    def pair_proba(self, X) -> np.ndarray:
        """P(same cluster) for every pair of items of one set (the rows of ``X``), (n, n).

        Pairs whose predicted categories differ get 0 (decoding never joins them)."""
        check_is_fitted(self, "module_")
        X = check_view(X, "X", n_features=self.n_features_in_, dtype=np.float32)
        data = check_sets(X, np.zeros(len(X), dtype=np.int64), training=False)
        return self._set_outputs(data)[0][1]

    # ---- model files -----------------------------------------------------------------------
    def _json_params(self) -> dict:
        return self.get_params(deep=False)

    def _extra_state(self):
        return {}, {
            "classes": labels_to_json(self.classes_),
            "threshold": float(self.threshold_),
            "n_sets_fit": int(self.n_sets_fit_),
        }

    def _set_state(self, arrays, extra):
        self.classes_ = labels_from_json(extra.get("classes"))
        super()._set_state(arrays, extra)

    def _load_extra_state(self, arrays, extra):
        self.threshold_ = float(extra.get("threshold", 0.5))
        self.n_sets_fit_ = int(extra.get("n_sets_fit", 0))


def _apart(P: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``P`` with 0 between items of different predicted categories and 1 on the diagonal."""
    P = np.where(codes[:, None] == codes[None, :], P, 0.0).astype(np.float32)
    np.fill_diagonal(P, 1.0)
    return P


def _select_sets(data: SetArrays, idx) -> SetArrays:
    """The sets ``idx`` of ``data`` as their own :class:`SetArrays` (rows in set order), with
    their categories and clusters when ``data`` has them."""
    rows = np.concatenate([data.rows(s) for s in idx])
    sizes = data.sizes[idx]
    return SetArrays(
        data.X[rows],
        np.repeat(np.arange(len(idx)), sizes),
        data.set_ids[idx],
        np.arange(len(rows)),
        np.concatenate([[0], np.cumsum(sizes)[:-1]]),
        sizes,
        None if data.codes is None else data.codes[rows],
        data.classes,
        None if data.clusters is None else data.clusters[rows],
    )
