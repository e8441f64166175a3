"""Docs are tested: every command, rule-file key and configuration key is in the README."""

from __future__ import annotations

import click
import pytest
from pydantic import BaseModel

from scheduler.cli.records import main
from scheduler.config import Settings
from scheduler.core.ruleschema import RulesetSpec, RuleSpec
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, (*prefix, name)))
        else:
            paths.append(" ".join(("huiqi", *prefix, name)))
    return paths


def config_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(config_keys(annotation, f"{prefix}{name}."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


@pytest.mark.parametrize("path", command_paths(main))
def test_every_command_is_documented_in_the_readme(path: str) -> None:
    assert path in README


@pytest.mark.parametrize("path", command_paths(main))
def test_every_command_has_help_text(path: str) -> None:
    command: click.Command = main
    for name in path.split()[1:]:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert command.help and command.help.strip()


RULE_KEYS = sorted(
    {
        field.alias or name
        for model in (RuleSpec, RulesetSpec)
        for name, field in model.model_fields.items()
    }
)


@pytest.mark.parametrize("key", RULE_KEYS)
def test_every_rule_file_key_is_documented(key: str) -> None:
    assert f"| `{key}` |" in README


@pytest.mark.parametrize("key", config_keys(Settings))
def test_every_configuration_key_is_documented(key: str) -> None:
    assert f"`{key}`" in README


@pytest.mark.parametrize("key", config_keys(Settings))
def test_every_configuration_key_has_a_description(key: str) -> None:
    model: type[BaseModel] = Settings
    *sections, name = key.split(".")
    for section in sections:
        annotation = model.model_fields[section].annotation
        assert isinstance(annotation, type)
        model = annotation
    assert model.model_fields[name].description
