"""Every compiled (numba) kernel of the package, one module per method family.

- ``ed_online``: Kaneko's online ED for a whole epoch (``methods.ed_matrix``, bit-identical to ``ed_neuron``);
- ``ed_deep``: the forward and learning loops over ``methods.ed_deep``'s stack of hidden layers;
- ``finite_diff``: step-aware finite-difference gradients of one-hidden-layer networks (``edbench.finite_diff``);
- ``fastmath``: a vectorisable exp for numba loops;
- ``streams``: the memory-bandwidth microbenchmark of the speed target (``edbench.speed``).

All are compiled with ``cache=True``, so a process loads them from ``__pycache__`` after the first.
"""
