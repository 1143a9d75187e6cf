"""The partition moves' bookkeeping with a stand-in for torch.distributed:
what a backend gives back for a batch of point-to-point ops (one request per
op over gloo, one for the whole batch over NCCL) must not change what a rank
ends up holding."""

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vitegraph.solver.distributed import DistributedExecutor  # noqa: E402


class Work:
    def wait(self):
        return True


class FakeDist:
    """Point-to-point ops that complete at once; a receive is filled with
    ``7``; ``per_batch``: one request for a whole batch (as NCCL)."""

    def __init__(self, per_batch: bool):
        self.per_batch = per_batch
        # plain functions, as torch.distributed's (ops are told apart by identity)
        self.isend, self.irecv = self._isend, self._irecv

    class P2POp:
        def __init__(self, op, tensor, peer, group=None, tag=0):
            self.op, self.tensor, self.peer, self.tag = op, tensor, peer, tag

    @staticmethod
    def _isend(tensor, peer, group=None, tag=0):
        return Work()

    @staticmethod
    def _irecv(tensor, peer, group=None, tag=0):
        tensor.fill_(7)
        return Work()

    def batch_isend_irecv(self, ops):
        works = [op.op(op.tensor, op.peer, tag=op.tag) for op in ops]
        return works[:1] if self.per_batch else works


@pytest.mark.parametrize("per_batch", [False, True])
def test_a_batch_with_one_request_still_books_every_op(per_batch):
    ex = DistributedExecutor.__new__(DistributedExecutor)
    dist = FakeDist(per_batch)
    ex.ranks = SimpleNamespace(rank=0, world=2, dist=dist, group=None, device_p2p=True,
                               _call=lambda what, fn, *a, **k: fn(*a, **k),
                               all_sum=lambda a, what: np.array([1.0, 1.0, 0.0]))
    ex.sides, ex.P, ex._tags = {"head": ["vertex"]}, 2, {"head": 0}
    ex._arrays = {"vertex": np.zeros((4, 3), dtype=np.float32)}
    ex.store = SimpleNamespace(layout=SimpleNamespace(rows=lambda p: slice(2 * p, 2 * p + 2)))
    ex.resident, ex._direct, ex.device, ex.torch = True, True, torch.device("cpu"), torch
    ex._parts = {("vertex", 0): torch.ones(2, 3)}
    ex.held = {"head": {0}}
    ex.stats = {"bytes_sent": 0, "bytes_received": 0, "transfer_seconds": 0.0,
                "ownership_checks": 0}
    # rank 0 gives partition 0 to rank 1 and takes partition 1 from it
    moves = [("head", 0, 0, 1), ("head", 1, 1, 0)]
    flight = []
    ex._post([op for m in moves for op in ex._ops(m)], flight, batch=True)
    assert ex._complete(flight, stop=False) is False
    assert ex.held == {"head": {1}}
    assert list(ex._parts) == [("vertex", 1)]
    assert torch.equal(ex._parts["vertex", 1], torch.full((2, 3), 7.0))
    assert ex.stats["bytes_sent"] == ex.stats["bytes_received"] == 24
