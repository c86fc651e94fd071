"""hpsearch from Python: the same engine, results folder and promises as the
``hpsearch`` command.

A search gives the same trials, scores and best trial, bit for bit, for any
``threads`` and after any interruption: the objective receives each trial's
parameters and seed, and a deterministic objective (one that seeds its
randomness with ``trial.seed``) makes a ``trials.csv`` identical to a
straight run's.

    import hpsearch

    def objective(trial):
        x, y = trial.params["x"], trial.params["y"]
        return (x - 2) ** 2 + (y + 1) ** 2

    study = hpsearch.optimize(
        objective,
        {"x": hpsearch.Float(-5, 5), "y": hpsearch.Float(-5, 5)},
        strategy="tpe", trials=50, seed=0, out="results/quadratic",
    )
    print(study.best_value, study.best_params)

Threads: the objective is called from ``threads`` worker threads, each
holding the GIL only for the call. A CPU-bound objective in pure Python
therefore does not run in parallel; one that releases the GIL (numpy,
PyTorch, a subprocess) does. For parallel pure-Python work use a
``command`` program in the search file (one process per trial).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Union

from . import _native
from ._native import Trial, TrialPruned, __version__
from .study import FrozenTrial, Study

__all__ = [
    "Categorical",
    "Float",
    "FrozenTrial",
    "Int",
    "Study",
    "Trial",
    "TrialPruned",
    "create_study",
    "optimize",
    "replay",
    "run",
    "__version__",
]

SpaceLike = Union[Mapping[str, Any], str, "os.PathLike[str]"]


def Float(
    low: float, high: float, *, log: bool = False, step: Optional[float] = None,
    when: Optional[Mapping[str, Any]] = None,
) -> dict:
    """A float parameter in [low, high] (Optuna's ``suggest_float``);
    ``when={"kernel": "rbf"}`` makes it active only under that condition."""
    return {"type": "float", "low": float(low), "high": float(high), "log": log, "step": step,
            "when": when}


def Int(
    low: int, high: int, *, log: bool = False, step: Optional[int] = None,
    when: Optional[Mapping[str, Any]] = None,
) -> dict:
    """An integer parameter in [low, high] (Optuna's ``suggest_int``)."""
    return {"type": "int", "low": int(low), "high": int(high), "log": log, "step": step,
            "when": when}


def Categorical(choices: Iterable[Any], *, when: Optional[Mapping[str, Any]] = None) -> dict:
    """A choice among ``choices`` (Optuna's ``suggest_categorical``)."""
    return {"type": "categorical", "choices": list(choices), "when": when}


def _param(name: str, spec: Any) -> dict:
    """One parameter of a dict space: a dict as in the search file's
    ``[space]``, a list (categorical) or a ``(low, high)`` tuple."""
    if isinstance(spec, Mapping):
        return {k: v for k, v in spec.items() if v is not None and not (k == "log" and v is False)}
    if isinstance(spec, list):
        return Categorical(spec)
    if isinstance(spec, tuple) and len(spec) == 2:
        low, high = spec
        if isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool):
            return {"type": "int", "low": low, "high": high}
        return {"type": "float", "low": float(low), "high": float(high)}
    raise ValueError(
        f"space.{name}: {spec!r} is not a parameter; give a dict such as "
        f"hpsearch.Float(0, 1), a list of choices, or a (low, high) tuple"
    )


def _is_toml_text(s: str) -> bool:
    return "\n" in s or s.lstrip().startswith("[")


def _search_text(space: Any) -> "tuple[str, Path] | None":
    """A search file given as a path or as TOML text: (text, file)."""
    if isinstance(space, os.PathLike) or (isinstance(space, str) and not _is_toml_text(space)):
        path = Path(space)
        try:
            return path.read_text(encoding="utf-8"), path
        except OSError as e:
            raise ValueError(f"{path}: cannot read the search file: {e.strerror}") from None
    if isinstance(space, str):
        return space, Path("search.toml")
    return None


def _default_out(file: Path) -> str:
    return str(Path("results") / (file.stem or "search"))


def _prepare(
    objective: Optional[Callable[[Trial], Any]],
    space: SpaceLike,
    settings: Dict[str, Any],
) -> "tuple[_native.Search, Path]":
    given = _search_text(space)
    if given is not None:
        text, file = given
        set_ = sorted(k for k, v in settings.items() if v is not None)
        if set_:
            raise ValueError(
                f"{', '.join(set_)}: the search file sets these; edit its [search] and "
                f"[objective] tables instead"
            )
        return _native.Search(text, str(file), objective), file
    if not isinstance(space, Mapping):
        raise ValueError(
            f"space: {type(space).__name__} is not a space; give a dict of parameters, "
            f"a search file's path or its TOML text"
        )
    name = settings["name"] or getattr(objective, "__name__", None) or "objective"
    if name == "<lambda>":
        name = "objective"
    search: Dict[str, Any] = {
        "strategy": settings["strategy"] or "tpe",
        "trials": 100 if settings["trials"] is None else settings["trials"],
        "seed": 0 if settings["seed"] is None else settings["seed"],
        "parallel": settings["parallel"],
    }
    if settings["pruner"] is not None:
        search["pruner"] = dict(settings["pruner"])
    doc = {
        "search": search,
        "objective": {
            "external": name,
            "version": "1" if settings["version"] is None else str(settings["version"]),
            "direction": settings["direction"] or "minimize",
            "columns": list(settings["columns"]) if settings["columns"] else None,
        },
        "space": {k: _param(k, v) for k, v in space.items()},
    }
    file = Path(f"{name}.toml")
    return _native.Search(_native.toml_from_dict(doc), str(file), objective), file


def optimize(
    objective: Callable[[Trial], Any],
    space: SpaceLike,
    *,
    strategy: Optional[str] = None,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
    direction: Optional[str] = None,
    name: Optional[str] = None,
    version: Optional[Union[str, int]] = None,
    parallel: Optional[int] = None,
    pruner: Optional[Mapping[str, Any]] = None,
    columns: Optional[List[str]] = None,
) -> Study:
    """Run ``objective(trial)`` over ``space`` and return the study.

    ``space`` is a dict of parameters (``{"lr": hpsearch.Float(1e-4, 1e-1,
    log=True), "depth": hpsearch.Int(2, 8), "act": ["relu", "tanh"]}``), or a
    search file (its path or TOML text) whose objective is
    ``external = "..."``. The objective returns a float, or a dict with a
    ``value`` key whose other keys are recorded (``columns`` get their own
    column in ``trials.csv``). A Python exception fails the trial with its
    traceback in ``error``; ``raise hpsearch.TrialPruned()`` prunes it.

    The search's identity is its space, settings, ``name`` (default: the
    function's name) and ``version`` (default "1"): change ``version`` when
    the code changes what it returns. ``parallel`` is the proposal window
    (the search file's ``parallel``, default 4), never the thread count.
    Results go to ``out`` (default ``results/<name>``); calling again with
    the same arguments resumes an
    unfinished folder (after Ctrl-C, which raises KeyboardInterrupt once the
    running trials are dropped) and returns a finished one as it is.
    """
    settings = dict(
        strategy=strategy, trials=trials, seed=seed, direction=direction, name=name,
        version=version, parallel=parallel, pruner=pruner, columns=columns,
    )
    search, file = _prepare(objective, space, settings)
    if not search.external:
        raise ValueError(
            f"{file}: the objective is built in ({search.objective_name}); use hpsearch.run "
            f"for it, or make it `external = \"...\"` to give the code from Python"
        )
    return _run(search, file, out, threads)


def run(
    search: Union[str, "os.PathLike[str]"],
    *,
    threads: Optional[int] = None,
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
) -> Study:
    """Run a search file (its path or TOML text) whose objective is built in
    (a model, a function, a command), as ``hpsearch run`` does, and return
    the study."""
    given = _search_text(search)
    if given is None:
        raise ValueError("search: give a search file's path or its TOML text")
    text, file = given
    s = _native.Search(text, str(file), None)
    if not s.runnable:
        raise ValueError(
            f"{file}: the objective `{s.objective_name}` is external: run it with "
            f"hpsearch.optimize(objective, ...)"
        )
    return _run(s, file, out, threads)


def _run(search: "_native.Search", file: Path, out: Any, threads: Optional[int]) -> Study:
    if threads is not None and threads < 1:
        raise ValueError(f"threads={threads}: give at least 1 (or None: one per core)")
    folder = Path(out) if out is not None else Path(_default_out(file))
    _ending, rows = search.run(str(folder), threads)
    return Study(search, folder, rows)


def create_study(
    space: SpaceLike,
    *,
    strategy: Optional[str] = None,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
    direction: Optional[str] = None,
    name: Optional[str] = None,
    version: Optional[Union[str, int]] = None,
    parallel: Optional[int] = None,
    pruner: Optional[Mapping[str, Any]] = None,
    columns: Optional[List[str]] = None,
) -> Study:
    """A study driven by ``study.ask()`` and ``study.tell(trial, value)``,
    journaled in ``out`` (created, or resumed). The journal is the one
    ``optimize`` writes when every trial is told what the objective
    returns. Call ``study.finish()`` (or use ``with``) when done."""
    settings = dict(
        strategy=strategy, trials=trials, seed=seed, direction=direction, name=name,
        version=version, parallel=parallel, pruner=pruner, columns=columns,
    )
    search, file = _prepare(None, space, settings)
    folder = Path(out) if out is not None else Path(_default_out(file))
    return Study(search, folder, None, asktell=search.ask_tell(str(folder)))


def replay(
    out: Union[str, "os.PathLike[str]"],
    objective: Optional[Callable[[Trial], Any]] = None,
    *,
    trial: Optional[int] = None,
) -> Dict[str, Any]:
    """Evaluate trial ``trial`` (default: the best) of the results folder
    ``out`` again, with its recorded parameters and seed, and compare with
    the journal bit for bit, as ``hpsearch replay`` does. ``objective`` is
    the code of an external search (the function ``optimize`` ran). Returns
    ``{"trial", "same", "difference", "status", "value", "skipped"}``:
    ``same`` is True when every recorded number has the same bits."""
    return _native.replay(str(out), objective, trial)
