"""The audit report for someone who does not run pushctl: every recorded change in time order,
who made it and from which commit or pull request, what was called and what TPNS answered,
and whether the hash chain holds. Markdown, CSV or one self-contained HTML page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from reconciler.render.values import clean_text
from reconciler.state import AuditVerification, StoredAuditRecord

COLUMNS = ("seq", "when", "kind", "action", "address", "push id", "who", "from", "called", "answer")
#: A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ReportRow:
    cells: tuple[str, ...]


def report_rows(records: Sequence[StoredAuditRecord]) -> list[ReportRow]:
    return [ReportRow(_cells(record)) for record in records]


def _cells(record: StoredAuditRecord) -> tuple[str, ...]:
    entry = record.entry
    who = entry.who.user + (f" (CI: {entry.who.ci_actor})" if entry.who.ci_actor else "")
    origin = [f"commit {entry.why.commit[:12]}" if entry.why.commit else ""]
    origin.append(f"PR {entry.why.pr}" if entry.why.pr else "")
    origin.append(entry.where.ci_run_url or "")
    answer = ""
    if entry.result is not None:
        answer = f"ret_code {entry.result.ret_code}"
        answer += f": {entry.result.err_msg}" if entry.result.err_msg else ""
    return (
        str(record.seq),
        entry.when.isoformat().replace("+00:00", "Z"),
        entry.kind,
        entry.what.action,
        entry.what.address or "",
        entry.what.push_id or str(entry.what.request.get("new_push_id") or ""),
        who,
        ", ".join(part for part in origin if part) or f"host {entry.where.host}",
        str(entry.what.request.get("path", "")),
        answer,
    )


def chain_status(verdict: AuditVerification) -> str:
    """One sentence on the hash chain (and MACs), for the top of the report."""
    if not verdict.ok:
        return (
            f"Chain BROKEN at record {verdict.first_bad_seq}: {verdict.problem} "
            f"({verdict.detail}). Records from there on cannot be trusted."
        )
    keyed = (
        f"; {verdict.mac_count} records' MACs checked with the audit key"
        if verdict.keyed
        else "; no audit key given, so this proves internal consistency only"
    )
    return f"Chain intact: {verdict.count} records link up{keyed}."


def render_report_markdown(
    records: Sequence[StoredAuditRecord], verdict: AuditVerification, *, scope: str
) -> str:
    lines = ["# pushctl audit report", "", f"**{chain_status(verdict)}**", "", scope, ""]
    lines.append("| " + " | ".join(COLUMNS) + " |")
    lines.append("|" + "---|" * len(COLUMNS))
    for row in report_rows(records):
        lines.append("| " + " | ".join(_markdown_cell(cell) for cell in row.cells) + " |")
    if not records:
        lines.append("")
        lines.append("No records match.")
    return "\n".join(lines) + "\n"


def _markdown_cell(text: str) -> str:
    cleaned = escape(clean_text(text).replace("\n", " "), quote=False)
    return cleaned.replace("|", "\\|").replace("@", "@&#8203;") or " "


def render_report_csv(records: Sequence[StoredAuditRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in report_rows(records):
        writer.writerow([_csv_cell(cell) for cell in row.cells])
    return out.getvalue()


def _csv_cell(text: str) -> str:
    # A leading quote makes a spreadsheet show the text instead of evaluating it.
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


_STYLE = (
    "body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1d232a}"
    "table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d4da;padding:.3rem .5rem;"
    "text-align:left;vertical-align:top}th{background:#eef0f3}.broken{color:#a4301c}"
    ".intact{color:#1d6b35}tr.outcome td{background:#fafbfc}"
)


def render_report_html(
    records: Sequence[StoredAuditRecord], verdict: AuditVerification, *, scope: str
) -> str:
    status_class = "intact" if verdict.ok else "broken"
    head = "".join(f"<th>{column}</th>" for column in COLUMNS)
    rows = "\n".join(
        f'<tr class="{escape(row.cells[2])}">'
        + "".join(f"<td>{escape(clean_text(cell))}</td>" for cell in row.cells)
        + "</tr>"
        for row in report_rows(records)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>pushctl audit report</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        "<h1>pushctl audit report</h1>\n"
        f'<p id="chain" class="{status_class}"><strong>{escape(chain_status(verdict))}'
        f"</strong></p>\n<p>{escape(scope)}</p>\n"
        f'<table id="records">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n'
        "</table>\n</body>\n</html>\n"
    )
