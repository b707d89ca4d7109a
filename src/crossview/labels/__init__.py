"""Label-linked mapping: translate between two data sets that share only class labels."""

from .base import LabelLinkedModel, check_label_linked
from .class_conditional import ClassConditionalMap
from .shared_head import SharedHeadNet

__all__ = ["ClassConditionalMap", "LabelLinkedModel", "SharedHeadNet", "check_label_linked"]
