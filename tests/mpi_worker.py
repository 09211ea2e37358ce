"""Run by tests/test_kvstore.py under ``mpirun -np 2``: data-parallel training over MPI.

Each rank trains on its half of every global batch with ``kvstore='dist_sync'``; the result must
equal single-process training on the whole batch (computed here too, on every rank), and the
weights must be identical on all ranks.
"""

from __future__ import annotations

import sys

import numpy

import framework as mx
from framework import autograd, gluon, np


def train(kvstore: str | None, rank: int, size: int, steps: int = 5) -> numpy.ndarray:
    mx.random.seed(100 + rank)  # different local inits: the Trainer must broadcast rank 0's
    net = gluon.nn.Dense(3, in_units=4)
    net.initialize(mx.init.Normal(1.0))
    if kvstore is None:  # the reference: one process, seeded like rank 0
        mx.random.seed(100)
        net = gluon.nn.Dense(3, in_units=4)
        net.initialize(mx.init.Normal(1.0))
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": 0.1, "momentum": 0.9},
                            **({} if kvstore is None else {"kvstore": kvstore}))
    loss_fn = gluon.loss.L2Loss()
    rng = numpy.random.default_rng(7)
    for _ in range(steps):
        X = rng.normal(size=(8, 4)).astype("float32")
        Y = rng.normal(size=(8, 3)).astype("float32")
        if kvstore is not None:  # this rank's shard of the global batch
            X, Y = numpy.array_split(X, size)[rank], numpy.array_split(Y, size)[rank]
        x, y = np.array(X), np.array(Y)
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(x.shape[0])
    return numpy.concatenate([net.weight.data().asnumpy().ravel(),
                              net.bias.data().asnumpy().ravel()])


def main() -> int:
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    dist = train("dist_sync", rank, size)
    ref = train(None, 0, 1)
    gathered = comm.allgather(dist)
    same_everywhere = all(numpy.array_equal(gathered[0], g) for g in gathered)
    err = float(numpy.abs(dist - ref).max())
    kv = mx.kv.create("dist_sync")
    kv.init("k", np.full((2,), float(rank + 5)))   # rank 0's value wins
    kv.push("k", np.full((2,), float(rank + 1)))
    out = np.zeros((2,))
    kv.pull("k", out=out)
    pushed = out.asnumpy().tolist()
    print(f"rank {rank}/{size}: same_everywhere={same_everywhere} max_err={err:.2e} "
          f"kv_rank={kv.rank} kv_workers={kv.num_workers} pushed={pushed}", flush=True)
    ok = same_everywhere and err < 1e-5 and kv.num_workers == size \
        and pushed == [float(sum(range(1, size + 1)))] * 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
