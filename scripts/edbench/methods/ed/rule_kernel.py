"""The rule's per-cell functions (``rule.sigmoid_scalar``, ``slope``, ``faithful_signal``,
``learned``) for the numba kernels: the same functions, registered so that compiled code calls them
and compiles them in. numba checks only a kernel's own file for changes, so after changing one of
them in ``rule``, delete the compiled kernels' caches (``__pycache__/*.nbi``, ``*.nbc``) or they
keep the old one.
"""
from numba.extending import register_jitable

from edbench.methods.ed import rule

sigmoid_scalar = register_jitable(rule.sigmoid_scalar)
slope = register_jitable(rule.slope)
faithful_signal = register_jitable(rule.faithful_signal)
learned = register_jitable(rule.learned)
