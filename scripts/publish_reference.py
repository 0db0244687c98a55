"""Copy the current tables and figures into results/reference/, the reference run the README shows."""
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from edbench import atomic, provenance  # noqa: E402

TABLES = ["summary.csv", "per_method.csv", "per_method.md", "reproduction.csv", "depth_sweep.csv",
          "xor_convergence.csv", "best_settings.csv", "data_provenance.csv", "speed.csv", "speed_environment.json"]


def main() -> None:
    source, target = Path("results"), Path("results/reference")
    (target / "figures").mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        path = source / "tables" / name
        if not path.exists():
            sys.exit(f"{path} is missing: run `snakemake --cores 8`, then `snakemake --cores 1 speed`, then `snakemake`")
        atomic.write_atomic(target / name, lambda tmp, path=path: shutil.copyfile(path, tmp))
    for path in sorted((source / "figures").glob("*.png")):
        atomic.write_atomic(target / "figures" / path.name, lambda tmp, path=path: shutil.copyfile(path, tmp))
    data = json.loads(Path("resources/data/mnist.json").read_text())
    atomic.write_json(target / "provenance.json", {"environment": provenance.environment(threads=1),
                                                   "data": {k: data[k] for k in ("name", "sha256", "train_count",
                                                                                 "test_count", "source")}})


if __name__ == "__main__":
    main()
