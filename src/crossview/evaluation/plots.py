"""Figures: reconstructions next to the truth, per-dimension correlations, training curves and
2-D maps of codes. Each function takes arrays and writes one PNG.

Figures are drawn on :class:`matplotlib.figure.Figure` objects, never through pyplot, so using
this module picks no backend and leaves no figure open in the process.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..fileio import atomic_write


def _save(fig: Figure, path) -> Path:
    """Write ``fig`` to ``path`` atomically, in the format of the path's suffix (PNG if none)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=110, bbox_inches="tight")
    return path


def plot_reconstructions(
    X,
    Y,
    Y_hat,
    image_shape: tuple[int, int],
    path,
    *,
    n: int = 10,
    generated: str = "right",
    title: str | None = None,
) -> Path:
    """Show images whose ``generated`` half is the model's output next to the real images.

    ``X`` is the given half, ``Y`` the true other half and ``Y_hat`` its reconstruction, each
    (n_rows, h * w_half) with ``image_shape = (h, w_half)``. Top row: truth; bottom row: the
    given half joined with the generated half (``generated="right"`` puts Y on the right).
    """
    h, w = image_shape
    n = min(n, X.shape[0])
    fig = Figure(figsize=(1.1 * n, 2.6))
    axes = fig.subplots(2, n, squeeze=False)
    for i in range(n):
        given = X[i].reshape(h, w)
        truth, gen = Y[i].reshape(h, w), np.clip(Y_hat[i].reshape(h, w), 0, 1)
        pair = (
            ((given, truth), (given, gen))
            if generated == "right"
            else ((truth, given), (gen, given))
        )
        for r, (left, right) in enumerate(pair):
            ax = axes[r, i]
            ax.imshow(np.hstack([left, right]), cmap="gray", vmin=0, vmax=1)
            ax.axvline(w - 0.5, color="tab:red", lw=0.6)
            ax.set_xticks([]), ax.set_yticks([])
    axes[0, 0].set_ylabel("truth", fontsize=8)
    axes[1, 0].set_ylabel(f"{generated}\ngenerated", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def plot_dimension_correlations(corrs: dict[str, np.ndarray], path) -> Path:
    """Plot each method's per-dimension test correlations, sorted from high to low."""
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    for name, c in corrs.items():
        ax.plot(np.sort(np.asarray(c))[::-1], label=f"{name} (sum {np.sum(c):.1f})")
    ax.set_xlabel("dimension (sorted)")
    ax.set_ylabel("test correlation")
    ax.set_ylim(-0.05, 1.02)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_training_curves(history, path, title: str = "") -> Path:
    """Plot every loss term of a training :class:`~crossview.deep.trainer.History` per epoch."""
    terms = history.terms
    fig = Figure(figsize=(3 * len(terms), 2.6))
    axes = fig.subplots(1, len(terms), squeeze=False)
    for ax, term in zip(axes[0], terms):
        ax.plot(range(1, len(history.train) + 1), history.term(term), label="train")
        if history.val:
            ax.plot(range(1, len(history.val) + 1), history.term(term, "val"), label="val")
        ax.set_title(term, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def plot_code_map(
    Zx,
    Zy,
    labels,
    path,
    title: str = "",
    method: str = "pca",
    random_state: int = 0,
    max_points: int = 3000,
) -> Path:
    """A 2-D map (PCA or t-SNE) of the codes of both views, coloured by class.

    The projection is fitted on both views' codes together, so the two panels share axes.
    """
    rng = np.random.default_rng(random_state)
    idx = rng.permutation(Zx.shape[0])[:max_points]
    Z = np.vstack([Zx[idx], Zy[idx]])
    if method == "tsne":
        from sklearn.manifold import TSNE

        P = TSNE(n_components=2, random_state=random_state, init="pca").fit_transform(Z)
    else:
        from sklearn.decomposition import PCA

        P = PCA(n_components=2, random_state=random_state).fit_transform(Z)
    px, py = P[: len(idx)], P[len(idx) :]
    lab = np.asarray(labels)[idx]
    fig = Figure(figsize=(8, 3.8))
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    for ax, pts, name in ((axes[0], px, "codes of X"), (axes[1], py, "codes of Y")):
        sc = ax.scatter(pts[:, 0], pts[:, 1], c=lab, cmap="tab10", s=3, alpha=0.7)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    fig.colorbar(sc, ax=axes, fraction=0.03)
    if title:
        fig.suptitle(f"{title} ({method.upper()})", fontsize=9)
    return _save(fig, path)
