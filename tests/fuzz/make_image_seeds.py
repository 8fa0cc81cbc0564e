"""Writes the small files that seed the fuzz_image and fuzz_y4m corpora
(tests/fuzz/corpus/fuzz_image/, tests/fuzz/corpus/fuzz_y4m/). Run with Debian's python3
(python3-pil, python3-numpy); the outputs are committed, a few hundred bytes each."""
import os
import sys

import numpy as np
from PIL import Image

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
img_dir, y4m_dir = os.path.join(root, "fuzz_image"), os.path.join(root, "fuzz_y4m")
os.makedirs(img_dir, exist_ok=True)
os.makedirs(y4m_dir, exist_ok=True)

rng = np.random.default_rng(1)
rgb = rng.integers(0, 256, size=(6, 9, 3), dtype=np.uint8)
gray = rgb[..., 0].copy()

with open(os.path.join(img_dir, "rgb.ppm"), "wb") as f:
    f.write(b"P6\n# seed\n9 6\n255\n" + rgb.tobytes())
with open(os.path.join(img_dir, "gray15.pgm"), "wb") as f:
    f.write(b"P5 9 6 15\n" + (gray % 16).tobytes())
with open(os.path.join(img_dir, "gray16.pgm"), "wb") as f:
    f.write(b"P5 3 2 1000\n" + (np.arange(6, dtype=">u2") * 150).tobytes())
Image.fromarray(rgb).save(os.path.join(img_dir, "rgb.png"))
Image.fromarray(gray).save(os.path.join(img_dir, "gray.png"))
Image.fromarray(rgb).quantize(colors=4).save(os.path.join(img_dir, "palette.png"))
Image.fromarray(np.concatenate([rgb, rgb[..., :1]], axis=-1)).save(os.path.join(img_dir, "rgba.png"))
Image.fromarray(rgb).save(os.path.join(img_dir, "baseline.jpg"), quality=80)
Image.fromarray(rgb).save(os.path.join(img_dir, "progressive.jpg"), quality=80, progressive=True)
Image.fromarray(rgb).save(os.path.join(img_dir, "444.jpg"), quality=80, subsampling=0)
Image.fromarray(gray).save(os.path.join(img_dir, "gray.jpg"), quality=80)


def y4m(name, header, frames, frame_line=b"FRAME\n"):
    with open(os.path.join(y4m_dir, name), "wb") as f:
        f.write(header)
        for fr in frames:
            f.write(frame_line + fr)


w, h = 5, 3
n420 = w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2)
y4m("420jpeg.y4m", b"YUV4MPEG2 W5 H3 F25:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n",
    [rng.integers(0, 256, n420, dtype=np.uint8).tobytes() for _ in range(2)])
y4m("420mpeg2.y4m", b"YUV4MPEG2 W4 H2 F30000:1001 C420mpeg2\n",
    [rng.integers(0, 256, 12, dtype=np.uint8).tobytes()], b"FRAME Ixyz\n")
y4m("nocs.y4m", b"YUV4MPEG2 W2 H2\n", [bytes(6)] * 3)
y4m("mono.y4m", b"YUV4MPEG2 W3 H2 Cmono\n", [bytes(range(6))] * 2)
y4m("444.y4m", b"YUV4MPEG2 W3 H2 F10:1 C444\n", [rng.integers(0, 256, 18, dtype=np.uint8).tobytes()])
y4m("truncated.y4m", b"YUV4MPEG2 W4 H2 C420\n", [bytes(12), bytes(5)])
