"""One colour and marker per method, the same in every figure: the race's contestants (and the
protocol entries of the same name) have their own; other entries take the next free colours in name
order."""
from __future__ import annotations

import seaborn as sns

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
_OTHER_COLOURS = sns.color_palette("tab20", 20).as_hex()
_OTHER_MARKERS = ["o", "s", "D", "^", "v", "<", ">", "p", "h", "8"]


def method_styles(names) -> tuple[dict, dict]:
    """(palette, markers) for these method names: fixed for the known methods, stable for the rest."""
    palette, markers = {}, {}
    others = sorted(set(names) - set(METHOD_STYLE))
    for name in set(names) & set(METHOD_STYLE):
        palette[name], markers[name] = METHOD_STYLE[name]
    for index, name in enumerate(others):
        palette[name] = _OTHER_COLOURS[index % len(_OTHER_COLOURS)]
        markers[name] = _OTHER_MARKERS[index % len(_OTHER_MARKERS)]
    return palette, markers
