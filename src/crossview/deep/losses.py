"""Loss functions of the deep methods, standalone and tested against NumPy references."""

from __future__ import annotations

import torch


def correlation_sum(hx: torch.Tensor, hy: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Sum over columns of the Pearson correlation between ``hx`` and ``hy`` over the batch.

    This is the correlation term of CorrNet (Chandar et al. 2016, Neural Computation, eq. 3):
    corr = sum_j  sum_i (hx_ij - mean_j)(hy_ij - mean_j) / sqrt(sum_i (hx_ij - mean_j)^2
    sum_i (hy_ij - mean_j)^2). ``eps`` keeps a constant column at correlation 0 instead of NaN.
    """
    if hx.shape != hy.shape or hx.dim() != 2:
        raise ValueError(f"expected two (batch, units) tensors of one shape, got "
                         f"{tuple(hx.shape)} and {tuple(hy.shape)}")
    cx = hx - hx.mean(dim=0, keepdim=True)
    cy = hy - hy.mean(dim=0, keepdim=True)
    num = (cx * cy).sum(dim=0)
    den = torch.sqrt((cx * cx).sum(dim=0) * (cy * cy).sum(dim=0) + eps)
    return (num / den).sum()


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error per sample: squared error summed over features, averaged over rows.

    Summing over features (as the CorrNet paper's squared-error loss does) keeps the
    reconstruction terms on the scale of the correlation term; per-element MSE would be ~400x
    smaller for MNIST halves and let the correlation term dominate.
    """
    return ((pred - target) ** 2).sum(dim=1).mean()
