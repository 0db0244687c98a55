"""Print the README's headline tables (Markdown) from a results folder: computed, never typed in.

    python scripts/headline.py results/reference
"""
import argparse
from pathlib import Path

from edbench.report import markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    print("\n\n".join(markdown.readme_tables(args.results)))


if __name__ == "__main__":
    main()
