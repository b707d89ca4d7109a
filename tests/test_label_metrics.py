"""Label-linked translation metrics: known answers on small data, and one-line input errors."""

import json

import numpy as np
import pytest

from crossview.base import CrossviewError
from crossview.evaluation import (
    energy_distance,
    knn_label_accuracy,
    label_match_accuracy,
    partner_mse,
    partner_retrieval,
    per_class_energy_distance,
)


@pytest.fixture
def clusters(rng):
    """Real rows of view Y in three well-separated classes (20 rows each, 4 columns)."""
    centres = np.array([[0.0, 0, 0, 0], [10, 0, 0, 0], [0, 10, 0, 0]])
    labels = np.repeat([0, 1, 2], 20)
    Y_real = centres[labels] + 0.1 * rng.normal(size=(60, 4))
    return Y_real, labels


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_label_match_is_one_for_copies_of_rows_of_the_right_class(clusters, rng, metric):
    Y_real, labels = clusters
    if metric == "cosine":  # the class at the origin has no direction: move every class off it
        Y_real = Y_real + np.array([0.0, 0, 0, 10])
    pick = rng.permutation(60)[:30]
    assert label_match_accuracy(Y_real[pick], labels[pick], Y_real, labels, metric=metric) == 1.0


def test_label_match_of_copies_of_rows_of_another_class(clusters):
    Y_real, labels = clusters
    # 10 rows of class 1 labelled 0, 5 rows of class 0 labelled 0: 5 of 15 match
    Y_hat = np.vstack([Y_real[20:30], Y_real[0:5]])
    source = np.zeros(15, dtype=int)
    assert label_match_accuracy(Y_hat, source, Y_real, labels) == pytest.approx(5 / 15)
    # every copy labelled with the next class: none matches
    shifted = (labels + 1) % 3
    assert label_match_accuracy(Y_real, shifted, Y_real, labels) == 0.0


def test_string_labels(clusters):
    Y_real, labels = clusters
    names = np.array(["zero", "one", "two"])[labels]
    assert label_match_accuracy(Y_real, names, Y_real, list(names)) == 1.0
    assert knn_label_accuracy(Y_real, names, Y_real, names, n_neighbors=3) == 1.0
    wrong = np.array(["one", "two", "zero"])[labels]
    assert label_match_accuracy(Y_real, wrong, Y_real, names) == 0.0


def test_knn_label_accuracy_known_values(clusters):
    Y_real, labels = clusters
    centres = np.array([[0.0, 0, 0, 0], [10, 0, 0, 0], [0, 10, 0, 0]])
    Y_hat = centres[[0, 0, 1, 2]]
    assert knn_label_accuracy(Y_hat, [0, 1, 1, 2], Y_real, labels) == 0.75
    assert knn_label_accuracy(Y_hat, [0, 0, 1, 2], Y_real, labels, n_neighbors=60) == 0.5


def test_energy_distance_zero_symmetric_and_growing_with_shift(rng):
    A = rng.normal(size=(200, 5))
    assert energy_distance(A, A) == 0.0
    assert energy_distance(A, A.copy()) == 0.0
    B = rng.normal(size=(150, 5))
    values = [energy_distance(A, B + s) for s in (0.5, 1.0, 2.0, 4.0)]
    assert all(v > 0 for v in values)
    assert values == sorted(values)
    assert energy_distance(B + 1.0, A) == pytest.approx(values[1], rel=1e-12)


def test_energy_distance_known_value_and_chunks(monkeypatch):
    # one point at 0 and one at 3 (1-D): 2 * 3 - 0 - 0 = 6
    assert energy_distance([[0.0]], [[3.0]]) == pytest.approx(6.0)
    # {0, 1} against {0}: 2 * 0.5 - 0.5 - 0 = 0.5
    assert energy_distance([[0.0], [1.0]], [[0.0]]) == pytest.approx(0.5)
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(50, 3)), rng.normal(size=(40, 3)) + 1
    whole = energy_distance(A, B)
    from crossview.evaluation import label_metrics

    monkeypatch.setattr(label_metrics, "_CHUNK_ELEMENTS", 7)
    assert energy_distance(A, B) == pytest.approx(whole, rel=1e-12)


def test_energy_distance_subsample_is_seeded(rng):
    A = rng.normal(size=(300, 3))
    B = rng.normal(size=(300, 3)) + 1
    full = energy_distance(A, B, max_rows=None)
    sub = energy_distance(A, B, max_rows=100, random_state=3)
    assert sub == energy_distance(A, B, max_rows=100, random_state=3)
    assert sub != energy_distance(A, B, max_rows=100, random_state=4)
    assert sub == pytest.approx(full, rel=0.5)
    assert energy_distance(A, A.copy(), max_rows=100) == 0.0
    with pytest.raises(CrossviewError, match="max_rows"):
        energy_distance(A, B, max_rows=0)


def test_per_class_energy_distance_keys_and_mean(clusters):
    Y_real, labels = clusters
    Y_hat = Y_real.copy()
    Y_hat[labels == 2] += 1.0  # only class 2 is off
    out = per_class_energy_distance(Y_hat, labels, Y_real, labels)
    assert set(out) == {"mean", "per_class"}
    assert list(out["per_class"]) == [0, 1, 2]
    assert all(type(key) is int for key in out["per_class"])
    assert out["per_class"][0] == 0.0 and out["per_class"][1] == 0.0
    expected = energy_distance(Y_hat[labels == 2], Y_real[labels == 2])
    assert out["per_class"][2] == pytest.approx(expected)
    assert out["mean"] == pytest.approx(expected / 3)
    json.dumps(out)


def test_per_class_energy_distance_skips_unshared_classes_with_a_warning(clusters):
    Y_real, labels = clusters
    names = np.array(["a", "b", "c"])[labels]
    source = names.copy()
    source[:20] = "z"  # class "a" only among the real rows, "z" only among the translated
    with pytest.warns(UserWarning, match=r"'z'.*'a'"):
        out = per_class_energy_distance(Y_real, source, Y_real, names)
    assert list(out["per_class"]) == ["b", "c"]
    assert all(type(key) is str for key in out["per_class"])
    assert out["mean"] == 0.0
    with pytest.raises(CrossviewError, match="no class in common"):
        per_class_energy_distance(Y_real, np.full(60, "z"), Y_real, names)


def test_partner_mse_known_value():
    Y_true = np.zeros((2, 3))
    Y_hat = np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 3.0]])
    assert partner_mse(Y_hat, Y_true) == pytest.approx((1 + 4 + 9) / 6)
    assert partner_mse(Y_true, Y_true) == 0.0


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_partner_retrieval_perfect_and_shuffled(rng, metric):
    Y_true = rng.normal(size=(100, 8))
    assert partner_retrieval(Y_true, Y_true, metric=metric) == {"p@1": 1.0, "p@10": 1.0}
    assert partner_retrieval(Y_true.copy(), Y_true, k=5, metric=metric) == {"p@5": 1.0}
    # 20 orthogonal rows; the first 10 translations lie 60% of the way to the next row, so
    # each is nearest to row i + 1 and second nearest to its partner: p@1 = 0.5, p@2 = 1
    Y_true = 10.0 * np.eye(20)
    Y_hat = Y_true.copy()
    Y_hat[:10] = 0.6 * Y_true[1:11] + 0.4 * Y_true[:10]
    out = partner_retrieval(Y_hat, Y_true, k=(1, 2, 10), metric=metric)
    assert out == {"p@1": 0.5, "p@2": 1.0, "p@10": 1.0}


def test_partner_retrieval_fully_shuffled_known_value(rng):
    Y_true = rng.normal(size=(50, 6))
    perm = np.roll(np.arange(50), 1)  # no row keeps its place
    assert partner_retrieval(Y_true[perm], Y_true, k=1) == {"p@1": 0.0}
    half = np.arange(50)
    half[:20] = np.roll(half[:20], 1)  # 20 rows moved, 30 in place
    assert partner_retrieval(Y_true[half], Y_true, k=1)["p@1"] == pytest.approx(0.6)


def test_partner_retrieval_ties_count_against_the_query():
    Y_true = np.zeros((4, 2))
    assert partner_retrieval(Y_true, Y_true, k=(1, 4)) == {"p@1": 0.0, "p@4": 1.0}


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda A, lab: label_match_accuracy(A, lab[:-1], A, lab), "source_labels has 59"),
        (lambda A, lab: label_match_accuracy(A, lab, A, lab[:-1]), "real_labels has 59"),
        (lambda A, lab: label_match_accuracy(A[:, :3], lab, A, lab), r"Y_hat has shape \(60, 3\)"),
        (lambda A, lab: label_match_accuracy(A[:, 0], lab, A, lab), "Y_hat is 1-D"),
        (lambda A, lab: label_match_accuracy(A, lab, A, lab, metric="l1"), "unknown metric"),
        (lambda A, lab: label_match_accuracy(A, lab.astype(str), A, lab), "one kind"),
        (lambda A, lab: knn_label_accuracy(A, lab, A[:, :2], lab), r"\(60, 2\)"),
        (lambda A, lab: knn_label_accuracy(A, lab, A, lab, n_neighbors=61), "n_neighbors"),
        (lambda A, lab: knn_label_accuracy(A, lab, A, lab, n_neighbors=0), "n_neighbors"),
        (lambda A, lab: energy_distance(A, A[:, :3]), r"A has shape \(60, 4\)"),
        (lambda A, lab: energy_distance(A[:, 0], A), "A is 1-D"),
        (lambda A, lab: per_class_energy_distance(A, lab[:5], A, lab), "source_labels has 5"),
        (lambda A, lab: partner_mse(A, A[:-1]), r"Y_true has \(59, 4\)"),
        (lambda A, lab: partner_mse(A, A[:, 0]), "Y_true is 1-D"),
        (lambda A, lab: partner_retrieval(A, A[:, :3]), r"shape \(60, 4\)"),
        (lambda A, lab: partner_retrieval(A[:-2], A, metric="cosine"), r"\(58, 4\)"),
        (lambda A, lab: partner_retrieval(A, A, k=0), "k must be"),
        (lambda A, lab: partner_retrieval(A, A, metric="manhattan"), "unknown metric"),
    ],
)
def test_bad_input_raises_one_line_errors(clusters, call, match):
    Y_real, labels = clusters
    with pytest.raises(CrossviewError, match=match) as info:
        call(Y_real, labels)
    assert "\n" not in str(info.value)
