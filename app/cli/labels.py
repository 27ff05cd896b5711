"""`flask --app app labels ...`: print replacement device labels from the shell."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.labels.sheet import LABELS_PER_PAGE, LabelSheetError, render_label_sheet

labels_cli = AppGroup("labels", help="Device labels: print label sheets.")


def read_tuid_lines(text: str) -> list[tuple[int, str]]:
    """Return (line number, text) for each line that is not blank or a # comment."""
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


@labels_cli.command("print")
@click.option(
    "--tuids-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="One TUID or label text per line; blank lines and # comments are ignored.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=Path("labels.pdf"),
    show_default=True,
    help="Where to write the A4 PDF.",
)
def print_command(tuids_file: Path, out: Path) -> None:
    """Write an A4 PDF of labels (QR code, TUID, device type) for the TUIDs in a file."""
    numbered = read_tuid_lines(tuids_file.read_text(encoding="utf-8-sig"))
    lines = [text for _number, text in numbered]
    try:
        pdf = render_label_sheet(lines)
    except LabelSheetError as exc:
        bad_lines = exc.details.get("lines", [])
        for bad in bad_lines:
            number = numbered[bad["line"] - 1][0]
            click.echo(
                f"{tuids_file}:{number}: {bad['text']!r} is not a device ID ({bad['reason']})",
                err=True,
            )
        message = f"{len(bad_lines)} line(s) are not device IDs; nothing was written."
        raise click.ClickException(message if bad_lines else exc.message) from exc
    out.write_bytes(pdf)
    pages = -(-len(lines) // LABELS_PER_PAGE)
    click.echo(f"Wrote {len(lines)} labels on {pages} page(s) to {out}.")
