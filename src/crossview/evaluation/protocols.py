"""The benchmark's protocols: each data set's method presets, image shape and description.

Every per-data-set default of the benchmark is here, in :data:`PRESETS`; the methods run when
none are named are :data:`DEFAULT_METHODS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import registry
from ..exceptions import CrossviewError

#: protocol name -> method -> parameters. Options given by the caller override these. For the
#: "custom" protocol and for small data, ``n_components`` is capped at the narrower view and
#: ``batch_size`` at the number of training rows.
PRESETS: dict[str, dict[str, dict]] = {
    # the CorrNet paper's architectures (Chandar et al. 2016, sec. 6), code size 50
    "mnist-halves": {
        "cca": dict(n_components=50),
        "kcca": dict(n_components=50),  # its own defaults: RBF, Nystrom with 2000 landmarks
        # DCCA and DCCAE 500-500-50 and MAE 500-50 with their estimators' defaults, which were
        # chosen on this validation split (docs/benchmarks.md, sections 1 and 6); DCCA's
        # are written out, as its stored benchmark runs were made with them
        "dcca": dict(
            n_components=50, x_hidden=(500, 500), activation="relu", batch_size=500, epochs=40
        ),
        "dccae": dict(n_components=50),
        "mae": dict(n_components=50),
        # Deep CorrNet 500-300-50 with the estimator's defaults, which are the recipe tuned on
        # this validation split (docs/corrnet-tuning.md)
        "corrnet": dict(n_components=50, x_hidden=(500, 300)),
    },
    # small networks and few epochs: the whole digits benchmark takes about a minute on a CPU
    "digits-halves": {
        "cca": dict(n_components=16),
        "kcca": dict(n_components=16, kernel="rbf", method="exact"),
        "dcca": dict(
            n_components=16,
            x_hidden=(64,),
            activation="relu",
            batch_size=200,
            epochs=60,
            learning_rate=2e-3,
        ),
        "dccae": dict(
            n_components=16,
            x_hidden=(64,),
            activation="relu",
            output_activation="sigmoid",
            lam=0.1,
            batch_size=200,
            epochs=60,
            learning_rate=2e-3,
        ),
        "mae": dict(
            n_components=16,
            x_hidden=(64,),
            activation="relu",
            view_activation=None,
            output_activation="sigmoid",
            batch_size=50,
            epochs=60,
            learning_rate=2e-3,
            lr_schedule="constant",
        ),
        # 300 epochs where the defaults' epochs="auto" trains 1000 on 1,078 rows: quicker,
        # a few transfer points lower (docs/benchmarks.md, "Defaults")
        "corrnet": dict(n_components=16, x_hidden=(64,), epochs=300),
    },
    # a user's own views: moderate sizes; tune with method_params / --set
    "custom": {
        "cca": dict(n_components=10),
        "kcca": dict(n_components=10, kernel="rbf"),
        "dcca": dict(n_components=10, x_hidden=(256,), batch_size=200),
        "dccae": dict(n_components=10, x_hidden=(256,), batch_size=200),
        "mae": dict(n_components=10, x_hidden=(256,)),
        "corrnet": dict(n_components=10, x_hidden=(256,)),
    },
}
MNIST_PRESETS = PRESETS["mnist-halves"]
DIGITS_PRESETS = PRESETS["digits-halves"]

#: methods run when none are named: those that learn a common representation (not the maps
#: ridge / procrustes / mlpmap), in table order; only the registered paired methods are used
DEFAULT_METHODS = ("cca", "kcca", "dcca", "dccae", "mae", "corrnet")


@dataclass(frozen=True)
class Protocol:
    """How a data set is benchmarked: its name, presets, image shape of one view (for pictures)
    and a description (published numbers are looked up by name in :data:`.tables.PUBLISHED`)."""

    name: str
    presets: dict[str, dict]
    image_shape: tuple[int, int] | None = None
    description: str = ""

    def check_views(self, data) -> None:
        """Raise if the views of ``data`` are not images of :attr:`image_shape` (when set)."""
        if self.image_shape is None:
            return
        h, w = self.image_shape
        widths = (data.train.X.shape[1], data.train.Y.shape[1])
        if widths != (h * w, h * w):
            raise CrossviewError(
                f"image shape {h}x{w} has {h * w} pixels but the views have "
                f"{widths[0]} (X) and {widths[1]} (Y) features"
            )


PROTOCOLS: dict[str, Protocol] = {
    "mnist-halves": Protocol(
        "mnist-halves",
        MNIST_PRESETS,
        (28, 14),
        "MNIST left (X) / right (Y) halves, 392 pixels each; train on the first 50,000 training "
        "images, validate on the last 10,000, test on the 10,000 test images (CorrNet protocol).",
    ),
    "digits-halves": Protocol(
        "digits-halves",
        DIGITS_PRESETS,
        (8, 4),
        "scikit-learn 8x8 digits, left (X) / right (Y) halves, 32 pixels each; shuffled 60/20/20 "
        "split (a small offline stand-in for MNIST halves).",
    ),
    "custom": Protocol("custom", PRESETS["custom"], None, "user-supplied paired views."),
}


def get_protocol(protocol, data=None, image_shape=None) -> Protocol:
    """Resolve a protocol name (or None: by the data set's name, else "custom")."""
    if isinstance(protocol, Protocol):
        proto = protocol
    else:
        name = protocol or (
            getattr(data, "name", "") if getattr(data, "name", "") in PROTOCOLS else "custom"
        )
        if name not in PROTOCOLS:
            raise CrossviewError(f"unknown protocol {name!r}; known: {', '.join(PROTOCOLS)}")
        proto = PROTOCOLS[name]
    if image_shape is not None:
        proto = Protocol(
            proto.name, proto.presets, tuple(int(v) for v in image_shape), proto.description
        )
    return proto


def default_methods() -> list[str]:
    """The registered paired methods among :data:`DEFAULT_METHODS`."""
    have = registry.names("paired")
    return [m for m in DEFAULT_METHODS if m in have]
