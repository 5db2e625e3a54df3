"""`pushctl init`: a new project that plans against the embedded emulator straight away.

Files come from `reconciler/cli/scaffold/` (shipped in the wheel) and the JSON Schemas of the
installed version, so the editor modelines point at a schema that matches the tool.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import click

from reconciler.domain.manifest.schema import config_json_schema, manifest_json_schema
from reconciler.errors import UsageError

#: Path in the new project -> scaffold file it is copied from.
SCAFFOLD: dict[str, str] = {
    "pushctl.yaml": "pushctl.yaml",
    "manifests/welcome.yaml": "welcome.yaml",
    ".github/workflows/pushctl.yml": "github-workflow.yml",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
}
SCHEMA_FILES = {
    "schema/pushtask.schema.json": manifest_json_schema,
    "schema/pushctl-config.schema.json": config_json_schema,
}


def project_files() -> dict[str, str]:
    """Every file `init` writes, by path relative to the project folder."""
    scaffold = resources.files("reconciler.cli") / "scaffold"
    files = {path: (scaffold / name).read_text(encoding="utf-8") for path, name in SCAFFOLD.items()}
    for path, schema in SCHEMA_FILES.items():
        files[path] = json.dumps(schema(), indent=2, sort_keys=True) + "\n"
    return files


@click.command()
@click.argument(
    "folder", default=".", type=click.Path(file_okay=False, path_type=Path), required=False
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init(folder: Path, force: bool) -> None:
    """Start a pushctl project in a folder: config, an example manifest, CI and pre-commit.

    The example app runs on the embedded emulator: `pushctl plan` works at once.
    """
    files = project_files()
    existing = sorted(path for path in files if (folder / path).exists())
    if existing and not force:
        raise UsageError(
            f"{', '.join(existing)} already exist(s) in {folder}; nothing was written. "
            "Use --force to overwrite them."
        )
    for path, text in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        click.echo(f"wrote {target}")
    click.echo(
        "\nNext: `pushctl validate`, then `pushctl plan` (it runs against the embedded emulator)."
        "\nAdd `.pushctl/` to .gitignore; edit pushctl.yaml to add your real app."
    )
