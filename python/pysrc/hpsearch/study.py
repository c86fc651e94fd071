"""The study: a search's committed trials (from ``optimize``, ``run`` or
ask/tell), read from its results folder's journal."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from . import _native

# hpsearch's status names, and Optuna's TrialState names for them.
_STATE = {"ok": "COMPLETE", "failed": "FAIL", "timeout": "FAIL", "pruned": "PRUNED"}


def _cell(text: str) -> Any:
    """A result column's cell as the number it holds, or the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


@dataclass(frozen=True)
class FrozenTrial:
    """A committed trial, as ``trials.csv`` holds it."""

    number: int
    seed: int
    status: str
    """hpsearch's status: ``ok``, ``failed``, ``timeout`` or ``pruned``."""
    value: Optional[float]
    params: Dict[str, Any]
    folds: List[float] = field(default_factory=list)
    user_attrs: Dict[str, Any] = field(default_factory=dict)
    """The objective's other result keys (its dict's keys besides ``value``)."""
    intermediate_values: Dict[int, float] = field(default_factory=dict)
    error: str = ""

    @property
    def state(self) -> str:
        """Optuna's name for the status: COMPLETE, FAIL or PRUNED."""
        return _STATE.get(self.status, self.status.upper())

    @classmethod
    def _from_row(cls, row: Dict[str, Any]) -> "FrozenTrial":
        attrs: Dict[str, Any] = {}
        for name, cell in row["extra"]:
            if not cell:
                continue
            if name == "extra":
                attrs.update(json.loads(cell))
            else:
                attrs[name] = _cell(cell)
        return cls(
            number=row["number"],
            seed=row["seed"],
            status=row["status"],
            value=row["value"],
            params=row["params"],
            folds=list(row["folds"]),
            user_attrs=attrs,
            intermediate_values={int(s): v for s, v in row["steps"]},
            error=row["error"],
        )


class Study:
    """A search's trials and its best one. Made by ``hpsearch.optimize``,
    ``hpsearch.run`` and ``hpsearch.create_study`` (ask/tell)."""

    def __init__(self, search: "_native.Search", dir: Path, rows: Optional[list], asktell=None):
        self._search = search
        self.dir = Path(dir)
        self._rows = rows
        self._asktell = asktell

    def __repr__(self) -> str:
        return (
            f"Study(dir={str(self.dir)!r}, root={self.root[:12]!r}, "
            f"trials={len(self.trials)}/{self._search.budget})"
        )

    @property
    def root(self) -> str:
        """The search's root hash (its identity)."""
        return self._search.root

    @property
    def direction(self) -> str:
        """``minimize`` or ``maximize``."""
        return self._search.direction

    @property
    def trials(self) -> List[FrozenTrial]:
        """The committed trials, in trial order."""
        rows = self._asktell.rows() if self._asktell is not None else self._rows
        return [FrozenTrial._from_row(r) for r in rows]

    @property
    def best_trial(self) -> FrozenTrial:
        """The best successful trial (ties: the lowest number), as the CLI's
        ``show`` picks it. ValueError when no trial succeeded."""
        ok = [t for t in self.trials if t.status == "ok" and t.value is not None]
        if not ok:
            raise ValueError(f"{self.dir}: no trial succeeded")
        sign = 1.0 if self.direction == "minimize" else -1.0
        return min(ok, key=lambda t: (sign * t.value, t.number))

    @property
    def best_value(self) -> float:
        """The best trial's value."""
        return self.best_trial.value

    @property
    def best_params(self) -> Dict[str, Any]:
        """The best trial's parameters."""
        return self.best_trial.params

    def trials_dataframe(self):
        """The trials as a pandas DataFrame: number, seed, state, status,
        value, ``params_<name>``, ``user_attrs_<key>``, error."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "trials_dataframe needs pandas: pip install pandas "
                "(or read trials.csv in the results folder)"
            ) from None
        records = []
        for t in self.trials:
            r: Dict[str, Any] = {
                "number": t.number,
                "seed": t.seed,
                "state": t.state,
                "status": t.status,
                "value": t.value,
            }
            r.update({f"params_{k}": v for k, v in t.params.items()})
            r.update({f"user_attrs_{k}": v for k, v in t.user_attrs.items()})
            r["error"] = t.error
            records.append(r)
        return pd.DataFrame.from_records(records)

    # Ask and tell.

    def _driver(self):
        if self._asktell is None:
            raise RuntimeError("ask/tell: make the study with hpsearch.create_study")
        return self._asktell

    def ask(self) -> Optional["_native.Trial"]:
        """The next trial to evaluate, or None once the budget is asked."""
        return self._driver().ask()

    def tell(self, trial: "_native.Trial", value: Any = None, *, state: Optional[str] = None,
             error: Optional[str] = None) -> None:
        """Record ``trial``'s result: a float or a dict with ``value``
        (state "complete"), or ``state="fail"`` (with ``error``) or
        ``state="pruned"`` (at its last reported value). Trials may be told
        in any order; the journal commits them in trial order."""
        self._driver().tell(trial, value, state, error)

    def finish(self) -> List[FrozenTrial]:
        """Close the journal (marked finished once the whole budget is in
        it; otherwise the same create_study resumes) and return the trials."""
        rows = self._driver().finish()
        self._asktell = None
        self._rows = rows
        return self.trials

    def __enter__(self) -> "Study":
        return self

    def __exit__(self, *exc) -> None:
        if self._asktell is not None:
            self.finish()
