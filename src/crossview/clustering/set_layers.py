"""Layers over padded, masked batches of sets: item encoders and set encoders.

A batch of sets is a tensor ``(B, L, d)`` with a boolean ``mask`` ``(B, L)`` (True for real
items; sets shorter than L are padded). Item encoders see the real items only (so padding never
touches batch statistics or costs compute); set encoders let every item see its set and are
permutation-equivariant: reordering a set's items reorders the outputs and changes nothing else.

- Set Transformer blocks (Lee et al., ICML 2019): the multihead attention block
  MAB(X, Y) = LN(H + rFF(H)), H = LN(X + Multihead(X, Y, Y)) (their eq. 6-7), the set attention
  block SAB(X) = MAB(X, X) and the induced set attention block
  ISAB_m(X) = MAB(X, MAB(I, X)) with m learned inducing points I (eq. 9-10), linear in the set
  size instead of quadratic.
- DeepSets (Zaheer et al., NeurIPS 2017): the permutation-equivariant layer
  h_i = LN(x_i + rFF([x_i, mean_j x_j])), the mean over the real items of the set.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from ..deep.nets import mlp
from ..exceptions import CrossviewError

#: the values of ``set_encoder=`` (None: items seen alone)
SET_ENCODERS = ("transformer", "deepsets")
#: the built-in item encoders (or pass any ``torch.nn.Module``)
ITEM_ENCODERS = ("mlp", "cnn")


class MAB(nn.Module):
    """Multihead attention block: queries attend to a set of keys / values (padding ignored)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ln1 = nn.LayerNorm(dim)
        self.ln2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, q, kv, kv_pad=None):
        h = self.ln1(q + self.attn(q, kv, kv, key_padding_mask=kv_pad, need_weights=False)[0])
        return self.ln2(h + self.ff(h))


class SAB(nn.Module):
    """Set attention block SAB(X) = MAB(X, X): every item attends to every real item."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.mab = MAB(dim, heads)

    def forward(self, z, mask):
        return self.mab(z, z, ~mask)


class ISAB(nn.Module):
    """Induced set attention block: m inducing points summarise the set, items attend to them."""

    def __init__(self, dim: int, heads: int, n_inducing: int):
        super().__init__()
        self.inducing = nn.Parameter(torch.randn(1, n_inducing, dim) / math.sqrt(dim))
        self.mab_in = MAB(dim, heads)
        self.mab_out = MAB(dim, heads)

    def forward(self, z, mask):
        h = self.mab_in(self.inducing.expand(z.shape[0], -1, -1), z, ~mask)
        return self.mab_out(z, h)


class DeepSetsBlock(nn.Module):
    """Permutation-equivariant DeepSets layer: each item is updated from itself and the set mean."""

    def __init__(self, dim: int):
        super().__init__()
        self.ff = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.ln = nn.LayerNorm(dim)

    def forward(self, z, mask):
        w = mask.unsqueeze(-1).to(z.dtype)
        mean = (z * w).sum(1, keepdim=True) / w.sum(1, keepdim=True).clamp_min(1.0)
        return self.ln(z + self.ff(torch.cat([z, mean.expand_as(z)], dim=-1)))


def set_encoder(kind: str | None, dim: int, n_blocks: int, heads: int, n_inducing):
    """The stack of set blocks for ``set_encoder=kind`` (an empty list for None)."""
    if kind is None:
        return nn.ModuleList()
    if kind == "deepsets":
        return nn.ModuleList(DeepSetsBlock(dim) for _ in range(n_blocks))
    if dim % heads:
        raise CrossviewError(f"dim={dim} must be divisible by n_heads={heads}")
    if n_inducing is None:
        return nn.ModuleList(SAB(dim, heads) for _ in range(n_blocks))
    return nn.ModuleList(ISAB(dim, heads, int(n_inducing)) for _ in range(n_blocks))


class SmallCNN(nn.Module):
    """Two 3x3 convolution + max-pool stages and a linear layer, for small grey images."""

    def __init__(self, image_shape: tuple[int, int], out: int, channels=(16, 32)):
        super().__init__()
        self.image_shape = tuple(int(s) for s in image_shape)
        c1, c2 = channels
        self.conv = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        h, w = (s // 4 for s in self.image_shape)
        self.fc = nn.Linear(c2 * h * w, out)

    def forward(self, x):
        x = x.reshape(-1, 1, *self.image_shape)
        return self.fc(self.conv(x).flatten(1))


def item_encoder(kind, n_features: int, hidden: tuple[int, ...], dim: int, image_shape):
    """The item encoder for ``item_encoder=kind``: an MLP, a small CNN, or a given module."""
    if isinstance(kind, nn.Module):
        return copy.deepcopy(kind)  # fit trains a copy: the given module stays as it was
    if kind == "mlp":
        return mlp([n_features, *hidden, dim], "relu")
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise CrossviewError(
                f"item_encoder='cnn' needs square images or image_shape; {n_features} "
                "features is not a square number"
            )
        image_shape = (side, side)
    if int(image_shape[0]) * int(image_shape[1]) != n_features:
        raise CrossviewError(
            f"image_shape={tuple(image_shape)} does not match the {n_features} features of X"
        )
    return SmallCNN(image_shape, dim)
