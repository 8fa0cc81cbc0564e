#!/usr/bin/python3
"""Reference values for the image suite (tests/unit/test_image.c); rerun to regenerate.

Writes tests/fixtures/image/:
  pp_src.ppm              37x29 RGB input of every preprocessing case (seeded noise + ramps)
  preprocess_cases.txt    one case per line: "<name> <out_w> <out_h> <recipe>"
  pp_<name>.npy           expected float32 [3][out_h][out_w] of each case, computed in
                          float64 numpy from the documented semantics (preprocess.c) and
                          cross-checked here against PyTorch where PyTorch has the filter
  dec_*.{png,jpg}         small files written by PIL, and dec_*.npy: the pixels a decoder
                          must produce (PIL's own decode; libjpeg-turbo on both sides)
  yuv_cases.txt           "Y U V R G B" of the BT.601 limited-range conversion (exact
                          rationals, halves rounded up), used by the colour tests

Usage: /usr/bin/python3 tests/unit/preprocess_reference.py  (needs numpy, torch, PIL)
"""
import os
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "image")

# name, out_w, out_h, recipe (the C parser reads the recipe; semantics in preprocess.c)
CASES = [
    ("bilinear_down", 16, 12, "resize=16x12:bilinear"),
    ("bilinear_up", 20, 17, "crop=4,3,13,11,resize=20x17"),
    ("nearest_down", 16, 12, "resize=16x12:nearest"),
    ("nearest_up", 20, 17, "crop=4,3,13,11,resize=20x17:nearest"),
    ("area_int", 12, 7, "crop=1,1,36,28,resize=12x7:area"),
    ("area_frac", 16, 12, "resize=16x12:area"),
    ("area_up", 20, 17, "crop=4,3,13,11,resize=20x17:area"),
    ("center_bilinear", 16, 16, "crop=center,resize=16x16:bilinear"),
    ("center_sized", 20, 15, "crop=center:20x15"),
    ("rect_vflip_bgr_norm", 10, 8,
     "crop=3,2,20,16,flip=vertical,resize=10x8:bilinear,mean=0.485,0.456,0.406,std=0.229,0.224,0.225,order=bgr"),
    ("hflip_area", 10, 8, "flip=horizontal,crop=5,4,24,20,resize=10x8:area"),
    ("hflip_identity", 12, 9, "crop=center:12x9,flip=horizontal"),
    ("vflip_nearest", 9, 11, "flip=vertical,resize=9x11:nearest"),
    ("tcn_range", 16, 12, "resize=16x12,scale=2/255,mean=1,1,1"),
]


def source_image():
    rng = np.random.default_rng(20240611)
    h, w = 29, 37
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 7 + y * 3, 255 - x * 5 - y * 2, (x * y) % 256], axis=-1).astype(np.int64)
    img = (img + rng.integers(-40, 41, size=img.shape)) % 256
    return img.astype(np.uint8)


def parse_recipe(spec):
    """Just enough of ert_preprocess_parse for the cases above."""
    r = dict(crop=None, resize=None, filter="bilinear", scale=1 / 255, mean=[0.0] * 3, std=[1.0] * 3,
             order="rgb", flip="none")
    fields = spec.split(",")
    i = 0
    while i < len(fields):
        k, v = fields[i].split("=")
        if k == "crop":
            if v.startswith("center"):
                r["crop"] = ("center", tuple(int(s) for s in v[7:].split("x"))) if ":" in v else ("center", None)
            else:
                r["crop"] = ("rect", tuple(int(s) for s in [v] + fields[i + 1:i + 4]))
                i += 3
        elif k == "resize":
            size, _, filt = v.partition(":")
            r["resize"] = tuple(int(s) for s in size.split("x"))
            r["filter"] = filt or "bilinear"
        elif k == "scale":
            num, _, den = v.partition("/")
            r["scale"] = float(np.float32(float(num) / float(den or 1)))
        elif k in ("mean", "std"):
            r[k] = [float(np.float32(float(s))) for s in [v] + fields[i + 1:i + 3]]
            i += 2
        else:
            r[k] = v
        i += 1
    return r


def axis_matrix(filt, n_in, n_out):
    """[n_out, n_in] float64 resampling matrix of one axis (the documented rules)."""
    m = np.zeros((n_out, n_in))
    for o in range(n_out):
        if n_in == n_out:
            m[o, o] = 1
        elif filt == "nearest":
            m[o, min(o * n_in // n_out, n_in - 1)] = 1
        elif filt == "bilinear":
            s = max((o + 0.5) * n_in / n_out - 0.5, 0.0)
            i0 = int(np.floor(s))
            lam = s - i0
            i1 = min(i0 + 1, n_in - 1)
            m[o, i0] += 1 - lam
            m[o, i1] += lam
        else:  # area: exact overlap of [o*in/out, (o+1)*in/out) with each pixel
            lo, hi = Fraction(o * n_in, n_out), Fraction((o + 1) * n_in, n_out)
            for i in range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in)):
                ov = min(hi, i + 1) - max(lo, i)
                if ov > 0:
                    m[o, i] = float(ov * n_out / n_in)
    return m


def reference(img, spec, out_w, out_h):
    r = parse_recipe(spec)
    x = img.astype(np.float64)
    if r["flip"] == "vertical":
        x = x[::-1]
    elif r["flip"] == "horizontal":
        x = x[:, ::-1]
    h, w = x.shape[:2]
    if r["crop"] and r["crop"][0] == "center":
        cw, ch = r["crop"][1] or (min(w, h), min(w, h))
        cx, cy = (w - cw) // 2, (h - ch) // 2
        x = x[cy:cy + ch, cx:cx + cw]
    elif r["crop"]:
        cx, cy, cw, ch = r["crop"][1]
        x = x[cy:cy + ch, cx:cx + cw]
    h, w = x.shape[:2]
    if r["resize"]:
        assert r["resize"] == (out_w, out_h)
        my, mx = axis_matrix(r["filter"], h, out_h), axis_matrix(r["filter"], w, out_w)
        x = np.einsum("oh,hwc,pw->opc", my, x, mx)
    assert x.shape[:2] == (out_h, out_w)
    x = x * r["scale"]
    x = (x - np.array(r["mean"])) / np.array(r["std"])
    chw = x.transpose(2, 0, 1)
    if r["order"] == "bgr":
        chw = chw[::-1]
    return np.ascontiguousarray(chw), r


def torch_check(img, r, got, spec):
    """PyTorch on the same (flipped, cropped) float image, where it has the filter."""
    x = img.astype(np.float32)
    if r["flip"] == "vertical":
        x = x[::-1]
    elif r["flip"] == "horizontal":
        x = x[:, ::-1]
    h, w = x.shape[:2]
    if r["crop"] and r["crop"][0] == "center":
        cw, ch = r["crop"][1] or (min(w, h), min(w, h))
        x = x[(h - ch) // 2:(h - ch) // 2 + ch, (w - cw) // 2:(w - cw) // 2 + cw]
    elif r["crop"]:
        cx, cy, cw, ch = r["crop"][1]
        x = x[cy:cy + ch, cx:cx + cw]
    t = torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None]
    if r["resize"]:
        ow, oh = r["resize"]
        f = r["filter"]
        integer = t.shape[2] % oh == 0 and t.shape[3] % ow == 0
        if f == "area" and not integer:
            return "area with a fractional factor: numpy box filter only"
        if f == "bilinear":
            t = F.interpolate(t, size=(oh, ow), mode="bilinear", align_corners=False)
        else:
            t = F.interpolate(t, size=(oh, ow), mode=f)
    t = t[0].double() * r["scale"]
    t = (t - torch.tensor(r["mean"]).double()[:, None, None]) / torch.tensor(r["std"]).double()[:, None, None]
    if r["order"] == "bgr":
        t = t.flip(0)
    err = float(np.abs(t.numpy() - got).max())
    assert err < 1e-5, (spec, err)
    return f"torch max abs diff {err:.1e}"


def yuv_rows():
    def rnd(num, den):  # round half up of an exact rational, clamped
        return max(0, min(255, (num + den // 2) // den))

    rows = []
    for y, u, v in [(16, 128, 128), (235, 128, 128), (126, 128, 128), (81, 90, 240), (145, 54, 34), (41, 240, 110),
                    (0, 0, 0), (255, 255, 255), (255, 0, 255), (0, 255, 0), (100, 200, 50), (17, 129, 127)]:
        yy, uu, vv = 1164383 * (y - 16), u - 128, v - 128
        r = rnd(yy + 1596027 * vv, 10**6)
        g = rnd(yy - 391762 * uu - 812968 * vv, 10**6)
        b = rnd(yy + 2017232 * uu, 10**6)
        # the same, from the real-valued formula (agrees unless within 1e-9 of a half)
        rf = 1.164383 * (y - 16) + 1.596027 * vv
        assert r == max(0, min(255, int(np.floor(rf + 0.5)))), (y, u, v)
        rows.append((y, u, v, r, g, b))
    return rows


# 3x3 RGB frame of test_y4m_writer_converts_rgb_exactly (pasted there)
WRITER_FRAME = [[(255, 0, 0), (0, 255, 0), (0, 0, 255)], [(255, 255, 255), (0, 0, 0), (128, 64, 32)],
                [(10, 200, 30), (90, 90, 90), (250, 128, 5)]]


def writer_case():
    """Y, U, V planes the y4m writer must produce for WRITER_FRAME (exact rationals)."""
    def rnd(f):
        return max(0, min(255, (f + Fraction(1, 2)).__floor__()))

    fr = Fraction
    ys = [rnd(16 + fr("0.256788") * r + fr("0.504129") * g + fr("0.097906") * b) for row in WRITER_FRAME
          for r, g, b in row]
    us, vs = [], []
    for cy in range(2):
        for cx in range(2):
            pts = [WRITER_FRAME[y][x] for y in (2 * cy, 2 * cy + 1) for x in (2 * cx, 2 * cx + 1) if y < 3 and x < 3]
            r, g, b = (fr(sum(p[i] for p in pts), len(pts)) for i in range(3))
            us.append(rnd(128 - fr("0.148223") * r - fr("0.290993") * g + fr("0.439216") * b))
            vs.append(rnd(128 + fr("0.439216") * r - fr("0.367788") * g - fr("0.071427") * b))
    return ys, us, vs


def decode_fixtures():
    rng = np.random.default_rng(7)
    notes = []
    rgb = rng.integers(0, 256, size=(7, 13, 3), dtype=np.uint8)
    smooth = np.clip(np.mgrid[0:13, 0:19][1][..., None] * np.array([13, 7, 3]) +
                     np.mgrid[0:13, 0:19][0][..., None] * np.array([2, 11, 17]), 0, 255).astype(np.uint8)
    Image.fromarray(rgb).save(os.path.join(OUT, "dec_rgb.png"))
    np.save(os.path.join(OUT, "dec_rgb.npy"), rgb)
    gray = rgb[..., 1].copy()
    Image.fromarray(gray).save(os.path.join(OUT, "dec_gray.png"))
    np.save(os.path.join(OUT, "dec_gray.npy"), gray)
    rgba = np.concatenate([rgb, rng.integers(0, 256, size=(7, 13, 1), dtype=np.uint8)], axis=-1)
    Image.fromarray(rgba).save(os.path.join(OUT, "dec_rgba.png"))  # expected: alpha dropped = dec_rgb.npy
    pal = Image.fromarray(rgb).quantize(colors=16)
    pal.save(os.path.join(OUT, "dec_palette.png"))
    np.save(os.path.join(OUT, "dec_palette.npy"), np.asarray(pal.convert("RGB")))
    g16 = (rng.integers(0, 65536, size=(5, 6))).astype(np.uint16)
    Image.fromarray(g16.astype(np.int32), mode="I").convert("I;16").save(os.path.join(OUT, "dec_gray16.png"))
    # spng scales 16-bit samples to 8 bits by taking the high byte
    np.save(os.path.join(OUT, "dec_gray16.npy"), (g16 >> 8).astype(np.uint8))
    for name, kw in [("dec_baseline", dict(quality=90)), ("dec_progressive", dict(quality=85, progressive=True)),
                     ("dec_444", dict(quality=95, subsampling=0))]:
        path = os.path.join(OUT, name + ".jpg")
        Image.fromarray(smooth).save(path, **kw)
        np.save(os.path.join(OUT, name + ".npy"), np.asarray(Image.open(path).convert("RGB")))
    path = os.path.join(OUT, "dec_grayjpg.jpg")
    Image.fromarray(smooth[..., 0]).save(path, quality=90)
    np.save(os.path.join(OUT, "dec_grayjpg.npy"), np.asarray(Image.open(path)))
    notes.append(f"PIL {Image.__version__} decode fixtures written")
    return notes


def main():
    os.makedirs(OUT, exist_ok=True)
    img = source_image()
    h, w = img.shape[:2]
    with open(os.path.join(OUT, "pp_src.ppm"), "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h) + img.tobytes())
    with open(os.path.join(OUT, "preprocess_cases.txt"), "w") as f:
        for name, ow, oh, spec in CASES:
            got, r = reference(img, spec, ow, oh)
            np.save(os.path.join(OUT, f"pp_{name}.npy"), got.astype(np.float32))
            f.write(f"{name} {ow} {oh} {spec}\n")
            print(f"{name:22s} {ow}x{oh}  {torch_check(img, r, got, spec)}")
    with open(os.path.join(OUT, "yuv_cases.txt"), "w") as f:
        for row in yuv_rows():
            f.write(" ".join(map(str, row)) + "\n")
    print("y4m writer Y, U, V of WRITER_FRAME:", *writer_case())
    for n in decode_fixtures():
        print(n)


if __name__ == "__main__":
    main()
