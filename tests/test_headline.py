"""The README's headline tables are what scripts/headline.py prints from results/reference/."""
import subprocess
import sys

from conftest import REPO


def test_readme_tables_are_printed_from_the_reference():
    done = subprocess.run([sys.executable, "scripts/headline.py", "results/reference"], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=True)
    readme = (REPO / "README.md").read_text()
    tables = done.stdout.strip().split("\n\n")
    assert len(tables) == 5   # the race, the protocols, the claims, speed, throughput check
    missing = [table.splitlines()[0] for table in tables if table not in readme]
    assert not missing, f"README tables differ from headline.py's output: {missing}"
