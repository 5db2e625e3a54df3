"""Finding and loading pushctl.yaml (docs/design.md), with the manifests' safe YAML rules."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from reconciler.domain.manifest.loader import CONFIG_FILE_NAME, STDIN, validation_problems
from reconciler.domain.manifest.models import PushctlConfig
from reconciler.domain.manifest.safe_yaml import Locator, YamlProblems, load_yaml_text, read_source
from reconciler.errors import ConfigError, SourceProblem


class ConfigFileError(ConfigError):
    """pushctl.yaml is unreadable or invalid; carries every problem, located."""

    def __init__(self, problems: list[SourceProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid pushctl.yaml")


def find_config(
    explicit: Path | None, manifest_paths: Sequence[Path], *, cwd: Path | None = None
) -> Path:
    """`explicit` if given, else pushctl.yaml beside or above the first manifest path, else
    ./pushctl.yaml. Raises ConfigError with the next step when there is none."""
    if explicit is not None:
        if explicit.is_file():
            return explicit
        raise ConfigError(
            f"config file {explicit} does not exist",
            hint="check the --config path, or leave --config out to use pushctl.yaml",
        )
    here = Path.cwd() if cwd is None else cwd
    searched: list[Path] = []
    first = next((p for p in manifest_paths if str(p) != STDIN), None)
    if first is not None:
        start = (here / (first if first.is_dir() else first.parent)).resolve()
        searched = [start, *start.parents]
    searched.append(here)
    for folder in searched:
        candidate = folder / CONFIG_FILE_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no {CONFIG_FILE_NAME} beside or above {first or here}, nor in {here}",
        hint=f"create {CONFIG_FILE_NAME} with an `apps:` section, or pass --config FILE",
    )


def load_config(path: Path) -> PushctlConfig:
    """Parse and validate pushctl.yaml; raises ConfigFileError naming file:line:column."""
    name = str(path)
    try:
        text = read_source(path)
        documents = load_yaml_text(text, name)
    except YamlProblems as exc:
        raise ConfigFileError(exc.problems) from exc
    if len(documents) != 1:
        message = f"{CONFIG_FILE_NAME} must hold exactly one YAML document, found {len(documents)}"
        line = documents[1].line if len(documents) > 1 else 1
        raise ConfigFileError([SourceProblem(name, line, 1, message, "config.documents")])
    try:
        return PushctlConfig.model_validate(documents[0].data)
    except ValidationError as exc:
        problems = validation_problems(
            name, Locator(text), (0, documents[0]), exc, PushctlConfig, area="config"
        )
        raise ConfigFileError(problems) from exc
