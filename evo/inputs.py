"""Loading user inputs (.npy, .npz, images) and shaping them into a model's input tensors."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph, Tensor

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm"}


def quantize_to(t: Tensor, x: np.ndarray) -> np.ndarray:
    """Float values -> the tensor's quantized integer type (round half away, saturate)."""
    q = t.quant
    scaled = np.asarray(x, np.float64) / q.scalar_scale
    r = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) + q.scalar_zero_point
    info = np.iinfo(t.np_dtype)
    return np.clip(r, info.min, info.max).astype(t.np_dtype)


def dequantize(t: Tensor, x: np.ndarray) -> np.ndarray:
    if t.quant is None or t.dtype == "float32":
        return np.asarray(x, np.float32)
    return (x.astype(np.float32) - t.quant.scalar_zero_point) * np.float32(t.quant.scalar_scale)


def coerce(t: Tensor, name: str, x: np.ndarray) -> np.ndarray:
    """Match dtype and shape: float data for a quantized input is quantized with its scale."""
    x = np.asarray(x)
    if x.size != t.size:
        raise EvoError(f"input {name} has shape {list(x.shape)} ({x.size} values) but the model expects {list(t.shape)}", "pass data of the model's input shape")
    if x.dtype.kind == "f" and t.dtype != "float32":
        if t.quant is None:
            raise EvoError(f"input {name} is float but the model expects {t.dtype} without quantization", f"pass {t.dtype} data")
        x = quantize_to(t, x)
    elif x.dtype != np.dtype(t.np_dtype):
        if x.dtype.kind in "iu" and t.dtype != "float32" and np.iinfo(t.np_dtype).min <= x.min() and x.max() <= np.iinfo(t.np_dtype).max:
            x = x.astype(t.np_dtype)
        elif x.dtype.kind in "iu" and t.dtype == "float32":
            x = x.astype(np.float32)
        else:
            raise EvoError(f"input {name} is {x.dtype} but the model expects {t.dtype}", f"convert the data to {t.dtype}")
    return x.reshape(t.shape)


def load_image(path: Path, t: Tensor, value_range: tuple[float, float]) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        raise EvoError("reading images needs Pillow", "pip install pillow") from None
    if len(t.shape) != 4:
        raise EvoError(f"the model input has shape {list(t.shape)}, not an NHWC image", "pass a .npy file instead")
    _, h, w, c = t.shape
    if c not in (1, 3):
        raise EvoError(f"the model input has {c} channels; images give 1 or 3", "pass a .npy file instead")
    try:
        img = Image.open(path)
        img = img.convert("L" if c == 1 else "RGB").resize((w, h), Image.BILINEAR)
    except (OSError, ValueError) as e:
        raise EvoError(f"cannot read image {path}: {e}", "pass a PNG/JPEG/BMP file") from None
    lo, hi = value_range
    x = np.asarray(img, np.float32).reshape(1, h, w, c) / 255.0 * (hi - lo) + lo
    return x


def load_inputs(g: Graph, path: str | Path, image_range: tuple[float, float] = (0.0, 1.0)) -> list[np.ndarray]:
    path = Path(path)
    if not path.is_file():
        raise EvoError(f"input file {path} does not exist", "check the path")
    tensors = [g.tensor(i) for i in g.inputs]
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        if len(tensors) != 1:
            raise EvoError(f"an image can feed a one-input model; this one has {len(tensors)} inputs", "pass an .npz with one array per input")
        return [coerce(tensors[0], g.input_names[0], load_image(path, tensors[0], image_range))]
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise EvoError(f"cannot read {path} as .npy/.npz: {e}", "save inputs with numpy.save or numpy.savez") from None
    if isinstance(data, np.ndarray):
        if len(tensors) != 1:
            raise EvoError(f"the model has {len(tensors)} inputs but {path.name} holds one array", "pass an .npz with one array per input")
        return [coerce(tensors[0], g.input_names[0], data)]
    with data:
        keys = list(data.keys())
        arrays = []
        for i, (name, t) in enumerate(zip(g.input_names, tensors)):
            for key in (name, f"input_{i}" if i else "input", f"input_{i}", f"arr_{i}"):
                if key in keys:
                    arrays.append(coerce(t, name, data[key]))
                    break
            else:
                if len(keys) == len(tensors) == 1:
                    arrays.append(coerce(t, name, data[keys[0]]))
                else:
                    raise EvoError(f"{path.name} has no array for input {name} (keys: {', '.join(keys)})", f"name the array '{name}' or 'input_{i}'")
        return arrays


def random_inputs(g: Graph, seed: int) -> list[np.ndarray]:
    """Seeded random inputs: full integer range, standard normal floats."""
    rng = np.random.default_rng(seed)
    out = []
    for t in (g.tensor(i) for i in g.inputs):
        if t.dtype == "float32":
            out.append(rng.standard_normal(t.shape).astype(np.float32))
        else:
            info = np.iinfo(t.np_dtype)
            out.append(rng.integers(info.min, info.max, size=t.shape, endpoint=True).astype(t.np_dtype))
    return out
