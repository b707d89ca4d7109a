"""Set clustering: data checks, padding, decoding, metrics, generators and the network's pieces."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from crossview.clustering import SetClusterer, check_sets, decode_clusters, pad_sets
from crossview.clustering.base import first_appearance
from crossview.clustering.set_layers import ISAB, SAB, DeepSetsBlock
from crossview.datasets.instance_sets import augment_images, make_context_sets, make_instance_sets
from crossview.evaluation.clustering_metrics import (
    hungarian_accuracy,
    score_one_set,
    score_sets,
)
from crossview.exceptions import CrossviewError


# ---------------------------------------------------------------- data
def _blobs(n_sets=30, seed=0):
    """Sets of 3 clusters; the category is readable from an item alone, clusters well apart."""
    rng = np.random.default_rng(seed)
    X, cats, clus, sets = [], [], [], []
    for s in range(n_sets):
        for k, c in enumerate(rng.integers(0, 2, 3)):
            centre = np.r_[10.0 * c, 0.0] + rng.normal(0, 3.0, 2)
            X.append(centre + 0.05 * rng.normal(size=(4, 2)))
            cats += [c] * 4
            clus += [k] * 4
            sets += [s] * 4
    return np.concatenate(X), np.array(cats), np.array(clus), np.array(sets)


def test_check_sets_numbers_sets_and_clusters_by_first_appearance():
    X = np.arange(12, dtype=float).reshape(6, 2)
    data = check_sets(X, ["b", "a", "b", "a", "b", "a"], [1, 2, 1, 2, 3, 2], [7, 5, 7, 9, 4, 5])
    assert list(data.set_ids) == ["b", "a"] and list(data.sizes) == [3, 3]
    assert list(data.rows(0)) == [0, 2, 4] and list(data.rows(1)) == [1, 3, 5]
    assert list(data.clusters) == [0, 0, 0, 1, 1, 0]  # renumbered within each set
    assert list(data.classes) == [1, 2, 3] and list(data.codes) == [0, 1, 0, 1, 2, 1]


def test_the_same_cluster_id_in_two_sets_is_two_clusters():
    X = np.zeros((4, 1))
    # cluster 0 holds category 0 in set 0 and category 1 in set 1: fine
    check_sets(X, [0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0])


def test_pad_sets_places_every_item_once_and_marks_padding():
    X = np.arange(10, dtype=np.float32).reshape(5, 2)
    data = check_sets(X, [3, 3, 9, 9, 9], [0, 1, 0, 1, 1], [0, 1, 0, 1, 1])
    p = pad_sets(data)
    assert p["X"].shape == (2, 3, 2) and p["mask"].tolist() == [[1, 1, 0], [1, 1, 1]]
    assert np.array_equal(p["X"][p["mask"]], X) and (p["X"][~p["mask"]] == 0).all()
    assert p["codes"][0].tolist() == [0, 1, -1] and p["clusters"][1].tolist() == [0, 1, 1]


def test_first_appearance():
    assert first_appearance(np.array([5, 5, 2, 5, 9])).tolist() == [0, 0, 1, 0, 2]


# ---------------------------------------------------------------- decoding
def test_decode_recovers_blocks_and_never_mixes_categories():
    P = np.full((6, 6), 0.05)
    for block in ([0, 1, 2], [3, 4, 5]):
        P[np.ix_(block, block)] = 0.95
    cats = np.array([0, 0, 0, 0, 0, 0])
    assert decode_clusters(P, cats).tolist() == [0, 0, 0, 1, 1, 1]
    # a confident pair across categories is still split
    cats = np.array([0, 0, 1, 0, 0, 0])
    out = decode_clusters(P, cats, method="components")
    assert out[2] not in set(out[[0, 1, 3, 4, 5]])
    # the threshold sets the number of clusters: all together at 0.99, all apart at 0.01
    assert len(set(decode_clusters(P, np.zeros(6, int), threshold=0.99))) == 1
    assert len(set(decode_clusters(P, np.zeros(6, int), threshold=0.01))) == 6


# ---------------------------------------------------------------- metrics
def test_metrics_are_invariant_to_relabelling_and_know_the_answers():
    true = np.array([0, 0, 1, 1, 2, 2])
    perfect = score_one_set(true, np.array([2, 2, 0, 0, 1, 1]))
    assert perfect["ari"] == 1 and perfect["accuracy"] == 1 and perfect["count_error"] == 0
    assert perfect["pair_f1"] == 1 and perfect["nmi"] == pytest.approx(1)
    merged = score_one_set(true, np.array([0, 0, 0, 0, 1, 1]))
    # pairs: truth 3 together; predicted 7 together, 3 right -> precision 3/7, recall 1
    assert merged["pair_precision"] == pytest.approx(3 / 7) and merged["pair_recall"] == 1
    assert merged["count_error"] == 1 and merged["accuracy"] == pytest.approx(4 / 6)
    assert hungarian_accuracy(true, np.arange(6)) == pytest.approx(3 / 6)


def test_score_sets_averages_per_set_and_counts_items_for_categories():
    sets = np.array([0, 0, 1, 1, 1, 1])
    true_k = np.array([0, 1, 0, 0, 1, 1])
    pred_k = np.array([0, 1, 0, 0, 0, 0])  # set 0 perfect, set 1 merged
    cats = np.array([1, 1, 1, 1, 1, 1])
    pred_c = np.array([1, 1, 1, 1, 1, 0])
    s = score_sets(cats, true_k, pred_c, pred_k, sets)
    assert s["ari"] == pytest.approx((1.0 + 0.0) / 2) and s["n_sets"] == 2
    assert s["category_accuracy"] == pytest.approx(5 / 6)


# ---------------------------------------------------------------- generators
def test_instance_sets_are_seeded_and_well_formed():
    rng = np.random.default_rng(0)
    images = (rng.uniform(size=(40, 28, 28)) * 255).astype(np.uint8)
    labels = np.arange(40) % 10
    a = make_instance_sets(images, labels, 6, random_state=3)
    b = make_instance_sets(images, labels, 6, random_state=3)
    assert np.array_equal(a.X, b.X) and a.X.shape[1] == 784 and a.image_shape == (28, 28)
    assert 0 <= a.X.min() and a.X.max() <= 1 and a.n_sets == 6
    for s in range(6):
        k = a.clusters[a.sets == s]
        assert 3 <= len(np.unique(k)) <= 10 and np.bincount(k).min() >= 2
        for c in np.unique(k):  # a cluster is one base image: one category
            assert len(np.unique(a.categories[a.sets == s][k == c])) == 1
    check_sets(a.X, a.sets, a.categories, a.clusters)
    part = a.subset([4, 1])
    assert (
        part.n_sets == 2
        and set(part.sets) == {1, 4}
        and len(part.X) == np.isin(a.sets, [1, 4]).sum()
    )


def test_augment_with_no_change_is_the_identity():
    rng = np.random.default_rng(0)
    img = rng.uniform(size=(3, 28, 28)).astype(np.float32)
    out = augment_images(img, rng, rotation=0, shear=0, shift=0, scale=(1, 1), stroke=0, noise=0)
    np.testing.assert_allclose(out, img, atol=1e-5)


def test_context_sets_hide_the_category_in_absolute_position():
    t = make_context_sets(300, random_state=0)
    # the set's shift dwarfs the layout: a nearest-centroid rule on raw coordinates is near chance
    centroids = np.stack([t.X[t.categories == c].mean(0) for c in range(4)])
    raw = np.argmin(((t.X[:, None] - centroids) ** 2).sum(-1), axis=1)
    assert (raw == t.categories).mean() < 0.5
    # known answer: undoing each set's shift and scale makes the categories separable
    Z = np.empty_like(t.X)
    for s in np.unique(t.sets):
        r = t.sets == s
        Z[r] = (t.X[r] - t.X[r].mean(0)) / t.X[r].std()
    cz = np.stack([Z[t.categories == c].mean(0) for c in range(4)])
    rel = np.argmin(((Z[:, None] - cz) ** 2).sum(-1), axis=1)
    assert (rel == t.categories).mean() > 0.9


# ---------------------------------------------------------------- set layers
@pytest.mark.parametrize("block", [SAB(8, 2), ISAB(8, 2, 3), DeepSetsBlock(8)])
def test_set_blocks_are_equivariant_and_ignore_padding(block):
    torch.manual_seed(0)
    block.eval()
    z = torch.randn(2, 5, 8)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    out = block(z, mask)
    perm = torch.tensor([2, 0, 1, 3, 4])
    out_p = block(z[:, perm], mask[:, perm])
    torch.testing.assert_close(out_p[0, :3], out[0, perm[:3]], atol=1e-5, rtol=1e-5)
    z2 = z.clone()
    z2[0, 3:] = 100.0  # padding values never reach the real items
    torch.testing.assert_close(block(z2, mask)[0, :3], out[0, :3], atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------- the network
def test_set_encoder_reads_categories_from_context_where_items_alone_cannot():
    train = make_context_sets(300, random_state=0)
    test = make_context_sets(60, random_state=1, first_set=1000)
    accs = {}
    for enc in ("transformer", None):
        m = SetClusterer(set_encoder=enc, epochs=15, device="cpu", random_state=0, verbose=False)
        m.fit(train.X, train.categories, train.clusters, train.sets)
        cats, clus = m.predict(test.X, test.sets)
        accs[enc] = (cats == test.categories).mean()
    assert accs["transformer"] > 0.9 and accs[None] < 0.5, accs


@pytest.mark.parametrize("pair_loss,margin", [("bce", 0.8), ("mcl", 0.2), ("kcl", 0.4)])
def test_pairwise_losses_learn_to_separate_clusters(pair_loss, margin):
    X, c, k, s = _blobs(100)
    m = SetClusterer(
        pair_loss=pair_loss, epochs=10, device="cpu", random_state=0, verbose=False
    ).fit(X, c, k, s)
    P = m.pair_proba(X[s == 0])
    k0, c0 = k[s == 0], c[s == 0]
    same = (k0[:, None] == k0[None, :]) & ~np.eye(len(k0), dtype=bool)
    apart = (k0[:, None] != k0[None, :]) & (c0[:, None] == c0[None, :])
    assert P.shape == (len(k0), len(k0)) and np.allclose(np.diag(P), 1)
    assert P[same].mean() > P[apart].mean() + margin, (P[same].mean(), P[apart].mean())
    assert m.history_.train[-1]["pair"] < m.history_.train[0]["pair"]


def test_items_of_different_predicted_categories_have_zero_pair_probability():
    train = make_context_sets(100, random_state=0)
    m = SetClusterer(epochs=3, device="cpu", random_state=0, verbose=False).fit(
        train.X, train.categories, train.clusters, train.sets
    )
    rows = train.sets == 1
    P = m.pair_proba(train.X[rows])
    cats, _ = m.predict(train.X[rows], train.sets[rows])
    assert (P[cats[:, None] != cats[None, :]] == 0).all()
    cats, clus = m.predict(train.X, train.sets)  # and no predicted cluster mixes them
    for s in np.unique(train.sets):
        for k in np.unique(clus[train.sets == s]):
            assert len(set(cats[(train.sets == s) & (clus == k)])) == 1


def test_cnn_item_encoder_needs_square_images_or_a_shape():
    X = np.zeros((8, 10), dtype=np.float32)
    sets, cats, clus = np.repeat([0, 1], 4), np.tile([0, 0, 1, 1], 2), np.tile([0, 0, 1, 1], 2)
    with pytest.raises(CrossviewError, match="not a square number"):
        SetClusterer(item_encoder="cnn", epochs=1, batch_size=1, verbose=False).fit(
            X, cats, clus, sets
        )
    with pytest.raises(CrossviewError, match="does not match the 10 features"):
        SetClusterer(
            item_encoder="cnn", image_shape=(3, 3), epochs=1, batch_size=1, verbose=False
        ).fit(X, cats, clus, sets)


def test_threshold_auto_is_tuned_on_held_out_sets_and_a_number_is_kept():
    train = make_context_sets(60, random_state=0)
    args = (train.X, train.categories, train.clusters, train.sets)
    auto = SetClusterer(epochs=2, device="cpu", random_state=0, verbose=False).fit(*args)
    assert 0.05 <= auto.threshold_ <= 0.95 and auto.n_sets_fit_ == 54
    fixed = SetClusterer(threshold=0.3, epochs=2, device="cpu", verbose=False).fit(*args)
    assert fixed.threshold_ == 0.3
    none_held = SetClusterer(validation_fraction=0, epochs=2, device="cpu", verbose=False)
    assert none_held.fit(*args).threshold_ == 0.5 and none_held.n_sets_fit_ == 60


def test_context_sets_refuse_a_layout_that_cannot_exist():
    with pytest.raises(CrossviewError, match="cannot place 3 category centres"):
        make_context_sets(2, n_categories=3, n_features=1)


def test_kcl_targets_carry_no_gradient():
    from crossview.clustering.set_clusterer import SetClusterNet

    net = SetClusterNet(2, 2, torch.nn.Linear(2, 8), 8, torch.nn.ModuleList(), "kcl", 4, 1.0,
                        "mask")  # fmt: skip
    pair = torch.randn(1, 3, 4).log_softmax(-1).requires_grad_()
    same = torch.tensor([[[1.0, 1, 0], [1, 1, 0], [0, 0, 1]]])
    valid = ~torch.eye(3, dtype=torch.bool)[None]
    loss = net._pair_loss(pair, same, valid)
    loss.backward()
    # the loss equals the hand-computed KL(q_i* || q_j) terms; gradients flow only through q_j
    q = pair.detach().exp()
    kl = (q[:, :, None] * (pair.detach()[:, :, None] - pair.detach()[:, None])).sum(-1)
    hinge = torch.relu(2.0 - kl)
    want = same * (kl + kl.transpose(1, 2)) + (1 - same) * (hinge + hinge.transpose(1, 2))
    assert torch.isclose(loss, want[valid].sum() / valid.sum())
    assert pair.grad is not None and torch.isfinite(pair.grad).all()


# ---------------------------------------------------------------- the baseline
@pytest.mark.parametrize("clusterer", ["agglomerative", "hdbscan"])
def test_classify_then_cluster_recovers_separable_clusters(clusterer):
    from crossview.clustering.classify_cluster import ClassifyThenCluster

    X, c, k, s = _blobs()
    model = ClassifyThenCluster(clusterer=clusterer, n_components=None, random_state=0)
    model.fit(X, c, k, s)
    Xt, ct, kt, st = _blobs(10, seed=1)
    pred_c, pred_k = model.predict(Xt, st)
    scores = score_sets(ct, kt, pred_c, pred_k, st)
    assert scores["category_accuracy"] > 0.95 and scores["ari"] > 0.8, scores


def test_any_torch_module_can_encode_items_and_is_not_changed_by_fit(tmp_path):
    X, c, k, s = _blobs(20)
    enc = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh())
    before = [p.detach().clone() for p in enc.parameters()]
    m = SetClusterer(item_encoder=enc, dim=16, epochs=2, device="cpu", verbose=False)
    m.fit(X, c, k, s)
    assert m.predict(X, s)[0].shape == (len(X),)
    assert all(torch.equal(a, b) for a, b in zip(before, enc.parameters()))
    with pytest.raises(CrossviewError, match="item_encoder=.*cannot be written to a model file"):
        m.save(tmp_path / "m")
    assert not (tmp_path / "m" / "model.safetensors").exists()
