"""Small synthetic two-view problems with planted structure, for the deep-method tests."""

from __future__ import annotations

import numpy as np


def nonlinear_shared(n=2000, n_shared=2, d=20, noise=0.05, seed=0, n_private=2):
    """Views that share ``n_shared`` latent factors only through non-linear maps.

    X = tanh([s^2, px] A1) + noise, Y = sin([s^2 sign(s), py] A2) + noise: X sees s only through
    s^2, Y through s|s|, and each view has private factors, so linear CCA finds almost nothing
    while a non-linear method can recover the shared factors. The maps A1, A2 are fixed (seed 1);
    ``seed`` draws the samples.
    """
    rng = np.random.default_rng(seed)
    s = rng.uniform(-1.5, 1.5, size=(n, n_shared))
    px = rng.uniform(-1.5, 1.5, size=(n, n_private))
    py = rng.uniform(-1.5, 1.5, size=(n, n_private))
    maps = np.random.default_rng(1)
    A1 = maps.normal(size=(n_shared + n_private, d))
    A2 = maps.normal(size=(n_shared + n_private, d))
    X = np.tanh(np.c_[s**2, px] @ A1) + noise * rng.normal(size=(n, d))
    Y = np.sin(np.c_[s**2 * np.sign(s), py] @ A2) + noise * rng.normal(size=(n, d))
    return X.astype(np.float32), Y.astype(np.float32)


def translatable(n=2000, n_shared=3, d=20, noise=0.1, seed=0):
    """Views that are non-linear functions of the same ``n_shared`` factors (plus small noise),
    so each view predicts most of the other."""
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n, n_shared))
    maps = np.random.default_rng(1)
    A1 = maps.normal(size=(n_shared, d)) / np.sqrt(n_shared)
    A2 = maps.normal(size=(n_shared, d)) / np.sqrt(n_shared)
    X = np.tanh(s @ A1) + noise * rng.normal(size=(n, d))
    Y = np.sin(s @ A2) + noise * rng.normal(size=(n, d))
    return X.astype(np.float32), Y.astype(np.float32)


def column_correlations(Zx, Zy):
    """Pearson correlation of each pair of matching columns."""
    Zx = Zx - Zx.mean(axis=0)
    Zy = Zy - Zy.mean(axis=0)
    return (Zx * Zy).sum(axis=0) / np.sqrt((Zx**2).sum(axis=0) * (Zy**2).sum(axis=0))


def numpy_canonical_correlations(Hx, Hy, eps=0.0):
    """Reference canonical correlations: singular values of Sxx^{-1/2} Sxy Syy^{-1/2} (float64)."""
    Hx = np.asarray(Hx, dtype=np.float64)
    Hy = np.asarray(Hy, dtype=np.float64)
    n = Hx.shape[0]
    Cx, Cy = Hx - Hx.mean(axis=0), Hy - Hy.mean(axis=0)

    def inv_sqrt(S):
        w, V = np.linalg.eigh(S)
        return V @ np.diag(w**-0.5) @ V.T

    Sxx = Cx.T @ Cx / (n - 1) + eps * np.eye(Hx.shape[1])
    Syy = Cy.T @ Cy / (n - 1) + eps * np.eye(Hy.shape[1])
    Sxy = Cx.T @ Cy / (n - 1)
    return np.linalg.svd(inv_sqrt(Sxx) @ Sxy @ inv_sqrt(Syy), compute_uv=False)


def qr_canonical_correlations(Hx, Hy):
    """Unregularised canonical correlations by a different route (Bjorck and Golub 1973): the
    singular values of Qx' Qy, with Qx, Qy orthonormal bases of the centred codes."""
    Hx = np.asarray(Hx, dtype=np.float64)
    Hy = np.asarray(Hy, dtype=np.float64)
    Qx, _ = np.linalg.qr(Hx - Hx.mean(axis=0))
    Qy, _ = np.linalg.qr(Hy - Hy.mean(axis=0))
    return np.linalg.svd(Qx.T @ Qy, compute_uv=False)
