"""The validated configuration: schema defaults, the chosen preset, the settings hash."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import yaml

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
HASHED_SECTIONS = ("calculator", "bulk", "slab", "sites", "relax", "quality")
# interface settings hash separately: changing them keeps the adsorption results
INTERFACE_SECTIONS = (*HASHED_SECTIONS, "interface")


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


def _check(schema: dict, subschema: dict, instance: dict, where: str) -> None:
    errors = sorted(_validator(schema, subschema).iter_errors(instance), key=lambda e: e.path)
    if errors:
        err = errors[0]
        key = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        raise ConfigError(f"{where}: key '{key}': {err.message}")


def load_schema(path: str | Path = SCHEMA) -> dict:
    return yaml.safe_load(Path(path).read_text())


def validate(config: dict, where: str = "config", schema: dict | None = None) -> dict:
    """Validate ``config`` in place (defaults filled) and return it; raises ConfigError."""
    schema = schema or load_schema()
    _check(schema, schema, config, where)
    return config


def settings(config: dict, schema: dict | None = None) -> dict:
    """The effective numerical settings: the chosen preset with ``overrides`` merged over it,
    validated against ``$defs/settings`` with defaults filled."""
    schema = schema or load_schema()
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
UNHASHED = {"calculator": ("scf_retries", "parallel")}


def load(path: str | Path, preset: str | None = None) -> tuple[dict, dict]:
    """A config file validated (defaults filled), optionally with another preset, and its
    effective settings (:func:`settings`)."""
    config = yaml.safe_load(Path(path).read_text())
    if preset is not None:
        config["preset"] = preset
    validate(config, where=str(path))
    return config, settings(config)


def settings_hash(settings_: dict, sections: tuple[str, ...] = HASHED_SECTIONS) -> str:
    """Ten hex digits of the SHA-256 of the numerical settings (canonical JSON)."""
    picked = {}
    for k in sections:
        value = settings_[k]
        if k in UNHASHED and isinstance(value, dict):
            value = {key: v for key, v in value.items() if key not in UNHASHED[k]}
        picked[k] = value
    blob = json.dumps(picked, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


def candidate_options(name: str, sidecar: dict, config: dict) -> dict:
    """Options of one candidate: config defaults < sidecar X.yaml < config ``candidates``."""
    opts = {"miller": config["default_miller"], "termination": config["termination"],
            "magmoms": {}}
    opts.update({k: v for k, v in sidecar.items() if k != "note"})
    opts.update(config.get("candidates", {}).get(name, {}))
    opts.pop("note", None)
    return opts
