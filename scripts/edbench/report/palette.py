"""One colour and one marker per method, the same in every figure. The race's contestants (and the
protocol entries of the same name) have their own; an entry that varies a method (a seed article's
protocol, a float32 twin) takes its method's colour and a marker of its own name, so it reads as
that method's kin; anything else is grey."""
from __future__ import annotations

import re
import zlib

METHOD_STYLE = {
    "fd": ("#7f7f7f", "X"),
    "bp_sgd": ("#1f77b4", "o"),
    "bp_adam": ("#ff7f0e", "s"),
    "bp_adam_fullbatch": ("#bcbd22", "P"),
    "torch": ("#d62728", "D"),
    "ed_neuron": ("#9467bd", "v"),
    "ed_matrix": ("#2ca02c", "^"),
    "ed_deep": ("#8c564b", "*"),
}
OTHER_COLOUR = "#555555"
_VARIANT_MARKERS = ["o", "s", "D", "^", "v", "<", ">", "p", "h", "8"]
# "tuned-long-bp_adam", "trial-ed_matrix-03": the race's entries name their contestant inside
_RACE_ENTRY = re.compile(r"^(?:tuned-[a-z0-9]+|trial|promoted)-(?P<contestant>[a-z0-9_]+?)(?:-\d+)?$")


def style(name: str, method: str | None = None) -> tuple[str, str]:
    """(colour, marker) of a method, contestant or entry; ``method`` is the entry's implementation."""
    if name in METHOD_STYLE:
        return METHOD_STYLE[name]
    match = _RACE_ENTRY.match(name)
    if match and match["contestant"] in METHOD_STYLE:
        return METHOD_STYLE[match["contestant"]]
    colour = METHOD_STYLE[method][0] if method in METHOD_STYLE else OTHER_COLOUR
    return colour, _VARIANT_MARKERS[zlib.crc32(name.encode()) % len(_VARIANT_MARKERS)]


def colour(name: str, method: str | None = None) -> str:
    return style(name, method)[0]


def method_styles(names, methods=None) -> tuple[dict, dict]:
    """(palette, markers) dictionaries for seaborn: each of ``names`` (with its implementation from
    ``methods``, a name -> method mapping, where it has one) to its colour and marker."""
    methods = methods or {}
    styles = {name: style(name, methods.get(name)) for name in set(names)}
    return {n: s[0] for n, s in styles.items()}, {n: s[1] for n, s in styles.items()}


def method_in(text: str) -> str | None:
    """The method a free-text side of a comparison names ("ed_matrix (online)", "step-aware fd
    (forward)"): the longest method name that appears in it as a word."""
    for name in sorted(METHOD_STYLE, key=len, reverse=True):
        if re.search(rf"(?<![a-z_]){re.escape(name)}(?![a-z_])", text):
            return name
    return None
