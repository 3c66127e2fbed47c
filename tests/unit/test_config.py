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
        # required, or required together (dependentRequired: all of them or none)
        required = {*node.get("required", []),
                    *(k for keys in node.get("dependentRequired", {}).values() for k in keys)}
        for key, sub in node.get("properties", {}).items():
            assert "description" in sub, f"{path}.{key} lacks a description"
            if key not in required:
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


def test_config_values_typed_as_text_are_read_as_yaml(root):
    """Snakemake keeps --config run_interfaces=false and the items of '[[1,1,1]]' as text."""
    cfg = yaml.safe_load((root / "config/config.yaml").read_text())
    cfg.update(run_interfaces="false", strict="true", default_miller=[["1", "1", "1"]])
    config.validate(cfg)
    assert cfg["run_interfaces"] is False and cfg["strict"] is True
    assert cfg["default_miller"] == [[1, 1, 1]]
    cfg["anodes"] = "Na"  # a string where a list is wanted stays an error
    with pytest.raises(config.ConfigError, match="key 'anodes'"):
        config.validate(cfg)


def test_a_config_error_names_the_file_that_holds_the_mistake(root):
    shipped = yaml.safe_load((root / "config/config.yaml").read_text())
    sources = [("config/config.yaml", shipped),
               ("mine.yaml", {"presets": {"fast": {"relax": {"steps": "many"}}}}),
               ("--config", {})]
    merged = config._deep_merge(shipped, sources[1][1])
    with pytest.raises(config.ConfigError, match=r"^mine\.yaml: key 'presets\.fast\.relax"):
        config.settings(config.validate(merged, where=sources))
    merged["anodes"] = "Na"
    sources[2] = ("--config", {"anodes": "Na"})
    with pytest.raises(config.ConfigError, match=r"^--config: key 'anodes'"):
        config.validate(merged, where=sources)
    assert config.source_of(sources, "coatings") == "config/config.yaml"


def test_each_stage_is_hashed_by_the_settings_it_reads(root):
    _, fast = config.load(root / "config/config.yaml")
    changed = {**fast, "relax": {**fast["relax"], "fmax_eV_A": 0.01}}

    def h(s, stage):
        return config.settings_hash(config.stage_settings(s, stage))

    for stage in ("candidates", "atoms", "bulk", "surfaces", "sites"):
        assert h(fast, stage) == h(changed, stage), stage
    for stage in ("clean", "adsorption", "interfaces"):
        assert h(fast, stage) != h(changed, stage), stage
    more_sites = {**fast, "sites": {**fast["sites"], "max_sites": 2}}
    assert h(fast, "clean") == h(more_sites, "clean")
    assert h(fast, "interfaces") == h(more_sites, "interfaces")
    assert h(fast, "sites") != h(more_sites, "sites")
    ecut = {**fast, "calculator": {**fast["calculator"], "ecut_eV": 500}}
    assert h(fast, "candidates") == h(ecut, "candidates")  # name and xc only
    assert h(fast, "atoms") != h(ecut, "atoms")


def test_reaction_phases_take_the_reaction_k_mesh_and_cutoff(root):
    """The ``reactions`` values replace the calculator's for the reaction phases and
    molecules only: changing them reruns those stages and no slab, site or interface."""
    _, fast = config.load(root / "config/config.yaml")

    def h(s, stage):
        return config.settings_hash(config.stage_settings(s, stage))

    plain = {**fast, "reactions": {"kpt_density": None, "ecut_eV": None}}
    assert config.stage_settings(plain, "phases")["calculator"] == fast["calculator"]
    denser = {**fast, "reactions": {"kpt_density": 7.5, "ecut_eV": None}}
    calc = config.stage_settings(denser, "phases")["calculator"]
    assert calc["kpt_density"] == 7.5
    assert calc["ecut_eV"] == fast["calculator"]["ecut_eV"]
    assert config.stage_settings(denser, "molecules")["calculator"]["kpt_density"] == 7.5
    for stage in ("phases", "molecules"):
        assert h(plain, stage) != h(denser, stage), stage
    for stage in ("atoms", "bulk", "surfaces", "clean", "sites", "adsorption", "interfaces"):
        assert h(plain, stage) == h(denser, stage), stage


def test_the_schema_ships_inside_the_package():
    """A plain (non-editable) pip install carries the schema: it is package data."""
    from pathlib import Path

    import philicity

    assert config.SCHEMA.is_file()
    assert config.SCHEMA.parent.parent == Path(philicity.__file__).parent
    assert "presets" in config.load_schema()["properties"]
