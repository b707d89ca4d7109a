"""The contract every registered method keeps, checked for each entry of the registry.

A new method gets all of this by being registered: nothing here names a method. Each is built
with a tiny preset derived from its own signature (:func:`tiny`): code size 2, hidden layers of
8 units, 2 epochs, batches of 20, CPU, quiet, seeded. Checked: clone / get_params round trips,
output shapes, save -> load giving bit-identical outputs, one-line named errors for bad input
and for every bad parameter, resume giving the same weights (deep methods), ``score`` working
under ``GridSearchCV``, and scikit-learn's ``check_estimator`` (see ``sklearn_checks.py`` for
the checks that cannot apply to a second 2-D view and why).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn_checks import expected_failures, one_dim_adapter, run_checks

import crossview
from crossview import registry
from crossview.exceptions import CrossviewError

PAIRED = registry.names("paired")
N, NX, NY = 80, 6, 5


def tiny(cls, **overrides) -> dict:
    """Parameters that make ``cls`` fit in a fraction of a second on :func:`views`."""
    out = {}
    for name, p in inspect.signature(cls.__init__).parameters.items():
        default = p.default
        if name == "n_components":
            out[name] = 2
        elif name == "epochs":
            out[name] = 2
        elif name == "batch_size":
            out[name] = 20
        elif name == "verbose":
            out[name] = False
        elif name == "device":
            out[name] = "cpu"
        elif name == "random_state":
            out[name] = 0
        elif isinstance(default, tuple) and default and all(isinstance(v, int) for v in default):
            out[name] = (8,)  # hidden layer sizes
    return {**out, **overrides}


def views(seed=0, n=N):
    """Two views sharing two latent factors, float64."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, 2))
    X = np.tanh(np.c_[Z, rng.standard_normal((n, NX - 2))] @ rng.standard_normal((NX, NX)))
    Y = np.c_[Z + 0.3 * rng.standard_normal((n, 2)), rng.standard_normal((n, NY - 2))]
    return X, Y


def check_every_parameter(name, data) -> None:
    """Every parameter is constrained, and a wrong type in each fails ``fit(*data)`` with a
    one-line error naming it."""
    cls = registry.get(name).load()
    constraints = getattr(cls, "_parameter_constraints", {})
    assert set(constraints) == set(inspect.signature(cls.__init__).parameters) - {"self"}
    for param in constraints:
        with pytest.raises(CrossviewError) as exc:
            build(name, **{param: object()}).fit(*data)
        one_line_error(exc, param)


def build(name, **overrides):
    cls = registry.get(name).load()
    return cls(**tiny(cls, **overrides))


@pytest.fixture(scope="module", params=PAIRED)
def fitted(request):
    X, Y = views()
    return request.param, build(request.param).fit(X, Y)


def outputs(model, X, Y) -> dict[str, np.ndarray]:
    """Every output of a fitted model: codes of each view, and translations where it has them."""
    out = {"transform": model.transform(X), "transform_y": model.transform_y(Y)}
    if hasattr(model, "predict"):
        out["predict"] = model.predict(X)
    if hasattr(model, "predict_x"):
        out["predict_x"] = model.predict_x(Y)
    return out


def one_line_error(excinfo, *words):
    msg = str(excinfo.value)
    assert "\n" not in msg.strip(), msg
    for word in words:
        assert word in msg, (word, msg)


# ---------------------------------------------------------------- the registry
@pytest.mark.parametrize("name", registry.names())
def test_registry_entry_loads_and_names_itself(name):
    info = registry.get(name)
    cls = info.load()
    assert registry.name_of(cls) == name and info.task in registry.TASKS
    assert (cls.__doc__ or "").strip(), "the class says what it does"
    if info.task == "paired":
        assert list(inspect.signature(cls.fit).parameters)[1:3] == ["X", "Y"]


def test_registry_rejects_unknown_names_and_wrong_tasks():
    with pytest.raises(CrossviewError, match="unknown method 'nope'; available: "):
        registry.get("nope")
    with pytest.raises(CrossviewError, match="unknown task"):
        registry.names("pairs")
    with pytest.raises(CrossviewError, match="is for paired data, not clustering data"):
        registry.get("cca", task="clustering")


# ---------------------------------------------------------------- parameters
@pytest.mark.parametrize("name", PAIRED)
def test_clone_and_get_params_round_trip(name):
    est = build(name)
    params = est.get_params()
    assert clone(est).get_params() == params
    assert type(est)(**params).get_params() == params
    assert not any(k.endswith("_") for k in vars(est)), "no fitted attributes before fit"


@pytest.mark.parametrize("name", PAIRED)
def test_every_constrained_parameter_rejects_a_wrong_type_in_one_line(name):
    check_every_parameter(name, views())


# ---------------------------------------------------------------- fitting and outputs
def test_output_shapes(fitted):
    name, model = fitted
    X, Y = views(seed=1, n=13)
    out = outputs(model, X, Y)
    k = out["transform"].shape[1]
    assert out["transform"].shape == (13, k) and out["transform_y"].shape[0] == 13
    if "predict" in out:
        assert out["predict"].shape == (13, NY)
    if "predict_x" in out:
        assert out["predict_x"].shape == (13, NX)
    assert (model.n_features_in_, model.n_features_in_y_) == (NX, NY)
    assert all(np.all(np.isfinite(v)) for v in out.values())


def test_outputs_do_not_depend_on_the_order_of_the_rows(fitted):
    name, model = fitted
    X, Y = views(seed=4, n=37)
    order = np.random.default_rng(0).permutation(37)
    a, b = outputs(model, X, Y), outputs(model, X[order], Y[order])
    for key in a:
        np.testing.assert_allclose(b[key], a[key][order], rtol=1e-5, atol=1e-6, err_msg=key)


def test_save_then_load_gives_bit_identical_outputs(fitted, tmp_path):
    name, model = fitted
    X, Y = views(seed=2, n=17)
    model.save(tmp_path / "m")
    loaded = crossview.load(tmp_path / "m")
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    before, after = outputs(model, X, Y), outputs(loaded, X, Y)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=f"{name}.{key}")
    assert loaded.score(X, Y) == model.score(X, Y)


def test_score_is_a_finite_number_grid_search_can_maximise(fitted):
    name, model = fitted
    X, Y = views(seed=3)
    assert np.isfinite(model.score(X, Y))
    params = model.get_params()
    grid = (
        {"n_components": [1, 2]}
        if "n_components" in params
        else {key: [value] for key, value in list(params.items())[:1]}
    )
    search = GridSearchCV(clone(model), grid, cv=KFold(2)).fit(X, Y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.parametrize("name", PAIRED)
def test_bad_input_gives_one_line_named_errors(name):
    X, Y = views()
    est = build(name)
    with pytest.raises(CrossviewError) as exc:
        est.fit(X, Y[:-1])
    one_line_error(exc, "rows")
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(CrossviewError) as exc:
        est.fit(Xn, Y)
    one_line_error(exc, "view X", "NaN")
    with pytest.raises(CrossviewError) as exc:
        est.fit(X[:, 0], Y)
    one_line_error(exc, "1-D")
    est.fit(X, Y)
    with pytest.raises(CrossviewError) as exc:
        est.transform(X[:, :-1])
    one_line_error(exc, "view X", "features")
    with pytest.raises(CrossviewError) as exc:
        est.transform_y(np.c_[Y, Y])
    one_line_error(exc, "view Y", "features")


@pytest.mark.parametrize("name", [n for n in PAIRED if registry.get(n).deep])
def test_resume_gives_the_weights_of_an_uninterrupted_fit(name, tmp_path):
    X, Y = views()
    full = build(name, epochs=3).fit(X, Y)
    build(name, epochs=1, checkpoint_dir=str(tmp_path)).fit(X, Y)
    resumed = build(name, epochs=3, checkpoint_dir=str(tmp_path), resume=True).fit(X, Y)
    for key, value in full.module_.state_dict().items():
        assert np.array_equal(resumed.module_.state_dict()[key].numpy(), value.numpy()), key
    a, b = outputs(full, X, Y), outputs(resumed, X, Y)
    for key in a:
        np.testing.assert_array_equal(b[key], a[key], err_msg=key)


@pytest.mark.parametrize("name", [n for n in PAIRED if registry.get(n).deep])
def test_deep_methods_train_in_bfloat16_mixed_precision(name):
    """precision="bfloat16" (autocast) works for every deep method: on the CPU here, as on a
    GPU; the weights stay float32 and every output is a finite float32 array."""
    import torch

    X, Y = views()
    model = build(name, precision="bfloat16").fit(X, Y)
    assert all(p.dtype == torch.float32 for p in model.module_.parameters())
    for key, value in outputs(model, X, Y).items():
        assert value.dtype == np.float32 and np.isfinite(value).all(), key


@pytest.mark.parametrize("name", [n for n in PAIRED if registry.get(n).deep])
def test_deep_fit_leaves_the_global_random_state_alone(name):
    import torch

    X, Y = views()
    torch.manual_seed(1234)
    np.random.seed(1234)
    expected_t, expected_n = torch.rand(3), np.random.rand(3)
    torch.manual_seed(1234)
    np.random.seed(1234)
    threads = torch.get_num_threads()
    build(name).fit(X, Y)
    assert torch.equal(torch.rand(3), expected_t) and np.array_equal(np.random.rand(3), expected_n)
    assert torch.get_num_threads() == threads


# ---------------------------------------------------------------- scikit-learn's checks
@pytest.mark.parametrize("name", PAIRED)
def test_sklearn_check_estimator(name):
    cls = registry.get(name).load()
    sig = inspect.signature(cls).parameters
    small = {k: v for k, v in (("n_components", 1), ("batch_size", 5)) if k in sig}
    run_checks(one_dim_adapter(cls)(**tiny(cls, **small)), expected_failures(cls, adapted=True))


# ---------------------------------------------------------------- label-linked methods
LABEL_LINKED = registry.names("label-linked")


def label_linked(seed=0, n_x=90, n_y=70):
    """Two unpaired data sets of different widths, linked by 3 classes (X 6 wide, Y 5)."""
    rng = np.random.default_rng(seed)
    lx, ly = np.arange(n_x) % 3, rng.permutation(np.arange(n_y) % 3)
    cx, cy = 3 * rng.standard_normal((3, NX)), 3 * rng.standard_normal((3, NY))
    X = cx[lx] + rng.standard_normal((n_x, NX))
    Y = cy[ly] + rng.standard_normal((n_y, NY))
    return X, lx, Y, ly


@pytest.fixture(scope="module", params=LABEL_LINKED)
def fitted_ll(request):
    return request.param, build(request.param).fit(*label_linked())


def ll_outputs(model, X, Y) -> dict[str, np.ndarray]:
    out = {"predict": model.predict(X), "predict_x": model.predict_x(Y)}
    for name, A in (("transform", X), ("transform_y", Y), ("predict_proba", X)):
        if hasattr(model, name):
            out[name] = getattr(model, name)(A)
    return out


@pytest.mark.parametrize("name", LABEL_LINKED)
def test_label_linked_fit_signature_and_params(name):
    cls = registry.get(name).load()
    assert list(inspect.signature(cls.fit).parameters)[1:6] == [
        "X", "x_labels", "Y", "y_labels", "pairs",
    ]  # fmt: skip
    est = build(name)
    assert clone(est).get_params() == est.get_params()
    check_every_parameter(name, label_linked())


def test_label_linked_outputs_and_round_trip(fitted_ll, tmp_path):
    name, model = fitted_ll
    X, lx, Y, ly = label_linked(seed=1, n_x=13, n_y=11)
    out = ll_outputs(model, X, Y)
    assert out["predict"].shape == (13, NY) and out["predict_x"].shape == (11, NX)
    if "predict_proba" in out:
        np.testing.assert_allclose(out["predict_proba"].sum(axis=1), 1, rtol=1e-5)
    assert list(model.classes_) == [0, 1, 2]
    model.save(tmp_path / "m")
    loaded = crossview.load(tmp_path / "m")
    assert type(loaded) is type(model) and loaded.get_params().keys() == model.get_params().keys()
    after = ll_outputs(loaded, X, Y)
    for key in out:
        np.testing.assert_array_equal(after[key], out[key], err_msg=f"{name}.{key}")
    assert 0 <= model.score(X, lx, Y, ly) <= 1


@pytest.mark.parametrize("name", LABEL_LINKED)
def test_label_linked_string_labels_and_pairs(name):
    X, lx, Y, ly = label_linked()
    names = np.array(["ant", "bee", "cat"])
    pairs = np.array([[i, j] for i in range(6) for j in np.flatnonzero(ly == lx[i])[:1]])
    model = build(name).fit(X, names[lx], Y, names[ly], pairs=pairs)
    assert list(model.classes_) == ["ant", "bee", "cat"] and model.n_pairs_ == len(pairs)
    assert model.predict(X[:4]).shape == (4, NY)


@pytest.mark.parametrize("name", LABEL_LINKED)
def test_label_linked_bad_input_gives_one_line_named_errors(name):
    X, lx, Y, ly = label_linked()
    est = build(name)
    cases = [
        ((X, lx[:-1], Y, ly), ("x_labels", "entries")),
        ((X, lx, Y, np.zeros_like(ly)), ("view Y", "single class")),
        ((X, np.where(lx == 2, 3, lx), Y, ly), ("only in X: 3", "only in Y: 2")),
        ((X, lx, Y, ly.astype(str)), ("strings", "same kind")),
        ((X, lx + 0.5, Y, ly), ("non-integer",)),
        ((X[:, 0], lx, Y, ly), ("1-D",)),
    ]
    for args, words in cases:
        with pytest.raises(CrossviewError) as exc:
            est.fit(*args)
        one_line_error(exc, *words)
    bad_pairs = [
        (np.array([[0, 1, 2]]), "(k, 2)"),
        (np.array([[0, len(Y)]]), "outside view Y"),
        (np.array([[0.5, 1]]), "integer"),
        (np.array([[0, int(np.flatnonzero(ly != lx[0])[0])]]), "share their class"),
    ]
    for pairs, word in bad_pairs:
        with pytest.raises(CrossviewError) as exc:
            est.fit(X, lx, Y, ly, pairs=pairs)
        one_line_error(exc, "pairs", word)
    if registry.get(name).deep:
        with pytest.raises(CrossviewError) as exc:
            build(name, batch_size=len(X) + 1).fit(X, lx, Y, ly)
        one_line_error(exc, "batch_size", "rows of the larger view")
    est.fit(X, lx, Y, ly)
    with pytest.raises(CrossviewError) as exc:
        est.predict(X[:, :-1])
    one_line_error(exc, "view X", "features")
    with pytest.raises(CrossviewError) as exc:
        est.predict_x(np.c_[Y, Y])
    one_line_error(exc, "view Y", "features")


@pytest.mark.parametrize("name", [n for n in LABEL_LINKED if registry.get(n).deep])
def test_label_linked_resume_gives_the_weights_of_an_uninterrupted_fit(name, tmp_path):
    data = label_linked()
    full = build(name, epochs=3).fit(*data)
    build(name, epochs=1, checkpoint_dir=str(tmp_path)).fit(*data)
    resumed = build(name, epochs=3, checkpoint_dir=str(tmp_path), resume=True).fit(*data)
    for key, value in full.module_.state_dict().items():
        assert np.array_equal(resumed.module_.state_dict()[key].numpy(), value.numpy()), key


@pytest.mark.parametrize("name", [n for n in LABEL_LINKED if registry.get(n).deep])
def test_label_linked_deep_methods_train_in_bfloat16_mixed_precision(name):
    import torch

    X, lx, Y, ly = data = label_linked()
    model = build(name, precision="bfloat16").fit(*data)
    assert all(p.dtype == torch.float32 for p in model.module_.parameters())
    for key, value in ll_outputs(model, X, Y).items():
        assert np.isfinite(value).all(), key


def test_the_label_linked_method_without_a_network_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys; from crossview import registry; registry.get('classmap').load(); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- clustering methods
CLUSTERING = registry.names("clustering")


def set_table(seed=0, n_sets=24):
    """Sets of 4-9 items in 2-4 clusters of 3 categories; items 6 wide, clusters well apart."""
    rng = np.random.default_rng(seed)
    centres = 4 * rng.standard_normal((3, NX))
    rows, cats, clus, sets = [], [], [], []
    for s in range(n_sets):
        k = int(rng.integers(2, 5))
        cat = rng.integers(0, 3, k)
        cat[:2] = [0, 1] if s % 2 else [1, 2]
        for j in range(k):
            m = int(rng.integers(2, 4))
            centre = centres[cat[j]] + 1.5 * rng.standard_normal(NX)
            rows.append(centre + 0.1 * rng.standard_normal((m, NX)))
            cats += [cat[j]] * m
            clus += [j] * m
            sets += [s] * m
    return np.concatenate(rows), np.array(cats), np.array(clus), np.array(sets)


@pytest.fixture(scope="module", params=CLUSTERING)
def fitted_cl(request):
    return request.param, build(request.param).fit(*set_table())


def cl_outputs(model, X, sets) -> dict[str, np.ndarray]:
    cats, clus = model.predict(X, sets)
    return {"categories": cats, "clusters": clus, "predict_proba": model.predict_proba(X, sets)}


@pytest.mark.parametrize("name", CLUSTERING)
def test_clustering_fit_signature_and_params(name):
    cls = registry.get(name).load()
    assert list(inspect.signature(cls.fit).parameters)[1:5] == [
        "X", "categories", "clusters", "sets",
    ]  # fmt: skip
    est = build(name)
    assert clone(est).get_params() == est.get_params()
    check_every_parameter(name, set_table())


def test_clustering_outputs_and_round_trip(fitted_cl, tmp_path):
    name, model = fitted_cl
    X, c, k, sets = set_table(seed=1, n_sets=5)
    out = cl_outputs(model, X, sets)
    assert out["categories"].shape == out["clusters"].shape == (len(X),)
    np.testing.assert_allclose(out["predict_proba"].sum(axis=1), 1, rtol=1e-5)
    assert list(model.classes_) == [0, 1, 2]
    for s in np.unique(sets):  # no cluster mixes predicted categories; ids by first appearance
        cs, ks = out["categories"][sets == s], out["clusters"][sets == s]
        for cluster in np.unique(ks):
            assert len(set(cs[ks == cluster])) == 1
        first = [ks[i] for i in range(len(ks)) if ks[i] not in ks[:i]]
        assert first == list(range(len(first)))
    model.save(tmp_path / "m")
    loaded = crossview.load(tmp_path / "m")
    assert type(loaded) is type(model) and loaded.get_params().keys() == model.get_params().keys()
    after = cl_outputs(loaded, X, sets)
    for key in out:
        np.testing.assert_array_equal(after[key], out[key], err_msg=f"{name}.{key}")
    assert -1 <= model.score(X, c, k, sets) <= 1
    Xt, ct, kt, st = set_table()
    fp = clone(model).fit_predict(Xt, ct, kt, st)
    again = model.predict(Xt, st)
    assert all(np.array_equal(a, b) for a, b in zip(fp, again))  # seeded: the same fit


def test_clustering_outputs_follow_a_reordering_of_the_items(fitted_cl):
    name, model = fitted_cl
    X, _, _, sets = set_table(seed=2, n_sets=4)
    cats, clus = model.predict(X, sets)
    perm = np.random.default_rng(0).permutation(len(X))
    cats2, clus2 = model.predict(X[perm], sets[perm])
    assert np.array_equal(cats2, cats[perm])
    from sklearn.metrics import adjusted_rand_score

    for s in np.unique(sets):  # the same partition of each set, ids renumbered
        assert adjusted_rand_score(clus[perm][sets[perm] == s], clus2[sets[perm] == s]) == 1.0


@pytest.mark.parametrize("name", CLUSTERING)
def test_clustering_string_categories_and_set_ids(name):
    X, c, k, sets = set_table()
    names = np.array(["ant", "bee", "cat"])
    model = build(name).fit(X, names[c], k, np.char.add("set", sets.astype(str)))
    assert list(model.classes_) == ["ant", "bee", "cat"]
    cats, _ = model.predict(X[:9], sets[:9])
    assert set(cats) <= set(names)


@pytest.mark.parametrize("name", CLUSTERING)
def test_clustering_bad_input_gives_one_line_named_errors(name):
    X, c, k, sets = set_table()
    est = build(name)
    mixed = c.copy()
    mixed[0] = (c[0] + 1) % 3  # row 0 now differs from the rest of its cluster
    lonely = sets.copy()
    lonely[-1] = 999
    cases = [
        ((X, c[:-1], k, sets), ("categories", "entries")),
        ((X, c, k, sets[:-1]), ("sets", "entries")),
        ((X, np.zeros_like(c), k, sets), ("single category",)),
        ((X, mixed, k, sets), ("mix categories",)),
        ((X, c, k, lonely), ("single item", "999")),
        ((X, c + 0.5, k, sets), ("non-integer",)),
        ((X[:, 0], c, k, sets), ("1-D",)),
        ((X, c, k, None), ("sets", "missing")),
    ]
    for args, words in cases:
        with pytest.raises(CrossviewError) as exc:
            est.fit(*args)
        one_line_error(exc, *words)
    est.fit(X, c, k, sets)
    with pytest.raises(CrossviewError) as exc:
        est.predict(X[:, :-1], sets)
    one_line_error(exc, "X", "features")
    with pytest.raises(CrossviewError) as exc:
        est.predict(X, sets[:-1])
    one_line_error(exc, "sets", "entries")


@pytest.mark.parametrize("name", [n for n in CLUSTERING if registry.get(n).deep])
def test_clustering_resume_gives_the_weights_of_an_uninterrupted_fit(name, tmp_path):
    data = set_table()
    full = build(name, epochs=3).fit(*data)
    build(name, epochs=1, checkpoint_dir=str(tmp_path)).fit(*data)
    resumed = build(name, epochs=3, checkpoint_dir=str(tmp_path), resume=True).fit(*data)
    for key, value in full.module_.state_dict().items():
        assert np.array_equal(resumed.module_.state_dict()[key].numpy(), value.numpy()), key


@pytest.mark.parametrize("name", [n for n in CLUSTERING if registry.get(n).deep])
def test_clustering_deep_methods_train_in_bfloat16_mixed_precision(name):
    import torch

    data = set_table()
    model = build(name, precision="bfloat16").fit(*data)
    assert all(p.dtype == torch.float32 for p in model.module_.parameters())
    out = cl_outputs(model, data[0], data[-1])
    assert np.isfinite(out["predict_proba"]).all()
