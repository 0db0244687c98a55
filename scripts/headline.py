"""Print each document's tables (Markdown) from a results folder: computed, never typed in. Each
document's tables follow a line naming it.

    python scripts/headline.py results/reference
"""
import argparse
from pathlib import Path

from edbench.report import markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    for document, tables in markdown.document_tables(args.results).items():
        print(f"<!-- {document} -->\n")
        print("\n\n".join(tables) + "\n")


if __name__ == "__main__":
    main()
