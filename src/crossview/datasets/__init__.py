"""Two-view data sets and file readers: MNIST halves, digits halves, and views from files."""

from .base import TwoViewData, TwoViewDataset
from .digits import load_digits_halves
from .files import View, read_view, write_view
from .idx import read_idx, write_idx
from .label_linked import LabelLinkedDataset, load_digits_mnist, load_mnist_unpaired
from .mnist import download_mnist, fetch_mnist, load_mnist_arrays, load_mnist_halves

__all__ = [
    "TwoViewData",
    "TwoViewDataset",
    "LabelLinkedDataset",
    "View",
    "download_mnist",
    "fetch_mnist",
    "load_digits_halves",
    "load_digits_mnist",
    "load_mnist_arrays",
    "load_mnist_halves",
    "load_mnist_unpaired",
    "read_idx",
    "read_view",
    "write_idx",
    "write_view",
]
