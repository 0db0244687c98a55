"""Print each document's tables (Markdown) from a results folder, or write them into the documents:
computed, never typed in. A document holds each table between <!-- TABLE name --> and <!-- /TABLE -->.

    python scripts/headline.py results/reference            # print them
    python scripts/headline.py results/reference --write    # put them into README.md and docs/
"""
import argparse
import sys
from pathlib import Path

from edbench import atomic
from edbench.report import markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path)
    parser.add_argument("--write", action="store_true", help="replace the marked tables in the documents")
    parser.add_argument("--root", type=Path, default=Path("."), help="where the documents are (default: here)")
    args = parser.parse_args()
    documents = markdown.document_tables(args.results)
    if not args.write:
        for document, tables in documents.items():
            for name, table in tables.items():
                print(f"<!-- {document}: TABLE {name} -->\n\n{table}\n")
        return
    try:   # every document is checked before any is written
        filled = {name: markdown.fill((args.root / name).read_text(), tables, name)
                  for name, tables in documents.items()}
    except (OSError, ValueError) as error:
        sys.exit(f"nothing written: {error}")
    for name, text in filled.items():
        atomic.write_text(args.root / name, text)
        print(f"wrote {len(documents[name])} table(s) into {name}")


if __name__ == "__main__":
    main()
