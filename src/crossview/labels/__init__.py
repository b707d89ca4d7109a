"""Label-linked mapping: translate between two data sets that share only class labels."""

from .base import LabelLinkedModel, check_label_linked
from .class_conditional import ClassConditionalMap
from .label_group import LabelGroupMap
from .shared_head import SharedHeadNet

__all__ = [
    "ClassConditionalMap",
    "LabelGroupMap",
    "LabelLinkedModel",
    "SharedHeadNet",
    "check_label_linked",
]
