"""Build ``src/sessionkit/codes/data/icd10cm_history.txt.gz`` from published releases.

Several versions of the PyPI package ``simple-icd-10-cm`` each carry one CDC
release of ICD-10-CM. This script downloads the wheels named on the command
line (or uses wheels already in ``--wheels DIR``), asks each version's own
library for every code of its release and whether the code is a leaf
(billable), and writes one compact table that sessionkit ships::

    python tools/build_icd10_history.py 1.2.0 1.4.0 1.5.0

Versions that carry the same release are merged. The release label and its
month come from the data (the ``<version>`` of the tabular XML and the month
and year in the name of the code list), not from this script.

Table format (gzip'd ASCII text)::

    #sessionkit icd10cm history 2
    R<TAB>2021-01<TAB>FY2021 (icd10cm-order-Jan-2021)   one line per release, oldest first
    F32A   --bb...                                        one line of fixed-width records

Each record is the code without its dot, padded with spaces to 7 characters,
then one status character per release: ``b`` billable (a leaf), ``c`` a code
that is not billable (a category or subcategory with children), ``-`` absent.
Records are sorted, so the reader binary-searches the line as it is, without
building an object per code. Chapters and blocks (``A00-A09``) are not codes
and are left out.
"""

# ruff: noqa: T201, S603 (a build script: it reports on stderr and runs pip and the packages it reads)
from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/sessionkit/codes/data/icd10cm_history.txt.gz"
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_YEAR = re.compile(r"([A-Za-z]+)-(?:\d{1,2}-)?(\d{4})")

# Run inside a child interpreter whose sys.path holds one version of the package.
_DUMP = r"""
import json, sys
import simple_icd_10_cm as cm
codes = {}
for code in cm.get_all_codes(False):
    if cm.is_chapter_or_block(code):
        continue
    codes[code.replace('.', '')] = bool(cm.is_leaf(code))
json.dump(codes, sys.stdout)
"""


def release_of(root: Path) -> tuple[str, str]:
    """Return ``(YYYY-MM, label)`` of the release unpacked under ``root``, read from its files."""
    data = root / "simple_icd_10_cm" / "data"
    xml = next(data.glob("*.xml"))
    head = xml.read_text(encoding="utf-8", errors="replace")[:2000]
    found = re.search(r"<version>\s*(\d{4})\s*</version>", head)
    if found is None:
        raise SystemExit(f"no <version> in {xml.name}")
    fiscal = found.group(1)
    for path in [*data.glob("*.txt"), xml]:
        for month_name, year in _MONTH_YEAR.findall(path.stem):
            month = MONTHS.get(month_name.lower())
            if month is not None:
                label = f"FY{fiscal} ({path.stem})"
                return f"{year}-{month:02d}", label
    # No month in any file name: the yearly release takes effect October 1 of the year before.
    return f"{int(fiscal) - 1}-10", f"FY{fiscal} ({xml.stem})"


def dump(root: Path) -> dict[str, bool]:
    """Return every code of the release under ``root`` with its leaf flag."""
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(root)!r})\n{_DUMP}"],
        check=True,
        capture_output=True,
        text=True,
    )
    codes: dict[str, bool] = json.loads(out.stdout)
    return codes


def wheels_for(versions: list[str], folder: Path) -> list[Path]:
    """Download (if needed) the wheels of ``versions`` into ``folder``."""
    found = []
    for version in versions:
        target = folder / version
        target.mkdir(parents=True, exist_ok=True)
        if not list(target.glob("*.whl")):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    f"simple-icd-10-cm=={version}",
                    "-d",
                    str(target),
                ],
                check=True,
            )
        found.append(next(target.glob("*.whl")))
    return found


def build(wheels: list[Path], work: Path) -> bytes:
    """Return the gzip'd table for the releases carried by ``wheels``."""
    releases: dict[str, tuple[str, dict[str, bool]]] = {}
    for wheel in wheels:
        root = work / wheel.stem
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(root)
        if not list((root / "simple_icd_10_cm" / "data").glob("*.xml")):
            print(f"{wheel.name}: no data, skipped", file=sys.stderr)
            continue
        month, label = release_of(root)
        if month in releases:
            print(f"{wheel.name}: {label} already read, skipped", file=sys.stderr)
            continue
        codes = dump(root)
        print(f"{wheel.name}: {label} from {month}, {len(codes)} codes", file=sys.stderr)
        releases[month] = (label, codes)
    order = sorted(releases)
    every = sorted(set().union(*(codes for _, codes in releases.values())), key=lambda c: c.ljust(7))
    records = []
    for code in every:
        status = ""
        for month in order:
            leaf = releases[month][1].get(code)
            status += "-" if leaf is None else "b" if leaf else "c"
        records.append(code.ljust(7) + status)
    lines = ["#sessionkit icd10cm history 2"]
    lines += [f"R\t{month}\t{releases[month][0]}" for month in order]
    lines.append("".join(records))
    text = "\n".join(lines) + "\n"
    return gzip.compress(text.encode("ascii"), compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="+", help="simple-icd-10-cm versions to read")
    parser.add_argument("--wheels", type=Path, help="folder for the downloaded wheels")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.wheels or Path(tmp) / "wheels"
        data = build(wheels_for(args.versions, folder), Path(tmp) / "unpacked")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data)} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
