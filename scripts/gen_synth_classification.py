"""Write the 20,000-row synthetic classification sets of bench_halving.sh
and bench_forest.sh.

scikit-learn's make_classification with a fixed random_state: 20 features
(10 informative, 5 redundant, 5 noise), 3 classes, 1 % flipped labels; or,
given FEATURES, that many features (10 informative, 5 redundant, the rest
noise), otherwise the same. The
CSV is in the layout of data/README.md: a header row, floats in shortest
round-trip form (Python's repr), the class as the last column, `target`.
The same scikit-learn version writes the same bytes; its SHA-256 is
printed so a run can say which file it used.

    python3 scripts/gen_synth_classification.py target/bench-data/synth20k.csv
    python3 scripts/gen_synth_classification.py target/bench-data/synth20k_30.csv 30
"""
import hashlib
import os
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: gen_synth_classification.py OUT.csv [FEATURES]")
    features = int(sys.argv[2]) if len(sys.argv) == 3 else 20
    from sklearn.datasets import make_classification
    X, y = make_classification(n_samples=20000, n_features=features, n_informative=10, n_redundant=5,
                               n_classes=3, flip_y=0.01, random_state=20261206)
    out = sys.argv[1]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    lines = [",".join([f"x{j}" for j in range(X.shape[1])] + ["target"])]
    for row, label in zip(X.tolist(), y.tolist()):
        lines.append(",".join([repr(v) for v in row] + [str(label)]))
    data = ("\n".join(lines) + "\n").encode()
    with open(out, "wb") as fh:
        fh.write(data)
    print(f"{out}: {X.shape[0]} rows x {X.shape[1]} features, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
