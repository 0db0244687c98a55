"""Print each document's tables (Markdown) from a results folder: computed, never typed in. Each
table follows the marker a document holds it under: <!-- TABLE name --> in that document.

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
        for name, table in tables.items():
            print(f"<!-- {document}: TABLE {name} -->\n\n{table}\n")


if __name__ == "__main__":
    main()
