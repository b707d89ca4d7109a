"""Loss functions of the deep methods, standalone and tested against NumPy references."""

from __future__ import annotations

import functools

import torch

from .distributed import gather_rows

_LOW_PRECISION = (torch.bfloat16, torch.float16)


def full_precision(fn):
    """Run a loss in at least float32, also inside an autocast region (mixed-precision training).

    Under ``torch.autocast`` the networks compute in bfloat16, but covariances, eigenvalue
    decompositions and sums of squared errors over hundreds of features need float32: this
    decorator turns autocast off for the call and casts bfloat16/float16 tensor arguments to
    float32 (float64 stays float64). Outside autocast, with float32 inputs, it changes nothing.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        def up(a):
            return a.float() if isinstance(a, torch.Tensor) and a.dtype in _LOW_PRECISION else a

        args = tuple(up(a) for a in args)
        kwargs = {k: up(v) for k, v in kwargs.items()}
        device = next((a.device.type for a in args if isinstance(a, torch.Tensor)), "cpu")
        with torch.autocast(device_type=device, enabled=False):
            return fn(*args, **kwargs)

    return wrapper


@full_precision
def correlation_sum(hx: torch.Tensor, hy: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Sum over columns of the Pearson correlation between ``hx`` and ``hy`` over the batch.

    This is the correlation term of CorrNet (Chandar et al. 2016, Neural Computation, eq. 3):
    corr = sum_j  sum_i (hx_ij - mean_j)(hy_ij - mean_j) / sqrt(sum_i (hx_ij - mean_j)^2
    sum_i (hy_ij - mean_j)^2). ``eps`` keeps a constant column at correlation 0 instead of NaN.
    In a data-parallel training step the batch is every rank's rows
    (:func:`crossview.deep.distributed.gather_rows`).
    """
    if hx.shape != hy.shape or hx.dim() != 2:
        raise ValueError(
            f"expected two (batch, units) tensors of one shape, got "
            f"{tuple(hx.shape)} and {tuple(hy.shape)}"
        )
    hx, hy = gather_rows(hx), gather_rows(hy)  # the whole batch under data parallelism
    cx = hx - hx.mean(dim=0, keepdim=True)
    cy = hy - hy.mean(dim=0, keepdim=True)
    num = (cx * cy).sum(dim=0)
    den = torch.sqrt((cx * cx).sum(dim=0) * (cy * cy).sum(dim=0) + eps)
    return (num / den).sum()


@full_precision
def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error per sample: squared error summed over features, averaged over rows.

    Summing over features (as the CorrNet paper's squared-error loss does) keeps the
    reconstruction terms on the scale of the correlation term; per-element MSE would be ~400x
    smaller for MNIST halves and let the correlation term dominate.
    """
    return ((pred - target) ** 2).sum(dim=1).mean()


@full_precision
def mae(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error per sample: absolute error summed over features, averaged over rows.

    The L1 counterpart of :func:`mse` (same per-sample scaling), robust to outlying targets.
    """
    return (pred - target).abs().sum(dim=1).mean()


@full_precision
def cosine_distance(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Mean cosine distance ``1 - cos(pred_i, target_i)`` over rows (0 when the directions agree).

    The usual loss for maps between word-embedding spaces, where only directions matter
    (e.g. Xing et al. 2015, "Normalized word embedding and orthogonal transform", NAACL).
    """
    return (1.0 - torch.nn.functional.cosine_similarity(pred, target, dim=1, eps=eps)).mean()


@full_precision
def info_nce(pred: torch.Tensor, target: torch.Tensor, temperature: float = 0.05) -> torch.Tensor:
    """In-batch contrastive loss: each row's own target against the batch's other targets.

    InfoNCE (van den Oord et al. 2018, "Representation learning with contrastive predictive
    coding", eq. 4), the image-to-text half of CLIP's loss (Radford et al. 2021): with unit rows
    ``p_i`` of ``pred`` and ``t_j`` of ``target``, the mean over rows i of
    ``-log softmax_j(p_i . t_j / temperature)[i]``. It rewards ranking the right target first
    by cosine, the criterion retrieval is scored on, where a cosine or squared-error loss only
    pulls each row towards its target and leaves hubs in place.
    """
    p = torch.nn.functional.normalize(pred, dim=1)
    t = torch.nn.functional.normalize(target, dim=1)
    logits = p @ t.T / temperature
    return torch.nn.functional.cross_entropy(logits, torch.arange(p.shape[0], device=p.device))


class _InvSqrtm(torch.autograd.Function):
    """Symmetric inverse square root ``A^{-1/2} = V diag(lam^{-1/2}) V^T`` with a stable gradient.

    The forward pass uses ``torch.linalg.eigh`` with eigenvalues clamped below at ``floor``. The
    backward pass does not differentiate through the eigenvectors (their gradient has
    ``1/(lam_i - lam_j)`` factors that explode when two eigenvalues nearly coincide); it uses
    the Daleckii-Krein formula for a matrix function f(A) = V f(Lam) V^T:
    ``dA = V (K o (V^T dF V)) V^T`` with the divided differences
    ``K_ij = (f(lam_i) - f(lam_j)) / (lam_i - lam_j)``, which for f = lam^{-1/2} is exactly
    ``-1 / (s_i s_j (s_i + s_j))`` with ``s = sqrt(lam)`` — no subtraction, no cancellation,
    equal to f'(lam) = -lam^{-3/2}/2 on the diagonal.
    """

    @staticmethod
    def forward(ctx, A, floor):
        lam, V = torch.linalg.eigh(A)
        s = lam.clamp_min(floor).sqrt()
        ctx.save_for_backward(s, V)
        return (V / s) @ V.transpose(-1, -2)

    @staticmethod
    def backward(ctx, grad):
        s, V = ctx.saved_tensors
        K = -1.0 / (s[:, None] * s[None, :] * (s[:, None] + s[None, :]))
        G = 0.5 * (grad + grad.transpose(-1, -2))
        return V @ (K * (V.transpose(-1, -2) @ G @ V)) @ V.transpose(-1, -2), None


def inv_sqrtm(A: torch.Tensor, floor: float = 1e-12) -> torch.Tensor:
    """Return ``A^{-1/2}`` of a symmetric positive (semi)definite matrix, eigenvalues clamped at
    ``floor``, with a gradient that stays finite when eigenvalues coincide (:class:`_InvSqrtm`)."""
    return _InvSqrtm.apply(A, floor)


@full_precision
def canonical_correlations(
    hx: torch.Tensor,
    hy: torch.Tensor,
    eps: float = 1e-4,
    eps_y: float | None = None,
    floor: float = 1e-12,
) -> torch.Tensor:
    """All canonical correlations of a batch of paired codes, largest first (differentiable).

    Andrew et al. 2013, "Deep Canonical Correlation Analysis" (ICML), sec. 2-3: with centred codes
    H1, H2 (rows = samples), S11 = H1'H1/(m-1) + r1 I, S22 = H2'H2/(m-1) + r2 I,
    S12 = H1'H2/(m-1), the canonical correlations are the singular values of
    T = S11^{-1/2} S12 S22^{-1/2}. ``eps`` is r1 and ``eps_y`` is r2 (default: ``eps``).
    Works in float32 and float64 (the result has the codes' dtype).
    """
    if hx.dim() != 2 or hy.dim() != 2 or hx.shape[0] != hy.shape[0]:
        raise ValueError(
            f"expected two (batch, units) tensors with the same batch size, got "
            f"{tuple(hx.shape)} and {tuple(hy.shape)}"
        )
    hx, hy = gather_rows(hx), gather_rows(hy)  # the whole batch under data parallelism
    m = hx.shape[0]
    if m < 2:
        raise ValueError(f"canonical correlations need a batch of at least 2 rows, got {m}")
    r1 = float(eps)
    r2 = float(eps if eps_y is None else eps_y)
    cx = hx - hx.mean(dim=0, keepdim=True)
    cy = hy - hy.mean(dim=0, keepdim=True)
    eye_x = torch.eye(hx.shape[1], dtype=hx.dtype, device=hx.device)
    eye_y = torch.eye(hy.shape[1], dtype=hy.dtype, device=hy.device)
    sxx = cx.T @ cx / (m - 1) + r1 * eye_x
    syy = cy.T @ cy / (m - 1) + r2 * eye_y
    sxy = cx.T @ cy / (m - 1)
    T = inv_sqrtm(sxx, floor) @ sxy @ inv_sqrtm(syy, floor)
    # svdvals' gradient is U diag(g) V^T: finite even for repeated or zero singular values
    return torch.linalg.svdvals(T)


def cca_loss(
    hx: torch.Tensor,
    hy: torch.Tensor,
    n_components: int | None = None,
    eps: float = 1e-4,
    eps_y: float | None = None,
    floor: float = 1e-12,
) -> torch.Tensor:
    """Minus the total canonical correlation of a batch: the DCCA objective to minimise.

    Andrew et al. 2013, sec. 3: corr(H1, H2) = ||T||_tr = trace((T'T)^{1/2}), the sum
    of all singular values of T = S11^{-1/2} S12 S22^{-1/2} (see :func:`canonical_correlations`
    for S11, S22, S12 and the regularisers ``eps`` = r1, ``eps_y`` = r2). With ``n_components=k``
    only the top k correlations are summed (their "k < o" case). The result lies
    in ``[-min(k, o1, o2), 0]`` up to the regularisation, which pulls it slightly towards 0.
    """
    corr = canonical_correlations(hx, hy, eps=eps, eps_y=eps_y, floor=floor)
    if n_components is not None:
        if int(n_components) < 1:
            raise ValueError(f"n_components must be at least 1, got {n_components}")
        corr = corr[: int(n_components)]
    return -corr.sum()


@full_precision
def relative_mse(
    pred: torch.Tensor, target: torch.Tensor, total_variance: torch.Tensor | float
) -> torch.Tensor:
    """Reconstruction error as a fraction of the target's variance: :func:`mse` / total variance.

    ``total_variance`` is the sum over features of the target view's variance (on the training
    data). The result is about 1 for a predictor that outputs the mean and 0 for a perfect one,
    whatever the number or scale of the features, so it can be weighed against a correlation.
    """
    return mse(pred, target) / total_variance
