"""Builders for the small networks the deep methods are made of."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import torch
from sklearn.utils._param_validation import Interval
from torch import nn

from ..exceptions import CrossviewError

ACTIVATIONS = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "identity": nn.Identity,
    "linear": nn.Identity,
    "none": nn.Identity,
}


def activation(name: str | None) -> nn.Module:
    """Return a fresh activation module by name ('relu', 'sigmoid', 'tanh', 'identity', ...)."""
    key = "identity" if name is None else str(name).lower()
    if key not in ACTIVATIONS:
        raise CrossviewError(
            f"unknown activation {name!r}; expected one of {', '.join(sorted(ACTIVATIONS))}"
        )
    return ACTIVATIONS[key]()


def mlp(
    sizes: Sequence[int],
    activation_name: str | None = "relu",
    output_activation: str | None = None,
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> nn.Sequential:
    """Build a multilayer perceptron with layer widths ``sizes`` (input first, output last).

    Hidden layers get ``activation_name`` (and optional batch norm / dropout); the last layer
    gets ``output_activation`` (none by default).
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise CrossviewError(f"layer sizes must be at least two positive integers, got {sizes}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        layers.append(nn.Linear(a, b))
        if last:
            if output_activation not in (None, "none", "identity", "linear"):
                layers.append(activation(output_activation))
        else:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(activation(activation_name))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


#: the parameter constraint of hidden layer sizes: one width, or a sequence of widths (each
#: width is checked by :func:`as_sizes` when the network is built)
SIZES = [Interval(Integral, 1, None, closed="left"), "array-like"]


def as_sizes(value, name: str) -> tuple[int, ...]:
    """Normalise a hidden-size parameter (int or sequence of ints) to a tuple, with clear errors."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        value = (value,)
    try:
        sizes = tuple(value)
    except TypeError:
        raise CrossviewError(
            f"{name} must be an int or a sequence of ints, got {value!r}"
        ) from None
    if isinstance(value, str) or not all(
        isinstance(s, Integral) and not isinstance(s, bool) for s in sizes
    ):
        raise CrossviewError(f"{name} must be an int or a sequence of ints, got {value!r}")
    if any(s < 1 for s in sizes):
        raise CrossviewError(f"{name} must hold positive sizes, got {sizes}")
    return tuple(int(s) for s in sizes)


def count_parameters(module: torch.nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
