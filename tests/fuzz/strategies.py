"""Generators of manifest files for the fuzzer: valid ones, mutated ones and hostile YAML.

Valid manifests are built as documents and dumped the way a person's editor would write them;
mutations then cut, splice and poison that text with the fragments that once crashed the
loader or stalled the parser.
"""

from __future__ import annotations

import io
from typing import Any

from hypothesis import strategies as st
from ruamel.yaml import YAML

APPS = ("shop-android", "shop-ios", "unknown-app")
STATES = ("active", "stopped", "recalled", "cancelled", "overridden")
NAMES = st.sampled_from(["bf", "teaser", "t1", "a-b", "x9", "promo-2026", "0"])
TAG_RULES = [
    {
        "tag_items": [
            {
                "tags": ["vip"],
                "is_not": False,
                "tags_operator": "OR",
                "items_operator": "OR",
                "tag_type": "xg_user_define",
            }
        ],
        "operator": "OR",
        "is_not": False,
    }
]
AUDIENCES: dict[str, dict[str, Any]] = {
    "all": {},
    "tag": {"tag_rules": TAG_RULES},
    "token": {"token_list": ["t0"]},
    "token_list": {"token_list": ["t0", "t1"]},
    "account": {"account_list": ["alice"]},
    "account_list": {"account_list": ["alice", "bob"]},
    "package_account_push": {"upload_id": 3},
    "package_token_push": {"upload_id": 4},
}
OFFSETS = ("+08:00", "-08:00", "Z", "+14:00", "-12:00", "+00:00")

#: Fragments that once crashed the loader, stalled the parser or slipped past a check.
POISON = (
    "-_",
    "0x_",
    "._",
    "1" * 5000,
    "0x" + "f" * 3000,
    "\x01",
    "\x7f",
    "\t",
    '"\\ud800"',
    '"\\udfff\\ud800"',
    "[tag]",
    "{a: 1}",
    "&anchor ",
    "*anchor",
    "!!python/object:os.system ",
    "!!python/object/apply:os.system [ls]",
    "<<: {a: 1}",
    "? [a]\n: b",
    '"9999-12-31T23:59:59-08:00"',
    '"0001-01-01T00:00:00+14:00"',
    "---\n",
    "...\n",
    "%YAML 1.1\n---\n",
    "\ufeff",
    "\u2028",
    "\x85",
    "~",
    ".nan",
    "-.inf",
    "0o7",
    "1e999",
    "{",
    "]",
    '"',
    "'",
    "#",
    ": ",
    "- ",
    "|\n  x",
    ">-\n  x",
    "\\",
    "\r",
    "\x00",
    "\ud7ff\ue000",
    "\U0010ffff",
)
YAML_ALPHABET = st.sampled_from([*"[]{}:,-?&*!|>'\"%@`#\t\n \r\\ab01._~", "\x00", "é"])


#: libyaml's emitter: the pure one would take most of the fuzzer's time.
_EMITTER = YAML(typ="safe", pure=False)
_EMITTER.default_flow_style = False
_EMITTER.allow_unicode = True


def dump(*documents: Any) -> str:
    stream = io.StringIO()
    _EMITTER.dump_all(list(documents), stream)
    return stream.getvalue()


@st.composite
def push_bodies(draw: st.DrawFn) -> dict[str, Any]:
    audience = draw(st.sampled_from(sorted(AUDIENCES)))
    message: dict[str, Any] = {
        "title": draw(st.text(max_size=12)),
        "content": draw(st.sampled_from(["c", "Today only", ""])),
    }
    body: dict[str, Any] = {
        "audience_type": audience,
        "message_type": draw(st.sampled_from(["notify", "message"])),
        "message": message,
        **AUDIENCES[audience],
    }
    if draw(st.booleans()):
        year = draw(st.sampled_from([1999, 2000, 2026, 2027, 2999, 3000, 9999]))
        offset = draw(st.sampled_from(OFFSETS))
        day = draw(st.sampled_from(["12-31T23:59:59", "02-30T09:30:00", "06-15T09:30:00"]))
        body["send_time"] = f"{year}-{day}{offset}"
    if draw(st.booleans()):
        body["expire_time"] = draw(st.integers(-1, 300_000))
    if draw(st.booleans()):
        message["android"] = {"n_id": draw(st.integers(-2, 5)), "ring": draw(st.integers(0, 2))}
    if draw(st.booleans()):
        body["environment"] = draw(st.sampled_from(["product", "dev"]))
        message["ios"] = {"aps": {"sound": "default"}}
    return body


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    state = draw(st.sampled_from(STATES))
    spec: dict[str, Any] = {"state": state}
    if state == "overridden" or draw(st.integers(0, 9)) == 0:
        spec["overriddenBy"] = draw(NAMES)
    if draw(st.integers(0, 3)) == 0:
        spec["pushId"] = str(draw(st.integers(1, 10**12)))
    if "pushId" not in spec or draw(st.booleans()):
        spec["push"] = draw(push_bodies())
    if draw(st.integers(0, 4)) == 0:
        spec["forceCollapse"] = True
    return {
        "apiVersion": "pushctl/v1",
        "kind": "PushTask",
        "metadata": {"name": draw(NAMES), "app": draw(st.sampled_from(APPS))},
        "spec": spec,
    }


SCHEDULABLE = ("all", "tag", "package_account_push")
STOPPABLE = ("all", "tag", "account_list", "package_account_push")


@st.composite
def coherent_files(draw: st.DrawFn) -> str:
    """Tasks that pass validation: what each state needs is there (an override's target too)."""
    count = draw(st.integers(1, 4))
    documents = [
        _coherent(draw, f"t{index}", f"t{index + 1}", last=index == count - 1)
        for index in range(count)
    ]
    return dump(*documents)


def _coherent(draw: st.DrawFn, name: str, successor: str, *, last: bool) -> dict[str, Any]:
    ios = draw(st.integers(0, 4)) == 0
    states = ["active"] if ios else ["active", "stopped", "recalled", "cancelled"]
    state = draw(st.sampled_from(states + ([] if last else ["overridden"])))
    scheduled = state == "cancelled" or draw(st.booleans())
    audiences = {"stopped": STOPPABLE, "recalled": STOPPABLE}.get(state, SCHEDULABLE)
    if not scheduled and state == "active":
        audiences = tuple(AUDIENCES)
    audience = draw(st.sampled_from([a for a in audiences if a in SCHEDULABLE or not scheduled]))
    body: dict[str, Any] = {
        "audience_type": audience,
        "message_type": "notify",
        "message": {"title": draw(st.text(max_size=12)), "content": "c"},
        **AUDIENCES[audience],
    }
    if scheduled:
        year = draw(st.sampled_from([2000, 2026, 2027, 2999, 9999]))
        day = draw(st.sampled_from(["12-31T23:59:59", "11-20T12:05:00", "11-21T09:30:00"]))
        body["send_time"] = f"{year}-{day}{draw(st.sampled_from(OFFSETS))}"
    if ios:
        body["environment"] = "product"
        body["message"]["ios"] = {"aps": {"sound": "default"}}
    spec: dict[str, Any] = {"state": state, "push": body}
    if state == "overridden":
        spec["overriddenBy"] = successor
    return {
        "apiVersion": "pushctl/v1",
        "kind": "PushTask",
        "metadata": {"name": name, "app": "shop-ios" if ios else "shop-android"},
        "spec": spec,
    }


chaotic_files = st.lists(manifests(), min_size=1, max_size=4).map(lambda docs: dump(*docs))
valid_files = st.one_of(coherent_files(), coherent_files(), chaotic_files)

#: Values a leaf of a valid document may be replaced with.
HOSTILE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from(["-_", "9999-12-31T23:59:59-08:00", "", "all", "tag", "0" * 30]),
)


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [path, *[p for k, v in node.items() for p in _leaves(v, (*path, k))]]
    if isinstance(node, list):
        return [path, *[p for i, v in enumerate(node) for p in _leaves(v, (*path, i))]]
    return [path]


def _replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    copy: Any = dict(node) if isinstance(node, dict) else list(node)
    copy[head] = _replace(node[head], tuple(rest), value)
    return copy


@st.composite
def mutated_documents(draw: st.DrawFn) -> str:
    """A valid document with one value (any depth, the root too) replaced by a hostile one."""
    document = draw(manifests())
    path = draw(st.sampled_from(_leaves(document)))
    return dump(_replace(document, path, draw(HOSTILE_VALUES)))


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    """A valid file whose text is cut, spliced and poisoned in a few places."""
    text = dump(draw(manifests()))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["poison", "delete", "duplicate", "indent"]))
        if kind == "poison":
            text = text[:at] + draw(st.sampled_from(POISON)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif kind == "duplicate":
            text = text[:at] + text[at : at + draw(st.integers(1, 80))] + text[at:]
        else:
            text = text[:at] + " " * draw(st.integers(1, 5)) + text[at:]
    return text


hostile_text = st.one_of(
    st.text(YAML_ALPHABET, max_size=200),
    st.lists(st.sampled_from(POISON), max_size=12).map("".join),
    st.lists(st.sampled_from(POISON), max_size=6).map(lambda parts: "a: " + " ".join(parts)),
    st.binary(max_size=80).map(lambda raw: raw.decode("utf-8", "surrogateescape")),
)


def bombs() -> list[tuple[str, bytes]]:
    """Inputs whose cost grows with their size, at the sizes that once took seconds."""
    cases = {
        "open brackets": b"[" * 200_000,
        "open braces": b"a: " + b"{a: " * 50_000,
        "deep balanced": b"a: " + b"[" * 127 + b"]" * 127,
        "flat flow list": b"a: [" + b"1," * 400_000 + b"1]\n",
        "flow list under the limit": b"a: [" + b"1," * 49_000 + b"1]\n",
        "long block list": b"a:\n" + b"- 1\n" * 250_000,
        "deep block mapping": b"".join(b" " * i + b"k:\n" for i in range(1400)),
        "deep block sequence": b"- " * 100_000 + b"1\n",
        "many documents": b"---\na: 1\n" * 30_000,
        "long scalar": b"a: " + b"x" * 1_000_000,
        "over 1 MiB": b"a: " + b"x" * (1024 * 1024),
        "long key": b"k" * 500_000 + b": 1\n",
        "huge integer": b"a: " + b"9" * 900_000,
        "many anchors": b"".join(b"k%d: &a%d 1\n" % (i, i) for i in range(20_000)),
        "long syntax error": b"".join(b"k%d: v\n" % i for i in range(60_000)) + b"x: [\n",
        "flow error under the pure-parser size": b"a: [" + b"1," * 8000 + b"1\n",
        "not utf-8": b"a: \xff\xfe\n" * 1000,
        "nul bytes": b"\x00" * 500_000,
    }
    return sorted(cases.items())
