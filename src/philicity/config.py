"""The validated configuration: schema defaults, the chosen preset, the settings hash."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from pathlib import Path

import yaml

# shipped inside the package, so a plain (non-editable) pip install finds it
SCHEMA = Path(__file__).resolve().parent / "data" / "config.schema.yaml"
HASHED_SECTIONS = ("calculator", "bulk", "slab", "sites", "relax", "quality")
# interface settings hash separately: changing them keeps the adsorption results
INTERFACE_SECTIONS = (*HASHED_SECTIONS, "interface")
# The settings each stage's results depend on: its folder under results/work/{stage}/ is
# named by the hash of these sections (stage_settings), so a change reruns exactly the
# stages that read the changed key, and finished results of other settings stay on disk.
# Cumulative along the pipeline: a stage sees the settings of the stages it reads from.
STAGE_SECTIONS = {
    "candidates": ("calculator",),  # only its name, xc and setups: see stage_settings
    "atoms": ("calculator",),
    "bulk": ("calculator", "bulk"),
    # the reaction phases (any bulk phase a reaction reaches, the anode metal among them)
    # and molecules: the calculator with the ``reactions`` values over it (stage_settings)
    "phases": ("calculator", "bulk"),
    "molecules": ("calculator", "relax"),
    "surfaces": ("calculator", "bulk", "slab"),
    "clean": ("calculator", "bulk", "slab", "relax"),
    "sites": ("calculator", "bulk", "slab", "sites"),
    "adsorption": HASHED_SECTIONS,
    "interfaces": ("calculator", "bulk", "slab", "relax", "interface"),
}


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key."""


def _deep_merge(base: dict, patch: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _validator(schema: dict, subschema: dict):
    """A jsonschema validator that fills in defaults (as snakemake.utils.validate does)."""
    from jsonschema import Draft202012Validator, validators

    def set_defaults(validator, properties, instance, sch):
        if isinstance(instance, dict):
            for prop, sub in properties.items():
                if "default" in sub and prop not in instance:
                    instance[prop] = copy.deepcopy(sub["default"])
        yield from Draft202012Validator.VALIDATORS["properties"](
            validator, properties, instance, sch
        )

    cls = validators.extend(Draft202012Validator, {"properties": set_defaults})
    from referencing import Registry, Resource

    registry = Registry().with_resource("urn:philicity", Resource.from_contents(schema))
    return cls({**subschema, "$defs": schema.get("$defs", {})}, registry=registry)


Sources = list[tuple[str, dict]]


def _coerce_strings(schema: dict, subschema: dict, instance: dict) -> None:
    """Values given as text where the schema wants a boolean, a number or a list (Snakemake
    keeps ``--config run_interfaces=false`` and the items of ``'[[1,1,1]]'`` as strings):
    read as YAML, as a YAML user means them. Only values that fail their type are touched."""
    for _ in range(10):
        changed = False
        for err in _validator(schema, subschema).iter_errors(instance):
            if err.validator not in ("type", "oneOf") or not isinstance(err.instance, str):
                continue
            try:
                value = yaml.safe_load(err.instance)
            except yaml.YAMLError:
                continue
            if isinstance(value, str) or not err.absolute_path:
                continue
            parent = instance
            for key in list(err.absolute_path)[:-1]:
                parent = parent[key]
            parent[err.absolute_path[-1]] = value
            changed = True
        if not changed:
            return


def _check(schema: dict, subschema: dict, instance: dict, where: str | Sources) -> None:
    _coerce_strings(schema, subschema, instance)
    errors = sorted(_validator(schema, subschema).iter_errors(instance), key=lambda e: e.path)
    if errors:
        err = errors[0]
        path = list(err.absolute_path)
        key = ".".join(str(p) for p in path) or "(top level)"
        message = err.message
        if err.validator == "not" and "description" in err.validator_value:
            message = f"{err.instance}: {err.validator_value['description']}"
        if not isinstance(where, str):
            where = source_of(where, *path)
        raise ConfigError(f"{where}: key '{key}': {message}")


def config_sources(workflow) -> Sources:
    """Where a Snakemake run's config came from, lowest precedence first: the Snakefile's
    ``configfile``, each ``--configfile`` in order, then ``--config`` (as it was typed)."""
    cli = [Path(f).absolute() for f in workflow.config_settings.configfiles]
    base = [Path(f) for f in workflow.configfiles if Path(f).absolute() not in cli]
    sources = []
    for path in [*base, *cli]:
        try:
            sources.append((str(path), yaml.safe_load(path.read_text()) or {}))
        except (OSError, yaml.YAMLError):
            sources.append((str(path), {}))
    sources.append(("--config", dict(workflow.config_settings.config)))
    return sources


def source_of(sources: Sources | str, *path) -> str:
    """The source (file name or ``--config``) that sets the key at ``path``: the last one
    that holds all of it, else the last one that holds the longest part of it."""
    if isinstance(sources, str):
        return sources

    def depth(data) -> int:
        d = 0
        for key in path:
            if isinstance(data, dict) and key in data:
                data, d = data[key], d + 1
            elif isinstance(data, list) and isinstance(key, int) and key < len(data):
                data, d = data[key], d + 1
            else:
                break
        return d

    if not sources:
        return "config"
    depths = [depth(data) for _, data in sources]
    deepest = max(depths)
    if deepest == 0:
        return sources[0][0]
    return [name for (name, _), d in zip(sources, depths, strict=True) if d == deepest][-1]


def load_schema(path: str | Path = SCHEMA) -> dict:
    return yaml.safe_load(Path(path).read_text())


@functools.lru_cache(maxsize=1)
def _shipped_schema() -> dict:
    """The shipped schema, read once per process (every sidecar is checked against it)."""
    return load_schema()


def validate(config: dict, where: str | Sources = "config", schema: dict | None = None) -> dict:
    """Validate ``config`` in place (defaults filled) and return it; raises ConfigError
    naming ``where`` (or, given the sources, the file or ``--config`` that set the key)."""
    schema = schema or _shipped_schema()
    _check(schema, schema, config, where)
    return config


def settings(config: dict, schema: dict | None = None) -> dict:
    """The effective numerical settings: the chosen preset with ``overrides`` merged over it,
    validated against ``$defs/settings`` with defaults filled."""
    schema = schema or _shipped_schema()
    name = config["preset"]
    if name not in config["presets"]:
        raise ConfigError(
            f"config: key 'preset': {name!r} is not one of {sorted(config['presets'])}"
        )
    merged = _deep_merge(config["presets"][name], config.get("overrides", {}))
    for section in INTERFACE_SECTIONS:
        merged.setdefault(section, {})
    _check(schema, {"$ref": "#/$defs/settings"}, merged, f"config: preset {name!r} + overrides")
    return merged


# Keys that change how a result is reached, not the result: left out of the hash.
# (The top-level ``parallel`` section, ranks and launcher, is no setting at all.)
UNHASHED = {"calculator": ("scf_retries", "parallel"),
            # which interfaces get the dft_relaxed path too: a tracked param of the W_ad
            # jobs, which keep their parts (docs/fast-path.md)
            "interface": ("escalate_within_J_m2",)}
# Keys added after screens were run, left out of the hash at the value that reproduces
# those screens, so that their results keep their settings hash (and are not recomputed).
HASHED_UNLESS = {"calculator": {"dispersion": "none", "setups": {},
                                "single_point_convergence": {}}}


def load(path: str | Path, preset: str | None = None) -> tuple[dict, dict]:
    """A config file validated (defaults filled), optionally with another preset, and its
    effective settings (:func:`settings`)."""
    config = yaml.safe_load(Path(path).read_text())
    if preset is not None:
        config["preset"] = preset
    validate(config, where=str(path))
    return config, settings(config)


# the stages whose calculator takes the ``reactions`` section's values
REACTION_STAGES = ("phases", "molecules")


def reaction_calculator(settings_: dict) -> dict:
    """The calculator settings of the reaction phases and molecules: the calculator's, with
    the ``reactions`` section's non-null ``kpt_density`` and ``ecut_eV`` over them."""
    over = {k: v for k, v in settings_.get("reactions", {}).items() if v is not None}
    return {**settings_["calculator"], **over}


def stage_settings(settings_: dict, stage: str) -> dict:
    """The sections of the effective settings that ``stage``'s results depend on
    (:data:`STAGE_SECTIONS`); a candidate check only needs the calculator's name, setups and
    functional (which elements it can treat); the reaction stages' calculator has the
    ``reactions`` values over it (:func:`reaction_calculator`)."""
    out = {k: settings_[k] for k in STAGE_SECTIONS[stage]}
    if stage in REACTION_STAGES:
        out["calculator"] = reaction_calculator(settings_)
    if stage == "candidates":
        out["calculator"] = {k: v for k, v in out["calculator"].items()
                             if k in ("name", "xc", "setups")}
    return out


def settings_hash(settings_: dict, sections: tuple[str, ...] = INTERFACE_SECTIONS) -> str:
    """Ten hex digits of the SHA-256 of the numerical settings (canonical JSON): the
    ``sections`` that ``settings_`` holds (a stage's settings hash only its own)."""
    picked = {}
    for k in (k for k in sections if k in settings_):
        value = settings_[k]
        if k in UNHASHED and isinstance(value, dict):
            value = {key: v for key, v in value.items() if key not in UNHASHED[k]}
        if k in HASHED_UNLESS and isinstance(value, dict):
            value = {key: v for key, v in value.items()
                     if HASHED_UNLESS[k].get(key, object()) != v}
        picked[k] = value
    blob = json.dumps(picked, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


def validate_candidate(options: dict, where: str, schema: dict | None = None) -> dict:
    """Check a candidate's options (a sidecar ``X.yaml``) against the schema's candidate
    definition; raises ConfigError naming ``where`` and the key."""
    schema = schema or _shipped_schema()
    _check(schema, {"$ref": "#/$defs/candidate"}, options, where)
    return options


def candidate_keys() -> list[str]:
    """The keys a candidate's options (a sidecar, a ``candidates`` entry) may hold: the
    schema's candidate definition's."""
    return sorted(_shipped_schema()["$defs"]["candidate"]["properties"])


def candidate_options(name: str, sidecar: dict, config: dict) -> dict:
    """Options of one candidate: config defaults < sidecar X.yaml < config ``candidates``."""
    opts = {"miller": config["default_miller"], "termination": config["termination"],
            "magmoms": {}}
    opts.update({k: v for k, v in sidecar.items() if k != "note"})
    opts.update(config.get("candidates", {}).get(name, {}))
    opts.pop("note", None)
    return opts
