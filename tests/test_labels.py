"""Label-linked methods: known answers on small data (the shared contract is in
test_method_contract.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier

import crossview
from crossview.exceptions import CrossviewError
from crossview.labels import ClassConditionalMap, LabelGroupMap, SharedHeadNet


def blobs(seed=0, n_x=120, n_y=90, dx=4, dy=3, noise=0.3, noise_x=None):
    """Well-separated classes: X and Y rows of class c sit near their own centre."""
    rng = np.random.default_rng(seed)
    cx, cy = 5 * rng.standard_normal((3, dx)), 5 * rng.standard_normal((3, dy))
    lx, ly = np.arange(n_x) % 3, np.arange(n_y) % 3
    X = cx[lx] + (noise if noise_x is None else noise_x) * rng.standard_normal((n_x, dx))
    Y = cy[ly] + noise * rng.standard_normal((n_y, dy))
    return X, lx, Y, ly


def test_soft_output_is_the_probability_weighted_class_mean():
    X, lx, Y, ly = blobs()
    m = ClassConditionalMap().fit(X, lx, Y, ly)
    means = np.stack([Y[ly == c].mean(0) for c in range(3)])
    np.testing.assert_allclose(m.predict(X[:10]), m.predict_proba(X[:10]) @ means)
    means_x = np.stack([X[lx == c].mean(0) for c in range(3)])
    np.testing.assert_allclose(m.predict_x(Y[:10]), m.predict_proba_y(Y[:10]) @ means_x)


def test_hard_outputs_are_class_means_or_real_rows_of_the_predicted_class():
    X, lx, Y, ly = blobs()
    m = ClassConditionalMap(output="hard", representative="mean").fit(X, lx, Y, ly)
    assert (m.predict_label(X) == lx).all()
    np.testing.assert_allclose(m.predict(X[:6]), np.stack([Y[ly == c].mean(0) for c in lx[:6]]))
    m.set_params(representative="medoid")  # no refit: every statistic is kept
    out = m.predict(X[:6])
    for row, c in zip(out, lx[:6]):
        assert np.any(np.all(Y[ly == c] == row, axis=1)), "a medoid is a real row of its class"


def test_samples_are_seeded_and_follow_the_class_spread():
    X, lx, Y, ly = blobs(n_x=300, n_y=3000, noise=1.0, noise_x=0.3)
    m = ClassConditionalMap(
        GaussianNB(), output="sample", covariance="diag", clip=False, random_state=3
    )  # sharp class probabilities: each sample comes from its own class
    m.fit(X, lx, Y, ly)
    a, b = m.predict(X), m.predict(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, m.set_params(random_state=4).predict(X))
    spread = np.concatenate([a[lx == c] - Y[ly == c].mean(0) for c in range(3)]).std(0)
    np.testing.assert_allclose(spread, 1.0, atol=0.15)
    for cov in ("full", "ledoit-wolf"):
        m.set_params(covariance=cov).fit(X, lx, Y, ly)
        assert m.predict(X).shape == (300, 3)


def test_clipped_samples_stay_in_the_training_range():
    X, lx, Y, ly = blobs(noise=2.0)
    out = ClassConditionalMap(output="sample", random_state=0).fit(X, lx, Y, ly).predict(X)
    assert (out >= Y.min(0) - 1e-12).all() and (out <= Y.max(0) + 1e-12).all()


def test_known_pairs_teach_the_within_class_residual_map():
    """Y's residual is a linear function of X's: pairs recover it, unpaired rows cannot."""
    rng = np.random.default_rng(0)
    n = 400
    lab = np.arange(n) % 2
    E = rng.standard_normal((n, 3))
    X = 6 * lab[:, None] + E
    Y = np.c_[-6 * lab, 6 * lab] + E[:, :2] @ np.array([[1.0, 0.5], [0.0, 1.0]])
    order = rng.permutation(n)  # Y rows in another order: row j of Y is item order[j]
    Xs, Ys, ls = X, Y[order], lab[order]
    pairs = np.c_[order[:100], np.arange(100)]
    base = ClassConditionalMap().fit(Xs, lab, Ys, ls)
    paired = ClassConditionalMap().fit(Xs, lab, Ys, ls, pairs=pairs)
    err_base = ((base.predict(X) - Y) ** 2).mean()
    err_pairs = ((paired.predict(X) - Y) ** 2).mean()
    assert err_pairs < 0.1 * err_base and paired.n_pairs_ == 100


def test_any_classifier_with_predict_proba_and_safe_saving(tmp_path):
    X, lx, Y, ly = blobs()
    m = ClassConditionalMap(classifier=GaussianNB()).fit(X, lx, Y, ly)
    m.save(tmp_path / "nb")
    loaded = crossview.load(tmp_path / "nb")
    assert isinstance(loaded.classifier, GaussianNB)
    np.testing.assert_array_equal(loaded.predict(X), m.predict(X))
    knn = ClassConditionalMap(classifier=KNeighborsClassifier(3)).fit(X, lx, Y, ly)
    assert (knn.predict_label(X) == lx).all()
    with pytest.raises(CrossviewError, match="KNeighborsClassifier classifier cannot be written"):
        knn.save(tmp_path / "knn")
    assert not (tmp_path / "knn" / "config.json").exists()


def test_a_classifier_without_predict_proba_is_refused():
    from sklearn.svm import LinearSVC

    with pytest.raises(CrossviewError, match="classifier"):
        ClassConditionalMap(classifier=LinearSVC()).fit(*blobs())


def test_shared_head_classifies_both_views_and_aligns_their_codes():
    X, lx, Y, ly = blobs(n_x=150, n_y=120)
    m = SharedHeadNet(
        n_components=4, x_hidden=(16,), epochs=60, batch_size=30, verbose=False, random_state=0
    ).fit(X, lx, Y, ly)
    assert (m.predict_label(X) == lx).mean() == 1 and (m.predict_label_y(Y) == ly).mean() == 1
    zx, zy = m.transform(X), m.transform_y(Y)
    gap = [np.linalg.norm(zx[lx == c].mean(0) - zy[ly == c].mean(0)) for c in range(3)]
    apart = np.linalg.norm(zx[lx == 0].mean(0) - zx[lx == 1].mean(0))
    assert max(gap) < 0.25 * apart
    # translations land on the right class of the other view
    means = np.stack([Y[ly == c].mean(0) for c in range(3)])
    nearest = np.argmin(((m.predict(X)[:, None] - means) ** 2).sum(-1), axis=1)
    assert (nearest == lx).mean() > 0.95


def _spread(A, labels):
    """Mean within-class variance of the rows of A."""
    return np.mean([A[labels == c].var(axis=0).sum() for c in np.unique(labels)])


def test_label_group_with_random_targets_collapses_to_the_class_mean():
    X, lx, Y, ly = blobs(n_x=150, n_y=150, noise=1.0, noise_x=0.3)
    kw = dict(x_hidden=(32, 8), epochs=200, batch_size=10, learning_rate=3e-3, verbose=False)
    m = LabelGroupMap(matching="random", random_state=0, **kw).fit(X, lx, Y, ly)
    means = np.stack([Y[ly == c].mean(0) for c in range(3)])
    out = m.predict(X)
    # the outputs gather at the class means: far closer to them than real rows are
    to_mean = np.linalg.norm(out - means[lx], axis=1).mean()
    assert to_mean < 0.35 * np.linalg.norm(Y - means[ly], axis=1).mean()
    assert _spread(out, lx) < 0.3 * _spread(Y, ly)


def test_label_group_with_assignment_spreads_over_real_rows_and_keeps_pairs():
    X, lx, Y, ly = blobs(n_x=150, n_y=150, noise=1.0, noise_x=1.0)
    kw = dict(x_hidden=(32, 4), epochs=60, batch_size=30, learning_rate=1e-2, verbose=False)
    m = LabelGroupMap(warmup=5, rematch_every=5, random_state=0, **kw).fit(X, lx, Y, ly)
    out = m.predict(X)
    assert _spread(out, lx) > 0.5 * _spread(Y, ly)  # no collapse onto the mean
    nearest = np.argmin(
        ((out[:, None] - np.stack([Y[ly == c].mean(0) for c in range(3)])) ** 2).sum(-1), 1
    )
    assert (nearest == lx).mean() > 0.9  # near its own class
    assigned = m.module_.x_to_y.assigned.numpy()
    assert (ly[assigned] == lx).all(), "each row is matched to a row of its own class"
    pairs = np.c_[np.arange(3), np.arange(3)]
    p = LabelGroupMap(warmup=1, rematch_every=1, **(kw | {"epochs": 3})).fit(X, lx, Y, ly, pairs)
    np.testing.assert_array_equal(p.module_.x_to_y.assigned.numpy()[:3], [0, 1, 2])


def test_within_class_assignment_is_optimal_on_a_small_case():
    from crossview.labels.label_group import assign_within_classes

    P = np.array([[0.0], [10.0], [1.0], [11.0]])
    T = np.array([[10.2], [0.1], [11.3], [0.9]])
    codes = np.array([0, 0, 1, 1])
    found = assign_within_classes(
        P, codes, T, np.array([0, 0, 1, 1]), 2, 10, np.random.default_rng(0)
    )
    np.testing.assert_array_equal(found, [1, 0, 3, 2])
