"""The scikit-learn style base of every deep method: validation, network building in fit(),
training through the shared trainer, batched inference and safe model files."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ..base import ConstantColumnWarning, CrossviewError, TwoViewModel, check_view, check_views
from ..datasets.npy_stream import CHUNK_ROWS, is_rows_on_disk
from .trainer import (
    AUTO_EPOCHS,
    AUTO_STEPS,
    TRAIN_CONSTRAINTS,
    History,
    resolve_device,
    resolve_epochs,
    train,
)

#: the training parameters every deep estimator takes in its __init__ (passed to the trainer)
TRAIN_PARAMS = (
    "epochs",
    "batch_size",
    "optimizer",
    "learning_rate",
    "lr_schedule",
    "precision",
    "weight_decay",
    "patience",
    "device",
    "random_state",
    "verbose",
    "checkpoint_dir",
    "resume",
)

#: what each training parameter accepts, merged into every deep estimator's
#: ``_parameter_constraints``: what :func:`~crossview.deep.trainer.train` accepts, and
#: ``epochs="auto"`` (see :func:`~crossview.deep.trainer.resolve_epochs`)
TRAIN_PARAM_CONSTRAINTS: dict = {name: TRAIN_CONSTRAINTS[name] for name in TRAIN_PARAMS} | {
    "epochs": [*TRAIN_CONSTRAINTS["epochs"], StrOptions({"auto"})],
}


def row_chunks(A, rows: int = CHUNK_ROWS):
    """Yield consecutive chunks of at most ``rows`` rows of an array or of rows on disk."""
    if is_rows_on_disk(A):
        yield from A.chunks(rows)
        return
    for start in range(0, A.shape[0], rows):
        yield A[start : start + rows]


def column_moments(chunks) -> tuple[int, np.ndarray, np.ndarray]:
    """Rows, column means and centred sums of squares (float64) of a sequence of row chunks.

    The chunks are merged by the pairwise update of Chan, Golub & LeVeque (1979), as in
    :class:`~crossview.linear._common.StreamingMoments`, keeping only the diagonal.
    """
    n, mean, m2 = 0, None, None
    for chunk in chunks:
        c = np.asarray(chunk, dtype=np.float64)
        b = c.shape[0]
        if b == 0:
            continue
        cm = c.mean(axis=0)
        cs = ((c - cm) ** 2).sum(axis=0)
        if mean is None:
            n, mean, m2 = b, cm, cs
            continue
        d = cm - mean
        total = n + b
        m2 = m2 + cs + d * d * (n * b / total)
        mean = mean + d * (b / total)
        n = total
    return n, mean, m2


def _scan_view(A, name: str) -> float:
    """Check rows read from disk (finite values, constant columns) in one pass; return the
    view's total variance."""
    n, mean, m2 = column_moments(_finite_chunks(A, name))
    n_const = int((m2 <= 0).sum())
    if n_const:
        warnings.warn(
            f"view {name} has {n_const} constant column(s) of {A.shape[1]}; they carry no "
            "information (regularisation keeps the methods stable)",
            ConstantColumnWarning,
            stacklevel=3,
        )
    return float(m2.sum() / n)


def _finite_chunks(A, name: str):
    start = 0
    for chunk in row_chunks(A):
        bad = ~np.isfinite(chunk).all(axis=1)
        if bad.any():
            raise CrossviewError(
                f"view {name} ({A.path}) has NaN or inf in row {start + int(np.argmax(bad))}; "
                "expected finite numbers"
            )
        start += chunk.shape[0]
        yield chunk


def total_variance(*parts) -> float:
    """The total variance (population, float64) of the rows of all ``parts`` together."""
    _, _, m2 = column_moments(c for A in parts for c in row_chunks(A))
    return float(m2.sum() / sum(len(A) for A in parts))


def set_view_variances(module: torch.nn.Module, var_x: float, var_y: float) -> None:
    """Fill a module's ``var_x`` / ``var_y`` buffers (if it has them) with each training view's
    total variance, the scale of :func:`~crossview.deep.losses.relative_mse`.

    A constant view (variance 0) gets 1e-12's floor, so its relative error is its plain error.
    The buffers are saved with the weights, so a loaded model needs no data.
    """
    for name, var in (("var_x", var_x), ("var_y", var_y)):
        buf = getattr(module, name, None)
        if isinstance(buf, torch.Tensor):
            buf.fill_(max(var, 1e-12))


class TorchModelMixin:
    """What every estimator whose model is a torch network shares, whatever its task.

    A subclass stores the :data:`TRAIN_PARAMS` in ``__init__`` and implements
    ``_build_module(n_x, n_y) -> nn.Module`` (``forward`` returns a dict of named loss terms
    with ``"loss"``); :meth:`_train_module` then builds and trains it on the shared trainer,
    and this class gives batched inference (:meth:`_run`), :meth:`to` and the model-file state
    (the network's weights plus what ``_extra_state`` adds).
    """

    _preserves_dtype = ("float32",)  # the networks compute in float32
    #: the optimiser steps ``epochs="auto"`` trains for (see ``resolve_epochs``)
    auto_steps = AUTO_STEPS
    #: the fewest and the most epochs ``epochs="auto"`` may choose
    auto_epochs = AUTO_EPOCHS
    #: rows per validation step (None: the trainer's ``max(batch_size, 1000)``)
    eval_batch_size = None

    def _build_module(self, n_x: int, n_y: int) -> torch.nn.Module:  # pragma: no cover
        raise NotImplementedError

    def _module_widths(self) -> tuple[int, int]:
        """The ``(n_x, n_y)`` a loaded model's network is rebuilt with."""
        return self.n_features_in_, self.n_features_in_y_

    def _train_kwargs(self, n_samples: int) -> dict:
        kwargs = {k: getattr(self, k) for k in TRAIN_PARAMS if k not in ("verbose",)}
        kwargs["epochs"] = resolve_epochs(
            self.epochs, n_samples, self.batch_size, self.auto_steps, self.auto_epochs
        )
        kwargs |= {"verbose": bool(self.verbose), "desc": type(self).__name__}
        return kwargs | {"eval_batch_size": self.eval_batch_size}

    def _train_module(self, n_x: int, n_y: int, train_data, val_data, n_samples: int, setup=None):
        """Build the network (seeded) and train it; ``setup(module)`` runs before training.

        The seed drives weight initialisation and dropout through torch's global generator,
        which is forked, so the caller's random state is the same after fit as before.
        """
        with torch.random.fork_rng():
            if self.random_state is not None:
                torch.manual_seed(int(self.random_state))
            self.module_ = self._build_module(n_x, n_y)
            if setup is not None:
                setup(self.module_)
            self.history_ = train(
                self.module_, train_data, val_data, **self._train_kwargs(n_samples)
            )
        self.module_.to("cpu").eval()

    # ---- inference -------------------------------------------------------------------------
    def _run(self, fn, A: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """Apply ``fn`` (tensor -> tensor) to the rows of ``A`` in batches, without gradients."""
        check_is_fitted(self, "module_")
        self.module_.eval()
        dev = next(self.module_.parameters()).device
        outs = []
        with torch.no_grad():
            for start in range(0, A.shape[0], batch_size):
                t = torch.from_numpy(
                    np.ascontiguousarray(A[start : start + batch_size], dtype=np.float32)
                ).to(dev)
                outs.append(fn(t).cpu().numpy())
        return np.concatenate(outs, axis=0).astype(np.float32, copy=False)

    def to(self, device: str):
        """Move the fitted network to ``device`` ('cpu', 'cuda', 'auto') for inference."""
        check_is_fitted(self, "module_")
        self.module_.to(resolve_device(device))
        return self

    # ---- model files -----------------------------------------------------------------------
    def _extra_state(self) -> tuple[dict[str, np.ndarray], dict]:
        """Arrays and JSON a subclass saves beside the network weights (none by default)."""
        return {}, {}

    def _load_extra_state(self, arrays: dict[str, np.ndarray], extra: dict) -> None:
        """Restore what :meth:`_extra_state` saved (nothing by default)."""

    def _get_state(self):
        arrays = {
            f"module.{k}": v.detach().cpu().numpy() for k, v in self.module_.state_dict().items()
        }
        more, extra = self._extra_state()
        arrays.update({f"extra.{k}": v for k, v in more.items()})
        return arrays, {"history": self.history_.to_dict(), **extra}

    def _set_state(self, arrays, extra):
        self.module_ = self._build_module(*self._module_widths())
        state = {
            k[7:]: torch.from_numpy(np.array(v))
            for k, v in arrays.items()
            if k.startswith("module.")
        }
        self.module_.load_state_dict(state, strict=True)
        self.module_.eval()
        self.history_ = History.from_dict(extra.get("history", {}))
        self._load_extra_state(
            {k[6:]: v for k, v in arrays.items() if k.startswith("extra.")}, extra
        )


class DeepTwoViewModel(TorchModelMixin, TwoViewModel):
    """Base of the deep two-view methods.

    Subclasses store their hyperparameters in ``__init__`` (including every name in
    :data:`TRAIN_PARAMS`), declare what they accept in ``_parameter_constraints`` (merging
    :data:`TRAIN_PARAM_CONSTRAINTS`) and implement ``_build_module(n_x, n_y) -> nn.Module`` whose
    ``forward(x, y)`` returns a dict of named loss terms with ``"loss"``. They may override
    ``_before_fit(X, Y)`` (checks or statistics the network needs, e.g. a view's variance),
    ``_after_fit(X, Y)`` (e.g. a final linear CCA) and ``_extra_state`` / ``_load_extra_state``.
    """

    min_samples = 2

    def _before_fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Hook run on the validated float32 training views before the network is built."""

    def _after_fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Hook run after training on the float32 training views."""

    def _prepare_single_rows(self, module, rows: dict[str, torch.Tensor], n_rows: int) -> None:
        """Tell the network which single-view sets follow the pairs (``rows``: view -> rows);
        each of its steps then takes, per set, a batch of rows and their row numbers."""
        module.single_views = tuple(rows)

    def fit(self, X, Y, X_val=None, Y_val=None):
        """Train on paired views X and Y (optionally watching X_val/Y_val for early stopping).

        X and Y are arrays, or both :class:`~crossview.datasets.npy_stream.DiskRows` (rows on
        disk, streamed in buffers and never loaded whole; X_val / Y_val may then be either).
        """
        return self._fit(X, Y, X_val, Y_val)

    def _fit(self, X, Y, X_val=None, Y_val=None, X_only=None, Y_only=None):
        """Validate, build and train; ``X_only`` / ``Y_only`` are rows seen in one view only,
        for methods whose network takes them (``forward(x, y, *single_view_batches)``)."""
        self._validate_params()
        if is_rows_on_disk(X) or is_rows_on_disk(Y):
            return self._fit_from_disk(X, Y, X_val, Y_val, X_only, Y_only)
        X, Y = check_views(X, Y, dtype=np.float32, min_samples=self.min_samples)
        self.n_features_in_, self.n_features_in_y_ = X.shape[1], Y.shape[1]
        singles = {}
        for view, A, width in (("x", X_only, X.shape[1]), ("y", Y_only, Y.shape[1])):
            if A is not None:
                name = f"{view.upper()}_only"
                singles[view] = check_view(A, name, n_features=width, dtype=np.float32)
        val = None
        if (X_val is None) != (Y_val is None):
            raise CrossviewError("give both X_val and Y_val, or neither")
        if X_val is not None:
            Xv = check_view(X_val, "X_val", n_features=X.shape[1], dtype=np.float32)
            Yv = check_view(Y_val, "Y_val", n_features=Y.shape[1], dtype=np.float32)
            if Xv.shape[0] != Yv.shape[0]:
                raise CrossviewError(
                    f"X_val has {Xv.shape[0]} rows and Y_val {Yv.shape[0]}; expected the same"
                )
            val = (torch.from_numpy(Xv), torch.from_numpy(Yv))
        if self.batch_size > X.shape[0]:
            raise CrossviewError(
                f"batch_size={self.batch_size} is larger than the {X.shape[0]} training rows"
            )
        self._before_fit(X, Y)
        train_data = (torch.from_numpy(X), torch.from_numpy(Y))
        var_x = total_variance(X, *([singles["x"]] if "x" in singles else []))
        var_y = total_variance(Y, *([singles["y"]] if "y" in singles else []))
        n_rows = X.shape[0]
        rows = {view: torch.from_numpy(A) for view, A in singles.items()}
        if singles:  # several data sets: the paired rows, then each view's single rows
            # with their row numbers, so that the network can look up rows of its own
            train_data = [train_data, *((t, torch.arange(len(t))) for t in rows.values())]
            if val is not None:  # the same objective on the validation rows
                val = [
                    val,
                    *((v, torch.arange(len(v))) for v, view in zip(val, "xy") if view in singles),
                ]
            n_rows = max(n_rows, *(A.shape[0] for A in singles.values()))

        def setup(module):
            set_view_variances(module, var_x, var_y)
            if singles:
                self._prepare_single_rows(module, rows, n_rows)

        self._train_module(X.shape[1], Y.shape[1], train_data, val, n_rows, setup=setup)
        self._after_fit(X, Y)
        return self

    def _fit_from_disk(self, X, Y, X_val, Y_val, X_only, Y_only):
        """:meth:`_fit` on views read from disk (``DiskRows``): checked in one pass, trained by
        the trainer one shuffle buffer at a time; the hooks see the ``DiskRows``."""
        if not (is_rows_on_disk(X) and is_rows_on_disk(Y)):
            raise CrossviewError(
                "give both views as DiskRows (rows on disk) or both as arrays; got "
                f"X: {type(X).__name__}, Y: {type(Y).__name__}"
            )
        if X_only is not None or Y_only is not None:
            raise CrossviewError(
                "single-view rows (X_only / Y_only) train from memory; give X and Y as arrays"
            )
        if len(X) != len(Y):
            raise CrossviewError(
                f"views X and Y have different numbers of rows: X has {len(X)} ({X.path}), "
                f"Y has {len(Y)} ({Y.path}); expected one row per item in both"
            )
        if len(X) < self.min_samples:
            raise CrossviewError(
                f"views have {len(X)} rows; this method needs at least {self.min_samples}"
            )
        self.n_features_in_, self.n_features_in_y_ = X.shape[1], Y.shape[1]
        val = None
        if (X_val is None) != (Y_val is None):
            raise CrossviewError("give both X_val and Y_val, or neither")
        if X_val is not None:
            val = []
            for name, A, width in (("X_val", X_val, X.shape[1]), ("Y_val", Y_val, Y.shape[1])):
                if is_rows_on_disk(A):
                    if A.shape[1] != width:
                        raise CrossviewError(
                            f"view {name} has {A.shape[1]} features ({A.path}); the training "
                            f"view has {width}"
                        )
                    _scan_view(A, name)
                    val.append(A)
                else:
                    val.append(
                        torch.from_numpy(check_view(A, name, n_features=width, dtype=np.float32))
                    )
            if len(val[0]) != len(val[1]):
                raise CrossviewError(
                    f"X_val has {len(val[0])} rows and Y_val {len(val[1])}; expected the same"
                )
            val = tuple(val)
        if self.batch_size > len(X):
            raise CrossviewError(
                f"batch_size={self.batch_size} is larger than the {len(X)} training rows"
            )
        var_x, var_y = _scan_view(X, "X"), _scan_view(Y, "Y")
        self._before_fit(X, Y)
        self._train_module(
            X.shape[1],
            Y.shape[1],
            (X, Y),
            val,
            len(X),
            setup=lambda module: set_view_variances(module, var_x, var_y),
        )
        self._after_fit(X, Y)
        return self

    def _check_x(self, X):
        check_is_fitted(self, "module_")
        return check_view(X, "X", n_features=self.n_features_in_, dtype=np.float32)

    def _check_y(self, Y):
        check_is_fitted(self, "module_")
        return check_view(Y, "Y", n_features=self.n_features_in_y_, dtype=np.float32)


class StandardizedCodesMixin:
    """Per-view code standardisation for deep models whose two views' codes share one space.

    Objectives built on correlation or on reconstruction from either view alone fix each code
    dimension only up to a view-specific scale and shift, so the codes of X alone and of Y alone
    can sit at different offsets. With ``standardize_codes=True`` the mixin records each view's
    training code mean and standard deviation after fit, and ``transform`` / ``transform_y``
    return standardised codes (correlations are unchanged). The class defines
    ``_raw_code_x(t)`` and ``_raw_code_y(t)`` (tensor -> tensor).
    """

    _CODE_STATS = ("code_mean_x_", "code_std_x_", "code_mean_y_", "code_std_y_")

    def _after_fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        for view, A, fn in (("x", X, self._raw_code_x), ("y", Y, self._raw_code_y)):
            n, mean, m2 = column_moments(self._run(fn, c) for c in row_chunks(A))
            setattr(self, f"code_mean_{view}_", mean)
            setattr(self, f"code_std_{view}_", np.sqrt(m2 / n))

    def _extra_state(self):
        return {n: getattr(self, n) for n in self._CODE_STATS}, {}

    def _load_extra_state(self, arrays, extra):
        for name in self._CODE_STATS:
            setattr(self, name, np.asarray(arrays[name]))

    def _codes(self, A: np.ndarray, view: str) -> np.ndarray:
        """Codes of one view alone, standardised if ``standardize_codes``."""
        fn = self._raw_code_x if view == "x" else self._raw_code_y
        Z = self._run(fn, A)
        if not self.standardize_codes:
            return Z
        mean, std = getattr(self, f"code_mean_{view}_"), getattr(self, f"code_std_{view}_")
        return ((Z - mean) / np.where(std > 1e-12, std, 1.0)).astype(np.float32)
