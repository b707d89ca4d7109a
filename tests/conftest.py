"""Shared fixtures: small random views, the shared MNIST copy, and quiet torch threads."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist.npz"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def mnist_dir():
    """Folder holding the shared mnist.npz; the test is skipped, with the reason, when absent."""
    path = Path(os.environ.get("CROSSVIEW_TEST_MNIST", SHARED_MNIST))
    if not path.is_file():
        pytest.skip(f"MNIST copy not found at {path} (set CROSSVIEW_TEST_MNIST to its path)")
    return path.parent
