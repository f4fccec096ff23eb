"""Real training workloads for the executor.

Each workload lives in its own module and imports its heavy dependencies (torch) itself, so
importing ``ashasim`` or ``ashasim.workloads`` stays light:

- :mod:`ashasim.workloads.fashion_mnist`: the chapter's LeNet on FashionMNIST (data discovery, a
  strict IDX reader, device-resident batching, deterministic trials, checkpoint and resume).
"""
