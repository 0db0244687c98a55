"""Shared maths of the backprop family: the MLP's forward and backward passes, the optimizers, the
finite-difference gradients and the vectorisable exp that compiled kernels call."""
