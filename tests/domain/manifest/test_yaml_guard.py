"""The printable-character check refuses exactly what YAML 1.2 (spec 5.1) does not allow."""

from __future__ import annotations

from reconciler.domain.manifest import yaml_guard

#: c-printable, as the spec writes it: x9 | xA | xD | [x20-x7E] | x85 | [xA0-xD7FF]
#: | [xE000-xFFFD] | [x10000-x10FFFF].
PRINTABLE = (
    (0x09, 0x09),
    (0x0A, 0x0A),
    (0x0D, 0x0D),
    (0x20, 0x7E),
    (0x85, 0x85),
    (0xA0, 0xD7FF),
    (0xE000, 0xFFFD),
    (0x10000, 0x10FFFF),
)


def test_every_code_point_outside_the_printable_set_and_no_other_is_refused() -> None:
    every = "".join(map(chr, range(0x110000)))
    refused = {found.start() for found in yaml_guard._NOT_PRINTABLE.finditer(every)}
    allowed = {point for low, high in PRINTABLE for point in range(low, high + 1)}
    assert refused == set(range(0x110000)) - allowed


def test_a_refused_character_is_located() -> None:
    problems = yaml_guard.guard_text("title: ok\nbody: a\x7fb\n", "m.yaml")
    assert [(p.line, p.column, p.code) for p in problems] == [(2, 8, "yaml.syntax")]
    assert "U+007F" in problems[0].message
