"""Label-linked mapping: translate between two data sets that share only class labels.

The deep methods (``SharedHeadNet``, ``LabelGroupMap``) are imported on first use, so that
``ClassConditionalMap`` works without importing torch.
"""

from .base import LabelLinkedModel, check_label_linked
from .class_conditional import ClassConditionalMap

__all__ = [
    "ClassConditionalMap",
    "LabelGroupMap",
    "LabelLinkedModel",
    "SharedHeadNet",
    "check_label_linked",
]

_DEEP = {"SharedHeadNet": "shared_head", "LabelGroupMap": "label_group"}


def __getattr__(name):
    if name in _DEEP:
        from importlib import import_module

        return getattr(import_module(f".{_DEEP[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
