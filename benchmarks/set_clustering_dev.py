"""Development runs of SetClusterer on MNIST instance sets: how many training sets, which item
encoder, how many epochs (docs/benchmarks.md section 8, "How the settings were reached").

Fits ``SetClusterer(random_state=0, **settings)`` on ``--n-train`` generated training sets and
scores it on ``--n-test`` test sets of unseen instances (the generator's seed 0); prints the
scores, the fit time and the process's peak resident memory (data generation included)::

    python benchmarks/set_clustering_dev.py --data-dir ../shared/data --n-train 6000 \\
        --set item_encoder=cnn
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from crossview.clustering import SetClusterer
from crossview.datasets.instance_sets import load_mnist_instance_sets
from crossview.evaluation.clustering_metrics import score_sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--n-train", type=int, default=6000)
    parser.add_argument("--n-test", type=int, default=300)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a SetClusterer parameter, as JSON where it parses (epochs=10)",
    )
    args = parser.parse_args()
    settings = {}
    for item in args.set:
        key, _, value = item.partition("=")
        try:
            settings[key] = json.loads(value)
        except json.JSONDecodeError:
            settings[key] = value
    train, _, test = load_mnist_instance_sets(
        args.data_dir, n_train=args.n_train, n_val=100, n_test=args.n_test, verbose=False
    )
    t0 = time.perf_counter()
    model = SetClusterer(random_state=0, verbose=False, **settings)
    model.fit(train.X, train.categories, train.clusters, train.sets)
    fit_s = time.perf_counter() - t0
    cats, clus = model.predict(test.X, test.sets)
    scores = score_sets(test.categories, test.clusters, cats, clus, test.sets)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = {"settings": settings, "n_train": args.n_train}
    row |= {k: round(v, 4) for k, v in scores.items()}
    row |= {"threshold": model.threshold_, "epochs": len(model.history_.train)}
    row |= {"fit_s": round(fit_s, 1), "peak_rss_mb": round(peak_mb)}
    print(json.dumps(row))


if __name__ == "__main__":
    main()
