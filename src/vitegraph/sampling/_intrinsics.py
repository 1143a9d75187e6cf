"""Low-level numba helpers that numba does not offer itself."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, idx):
    """``prefetch(arr, i)``: hint the CPU to load the cache line of ``arr[i]``
    (read, high locality).  No effect on results; never faults, even out of range.

    Random walks chase pointers (``indptr[v]`` then ``indices[...]``); when a
    kernel advances several independent walks in turn, prefetching the next
    address of each walk lets their cache misses overlap instead of queueing.
    """
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty, _ = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]],
                                       wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        # the typed-pointer name; LLVM >= 15 upgrades it to llvm.prefetch.p0
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
