"""Kaneko's error-diffusion learning (ED法) in one place: the rule and weight layout (``rule``), the
shared method base (``common``), the three methods (``neuron``, ``matrix``, ``deep``) and their
compiled kernels."""
