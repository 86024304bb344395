"""Text, HTML and Markdown renderings of reports and of the finding codes (private)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from sessionkit.readiness.findings import Severity, Target

if TYPE_CHECKING:
    from sessionkit.readiness.findings import ReadinessReport
    from sessionkit.readiness.registry import RuleRegistry

_COLUMNS = ("severity", "code", "field", "message")
_TARGET_ORDER = tuple(Target)


def _summary(report: ReadinessReport) -> str:
    counts = dict.fromkeys(Severity, 0)
    for f in report.findings:
        counts[f.severity] += 1
    verdict = "ready" if report.ready else "NOT ready"
    return (
        f"session {report.session_id}: {verdict} for {report.target.label} "
        f"({counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings, "
        f"{counts[Severity.INFO]} info)"
    )


def report_text(report: ReadinessReport) -> str:
    """A fixed-width table: severity, code, field, message."""
    lines = [_summary(report)]
    if not report.findings:
        return lines[0]
    rows = [(f.severity.value.upper(), f.code, f.field, f.message) for f in report.findings]
    widths = [max(len(_COLUMNS[i]), *(len(r[i]) for r in rows)) for i in range(3)]
    header = (*(c.upper() for c in _COLUMNS),)
    lines.extend(
        "  ".join(row[i].ljust(widths[i]) for i in range(3)) + "  " + row[3] for row in (header, *rows)
    )
    return "\n".join(line.rstrip() for line in lines)


def report_html(report: ReadinessReport) -> str:
    """An HTML table (every text escaped)."""
    e = html.escape
    cells = "".join(f"<th>{e(c)}</th>" for c in (*_COLUMNS, "hint"))
    body = "".join(
        f'<tr class="sessionkit-{e(f.severity.value)}">'
        f"<td>{e(f.severity.value)}</td><td><code>{e(f.code)}</code></td>"
        f"<td><code>{e(f.field)}</code></td><td>{e(f.message)}</td><td>{e(f.hint)}</td></tr>"
        for f in report.findings
    )
    return (
        f'<div class="sessionkit-readiness"><p>{e(_summary(report))}</p>'
        f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


FINDINGS_HEADER = """\
# Finding codes

Every code the shipped readiness rules can report. The page is generated from
the rule registry (`sessionkit.readiness.findings_markdown()`); a test checks it
lists exactly the registered codes. *Error* blocks the target; *warning* and
*info* do not. Codes marked *optional* come from payer rules that are off by
default (see [readiness](readiness.md)).

"""


def findings_markdown(registry: RuleRegistry) -> str:
    """The Markdown page listing every finding code of ``registry``."""
    lines = [
        FINDINGS_HEADER.rstrip("\n"),
        "",
        "| code | severity | targets | meaning | how to fix | rule | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for info in registry.codes():
        targets = ", ".join(t.label for t in _TARGET_ORDER if t in info.targets)
        rules = ", ".join(f"`{r}`" for r in info.rules) + ("" if info.enabled else " (optional)")
        lines.append(
            f"| `{info.code}` | {info.severity.value} | {targets} | {_md(info.meaning)} | "
            f"{_md(info.hint)} | {rules} | {_md('; '.join(info.sources))} |"
        )
    return "\n".join(lines) + "\n"
