"""Real training code for the executor: the chapter's LeNet on FashionMNIST.

(Not to be confused with :mod:`ashasim.sim.workloads`, the simulator's cost models.) Each module
imports torch itself, so importing ``ashasim`` or ``ashasim.training`` stays light:

- :mod:`~ashasim.training.fashion_data`: data discovery, a strict IDX reader/writer, the data set
  as tensors on the device;
- :mod:`~ashasim.training.lenet`: LeNet-5 as in d2l, with generator-seeded Xavier init;
- :mod:`~ashasim.training.trial`: a seeded trial (:class:`~ashasim.training.trial.LeNetTrial`)
  that trains by epochs and is checkpointed and resumed bit-identically on CPU;
- :mod:`~ashasim.training.fashion_mnist`: the chapter's ``objective`` and ``chapter_space``.
"""
