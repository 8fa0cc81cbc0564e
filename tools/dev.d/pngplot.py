"""A small RGB canvas with lines, rectangles, 5x7 bitmap text and a PNG writer (zlib only).

tools/dev demo draws demo-report.png with it. Why not matplotlib: Debian's python3-matplotlib
pulls 40 packages (scipy, boost headers, fonts, tk) onto a machine that needs none of them to
run embedrt, and importing it costs more time than drawing this picture; the report needs
lines, dots, boxes, an image blend and upper-case labels, which fit in this file.
"""

import struct
import zlib

import numpy as np

# 5x7 glyphs, one string of 7 rows per character ('#' = ink). Lower case is drawn as upper case.
_GLYPHS = {
    " ": ".....|.....|.....|.....|.....|.....|.....",
    "A": ".###.|#...#|#...#|#####|#...#|#...#|#...#",
    "B": "####.|#...#|#...#|####.|#...#|#...#|####.",
    "C": ".###.|#...#|#....|#....|#....|#...#|.###.",
    "D": "####.|#...#|#...#|#...#|#...#|#...#|####.",
    "E": "#####|#....|#....|####.|#....|#....|#####",
    "F": "#####|#....|#....|####.|#....|#....|#....",
    "G": ".###.|#...#|#....|#.###|#...#|#...#|.####",
    "H": "#...#|#...#|#...#|#####|#...#|#...#|#...#",
    "I": ".###.|..#..|..#..|..#..|..#..|..#..|.###.",
    "J": "..###|...#.|...#.|...#.|...#.|#..#.|.##..",
    "K": "#...#|#..#.|#.#..|##...|#.#..|#..#.|#...#",
    "L": "#....|#....|#....|#....|#....|#....|#####",
    "M": "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#",
    "N": "#...#|#...#|##..#|#.#.#|#..##|#...#|#...#",
    "O": ".###.|#...#|#...#|#...#|#...#|#...#|.###.",
    "P": "####.|#...#|#...#|####.|#....|#....|#....",
    "Q": ".###.|#...#|#...#|#...#|#.#.#|#..#.|.##.#",
    "R": "####.|#...#|#...#|####.|#.#..|#..#.|#...#",
    "S": ".####|#....|#....|.###.|....#|....#|####.",
    "T": "#####|..#..|..#..|..#..|..#..|..#..|..#..",
    "U": "#...#|#...#|#...#|#...#|#...#|#...#|.###.",
    "V": "#...#|#...#|#...#|#...#|#...#|.#.#.|..#..",
    "W": "#...#|#...#|#...#|#.#.#|#.#.#|#.#.#|.#.#.",
    "X": "#...#|#...#|.#.#.|..#..|.#.#.|#...#|#...#",
    "Y": "#...#|#...#|.#.#.|..#..|..#..|..#..|..#..",
    "Z": "#####|....#|...#.|..#..|.#...|#....|#####",
    "0": ".###.|#...#|#..##|#.#.#|##..#|#...#|.###.",
    "1": "..#..|.##..|..#..|..#..|..#..|..#..|.###.",
    "2": ".###.|#...#|....#|...#.|..#..|.#...|#####",
    "3": "#####|...#.|..#..|...#.|....#|#...#|.###.",
    "4": "...#.|..##.|.#.#.|#..#.|#####|...#.|...#.",
    "5": "#####|#....|####.|....#|....#|#...#|.###.",
    "6": "..##.|.#...|#....|####.|#...#|#...#|.###.",
    "7": "#####|....#|...#.|..#..|.#...|.#...|.#...",
    "8": ".###.|#...#|#...#|.###.|#...#|#...#|.###.",
    "9": ".###.|#...#|#...#|.####|....#|...#.|.##..",
    ".": ".....|.....|.....|.....|.....|.##..|.##..",
    ",": ".....|.....|.....|.....|.##..|..#..|.#...",
    ":": ".....|.##..|.##..|.....|.##..|.##..|.....",
    ";": ".....|.##..|.##..|.....|.##..|..#..|.#...",
    "-": ".....|.....|.....|#####|.....|.....|.....",
    "+": ".....|..#..|..#..|#####|..#..|..#..|.....",
    "=": ".....|.....|#####|.....|#####|.....|.....",
    "(": "...#.|..#..|.#...|.#...|.#...|..#..|...#.",
    ")": ".#...|..#..|...#.|...#.|...#.|..#..|.#...",
    "[": ".###.|.#...|.#...|.#...|.#...|.#...|.###.",
    "]": ".###.|...#.|...#.|...#.|...#.|...#.|.###.",
    "/": ".....|....#|...#.|..#..|.#...|#....|.....",
    "%": "##...|##..#|...#.|..#..|.#...|#..##|...##",
    "<": "...#.|..#..|.#...|#....|.#...|..#..|...#.",
    ">": ".#...|..#..|...#.|....#|...#.|..#..|.#...",
    "_": ".....|.....|.....|.....|.....|.....|#####",
    "'": "..#..|..#..|.#...|.....|.....|.....|.....",
    "*": ".....|..#..|#.#.#|.###.|#.#.#|..#..|.....",
    "#": ".#.#.|.#.#.|#####|.#.#.|#####|.#.#.|.#.#.",
    "?": ".###.|#...#|....#|...#.|..#..|.....|..#..",
    "!": "..#..|..#..|..#..|..#..|..#..|.....|..#..",
    "~": ".....|.....|.#...|#.#.#|...#.|.....|.....",
}
_FONT = {ch: np.array([[c == "#" for c in row] for row in rows.split("|")], bool) for ch, rows in _GLYPHS.items()}
GLYPH_W, GLYPH_H = 6, 8  # advance and line height at scale 1 (5x7 ink)


def text_width(s, scale=1):
    return len(s) * GLYPH_W * scale


class Canvas:
    def __init__(self, width, height, background=(255, 255, 255)):
        self.px = np.empty((height, width, 3), np.uint8)
        self.px[:] = background

    @property
    def width(self):
        return self.px.shape[1]

    @property
    def height(self):
        return self.px.shape[0]

    def fill(self, x0, y0, x1, y1, colour):
        """Fills [x0, x1) x [y0, y1), clipped."""
        x0, y0 = max(0, int(x0)), max(0, int(y0))
        x1, y1 = min(self.width, int(x1)), min(self.height, int(y1))
        if x0 < x1 and y0 < y1:
            self.px[y0:y1, x0:x1] = colour

    def rect(self, x0, y0, x1, y1, colour, thickness=1):
        """Outline of the box with corners (x0, y0) and (x1, y1) inclusive."""
        t = thickness
        self.fill(x0, y0, x1 + 1, y0 + t, colour)
        self.fill(x0, y1 - t + 1, x1 + 1, y1 + 1, colour)
        self.fill(x0, y0, x0 + t, y1 + 1, colour)
        self.fill(x1 - t + 1, y0, x1 + 1, y1 + 1, colour)

    def line(self, x0, y0, x1, y1, colour, thickness=1):
        n = int(max(abs(x1 - x0), abs(y1 - y0)) * 2) + 1
        h = thickness / 2
        for k in range(n + 1):
            t = k / n
            x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
            self.fill(round(x - h), round(y - h), round(x - h) + thickness, round(y - h) + thickness, colour)

    def polyline(self, xs, ys, colour, thickness=2):
        for i in range(len(xs) - 1):
            self.line(xs[i], ys[i], xs[i + 1], ys[i + 1], colour, thickness)

    def dot(self, x, y, colour, radius=2):
        r = radius
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                if dx * dx + dy * dy <= r * r + r:
                    self.fill(round(x) + dx, round(y) + dy, round(x) + dx + 1, round(y) + dy + 1, colour)

    def text(self, x, y, s, colour=(0, 0, 0), scale=1):
        """Draws s with its top-left corner at (x, y); unknown characters are drawn as '?'."""
        for i, ch in enumerate(str(s).upper()):
            g = _FONT.get(ch, _FONT["?"])
            if scale > 1:
                g = np.kron(g, np.ones((scale, scale), bool))
            gx, gy = int(x) + i * GLYPH_W * scale, int(y)
            h, w = g.shape
            ys, xs = slice(max(0, gy), min(self.height, gy + h)), slice(max(0, gx), min(self.width, gx + w))
            if ys.start >= ys.stop or xs.start >= xs.stop:
                continue
            sub = g[ys.start - gy:ys.stop - gy, xs.start - gx:xs.stop - gx]
            if sub.size:
                self.px[ys, xs][sub] = colour

    def blit(self, x, y, rgb):
        h, w = rgb.shape[:2]
        self.px[y:y + h, x:x + w] = rgb

    def save_png(self, path):
        write_png(path, self.px)


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(rgb):
    """[H, W, 3] uint8 -> an 8-bit RGB PNG (filter 0 on every row, zlib level 9)."""
    rgb = np.ascontiguousarray(rgb, np.uint8)
    h, w = rgb.shape[:2]
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rgb.reshape(h, w * 3)], axis=1).tobytes()
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b""))


def write_png(path, rgb):
    with open(path, "wb") as f:
        f.write(png_bytes(rgb))


def upscale(rgb, k):
    """Nearest-neighbour k x k enlargement of an [H, W, 3] image."""
    return np.repeat(np.repeat(rgb, k, 0), k, 1)
