"""Calibration data: .npy / .npz arrays (a batch of samples per model input) or a folder of images."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from evo.errors import EvoError
from evo.inputs import IMAGE_SUFFIXES, load_image
from evo.ir import Graph, Tensor


def _samples_of(t: Tensor, name: str, arr: np.ndarray, source: str) -> np.ndarray:
    """Array -> [N, *t.shape] float32 samples; accepts [*shape], [N, *shape] and, for batch-1
    inputs, [N, *shape[1:]]."""
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fiub":
        raise EvoError(f"calibration data for input {name} in {source} has dtype {arr.dtype}", "store float values as a numeric array")
    shape = tuple(t.shape)
    if arr.shape == shape:
        out = arr.reshape((1,) + shape)
    elif arr.shape[1:] == shape:
        out = arr
    elif len(shape) >= 1 and shape[0] == 1 and arr.shape[1:] == shape[1:] and arr.ndim == len(shape):
        out = arr.reshape((arr.shape[0],) + shape)
    else:
        want = [1] + list(shape[1:]) if shape and shape[0] == 1 else list(shape)
        raise EvoError(
            f"calibration data for input {name} has shape {list(arr.shape)} but the model input is {list(shape)}",
            f"pass an array of shape [N, {', '.join(str(d) for d in (shape[1:] if shape and shape[0] == 1 else shape))}] or [N, {', '.join(map(str, want))}]",
        )
    if out.shape[0] == 0:
        raise EvoError(f"calibration data for input {name} in {source} is empty", "pass at least one sample")
    out = out.astype(np.float32)
    if not np.all(np.isfinite(out)):
        raise EvoError(f"calibration data for input {name} in {source} contains NaN or infinity", "clean the data")
    return out


def load_calibration(g: Graph, path: str | Path, image_range: tuple[float, float] = (0.0, 1.0),
                     limit: int | None = None) -> list[list[np.ndarray]]:
    """Calibration samples for a float graph: a list of samples, each a list with one float32
    array per model input (shaped like that input)."""
    path = Path(path)
    tensors = [g.tensor(i) for i in g.inputs]
    names = g.input_names or [t.name for t in tensors]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise EvoError(f"calibration folder {path} holds no images", f"put {', '.join(sorted(IMAGE_SUFFIXES))} files in it")
        if len(tensors) != 1:
            raise EvoError(f"images can calibrate a one-input model; this one has {len(tensors)} inputs", "pass an .npz with one array per input")
        if limit:
            files = files[:limit]
        return [[load_image(f, tensors[0], image_range).reshape(tensors[0].shape)] for f in files]
    if not path.is_file():
        raise EvoError(f"calibration data {path} does not exist", "pass a .npy/.npz file or a folder of images")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        if len(tensors) != 1:
            raise EvoError(f"an image can calibrate a one-input model; this one has {len(tensors)} inputs", "pass an .npz with one array per input")
        return [[load_image(path, tensors[0], image_range).reshape(tensors[0].shape)]]
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise EvoError(f"cannot read calibration data {path} as .npy/.npz: {e}", "save it with numpy.save or numpy.savez") from None
    per_input: list[np.ndarray] = []
    if isinstance(data, np.ndarray):
        if len(tensors) != 1:
            raise EvoError(f"the model has {len(tensors)} inputs but {path.name} holds one array", "pass an .npz with one array per input")
        per_input.append(_samples_of(tensors[0], names[0], data, path.name))
    else:
        with data:
            keys = list(data.keys())
            for i, (name, t) in enumerate(zip(names, tensors)):
                cands = [name, f"input_{i}", f"arr_{i}"] + (["input", "x"] if i == 0 else [])
                key = next((k for k in cands if k in keys), None)
                if key is None and len(keys) == len(tensors) == 1:
                    key = keys[0]
                if key is None:
                    raise EvoError(f"{path.name} has no array for input {name} (keys: {', '.join(keys)})", f"name the array '{name}', 'input_{i}' or 'x'")
                per_input.append(_samples_of(t, name, data[key], path.name))
    n = {a.shape[0] for a in per_input}
    if len(n) != 1:
        raise EvoError(f"{path.name}: the inputs have different sample counts {sorted(n)}", "give every input the same number of samples")
    count = n.pop()
    if limit:
        count = min(count, limit)
    return [[a[k] for a in per_input] for k in range(count)]
