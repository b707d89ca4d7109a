"""MNIST left/right halves, the reference benchmark of Deep CorrNet (Chandar et al. 2016, sec. 6).

View X is columns 0-13 of each 28x28 image, view Y columns 14-27, each flattened to 392 pixels
in [0, 1]. Train: the first 50,000 training images; val: the last 10,000; test: the 10,000 test
images. The loader reads ``mnist.npz`` (Keras layout) or the four original IDX files, looking in
``data_dir``, then ``$CROSSVIEW_DATA``, then the user cache folder, and can download the IDX files.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import urllib.request
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..exceptions import CrossviewError
from ..fileio import atomic_write
from .base import TwoViewData, TwoViewDataset
from .idx import read_idx

logger = logging.getLogger(__name__)

#: public mirrors of the four gzipped IDX files, tried in order
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]

#: file stem -> md5 of the DEcompressed official IDX file
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
NPZ_FILE = "mnist.npz"

TRAIN_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
TEST_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}
N_TRAIN = 50000  # the rest of the 60,000 training images is the validation split
HALF = 14  # X = columns [0, 14), Y = columns [14, 28)


def cache_dir() -> Path:
    """Return the user cache folder: ``$XDG_CACHE_HOME/crossview`` or ``~/.cache/crossview``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "crossview"


def search_dirs(data_dir: Path | str | None = None) -> list[Path]:
    """Return the folders searched for MNIST, in order: data_dir, $CROSSVIEW_DATA, cache folder."""
    dirs = [Path(data_dir).expanduser()] if data_dir is not None else []
    if os.environ.get("CROSSVIEW_DATA"):
        dirs.append(Path(os.environ["CROSSVIEW_DATA"]).expanduser())
    dirs.append(cache_dir())
    out: list[Path] = []
    for d in dirs:
        if d not in out:
            out.append(d)
    return out


def _idx_path(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _find(folder: Path) -> dict[str, Path] | Path | None:
    """Return the npz path, or the four IDX paths by array name, found in ``folder``, or None."""
    if (folder / NPZ_FILE).is_file():
        return folder / NPZ_FILE
    paths = {key: _idx_path(folder, stem) for key, stem in IDX_FILES.items()}
    if all(paths.values()):
        return paths
    return None


def _where_to_put(dirs: list[Path]) -> str:
    return (
        f"put {NPZ_FILE} (Keras layout) or the four IDX files ({', '.join(IDX_FILES.values())}, "
        f"optionally .gz) in one of: {', '.join(str(d) for d in dirs)}"
    )


def _check_array(key: str, arr: np.ndarray, source: Path) -> None:
    """Check one MNIST array's shape, dtype and (for labels) exact class counts."""
    if arr.shape != _SHAPES[key]:
        raise CrossviewError(f"{source}: {key} has shape {arr.shape}; MNIST has {_SHAPES[key]}")
    if arr.dtype != np.uint8:
        raise CrossviewError(f"{source}: {key} has dtype {arr.dtype}; MNIST is uint8")
    if key.startswith("y_"):
        expected = TRAIN_COUNTS if key == "y_train" else TEST_COUNTS
        counts = tuple(int(c) for c in np.bincount(arr, minlength=10))
        if counts != expected:
            raise CrossviewError(
                f"{source}: {key} label counts {list(counts)} differ from MNIST's "
                f"{list(expected)}; the file is not the official MNIST data"
            )


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    if not zipfile.is_zipfile(path):  # else np.load tries pickle and suggests allow_pickle
        raise CrossviewError(f"{path} is not a readable .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in _SHAPES if k not in z.files]
            if missing:
                raise CrossviewError(
                    f"{path}: missing array(s) {', '.join(missing)}; expected the Keras layout "
                    f"(x_train, y_train, x_test, y_test), found {', '.join(z.files) or 'none'}"
                )
            arrays = {k: z[k] for k in _SHAPES}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        if isinstance(exc, CrossviewError):
            raise
        raise CrossviewError(f"{path} is not a readable .npz file ({exc})") from None
    for key, arr in arrays.items():
        _check_array(key, arr, path)
    return arrays


def _read_idx_set(paths: dict[str, Path]) -> dict[str, np.ndarray]:
    arrays = {}
    for key, path in paths.items():
        arrays[key] = read_idx(path)
        _check_array(key, arrays[key], path)
    return arrays


def _md5_of_decompressed(path: Path) -> str:
    h = hashlib.md5()
    with gzip.open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fetch_one(url: str, dest: Path, expected_md5: str, verbose: bool) -> None:
    """Download ``url`` (a .gz file) to ``dest`` atomically, checking the md5 of its content."""
    from tqdm.auto import tqdm

    with atomic_write(dest) as tmp:
        with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            total = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
            with tqdm(
                total=int(total) if total else None,
                unit="B",
                unit_scale=True,
                desc=dest.name,
                disable=not verbose,
                leave=False,
            ) as bar:
                for block in iter(lambda: resp.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
        try:
            digest = _md5_of_decompressed(tmp)
        except (OSError, EOFError, zlib.error) as exc:
            raise CrossviewError(f"{url} is not valid gzip data ({exc})") from None
        if digest != expected_md5:
            raise CrossviewError(
                f"{url}: checksum mismatch (md5 of the content {digest}, expected {expected_md5})"
            )


def download_mnist(
    dest: Path | str,
    *,
    mirrors: list[str] | None = None,
    checksums: dict[str, str] | None = None,
    verbose: bool = True,
) -> dict[str, Path]:
    """Download the four gzipped MNIST IDX files into ``dest`` and verify their md5 checksums.

    Files already in ``dest`` (plain or .gz) are kept. Each missing file is tried on every mirror
    in turn; a file is written (atomically) only after the md5 of its decompressed content matches
    ``checksums``. Returns the path of each file by array name (``x_train``, ...). Raises a
    one-line :class:`CrossviewError` when a file cannot be had from any mirror.
    """
    mirrors = MIRRORS if mirrors is None else mirrors
    checksums = MD5 if checksums is None else checksums
    dest = Path(dest).expanduser()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CrossviewError(f"cannot create the data folder {dest} ({exc})") from None
    paths = {}
    for key, stem in IDX_FILES.items():
        existing = _idx_path(dest, stem)
        if existing is not None:
            paths[key] = existing
            continue
        problems = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + stem + ".gz"
            logger.info("downloading %s", url)
            try:
                _fetch_one(url, dest / (stem + ".gz"), checksums[stem], verbose)
            except (OSError, ValueError, http.client.HTTPException) as exc:
                reason = getattr(exc, "reason", None) or exc
                problems.append(
                    f"{url}: {reason}" if not isinstance(exc, CrossviewError) else str(exc)
                )
                continue
            paths[key] = dest / (stem + ".gz")
            break
        else:
            raise CrossviewError(
                f"could not download MNIST file {stem}.gz "
                f"({'; '.join(problems) or 'no mirrors given'}); {_where_to_put(search_dirs(dest))}"
            )
    return paths


def fetch_mnist(
    data_dir: Path | str | None = None, *, download: bool = True, verbose: bool = True
) -> Path:
    """Find (or download) MNIST, verify it, and return the file or folder it was read from.

    Looks for ``mnist.npz`` or the four IDX files in ``data_dir``, ``$CROSSVIEW_DATA`` and
    :func:`cache_dir`, in that order. When none has them and ``download`` is true, downloads the
    IDX files into the first of those folders. See :func:`load_mnist_arrays` for the checks.
    """
    return _load(data_dir, download, verbose)[1]


def load_mnist_arrays(
    data_dir: Path | str | None = None, *, download: bool = True, verbose: bool = True
) -> dict[str, np.ndarray]:
    """Return the verified MNIST arrays ``x_train``, ``y_train``, ``x_test``, ``y_test`` (uint8).

    Checks shapes, dtype and the exact label counts of the official data; a file that fails
    raises :class:`CrossviewError` naming the file and the problem.
    """
    return _load(data_dir, download, verbose)[0]


def _load(data_dir, download: bool, verbose: bool) -> tuple[dict[str, np.ndarray], Path]:
    dirs = search_dirs(data_dir)
    for folder in dirs:
        found = _find(folder)
        if isinstance(found, Path):
            logger.info("reading MNIST from %s", found)
            return _read_npz(found), found
        if found is not None:
            logger.info("reading MNIST IDX files from %s", folder)
            return _read_idx_set(found), folder
    if not download:
        raise CrossviewError(f"MNIST not found and download=False; {_where_to_put(dirs)}")
    paths = download_mnist(dirs[0], verbose=verbose)
    return _read_idx_set(paths), dirs[0]


def _halves(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split (n, 28, 28) uint8 images into left and right halves, (n, 392) float32 in [0, 1]."""
    n = images.shape[0]
    scaled = images.astype(np.float32) / np.float32(255.0)
    return (
        np.ascontiguousarray(scaled[:, :, :HALF]).reshape(n, -1),
        np.ascontiguousarray(scaled[:, :, HALF:]).reshape(n, -1),
    )


def load_mnist_halves(
    data_dir: Path | str | None = None, download: bool = True, verbose: bool = True
) -> TwoViewDataset:
    """Load MNIST as left/right halves with the CorrNet protocol splits (50,000 / 10,000 / 10,000).

    X is columns 0-13 of each image, Y columns 14-27, flattened row by row to 392 float32 values
    in [0, 1]; labels are the digits (int64). Splits: train = the first 50,000 training images,
    val = the last 10,000 training images, test = the 10,000 test images (Chandar et al. 2016,
    "Correlational Neural Networks", sec. 6). Where the files are looked for and how they are
    checked: :func:`fetch_mnist` and :func:`load_mnist_arrays`.
    """
    arrays = load_mnist_arrays(data_dir, download=download, verbose=verbose)
    x_tr, x_te = arrays["x_train"], arrays["x_test"]
    y_tr, y_te = arrays["y_train"], arrays["y_test"]
    splits = {
        "train": (x_tr[:N_TRAIN], y_tr[:N_TRAIN]),
        "val": (x_tr[N_TRAIN:], y_tr[N_TRAIN:]),
        "test": (x_te, y_te),
    }
    data = {}
    for split, (images, labels) in splits.items():
        X, Y = _halves(images)
        data[split] = TwoViewData(X, Y, labels.astype(np.int64), name=f"mnist-halves/{split}")
    return TwoViewDataset(
        "mnist-halves",
        description="MNIST left (X) and right (Y) image halves, 392 pixels each",
        **data,
    )


__all__ = [
    "load_mnist_halves",
    "load_mnist_arrays",
    "fetch_mnist",
    "download_mnist",
    "cache_dir",
    "search_dirs",
    "MIRRORS",
    "MD5",
]
