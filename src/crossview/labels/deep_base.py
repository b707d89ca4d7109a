"""The base of the label-linked methods trained by the shared torch trainer."""

from __future__ import annotations

import numpy as np

from ..deep.estimator import TorchModelMixin
from ..exceptions import CrossviewError
from .base import (
    LabelLinkedArrays,
    LabelLinkedModel,
    check_label_linked,
    labels_from_json,
    labels_to_json,
)


class DeepLabelLinkedModel(TorchModelMixin, LabelLinkedModel):
    """Validation, training and model files shared by the deep label-linked methods.

    A subclass builds its network in ``_build_module(n_x, n_y)`` (``len(self.classes_)`` gives
    the number of classes), calls :meth:`_check_data` first in ``fit`` and trains with
    ``_train_module``; the class list and the number of known pairs are saved with the weights.
    """

    def _check_data(self, X, x_labels, Y, y_labels, pairs) -> LabelLinkedArrays:
        """Check the parameters and the data (as float32), and record widths and classes."""
        self._validate_params()
        data = check_label_linked(X, x_labels, Y, y_labels, pairs, dtype=np.float32)
        self._set_fitted_shape(data)
        n_max = max(len(data.X), len(data.Y))
        if self.batch_size > n_max:
            raise CrossviewError(
                f"batch_size={self.batch_size} is larger than the {n_max} rows of the larger view"
            )
        self.n_pairs_ = len(data.pairs)
        return data

    def _get_state(self):
        arrays, extra = super()._get_state()
        extra |= {"classes": labels_to_json(self.classes_), "n_pairs": int(self.n_pairs_)}
        return arrays, extra

    def _set_state(self, arrays, extra):
        self.classes_ = labels_from_json(extra.get("classes"))  # the network needs the count
        self.n_pairs_ = int(extra.get("n_pairs", 0))
        super()._set_state(arrays, extra)
