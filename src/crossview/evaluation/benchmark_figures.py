"""The benchmark's figures of one fitted model: reconstructions, training curves, code map.

Separate from :mod:`.plots` (arrays in, PNG out) because these call the model; the benchmark is
the only caller.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: how many test rows the reconstruction figures show (always the first ones: the same digits)
N_IMAGES = 10
#: every kind of per-model figure
KINDS = ("reconstructions", "training", "codes")


def model_figures(
    model,
    title: str,
    slug: str,
    split,
    fig_dir: Path,
    *,
    image_shape: tuple[int, int] | None,
    n_images: int = N_IMAGES,
    kinds=KINDS,
) -> list[Path]:
    """Draw the figures of ``kinds`` that apply to ``model`` on ``split``; return the PNG paths.

    - ``<slug>-right-from-left.png`` / ``<slug>-left-from-right.png``: the first ``n_images``
      rows translated each way, under the truth (models with ``predict`` / ``predict_x``,
      image-shaped views);
    - ``<slug>-training.png``: every loss term per epoch (models with a ``history_``);
    - ``<slug>-codes.png``: a 2-D PCA map of both views' codes coloured by class (with labels).
    """
    from .plots import plot_code_map, plot_reconstructions, plot_training_curves

    out: list[Path] = []
    if "reconstructions" in kinds and image_shape is not None:
        h, w = image_shape
        if split.X.shape[1] == h * w and split.Y.shape[1] == h * w:
            X, Y = split.X[:n_images], split.Y[:n_images]
            if hasattr(model, "predict"):
                out.append(
                    plot_reconstructions(
                        X,
                        Y,
                        model.predict(X),
                        image_shape,
                        fig_dir / f"{slug}-right-from-left.png",
                        n=n_images,
                        generated="right",
                        title=f"{title}: right halves from left halves",
                    )
                )
            if hasattr(model, "predict_x"):
                out.append(
                    plot_reconstructions(
                        Y,
                        X,
                        model.predict_x(Y),
                        image_shape,
                        fig_dir / f"{slug}-left-from-right.png",
                        n=n_images,
                        generated="left",
                        title=f"{title}: left halves from right halves",
                    )
                )
    history = getattr(model, "history_", None)
    if "training" in kinds and history is not None and history.train:
        out.append(
            plot_training_curves(
                history, fig_dir / f"{slug}-training.png", title=f"{title}: training"
            )
        )
    if "codes" in kinds and split.labels is not None:
        Zx, Zy = model.transform(split.X), model.transform_y(split.Y)
        if Zx.shape[1] >= 2 and Zx.shape[1] == Zy.shape[1]:
            out.append(
                plot_code_map(
                    Zx,
                    Zy,
                    split.labels,
                    fig_dir / f"{slug}-codes.png",
                    title=f"{title}: test codes",
                )
            )
    return out


def dimension_correlations(model, split) -> list[float]:
    """Per-dimension correlation of the codes of X alone and Y alone on ``split``."""
    from .metrics import per_dimension_correlation

    Zx, Zy = model.transform(split.X), model.transform_y(split.Y)
    if Zx.shape[1] != Zy.shape[1]:
        return []
    return [float(c) for c in np.asarray(per_dimension_correlation(Zx, Zy))]
