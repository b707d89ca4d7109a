"""Method specs of the benchmark: names such as ``corrnet[L2+L3]``, and their parameters.

A spec is a registry name of a paired method, optionally with a variant in brackets. A method
declares its variants itself: its class has ``variant_params(variant) -> dict`` (the parameters
a variant fixes; it raises :class:`~crossview.exceptions.CrossviewError` for an unknown one),
optionally ``variant_name(variant) -> str`` (the usual spelling) and ``ABLATION`` (the variants
that ``ablation=True`` adds). Parameters are checked against the class's signature before any
fit, so a typo fails at once.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

from .. import registry
from ..exceptions import CrossviewError
from .protocols import DEFAULT_METHODS, Protocol, default_methods

#: parameters the benchmark sets itself
MANAGED_PARAMS = {
    "random_state": "seeds are chosen with `seeds`",
    "verbose": "progress is switched with `verbose`",
}


@dataclass(frozen=True)
class MethodSpec:
    """One column of the benchmark: a registry method, optionally one of its variants (such as
    a CorrNet loss combination), and the parameters that variant fixes."""

    key: str  # as shown in tables, e.g. "corrnet[L2+L3]"
    method: str  # registry name
    variant: str | None = None
    fixed: dict = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """A file-name-safe form of the key: ``corrnet[L2+L3]`` -> ``corrnet-L2-L3``."""
        return re.sub(r"[^A-Za-z0-9_]+", "-", self.key).strip("-")


_SPEC = re.compile(r"^\s*([A-Za-z0-9_]+)\s*(?:\[([^\]]*)\])?\s*$")


def methods_with_variants() -> list[str]:
    """The registered paired methods whose class declares variants."""
    return [
        n for n in registry.names("paired") if hasattr(registry.get(n).load(), "variant_params")
    ]


def parse_spec(text: str) -> MethodSpec:
    """Parse ``name`` or ``name[variant]`` (e.g. ``corrnet[L1+L2+L3]``) into a :class:`MethodSpec`.

    The name must be a registered paired method; a variant must be one its class declares.
    """
    m = _SPEC.match(text or "")
    if not m:
        raise CrossviewError(
            f"cannot read method {text!r}; expected a name such as 'cca' or a "
            "method with a variant such as 'corrnet[L2+L3]'"
        )
    info = registry.get(m.group(1), task="paired")
    if m.group(2) is None:
        return MethodSpec(info.name, info.name)
    cls = info.load()
    if not hasattr(cls, "variant_params"):
        raise CrossviewError(
            f"method {info.name!r} has no variants; methods with variants: "
            f"{', '.join(methods_with_variants()) or 'none'} "
            "(e.g. 'corrnet[L2+L3]')"
        )
    variant = cls.variant_name(m.group(2)) if hasattr(cls, "variant_name") else m.group(2).strip()
    return MethodSpec(f"{info.name}[{variant}]", info.name, variant, cls.variant_params(variant))


def ablation_specs() -> list[str]:
    """Every variant that ``ablation=True`` adds: ``ABLATION`` of each paired method's class."""
    return [
        f"{name}[{variant}]"
        for name in methods_with_variants()
        for variant in getattr(registry.get(name).load(), "ABLATION", ())
    ]


def method_specs(methods, ablation: bool = False) -> list[MethodSpec]:
    """The distinct specs to run: ``methods`` (a list, or one comma-separated string; ``None``
    for :func:`.protocols.default_methods`), then the ablation variants if asked."""
    if isinstance(methods, str):
        methods = [m for m in methods.split(",") if m.strip()]
    names = list(methods) if methods is not None else default_methods()
    if ablation:
        names += [s for s in ablation_specs() if s not in names]
    specs: list[MethodSpec] = []
    for name in names:
        spec = parse_spec(name)
        if spec.key not in [s.key for s in specs]:
            specs.append(spec)
    if not specs:
        raise CrossviewError(
            "no methods to run"
            + (
                ""
                if methods is not None
                else f": none of {', '.join(DEFAULT_METHODS)} is registered"
            )
        )
    return specs


def accepted_params(method: str) -> dict:
    """The constructor parameters of a registered method, with their defaults."""
    cls = registry.get(method).load()
    return {
        k: p.default
        for k, p in inspect.signature(cls.__init__).parameters.items()
        if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def check_keys(params: dict, method: str, where: str) -> None:
    """Raise if ``params`` names a parameter the benchmark sets or the method lacks."""
    accepted = accepted_params(method)
    for key in params:
        if key in MANAGED_PARAMS:
            raise CrossviewError(
                f"{where}: {key!r} is set by the benchmark ({MANAGED_PARAMS[key]})"
            )
        if key not in accepted:
            raise CrossviewError(
                f"{where}: {registry.get(method).load().__name__} has no "
                f"parameter {key!r}; it has: {', '.join(sorted(accepted))}"
            )


def check_method_params(method_params: dict | None) -> dict[str, dict]:
    """Check the caller's ``{method or spec: {parameter: value}}`` and key it by spec key."""
    out: dict[str, dict] = {}
    for target, params in (method_params or {}).items():
        if not isinstance(params, dict):
            raise CrossviewError(f"options for {target!r} must be a dict of parameters")
        spec = parse_spec(target)
        check_keys(params, spec.method, f"options for {spec.key}")
        out.setdefault(spec.key, {}).update(params)
    return out


def resolve_params(spec: MethodSpec, protocol: Protocol, method_params: dict, data) -> dict:
    """The parameters of one spec: preset, then the method's options, the variant's switches,
    then options given for this exact spec (later wins)."""
    preset = dict(protocol.presets.get(spec.method, {}))
    check_keys(preset, spec.method, f"preset {protocol.name}.{spec.method}")
    n_x, n_y, n = data.train.X.shape[1], data.train.Y.shape[1], data.train.X.shape[0]
    if "n_components" in preset and preset["n_components"] > min(n_x, n_y):
        preset["n_components"] = min(n_x, n_y)
    # the preset's batch size, or the class default, capped at the training rows
    batch = preset.get("batch_size", accepted_params(spec.method).get("batch_size"))
    if isinstance(batch, int) and batch > n:
        preset["batch_size"] = n
    params = {**preset, **method_params.get(spec.method, {}), **spec.fixed}
    if spec.key != spec.method:
        params.update(method_params.get(spec.key, {}))
    return params
