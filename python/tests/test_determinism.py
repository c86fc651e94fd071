"""The promises: the same trials.csv, byte for byte, for any thread count,
after kill -9 and resume, after Ctrl-C and resume in the same process (a
notebook), and as the CLI running the same search with a program."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import hpsearch
from conftest import branin, hpsearch_command, read, run_python

TPE = """
[search]
strategy = "tpe"
trials = 40
seed = 7
parallel = 4
[objective]
external = "branin"
version = "1"
[space]
x0 = { type = "float", low = -5.0, high = 10.0 }
x1 = { type = "float", low = 0.0, high = 15.0 }
k = { type = "categorical", choices = ["a", "b"] }
"""


def objective(trial):
    p = trial.params
    shift = 0.0 if p["k"] == "a" else 1.0
    return {"value": branin(p["x0"], p["x1"]) + shift, "seed_mod": trial.seed % 1000}


@pytest.mark.parametrize("text", [TPE, TPE.replace('"tpe"', '"gp"').replace("40", "16")])
def test_identical_for_threads_1_2_and_8(in_tmp, text):
    outs = []
    for threads in (1, 2, 8):
        hpsearch.optimize(objective, text, out=f"j{threads}", threads=threads)
        outs.append(read(in_tmp / f"j{threads}/trials.csv"))
    assert outs[0] == outs[1] == outs[2]
    trials = 40 if '"tpe"' in text else 16
    assert outs[0].count(b"\n") == trials + 1


def test_identical_with_a_pruner_for_threads_1_2_and_8(in_tmp):
    from test_api import PRUNED, curves

    outs = []
    for threads in (1, 2, 8):
        hpsearch.optimize(curves, PRUNED, out=f"p{threads}", threads=threads)
        outs.append(read(in_tmp / f"p{threads}/trials.csv"))
    assert outs[0] == outs[1] == outs[2]
    assert b",pruned," in outs[0]


SLOW = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    import hpsearch
    from test_determinism import TPE, objective

    def slow(trial):
        time.sleep(0.05)
        return objective(trial)
    slow.__name__ = "objective"
    hpsearch.optimize(slow, TPE, out="killed", threads=2)
    print("finished")
    """
)


def test_kill_9_and_resume_equals_a_straight_run(in_tmp):
    hpsearch.optimize(objective, TPE, out="straight", threads=2)
    code = SLOW.format(tests=str(Path(__file__).parent))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=in_tmp)
    journal = in_tmp / "killed/trials.csv"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 12:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    lines = journal.read_bytes().count(b"\n")
    assert 12 <= lines < 41, lines
    study = hpsearch.optimize(objective, TPE, out="killed", threads=2)
    assert len(study.trials) == 40
    assert read(journal) == read(in_tmp / "straight/trials.csv")


NOTEBOOK = textwrap.dedent(
    """
    import os, signal, sys, time
    sys.path.insert(0, {tests!r})
    import hpsearch
    from test_determinism import TPE, objective

    # Cell 1: the user presses Ctrl-C while trial 15 runs.
    pressed = []
    def interrupted(trial):
        if trial.number == 15 and not pressed:
            pressed.append(1)
            os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.02)  # a trial takes a while
        return objective(trial)
    interrupted.__name__ = "objective"
    try:
        hpsearch.optimize(interrupted, TPE, out="nb", threads=2)
        print("not interrupted")
    except KeyboardInterrupt as e:
        print("interrupted:", e)
    study = hpsearch.create_study(TPE, out="nb")
    print("kept", len(study.trials))
    study.finish()
    # Cell 2: the same call again resumes and finishes.
    study = hpsearch.optimize(interrupted, TPE, out="nb", threads=2)
    print("resumed", len(study.trials))
    """
)


def test_ctrl_c_in_a_notebook_stops_cleanly_and_the_same_call_resumes(in_tmp):
    hpsearch.optimize(objective, TPE, out="straight", threads=2)
    out = run_python(NOTEBOOK.format(tests=str(Path(__file__).parent)), in_tmp)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("interrupted: ") and "run the same search again to resume" in lines[0]
    kept = int(lines[1].split()[1])
    assert 0 < kept < 40, lines
    assert lines[2] == "resumed 40"
    assert read(in_tmp / "nb/trials.csv") == read(in_tmp / "straight/trials.csv")


HANGING = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    sys.path.insert(0, {tests!r})
    import hpsearch
    from test_determinism import TPE, objective

    def hangs(trial):
        if trial.number == 5:
            while True:          # a training loop that never ends
                time.sleep(0.01)
        return objective(trial)
    hangs.__name__ = "objective"
    # Ctrl-C two seconds in, as a user would.
    threading.Timer(2.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    began = time.monotonic()
    try:
        hpsearch.optimize(hangs, TPE, out="hang", threads=2)
    except KeyboardInterrupt:
        print("stopped after", round(time.monotonic() - began))
    study = hpsearch.optimize(objective, TPE, out="hang", threads=2)
    print("resumed", len(study.trials))
    """
)


def test_a_hanging_objective_is_stopped_by_ctrl_c_and_the_folder_resumes(in_tmp):
    hpsearch.optimize(objective, TPE, out="straight", threads=2)
    out = run_python(HANGING.format(tests=str(Path(__file__).parent)), in_tmp, timeout=90)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("stopped after "), lines
    assert int(lines[0].split()[-1]) < 30
    assert lines[1] == "resumed 40"
    assert read(in_tmp / "hang/trials.csv") == read(in_tmp / "straight/trials.csv")


PROGRAM = textwrap.dedent(
    """
    import json, os, sys
    sys.path.insert(0, {tests!r})
    from conftest import branin

    with open(os.environ["HPSEARCH_PARAMS"]) as f:
        p = json.load(f)
    shift = 0.0 if p["k"] == "a" else 1.0
    seed = int(os.environ["HPSEARCH_SEED"])
    print(json.dumps({{"value": branin(p["x0"], p["x1"]) + shift, "seed_mod": seed % 1000}}))
    """
)


def test_the_cli_with_an_equivalent_program_writes_the_same_journal(in_tmp):
    """The same search file, its code given once by Python and once by a
    `command` the CLI runs: the same root hash and trials.csv."""
    (in_tmp / "objective.py").write_text(PROGRAM.format(tests=str(Path(__file__).parent)))
    text = TPE.replace('version = "1"', 'version = "1"\ncommand = ["%s", "objective.py"]' % sys.executable)
    (in_tmp / "s.toml").write_text(text)
    outs = []
    for threads in ("1", "2"):
        run = subprocess.run(
            [hpsearch_command(), "run", "s.toml", "-q", "-j", threads, "--out", f"cli{threads}"],
            capture_output=True, text=True,
        )
        assert run.returncode == 0, run.stderr
        outs.append(read(in_tmp / f"cli{threads}/trials.csv"))
    for threads in (1, 2):
        study = hpsearch.optimize(objective, "s.toml", out=f"py{threads}", threads=threads)
        outs.append(read(in_tmp / f"py{threads}/trials.csv"))
    assert outs[0] == outs[1] == outs[2] == outs[3]
    assert b"seed_mod" in outs[0] and outs[0].count(b"\n") == 41
    assert study.trials[0].user_attrs["seed_mod"] == study.trials[0].seed % 1000
