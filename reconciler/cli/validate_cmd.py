"""`pushctl validate`: manifests and pushctl.yaml checked offline.

It runs in pre-commit hooks and editors' save actions, so it imports only the manifest model,
the validator and the renderers: no state store, no HTTP client, no engine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconciler.cli.main import root_options
from reconciler.cli.options import manifest_option, manifest_paths
from reconciler.domain.manifest.config import ConfigFileError, find_config, load_config
from reconciler.domain.manifest.loader import load_manifests
from reconciler.domain.manifest.locate import locate_fields
from reconciler.domain.manifest.models import DeclaredTask, PushctlConfig
from reconciler.domain.manifest.validate import validate_tasks
from reconciler.domain.plan import Diagnostic
from reconciler.domain.policy.locate import check_policy
from reconciler.errors import ManifestError, SourceProblem
from reconciler.render.diagnostics import render_diagnostics_text
from reconciler.render.github import render_github_annotations
from reconciler.render.json_out import render_diagnostics_json


def problem_diagnostic(problem: SourceProblem) -> Diagnostic:
    return Diagnostic(
        severity="error",
        code=problem.code,
        address="",
        file=problem.file,
        line=problem.line,
        column=problem.column,
        message=problem.message,
    )


def check_tasks(tasks: list[DeclaredTask], config: PushctlConfig) -> list[Diagnostic]:
    """Every finding of validation and of the notification policy, at the offending field."""
    policy = check_policy(tasks, config, read_source=reread_source)
    return locate_fields(validate_tasks(tasks, config)) + policy


def reread_source(name: str) -> str | None:
    """A manifest's text again, to place policy findings; stdin cannot be read twice."""
    try:
        return Path(name).read_text(encoding="utf-8")
    except OSError:
        return None


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


@click.command()
@manifest_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="github prints workflow annotations (::error file=...).",
)
@click.pass_context
def validate(ctx: click.Context, files: tuple[str, ...], fmt: str) -> None:
    """Check manifests and pushctl.yaml without calling TPNS. Exit 1 on any error."""
    paths = manifest_paths(files)
    options = root_options(ctx)
    try:
        config = load_config(find_config(options.config, paths))
        tasks = load_manifests(paths, stdin=sys.stdin)
        diagnostics = check_tasks(tasks, config)
    except (ManifestError, ConfigFileError) as exc:
        # Located problems go out in the asked format too: annotations, JSON.
        tasks, diagnostics = [], [problem_diagnostic(p) for p in exc.problems]
    if fmt == "json":
        click.echo(render_diagnostics_json(diagnostics), nl=False)
    elif fmt == "github":
        click.echo(render_github_annotations(diagnostics), nl=False)
    else:
        text = render_diagnostics_text(diagnostics, task_count=len(tasks), color=options.color)
        click.echo(text)
    if has_errors(diagnostics):
        ctx.exit(1)
