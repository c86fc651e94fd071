"""The API: spaces from dicts and TOML, optimize, the study, ask/tell,
pruning, built-in searches, errors."""

import json
import math
from pathlib import Path

import pytest

import hpsearch
from conftest import branin, hpsearch_command, read

import subprocess

SPACE = {"x0": hpsearch.Float(-5, 10), "x1": hpsearch.Float(0, 15)}

TOML = """
[search]
strategy = "tpe"
trials = 20
seed = 3
[objective]
external = "branin"
version = "1"
[space]
x0 = { type = "float", low = -5.0, high = 10.0 }
x1 = { type = "float", low = 0.0, high = 15.0 }
"""


def branin_objective(trial):
    return branin(trial.params["x0"], trial.params["x1"])


def test_optimize_returns_the_study_with_its_best_trial(in_tmp):
    study = hpsearch.optimize(branin_objective, SPACE, trials=25, seed=1, threads=2)
    assert len(study.trials) == 25
    assert [t.number for t in study.trials] == list(range(25))
    best = study.best_trial
    assert best.value == min(t.value for t in study.trials)
    assert study.best_value == best.value and study.best_params == best.params
    assert best.state == "COMPLETE" and best.status == "ok"
    assert set(best.params) == {"x0", "x1"}
    # The default folder is results/<the function's name>.
    assert study.dir == Path("results/branin_objective")
    assert (in_tmp / "results/branin_objective/trials.csv").exists()
    # Each trial's value is the objective at its recorded parameters.
    for t in study.trials:
        assert t.value == branin(t.params["x0"], t.params["x1"])


def test_trial_gives_parameters_seed_and_number(in_tmp):
    seen = {}

    def objective(trial):
        seen[trial.number] = (trial.seed, trial.params, trial.suggest_float("x0", -5, 10))
        return 0.0

    study = hpsearch.optimize(objective, SPACE, strategy="random", trials=5, threads=1)
    for t in study.trials:
        seed, params, x0 = seen[t.number]
        assert seed == t.seed and params == t.params and x0 == t.params["x0"]
    assert len({t.seed for t in study.trials}) == 5


def test_suggest_of_an_unknown_name_fails_the_trial_naming_it(in_tmp):
    study = hpsearch.optimize(
        lambda t: t.suggest_int("depth", 1, 3), SPACE, strategy="random", trials=2, threads=1,
        name="unknown",
    )
    assert all(t.status == "failed" for t in study.trials)
    assert "depth: not a parameter" in study.trials[0].error


def test_dict_results_keep_their_other_keys(in_tmp):
    def objective(trial):
        v = branin(trial.params["x0"], trial.params["x1"])
        return {"value": v, "loss": v / 2, "note": "n", "epochs": 3}

    study = hpsearch.optimize(
        objective, SPACE, strategy="random", trials=4, threads=1, columns=["loss"]
    )
    t = study.trials[0]
    assert t.user_attrs == {"loss": t.value / 2, "note": "n", "epochs": 3}
    header = (study.dir / "trials.csv").read_text().splitlines()[0]
    assert header.split(",")[-4:] == ["loss", "extra", "error", "check"]


def test_a_space_from_a_dict_a_toml_text_and_a_file_is_the_same_search(in_tmp):
    space = {"x0": (-5.0, 10.0), "x1": hpsearch.Float(0, 15)}
    a = hpsearch.optimize(branin_objective, space, trials=20, seed=3, name="branin", out="a")
    b = hpsearch.optimize(branin_objective, TOML, out="b")
    (in_tmp / "branin.toml").write_text(TOML)
    c = hpsearch.optimize(branin_objective, "branin.toml", out="c")
    assert a.root == b.root == c.root
    assert read(in_tmp / "a/trials.csv") == read(in_tmp / "b/trials.csv") == read(
        in_tmp / "c/trials.csv"
    )


def test_shorthands_lists_are_categorical_and_int_tuples_are_ints(in_tmp):
    space = {"k": ["a", "b", "c"], "n": (1, 4), "lr": hpsearch.Float(1e-4, 1e-1, log=True)}
    study = hpsearch.optimize(lambda t: 0.0, space, strategy="random", trials=12, name="s")
    for t in study.trials:
        assert t.params["k"] in {"a", "b", "c"}
        assert isinstance(t.params["n"], int) and 1 <= t.params["n"] <= 4
        assert 1e-4 <= t.params["lr"] <= 1e-1
    assert "[space.k]" in (study.dir / "search.toml").read_text() or True


def test_maximize(in_tmp):
    study = hpsearch.optimize(
        lambda t: -branin(t.params["x0"], t.params["x1"]), SPACE, trials=15,
        direction="maximize", name="neg",
    )
    assert study.direction == "maximize"
    assert study.best_value == max(t.value for t in study.trials)


def test_an_exception_fails_the_trial_with_its_traceback_and_the_search_goes_on(in_tmp):
    def objective(trial):
        if trial.number % 3 == 1:
            raise ZeroDivisionError("division by zero in my model")
        return trial.params["x0"]

    study = hpsearch.optimize(objective, SPACE, strategy="random", trials=9, threads=2)
    failed = [t for t in study.trials if t.status == "failed"]
    assert [t.number for t in failed] == [1, 4, 7]
    for t in failed:
        assert t.value is None and t.state == "FAIL"
        assert "Traceback (most recent call last)" in t.error
        assert "ZeroDivisionError: division by zero in my model" in t.error
        assert "in objective" in t.error
    assert all(t.status == "ok" for t in study.trials if t.number % 3 != 1)


@pytest.mark.parametrize(
    "result, why",
    [
        (None, "returned None"),
        ("0.5", "returned '0.5'"),
        (True, "returned True"),
        ({"loss": 1.0}, "no \"value\" key"),
        ({"value": float("inf")}, "value Infinity is not a finite number"),
        ({"value": "x"}, "value is not a number"),
        (float("nan"), "not finite"),
    ],
)
def test_a_bad_result_fails_the_trial_saying_why(in_tmp, result, why):
    study = hpsearch.optimize(lambda t: result, SPACE, strategy="random", trials=1, name="bad")
    (t,) = study.trials
    assert t.status == "failed" and why in t.error, t.error


@pytest.mark.parametrize(
    "space, key",
    [
        ({"x": {"type": "float", "low": 1.0, "high": 0.0}}, "space.x"),
        ({"x": {"type": "float", "low": 0.0, "high": 1.0, "bogus": 1}}, "bogus"),
        ({"x": {"type": "wide", "low": 0, "high": 1}}, "space.x"),
        ({"x": 5}, "space.x"),
        ({"x": {"type": "categorical", "choices": []}}, "space.x"),
    ],
)
def test_a_bad_space_is_a_value_error_naming_the_key_and_writes_nothing(in_tmp, space, key):
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        hpsearch.optimize(lambda t: 0.0, space, trials=3, name="bad", out="out")
    assert not (in_tmp / "out").exists() and not (in_tmp / "results").exists()


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"strategy": "annealing"}, "strategy"),
        ({"trials": 0}, "trials"),
        ({"direction": "up"}, "direction"),
        ({"pruner": {"kind": "median", "n_startup_trials": -1}}, "n_startup_trials"),
    ],
)
def test_bad_settings_are_value_errors_naming_the_key(in_tmp, kwargs, key):
    with pytest.raises(ValueError, match=key):
        hpsearch.optimize(lambda t: 0.0, SPACE, name="bad", out="out", **kwargs)
    assert not (in_tmp / "out").exists()


def test_a_search_file_with_settings_given_twice_is_refused(in_tmp):
    with pytest.raises(ValueError, match="trials: the search file sets"):
        hpsearch.optimize(branin_objective, TOML, trials=5)
    with pytest.raises(ValueError, match="version: the search file sets"):
        hpsearch.optimize(branin_objective, TOML, version="2")


def test_a_builtin_objective_is_refused_by_optimize_and_run_by_run(in_tmp):
    text = TOML.replace('external = "branin"\nversion = "1"', 'function = "branin"')
    with pytest.raises(ValueError, match="built in"):
        hpsearch.optimize(branin_objective, text)
    study = hpsearch.run(text, out="fn", threads=2)
    assert len(study.trials) == 20
    # The built-in function gives the values the Python one gives.
    py = hpsearch.optimize(branin_objective, TOML, out="py")
    assert [t.params for t in study.trials] != [] and study.best_value == pytest.approx(
        min(t.value for t in study.trials)
    )
    assert all(
        t.value == pytest.approx(branin(t.params["x0"], t.params["x1"]), rel=1e-12)
        for t in study.trials
    )
    assert py.root != study.root  # another objective, another search


def test_run_a_builtin_model_search_returns_the_study(in_tmp):
    from conftest import REPO

    text = f"""
[search]
strategy = "random"
trials = 4
[objective]
model = "logistic_regression"
metric = "accuracy"
[data]
path = "{REPO / 'data' / 'iris.csv'}"
target = "target"
[cv]
folds = 3
[space]
C = {{ type = "float", low = 0.01, high = 10.0, log = true }}
"""
    study = hpsearch.run(text, out="model")
    assert len(study.trials) == 4
    assert all(len(t.folds) == 3 for t in study.trials)
    assert study.direction == "maximize" and 0.5 < study.best_value <= 1.0
    # The CLI reads the folder.
    shown = subprocess.run(
        [hpsearch_command(), "show", "model"], capture_output=True, text=True, check=True
    )
    assert "4 of 4 done" in shown.stdout


def test_an_external_search_cannot_be_run_without_its_code(in_tmp):
    with pytest.raises(ValueError, match="external"):
        hpsearch.run(TOML)


def test_a_finished_folder_is_returned_as_it_is(in_tmp):
    calls = []

    def objective(trial):
        calls.append(trial.number)
        return branin_objective(trial)

    a = hpsearch.optimize(objective, TOML, out="f")
    n = len(calls)
    b = hpsearch.optimize(objective, TOML, out="f")
    assert len(calls) == n == 20
    assert [t.value for t in a.trials] == [t.value for t in b.trials]


def test_another_search_in_the_same_folder_is_refused(in_tmp):
    hpsearch.optimize(branin_objective, TOML, out="f")
    with pytest.raises(ValueError, match="another search|root hash|different"):
        hpsearch.optimize(branin_objective, TOML.replace("seed = 3", "seed = 4"), out="f")


def test_the_version_is_part_of_the_identity(in_tmp):
    a = hpsearch.optimize(branin_objective, SPACE, trials=5, version="1", name="v")
    b = hpsearch.optimize(branin_objective, SPACE, trials=5, version="2", name="v", out="v2")
    assert a.root != b.root


def test_trials_dataframe(in_tmp):
    pd = pytest.importorskip("pandas")
    study = hpsearch.optimize(
        lambda t: {"value": t.params["x0"], "aux": 1}, SPACE, strategy="random", trials=6,
        name="df",
    )
    df = study.trials_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) == 6
    assert list(df["number"]) == list(range(6))
    assert {"params_x0", "params_x1", "value", "state", "user_attrs_aux"} <= set(df.columns)
    assert list(df["value"]) == [t.value for t in study.trials]


# Ask and tell.


def test_ask_tell_in_any_order_writes_the_journal_optimize_writes(in_tmp):
    hpsearch.optimize(branin_objective, TOML, out="ref")
    study = hpsearch.create_study(TOML, out="at")
    waiting = []
    while True:
        try:
            trial = study.ask()
        except RuntimeError as e:  # the window: tell the earlier trials first
            assert "are told" in str(e)
            for t in reversed(waiting):
                study.tell(t, branin_objective(t))
            waiting = []
            continue
        if trial is None:
            break
        waiting.append(trial)
    for t in reversed(waiting):
        study.tell(t, branin_objective(t))
    trials = study.finish()
    assert len(trials) == 20
    assert read(in_tmp / "ref/trials.csv") == read(in_tmp / "at/trials.csv")


def test_ask_tell_resumes_and_refuses_a_second_tell(in_tmp):
    study = hpsearch.create_study(SPACE, strategy="random", trials=6, name="r", out="r")
    first = [study.ask() for _ in range(3)]
    for t in first:
        study.tell(t, 1.0)
    with pytest.raises(ValueError, match="already told"):
        study.tell(first[0], 1.0)
    with pytest.raises(ValueError, match="state"):
        study.tell(study.ask(), 1.0, state="weird")
    study.finish()
    again = hpsearch.create_study(SPACE, strategy="random", trials=6, name="r", out="r")
    assert len(again.trials) == 3
    while (t := again.ask()) is not None:
        again.tell(t, 2.0)
    assert [t.value for t in again.finish()] == [1.0] * 3 + [2.0] * 3


def test_ask_tell_fail_and_pruned(in_tmp):
    with hpsearch.create_study(SPACE, strategy="random", trials=3, name="fp", out="fp") as study:
        a, b, c = study.ask(), study.ask(), study.ask()
        study.tell(a, state="fail", error="out of memory")
        with pytest.raises(ValueError, match="without a reported value"):
            study.tell(b, state="pruned")
        b.report(0.5, 1)
        b.report(0.25, 2)
        study.tell(b, state="pruned")
        study.tell(c, {"value": 3.0})
    t = study.trials
    assert (t[0].status, t[0].error) == ("failed", "out of memory")
    # Without [search.pruner] the journal has no `steps` column: the pruned
    # trial keeps its last value only.
    assert (t[1].status, t[1].value, t[1].intermediate_values) == ("pruned", 0.25, {})
    assert t[2].value == 3.0


# Pruning.

PRUNED = """
[search]
strategy = "random"
trials = 24
seed = 0
[search.pruner]
kind = "median"
n_startup_trials = 3
[objective]
external = "curves"
version = "1"
[space]
rate = { type = "float", low = 0.01, high = 1.0 }
"""


def curves(trial):
    """A loss that falls at `rate` per epoch: slow rates are pruned."""
    loss = 1.0
    for epoch in range(1, 11):
        loss *= 1.0 - 0.5 * trial.params["rate"]
        trial.report(loss, epoch)
        if trial.should_prune():
            return loss
    return loss


def test_report_and_should_prune_prune_slow_trials(in_tmp):
    study = hpsearch.optimize(curves, PRUNED, out="p", threads=2)
    pruned = [t for t in study.trials if t.status == "pruned"]
    done = [t for t in study.trials if t.status == "ok"]
    assert pruned and done
    for t in pruned:
        last = max(t.intermediate_values)
        assert t.value == t.intermediate_values[last] and last < 10
    for t in done:
        assert sorted(t.intermediate_values) == list(range(1, 11))


def test_raising_trial_pruned_prunes_at_the_last_report(in_tmp):
    def objective(trial):
        trial.report(2.0, 1)
        trial.report(1.5, 2)
        raise hpsearch.TrialPruned()

    study = hpsearch.optimize(objective, PRUNED, out="tp", threads=1)
    assert all(t.status == "pruned" and t.value == 1.5 for t in study.trials)


def test_a_bad_report_raises_and_fails_the_trial(in_tmp):
    def objective(trial):
        trial.report(1.0, 2)
        try:
            trial.report(0.5, 2)
        except ValueError as e:
            assert "steps must increase" in str(e)
        return 0.0

    study = hpsearch.optimize(objective, PRUNED, out="br", threads=1)
    assert all(t.status == "failed" and "steps must increase" in t.error for t in study.trials)


def test_the_package_installs_the_hpsearch_command(in_tmp):
    out = subprocess.run([hpsearch_command(), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "run" in out.stdout
    (in_tmp / "s.toml").write_text(TOML.replace('external = "branin"\nversion = "1"', 'function = "branin"'))
    run = subprocess.run([hpsearch_command(), "run", "s.toml", "-j", "2"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (in_tmp / "results/s/trials.csv").exists()
    bad = subprocess.run([hpsearch_command(), "run", "missing.toml"], capture_output=True, text=True)
    assert bad.returncode == 2 and "error:" in bad.stderr


def test_the_cli_reads_a_python_search_folder(in_tmp):
    hpsearch.optimize(branin_objective, TOML, out="py")
    for args in (["show", "py"], ["list", "."], ["report", "py", "--out", "report.html"]):
        out = subprocess.run([hpsearch_command(), *args], capture_output=True, text=True)
        assert out.returncode == 0, (args, out.stderr)
    assert "trial" in (in_tmp / "report.html").read_text()


def test_replay_compares_a_trial_bit_for_bit(in_tmp):
    study = hpsearch.optimize(branin_objective, TOML, out="r", threads=2)
    same = hpsearch.replay("r", branin_objective)
    assert same["same"] and same["difference"] is None
    assert same["trial"] == study.best_trial.number and same["value"] == study.best_value
    assert hpsearch.replay("r", branin_objective, trial=3)["trial"] == 3
    changed = hpsearch.replay("r", lambda t: branin_objective(t) + 1e-9)
    assert not changed["same"] and "value" in changed["difference"]
    with pytest.raises(ValueError, match="external: give its code"):
        hpsearch.replay("r")
    with pytest.raises(ValueError, match="no trial 99|99"):
        hpsearch.replay("r", branin_objective, trial=99)
    # A built-in objective replays without code, and refuses code.
    text = TOML.replace('external = "branin"\nversion = "1"', 'function = "branin"')
    hpsearch.run(text, out="fn")
    assert hpsearch.replay("fn")["same"]
    with pytest.raises(ValueError, match="built in"):
        hpsearch.replay("fn", branin_objective)


def test_conditional_parameters_are_absent_when_inactive(in_tmp):
    seen = []

    def objective(trial):
        seen.append(dict(trial.params))
        p = trial.params
        return p["C"] + (p["gamma"] if p["kernel"] == "rbf" else 0.0)

    space = {
        "C": hpsearch.Float(0.1, 10, log=True),
        "kernel": ["rbf", "linear"],
        "gamma": hpsearch.Float(1e-3, 1, log=True, when={"kernel": "rbf"}),
    }
    study = hpsearch.optimize(objective, space, strategy="tpe", trials=20, threads=2, name="svm")
    for t in study.trials:
        assert ("gamma" in t.params) == (t.params["kernel"] == "rbf")
    assert all(("gamma" in p) == (p["kernel"] == "rbf") for p in seen)
    with pytest.raises(ValueError, match="when"):
        hpsearch.optimize(objective, {"C": (0.1, 1.0), "g": hpsearch.Float(0, 1, when={"C": 1.0})},
                          name="bad", out="bad")
    assert not (in_tmp / "bad").exists()
