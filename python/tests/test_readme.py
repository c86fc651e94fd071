"""The README's Python example runs as written and prints what it says."""

import re

from conftest import REPO, run_python


def test_the_readmes_first_python_example_runs(in_tmp):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    out = run_python(code, in_tmp)
    assert out.returncode == 0, out.stderr
    value, params = out.stdout.split(" ", 1)
    assert 0.0 <= float(value) < 1.0
    assert "'x'" in params and "'act'" in params
    assert (in_tmp / "results/quadratic/trials.csv").read_text().count("\n") == 101
