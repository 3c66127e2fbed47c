import pytest
import yaml

from philicity import config


def test_shipped_config_validates_with_both_presets(root):
    cfg = config.validate(yaml.safe_load((root / "config/config.yaml").read_text()))
    assert cfg["preset"] == "fast"
    fast = config.settings(cfg)
    assert fast["calculator"]["name"] == "gpaw" and fast["calculator"]["mode"] == "pw"
    prod = config.settings({**cfg, "preset": "production"})
    assert prod["calculator"]["ecut_eV"] > fast["calculator"]["ecut_eV"]
    assert config.settings_hash(prod) != config.settings_hash(fast)


def test_every_schema_property_has_description_and_default_or_is_required(root):
    schema = config.load_schema()

    def walk(node, path):
        for key, sub in node.get("properties", {}).items():
            assert "description" in sub, f"{path}.{key} lacks a description"
            if key not in node.get("required", []):
                assert "default" in sub, f"{path}.{key} lacks a default"
            walk(sub, f"{path}.{key}")

    walk(schema, "config")
    walk(schema["$defs"]["settings"], "settings")


def test_wrong_type_names_the_key():
    with pytest.raises(config.ConfigError, match="key 'anodes'"):
        config.validate({"presets": {"fast": {}}, "anodes": "Na"})


def test_out_of_bounds_names_the_nested_key():
    cfg = config.validate({"presets": {"fast": {}},
                           "overrides": {"calculator": {"ecut_eV": 10}}})
    with pytest.raises(config.ConfigError, match="calculator.ecut_eV"):
        config.settings(cfg)


def test_unknown_preset():
    cfg = config.validate({"presets": {"fast": {}}, "preset": "turbo"})
    with pytest.raises(config.ConfigError, match="turbo"):
        config.settings(cfg)


def test_overrides_merge_and_change_the_hash():
    base = config.validate({"presets": {"fast": {"calculator": {"ecut_eV": 300}}}})
    s0 = config.settings(base)
    over = config.validate({"presets": {"fast": {"calculator": {"ecut_eV": 300}}},
                            "overrides": {"calculator": {"ecut_eV": 350}}})
    s1 = config.settings(over)
    assert s1["calculator"]["ecut_eV"] == 350 and s1["calculator"]["xc"] == "PBE"
    assert config.settings_hash(s0) != config.settings_hash(s1)


def test_candidate_options_precedence():
    cfg = config.validate({"presets": {"fast": {}},
                           "candidates": {"Ag": {"miller": [[1, 1, 1]]}}})
    sidecar = {"miller": [[1, 0, 0]], "note": "x", "termination": 0}
    opts = config.candidate_options("Ag", sidecar, cfg)
    assert opts == {"miller": [[1, 1, 1]], "termination": 0, "magmoms": {}}
    assert config.candidate_options("Cu", {}, cfg)["miller"] == [[0, 0, 1]]
