"""Calibration: run the float graph (EVO's NumPy reference) over the calibration set and keep,
per float activation tensor, its exact min/max, a bounded random sample of its values (for the
percentile and MSE range methods) and, for tensors feeding DEPTHWISE_CONV_2D, the mean value
per element (for bias correction)."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np

from evo.ir import Graph
from evo.ref import executor

SAMPLE_BUDGET = 65536  # values kept per tensor over the whole calibration set


@dataclass
class TensorStats:
    vmin: float = float("inf")
    vmax: float = float("-inf")
    parts: list = field(default_factory=list)
    total: np.ndarray | None = None  # running sum (only for tensors that need a mean)
    count: int = 0

    @property
    def sample(self) -> np.ndarray | None:
        return np.concatenate(self.parts) if self.parts else None

    @property
    def mean(self) -> np.ndarray | None:
        return None if self.total is None else self.total / max(self.count, 1)


class _Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, label: str = "calibrating"):
        self.total, self.label = total, label
        self.enabled = total > 1 and sys.stderr.isatty()
        self.start = time.monotonic()
        self.shown = False

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        if elapsed < 0.5 and done < self.total:
            return
        width = 30
        filled = int(width * done / self.total)
        eta = elapsed / done * (self.total - done) if done else 0.0
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}  {eta:4.0f}s left ")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 72 + "\r")
            sys.stderr.flush()


def calibrate(g: Graph, samples: list[list[np.ndarray]], keep_samples: bool = True,
              mean_tensors: set[int] | None = None, seed: int = 0) -> dict[int, TensorStats]:
    """Statistics of every non-constant float32 tensor of `g` over `samples` (each a list with
    one array per model input)."""
    tracked = [t.index for t in g.tensors if t.dtype == "float32" and not t.is_const]
    stats = {i: TensorStats() for i in tracked}
    mean_tensors = mean_tensors or set()
    per_sample = max(64, -(-SAMPLE_BUDGET // max(len(samples), 1)))
    rng = np.random.default_rng(seed)
    bar = _Progress(len(samples))
    try:
        for k, inputs in enumerate(samples):
            values = executor.run(g, inputs)
            for i in tracked:
                v = values.get(i)
                if v is None:
                    continue
                s = stats[i]
                flat = np.asarray(v, np.float32).reshape(-1)
                if flat.size == 0:
                    continue
                s.vmin = min(s.vmin, float(flat.min()))
                s.vmax = max(s.vmax, float(flat.max()))
                if keep_samples:
                    s.parts.append(flat if flat.size <= per_sample else rng.choice(flat, per_sample, replace=False))
                if i in mean_tensors:
                    s.total = flat.astype(np.float64) if s.total is None else s.total + flat
                    s.count += 1
            bar.update(k + 1)
    finally:
        bar.close()
    for s in stats.values():
        if s.vmin == float("inf"):  # never produced (cannot happen for a connected graph)
            s.vmin = s.vmax = 0.0
    return stats
