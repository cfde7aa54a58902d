"""Cross-validation fold ids from each row's content (NumPy only; no Python loop per row).

The fold of row i is fixed when its block is built (``tune.folds = K``, ``tune.seed``)::

    f_i = h(seed, y_i, v_i, d_i) mod K

where d_i is the block type's digest of the row's features
(:meth:`sparklr.spark.blocktype.BlockType.row_digest`; dense: :func:`dense_row_digest`) and h
chains a 64-bit mixer (:func:`mix64`, the splitmix64 finalizer: multiply, xor-shift) over the
float64 bit patterns of the row's values. The fold depends on nothing but the row, so the same
data and seed give the same folds on any partitioning and on every re-read. Identical rows
land in the same fold (duplicates never straddle training and held-out parts). -0.0 and 0.0
hash alike; the build drops or rejects NaN rows before hashing.

The masks: fold k's training part is f ≠ k, its held-out part f = k (:func:`fold_mask`). The
sums take the mask as a sample weight, v_eff = v ⊙ [f ≠ k] (:func:`fold_weights`), so the
kernels and J's m = Σ v_eff need nothing new.
"""

from __future__ import annotations

import numpy as np

#: The most folds (f is stored as int8).
MAX_FOLDS = 100

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
#: Rows per chunk of :func:`dense_row_digest` (keeps each chunk's columns in cache).
_CHUNK_ROWS = 8192
#: Entries per chunk of :func:`sparse_row_digest`.
_CHUNK_ENTRIES = 1 << 16


def mix64(h: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer, elementwise on uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(30))
        h = h * _M1
        h = h ^ (h >> np.uint64(27))
        h = h * _M2
        return h ^ (h >> np.uint64(31))


def float_bits(values: np.ndarray) -> np.ndarray:
    """The float64 bit patterns of ``values`` as uint64 (-0.0 as 0.0)."""
    return (np.asarray(values, dtype=np.float64) + 0.0).view(np.uint64)


_ONE_BITS = np.float64(1.0).view(np.uint64)


def _absorb(h: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Chain one more value per row into the running hash: mix64(h + φ ⊕ bits)."""
    with np.errstate(over="ignore"):
        return mix64((h + _GOLDEN) ^ bits)


def dense_row_digest(X: np.ndarray) -> np.ndarray:
    """d_i: the features of each row of a dense (m × n) matrix chained column by column."""
    m, n = X.shape
    digest = np.empty(m, dtype=np.uint64)
    for start in range(0, m, _CHUNK_ROWS):
        chunk = np.asarray(X[start : start + _CHUNK_ROWS], dtype=np.float64)
        h = np.full(len(chunk), np.uint64(n), dtype=np.uint64)
        for j in range(n):
            h = _absorb(h, float_bits(chunk[:, j]))
        digest[start : start + len(chunk)] = h
    return digest


def sparse_row_digest(
    indptr: np.ndarray, indices: np.ndarray, values: np.ndarray | None
) -> np.ndarray:
    """d_i of a CSR row: the wrapping sum over its stored entries of mix64(index ⊕ value bits)
    (values None = all 1.0); an empty row digests to 0. Equal rows digest alike; a stored 0.0
    and an absent entry differ (the CSR build stores no zeros).

    Rows go in chunks of about :data:`_CHUNK_ENTRIES` entries, whose terms are summed per row
    by a cumulative sum (no array as long as the block's entries: a fresh one of 15M cost
    more in page faults than the hashing). mix64(j + φ) depends on the index j alone, so it
    is a table over j ≤ the largest index when that is no longer than the entries; a binary
    block's whole term is (bits = those of 1.0), and its terms are one gather."""
    idx = np.asarray(indices)
    ptr = np.asarray(indptr, dtype=np.int64)
    nnz, rows = len(idx), len(ptr) - 1
    digest = np.zeros(rows, dtype=np.uint64)
    width = int(idx.max()) + 1 if nnz else 0
    with np.errstate(over="ignore"):
        table = None
        if nnz and width <= max(nnz, _CHUNK_ENTRIES):
            table = mix64(np.arange(width, dtype=np.uint64) + _GOLDEN)
            if values is None:
                table = mix64(table ^ _ONE_BITS)
        step = max(1, _CHUNK_ENTRIES * rows // max(nnz, 1))
        for r0 in range(0, rows, step):
            r1 = min(r0 + step, rows)
            lo, hi = int(ptr[r0]), int(ptr[r1])
            if lo == hi:
                continue
            terms = _entry_terms(idx[lo:hi], None if values is None else values[lo:hi], table)
            sums = np.concatenate(([np.uint64(0)], np.cumsum(terms, dtype=np.uint64)))
            bounds = ptr[r0 : r1 + 1] - lo
            digest[r0:r1] = sums[bounds[1:]] - sums[bounds[:-1]]
    return digest


def _entry_terms(idx: np.ndarray, values: np.ndarray | None, table: np.ndarray | None):
    """mix64(mix64(j + φ) ⊕ bits(x)) per entry (``table``: mix64(j + φ) by j, or the whole
    term by j when ``values`` is None; None: computed from j)."""
    if table is not None and values is None:
        return table[idx]
    inner = table[idx] if table is not None else mix64(idx.astype(np.uint64) + _GOLDEN)
    return mix64(inner ^ (_ONE_BITS if values is None else float_bits(values)))


def fold_ids(
    seed: int, folds: int, y: np.ndarray, v: np.ndarray | None, digest: np.ndarray
) -> np.ndarray:
    """f_i ∈ [0, folds) of the module docstring, as int8 (one per row)."""
    if not 2 <= folds <= MAX_FOLDS:
        raise ValueError(f"folds must be in [2, {MAX_FOLDS}], got {folds}")
    h = mix64(np.full(len(y), np.uint64(seed % (1 << 64)), dtype=np.uint64))
    h = _absorb(h, float_bits(y))
    if v is not None:
        h = _absorb(h, float_bits(v))
    h = _absorb(h, np.asarray(digest, dtype=np.uint64))
    return (h % np.uint64(folds)).astype(np.int8)


def fold_mask(f: np.ndarray, fold: int, exclude: bool) -> np.ndarray:
    """[f ≠ fold] (the training part, ``exclude``) or [f = fold] (the held-out part)."""
    return f != fold if exclude else f == fold


def fold_weights(f: np.ndarray, v: np.ndarray | None, fold: int, exclude: bool) -> np.ndarray:
    """v_eff = v ⊙ mask (v = 1 when None), float64."""
    mask = fold_mask(f, fold, exclude).astype(np.float64)
    return mask if v is None else mask * v
