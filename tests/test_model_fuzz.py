"""Hostile and corrupt model files, fuzzed with hypothesis: loading never runs code from a file
and always ends in a clear error (:class:`CrossviewError`) or a model that works.

Over 1,000 damaged files per run: flipped bytes and truncations of the weights (caught by the
SHA-256 in the config), the same without the checksum (caught by safetensors' own checks or by
the shape checks), random edits of the JSON config, a pickle renamed as the weights.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crossview
from crossview.exceptions import CrossviewError
from crossview.linear import CCA

FUZZ = settings(
    max_examples=int(os.environ.get("CROSSVIEW_FUZZ_EXAMPLES", 250)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

X = np.random.default_rng(0).standard_normal((40, 4))
Y = X @ np.random.default_rng(1).standard_normal((4, 3))


def _saved() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="cv-fuzz-")) / "model"
    CCA(n_components=2).fit(X, Y).save(folder)
    return folder


SAVED = _saved()
WEIGHTS = (SAVED / "model.safetensors").read_bytes()
CONFIG = json.loads((SAVED / "config.json").read_text())
REFERENCE = crossview.load(SAVED).transform(X)


def _load_outcome(weights: bytes | None = None, config: dict | str | None = None) -> str:
    """Write a damaged copy of the model and load it: "error" (a clear one) or "model"."""
    folder = Path(tempfile.mkdtemp(prefix="cv-fuzz-case-"))
    try:
        (folder / "model.safetensors").write_bytes(WEIGHTS if weights is None else weights)
        cfg = CONFIG if config is None else config
        text = cfg if isinstance(cfg, str) else json.dumps(cfg)
        (folder / "config.json").write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            model = crossview.load(folder)
        except CrossviewError as exc:
            assert "\n" not in str(exc).strip()
            return "error"
        try:  # a model that loads must work, or refuse data with a clear error
            out = model.transform(X)
        except CrossviewError:
            return "error"
        assert out.shape[0] == len(X)
        return "model"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _without_checksum() -> dict:
    return {k: v for k, v in CONFIG.items() if k != "weights_sha256"}


def test_the_config_records_the_weights_checksum():
    import hashlib

    assert CONFIG["weights_sha256"] == hashlib.sha256(WEIGHTS).hexdigest()


@FUZZ
@given(pos=st.integers(0, len(WEIGHTS) - 1), xor=st.integers(1, 255))
def test_any_flipped_byte_in_the_weights_is_a_clear_error(pos, xor):
    data = bytearray(WEIGHTS)
    data[pos] ^= xor
    assert _load_outcome(bytes(data)) == "error"


@FUZZ
@given(size=st.integers(0, len(WEIGHTS) - 1))
def test_truncated_weights_are_a_clear_error_with_or_without_the_checksum(size):
    assert _load_outcome(WEIGHTS[:size]) == "error"
    assert _load_outcome(WEIGHTS[:size], _without_checksum()) == "error"


@FUZZ
@given(pos=st.integers(0, len(WEIGHTS) - 1), xor=st.integers(1, 255))
def test_flipped_bytes_without_the_checksum_never_crash(pos, xor):
    data = bytearray(WEIGHTS)
    data[pos] ^= xor
    _load_outcome(bytes(data), _without_checksum())  # an error or a working model


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@FUZZ
@given(key=st.sampled_from(sorted(CONFIG)), value=JSON)
def test_a_config_field_with_any_value_is_an_error_or_a_working_model(key, value):
    _load_outcome(config={**CONFIG, key: value})


@FUZZ
@given(
    key=st.sampled_from(sorted(CONFIG["params"])),
    value=JSON,
    drop=st.booleans(),
)
def test_a_parameter_with_any_value_or_missing_is_an_error_or_a_working_model(key, value, drop):
    params = dict(CONFIG["params"])
    if drop:
        params.pop(key)
    else:
        params[key] = value
    _load_outcome(config={**CONFIG, "params": params})


@FUZZ
@given(pos=st.integers(0, 400), xor=st.integers(1, 255))
def test_flipped_bytes_in_the_config_text_are_an_error_or_a_working_model(pos, xor):
    text = bytearray(json.dumps(CONFIG).encode())
    text[pos % len(text)] ^= xor
    _load_outcome(config=text.decode("utf-8", errors="surrogateescape"))


class _Trap:
    """Unpickling this would create a file: proof that code ran."""

    def __reduce__(self):
        return (Path.touch, (Path(tempfile.gettempdir()) / "crossview-pickle-ran",))


def test_a_pickle_renamed_as_the_weights_never_runs():
    marker = Path(tempfile.gettempdir()) / "crossview-pickle-ran"
    marker.unlink(missing_ok=True)
    payload = pickle.dumps(_Trap())
    assert _load_outcome(payload) == "error"
    assert _load_outcome(payload, _without_checksum()) == "error"
    assert not marker.exists()


def test_a_header_that_claims_more_bytes_than_the_file_is_a_clear_error():
    (n,) = struct.unpack("<Q", WEIGHTS[:8])
    header = json.loads(WEIGHTS[8 : 8 + n])
    name = next(k for k in header if k != "__metadata__")
    header[name]["data_offsets"][1] += 10**9
    raw = json.dumps(header).encode()
    forged = struct.pack("<Q", len(raw)) + raw + WEIGHTS[8 + n :]
    assert _load_outcome(forged, _without_checksum()) == "error"


def test_weights_of_the_wrong_shape_for_the_config_are_a_clear_error():
    from safetensors.numpy import load, save

    arrays = load(WEIGHTS)
    name = sorted(arrays)[0]
    arrays[name] = np.zeros((7, 7), dtype=arrays[name].dtype)
    assert _load_outcome(save(arrays), _without_checksum()) == "error"


@pytest.mark.parametrize("name", ["../../evil", "/etc/passwd", "a/../../b"])
def test_method_names_that_look_like_paths_are_rejected(name):
    assert _load_outcome(config={**CONFIG, "method": name}) == "error"


def test_an_untouched_copy_still_loads_to_the_same_outputs():
    assert _load_outcome() == "model"
    np.testing.assert_array_equal(crossview.load(SAVED).transform(X), REFERENCE)


def test_weights_that_are_a_symlink_to_another_file_are_a_clear_error(tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(SAVED, folder)
    other = tmp_path / "other.safetensors"
    from safetensors.numpy import save_file

    save_file({"x": np.zeros(3)}, str(other))
    (folder / "model.safetensors").unlink()
    (folder / "model.safetensors").symlink_to(other)
    with pytest.raises(CrossviewError, match="SHA-256"):
        crossview.load(folder)


def test_parameters_in_a_config_get_the_checks_fit_gives_them(tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(SAVED, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["params"]["n_components"] = -3
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CrossviewError, match="corrupt parameters.*n_components"):
        crossview.load(folder)
