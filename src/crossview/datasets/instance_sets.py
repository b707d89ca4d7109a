"""Set-clustering benchmark data: sets of items with a category per item and a cluster id per set.

- :func:`make_mnist_instance_sets` — each set draws 3-10 base images from MNIST (digits may
  repeat in a set) and turns each into a cluster of 2-12 randomly transformed copies (rotation,
  shear, shift, scale, thicker or thinner strokes, pixel noise). Category = the base image's
  digit; cluster = which base image. Two base images of the same digit in one set are what
  defeats "classify, then cluster".
- :func:`make_context_sets` — synthetic sets in which an item's category can only be read
  relative to the rest of its set: each set is shifted and scaled at random as a whole.
- :func:`load_mnist_instance_sets` — the benchmark's train / validation / test split:
  training sets from 50,000 MNIST training images, validation sets from the other 10,000,
  test sets from the test split (instances never seen in training).

Every generator is seeded and returns a :class:`SetTable`: the long table (one row per item)
that :class:`crossview.clustering.SetClusterer` fits on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..exceptions import CrossviewError
from .mnist import load_mnist_arrays

#: MNIST images are 28 x 28
IMAGE_SHAPE = (28, 28)
#: images transformed at once by :func:`augment_images` (bounds its memory)
_CHUNK = 10_000


@dataclass(frozen=True, eq=False)
class SetTable:
    """Items of many sets as a long table: one row of ``X`` per item.

    ``sets`` is the set id of each row, ``categories`` its category, ``clusters`` its cluster id
    (meaningful only within its set). Rows of one set are contiguous, in set order.
    ``image_shape`` is the shape of one item's image (for figures and a CNN encoder), or ``()``.
    """

    X: np.ndarray
    categories: np.ndarray
    clusters: np.ndarray
    sets: np.ndarray
    image_shape: tuple = ()
    name: str = ""

    @property
    def n_sets(self) -> int:
        return int(len(np.unique(self.sets)))

    def subset(self, set_ids) -> SetTable:
        """The rows of the given sets (in table order)."""
        keep = np.isin(self.sets, np.asarray(set_ids))
        return SetTable(
            self.X[keep],
            self.categories[keep],
            self.clusters[keep],
            self.sets[keep],
            self.image_shape,
            self.name,
        )

    def __repr__(self) -> str:
        return (
            f"SetTable({self.name!r}: {len(self.X)} items in {self.n_sets} sets, "
            f"{self.X.shape[1]} features)"
        )


def _check_range(name: str, value, low: int) -> tuple[int, int]:
    lo, hi = (int(v) for v in value)
    if not low <= lo <= hi:
        raise CrossviewError(f"{name}={value!r}; expected (min, max) with {low} <= min <= max")
    return lo, hi


def augment_images(
    images: np.ndarray,
    rng: np.random.Generator,
    *,
    rotation: float = 20.0,
    shear: float = 0.3,
    shift: float = 3.0,
    scale: tuple[float, float] = (0.85, 1.15),
    stroke: float = 0.5,
    noise: float = 0.05,
    verbose: bool = False,
) -> np.ndarray:
    """Return randomly transformed copies of ``images`` ((n, h, w), values in [0, 1]).

    Each copy gets its own affine map about the image centre — rotation up to +-``rotation``
    degrees, shear up to +-``shear``, scale in ``scale``, shift up to +-``shift`` pixels — then,
    with probability ``stroke``, strokes made thicker or thinner (a 2 x 2 grey dilation or
    erosion, half each), then Gaussian pixel noise of standard deviation ``noise``, clipped to
    [0, 1]. Vectorised: ``scipy.ndimage.map_coordinates`` over stacks of 10,000 images (a
    progress bar over them with ``verbose``).
    """
    images = np.asarray(images, dtype=np.float32)
    n, h, w = images.shape
    theta = np.deg2rad(rng.uniform(-rotation, rotation, n))
    sh = rng.uniform(-shear, shear, n)
    sc = rng.uniform(scale[0], scale[1], n)
    t = rng.uniform(-shift, shift, (n, 2))
    cos, sin = np.cos(theta), np.sin(theta)
    # output pixel (r, c) reads input centre + A^-1 (p - centre - t), A = rotation @ shear * scale
    a = np.empty((n, 2, 2))
    a[:, 0, 0], a[:, 0, 1] = cos, -sin + cos * sh
    a[:, 1, 0], a[:, 1, 1] = sin, cos + sin * sh
    a *= sc[:, None, None]
    inv = np.linalg.inv(a)
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    rr, cc = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    p = np.stack([rr, cc], axis=-1).reshape(-1, 2) - centre  # (h*w, 2)
    out = np.empty((n, h, w), dtype=np.float32)
    from tqdm.auto import tqdm

    chunks = range(0, n, _CHUNK)  # in chunks: the coordinates take 24 bytes a pixel
    for lo in tqdm(chunks, desc="transforming images", unit="chunk", disable=not verbose):
        hi = min(n, lo + _CHUNK)
        src = np.einsum("nij,nkj->nki", inv[lo:hi], p[None, :, :] - t[lo:hi, None, :]) + centre
        coords = np.stack(
            [
                np.repeat(np.arange(hi - lo, dtype=np.float64), h * w),
                src[:, :, 0].ravel(),
                src[:, :, 1].ravel(),
            ]
        )
        warped = ndimage.map_coordinates(images[lo:hi], coords, order=1, mode="constant")
        out[lo:hi] = warped.reshape(hi - lo, h, w)
    which = rng.uniform(size=n)
    thick = which < stroke / 2
    thin = (which >= stroke / 2) & (which < stroke)
    if thick.any():
        out[thick] = ndimage.grey_dilation(out[thick], size=(1, 2, 2))
    if thin.any():
        out[thin] = ndimage.grey_erosion(out[thin], size=(1, 2, 2))
    for lo in range(0, n, _CHUNK):  # the same draws as one call, without an n x h x w float64
        hi = min(n, lo + _CHUNK)
        out[lo:hi] += rng.normal(0.0, noise, out[lo:hi].shape).astype(np.float32)
    return np.clip(out, 0.0, 1.0, out=out)


def make_instance_sets(
    images: np.ndarray,
    labels: np.ndarray,
    n_sets: int,
    *,
    bases: tuple[int, int] = (3, 10),
    copies: tuple[int, int] = (2, 12),
    random_state: int | None = 0,
    first_set: int = 0,
    name: str = "instance-sets",
    verbose: bool = False,
    **augment,
) -> SetTable:
    """Build ``n_sets`` sets of transformed copies of base images drawn from ``images``.

    Each set draws between ``bases[0]`` and ``bases[1]`` distinct base images (uniformly; the
    same digit may come twice) and makes between ``copies[0]`` and ``copies[1]`` transformed
    copies of each (:func:`augment_images`, ``**augment`` passed on). Items are shuffled within
    their set. Returns a :class:`SetTable` with flattened images (values in [0, 1]), category =
    the base image's label, cluster = the base image's index in its set; set ids count from
    ``first_set``. ``verbose`` shows a progress bar over the image transformations.
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 3 or len(images) != len(labels):
        raise CrossviewError(
            f"images must be (n, h, w) with one label each, got {images.shape} and {labels.shape}"
        )
    b_lo, b_hi = _check_range("bases", bases, 1)
    c_lo, c_hi = _check_range("copies", copies, 1)
    if b_hi > len(images):
        raise CrossviewError(f"bases={bases!r} needs at least {b_hi} images, got {len(images)}")
    rng = np.random.default_rng(random_state)
    scale = np.float32(255.0) if images.dtype == np.uint8 else np.float32(1.0)
    src, cats, clus, set_ids = [], [], [], []
    for s in range(n_sets):
        k = int(rng.integers(b_lo, b_hi + 1))
        chosen = rng.choice(len(images), size=k, replace=False)
        counts = rng.integers(c_lo, c_hi + 1, size=k)
        members = np.repeat(np.arange(k), counts)
        rng.shuffle(members)
        src.append(chosen[members])
        cats.append(labels[chosen[members]])
        clus.append(members)
        set_ids.append(np.full(len(members), first_set + s))
    idx = np.concatenate(src)
    X = augment_images(images[idx].astype(np.float32) / scale, rng, verbose=verbose, **augment)
    return SetTable(
        X.reshape(len(idx), -1),
        np.concatenate(cats).astype(np.int64),
        np.concatenate(clus).astype(np.int64),
        np.concatenate(set_ids).astype(np.int64),
        tuple(images.shape[1:]),
        name,
    )


def load_mnist_instance_sets(
    data_dir=None,
    *,
    n_train: int = 6000,
    n_val: int = 200,
    n_test: int = 500,
    random_state: int = 0,
    download: bool = True,
    verbose: bool = True,
) -> tuple[SetTable, SetTable, SetTable]:
    """The MNIST instance-set benchmark data: (train, validation, test) :class:`SetTable`.

    Training sets draw their base images from the first 50,000 MNIST training images,
    validation sets from the other 10,000, test sets from the 10,000 test images, so
    validation and test clusters are instances never seen in training. Seeded.
    """
    arrays = load_mnist_arrays(data_dir, download=download, verbose=verbose)
    x, y = arrays["x_train"], arrays["y_train"]
    seeds = np.random.SeedSequence(random_state).spawn(3)
    parts = [
        (x[:50_000], y[:50_000], n_train, "train"),
        (x[50_000:], y[50_000:], n_val, "val"),
        (arrays["x_test"], arrays["y_test"], n_test, "test"),
    ]
    return tuple(
        make_instance_sets(
            imgs, labs, n, random_state=seed, name=f"mnist-instance-sets/{part}", verbose=verbose
        )
        for (imgs, labs, n, part), seed in zip(parts, seeds)
    )


def make_context_sets(
    n_sets: int,
    *,
    n_categories: int = 4,
    clusters_per_category: tuple[int, int] = (1, 3),
    items_per_cluster: tuple[int, int] = (2, 6),
    n_features: int = 2,
    spread: float = 0.35,
    item_noise: float = 0.05,
    set_shift: float = 10.0,
    set_scale: tuple[float, float] = (0.5, 2.0),
    random_state: int | None = 0,
    first_set: int = 0,
) -> SetTable:
    """Synthetic sets whose items' categories can only be read relative to their set.

    Category c has a fixed centre ``m_c`` (the first ``n_categories`` points of a seeded
    layout with pairwise distances of at least 2). Every set holds clusters of every category
    (between ``clusters_per_category`` of each); a cluster sits at ``m_c + spread * N(0, I)``
    and its items (between ``items_per_cluster``) at the cluster centre plus
    ``item_noise * N(0, I)``. Then the whole set is scaled by a factor drawn log-uniformly from
    ``set_scale`` and shifted by ``set_shift * N(0, I)``: an item's own coordinates say nothing
    about its category (the shift dwarfs the layout), but its position relative to the other
    items does. Known answer: undoing each set's shift and scale recovers the layout.
    """
    if n_categories < 2:
        raise CrossviewError(f"n_categories={n_categories}; expected at least 2")
    c_lo, c_hi = _check_range("clusters_per_category", clusters_per_category, 1)
    i_lo, i_hi = _check_range("items_per_cluster", items_per_cluster, 1)
    rng = np.random.default_rng(random_state)
    layout = np.random.default_rng(12345)  # the category centres do not depend on the seed
    centres = []
    for _ in range(10_000):
        p = layout.uniform(-2.5, 2.5, n_features)
        if all(np.linalg.norm(p - q) >= 2.0 for q in centres):
            centres.append(p)
        if len(centres) == n_categories:
            break
    else:
        raise CrossviewError(
            f"cannot place {n_categories} category centres 2 apart in {n_features} dimension(s); "
            "use fewer categories or more features"
        )
    centres = np.asarray(centres)
    rows, cats, clus, set_ids = [], [], [], []
    for s in range(n_sets):
        pts, cs, ks = [], [], []
        k = 0
        for c in range(n_categories):
            for _ in range(int(rng.integers(c_lo, c_hi + 1))):
                m = int(rng.integers(i_lo, i_hi + 1))
                centre = centres[c] + spread * rng.normal(size=n_features)
                pts.append(centre + item_noise * rng.normal(size=(m, n_features)))
                cs.append(np.full(m, c))
                ks.append(np.full(m, k))
                k += 1
        P, C, K = np.concatenate(pts), np.concatenate(cs), np.concatenate(ks)
        order = rng.permutation(len(P))
        factor = np.exp(rng.uniform(np.log(set_scale[0]), np.log(set_scale[1])))
        shift = set_shift * rng.normal(size=n_features)
        rows.append(P[order] * factor + shift)
        cats.append(C[order])
        clus.append(K[order])
        set_ids.append(np.full(len(P), first_set + s))
    return SetTable(
        np.concatenate(rows).astype(np.float32),
        np.concatenate(cats).astype(np.int64),
        np.concatenate(clus).astype(np.int64),
        np.concatenate(set_ids).astype(np.int64),
        (),
        "context-sets",
    )
