"""demo-report.png for tools/dev demo (tools/dev.d/demo.py): the push rewards against the true
distance (over time, scaled, and as a scatter in reward units), the grasp2vec heatmap on the
pre-grasp scene with the true box and keypoint, the push frames and, when the demo ran TCN or
mfTCN, their imitation rewards over a faithful and a deviating attempt; drawn with pngplot.py."""

import numpy as np

import pngplot

COLOURS = {"distance": (0, 0, 0), "rig": (31, 119, 180), "rig_imagined": (148, 103, 189), "ccvae": (230, 110, 20),
           "faithful": (20, 150, 40), "deviating": (200, 30, 30)}


def imitation_panel(cv, x0, y0, w, h, name, series):
    """One family's imitation reward per attempt frame: faithful and deviating attempts."""
    cv.text(x0, y0 - 30, f"{name.upper()}: IMITATION REWARD OVER THE ATTEMPT (DEMONSTRATION: THE DEMO VIDEO)",
            (0, 0, 0))
    allv = np.concatenate([np.asarray(v, np.float64) for v in series.values()])
    lo, hi = float(allv.min()), float(allv.max())
    if hi <= lo:
        hi = lo + 1
    cv.rect(x0, y0, x0 + w, y0 + h, (120, 120, 120))
    for yv in np.linspace(lo, hi, 4):
        y = y0 + h - h * (yv - lo) / (hi - lo)
        cv.line(x0 - 4, y, x0, y, (120, 120, 120))
        cv.text(x0 - 44, y - 3, f"{yv:+.1f}", (90, 90, 90))
    n = max(len(v) for v in series.values())
    for f in range(0, n, 10):
        x = x0 + w * f / max(n - 1, 1)
        cv.line(x, y0 + h, x, y0 + h + 4, (120, 120, 120))
        cv.text(x - 6, y0 + h + 8, str(f), (90, 90, 90))
    cv.text(x0 + w / 2 - 40, y0 + h + 20, "ATTEMPT FRAME", (90, 90, 90))
    for i, (kind, v) in enumerate(sorted(series.items())):
        xs = [x0 + w * j / max(len(v) - 1, 1) for j in range(len(v))]
        ys = [y0 + h - 2 - (h - 4) * (val - lo) / (hi - lo) for val in v]
        cv.polyline(xs, ys, COLOURS[kind], 2)
        ly = y0 + h + 36 + 12 * i
        cv.fill(x0, ly + 2, x0 + 18, ly + 5, COLOURS[kind])
        cv.text(x0 + 24, ly, f"{kind.upper()} ATTEMPT, MEAN {np.mean(v):+.3f}", COLOURS[kind])


def heat_overlay(scene, values, w, h, k):
    """scene [S, S, 3] enlarged k x, blended with the heatmap: cell j centred on pixel S/w * j + 0.5."""
    S = scene.shape[0]
    big = pngplot.upscale(scene, k).astype(np.float64)
    v = np.asarray(values, np.float64).reshape(h, w)
    v = v / v.max() if v.max() > 0 else v
    pos = (np.arange(S * k) + 0.5) / k          # pixel centre in scene pixels
    stride = S / w

    def interp(n, s):
        t = np.clip((pos - 0.5) / s, 0, n - 1)
        i0 = np.floor(t).astype(int)
        i1 = np.minimum(i0 + 1, n - 1)
        return i0, i1, t - i0
    yi0, yi1, fy = interp(h, S / h)
    xi0, xi1, fx = interp(w, stride)
    a = v[yi0][:, xi0] * (1 - fx) + v[yi0][:, xi1] * fx
    b = v[yi1][:, xi0] * (1 - fx) + v[yi1][:, xi1] * fx
    m = (a * (1 - fy)[:, None] + b * fy[:, None])[..., None]
    red = np.array([255, 30, 0], np.float64)
    alpha = 0.65 * m
    return np.clip(big * (1 - alpha) + red * alpha, 0, 255).astype(np.uint8)


def draw_report(path, res, push, g):
    fams = {}
    for key, v in res.get("tcn", {}).items():
        model = key.split("@")[0]
        fam, kind = model.rsplit("_", 1)
        if "rewards" in v:
            fams.setdefault(fam, {})[kind] = v["rewards"]
    W, H = 1130, 760 + (280 if fams else 0)
    cv = pngplot.Canvas(W, H)
    T = len(push.distance)
    cv.text(16, 10, f"EMBEDRT DEMO: TRAINED MODELS ON A HELD-OUT SIMWORLD EPISODE (SEED {res['seed']}), "
                    "REWARDS THROUGH EMBEDRTD", (0, 0, 0), 1)
    # ---- panel 1: rewards and -distance over the push episode, each scaled to [0, 1]
    px0, py0, pw, ph = 60, 70, 470, 300
    cv.text(px0, 40, "PUSH: REWARD AND TRUE PUCK-TO-GOAL DISTANCE OVER THE EPISODE", (0, 0, 0))
    cv.text(px0, 52, "(EACH CURVE SCALED TO [0, 1] OVER THE EPISODE; UP = CLOSER TO THE GOAL)", (90, 90, 90))
    cv.rect(px0, py0, px0 + pw, py0 + ph, (120, 120, 120))
    for k in range(0, 5):
        y = py0 + ph - k * ph / 4
        cv.line(px0 - 4, y, px0, y, (120, 120, 120))
        cv.text(px0 - 34, y - 3, f"{k / 4:.2f}", (90, 90, 90))
    for f in range(0, T + 1, 10):
        x = px0 + pw * min(f, T - 1) / (T - 1)
        cv.line(x, py0 + ph, x, py0 + ph + 4, (120, 120, 120))
        cv.text(x - 6, py0 + ph + 8, str(min(f, T - 1)), (90, 90, 90))
    cv.text(px0 + pw / 2 - 40, py0 + ph + 20, "FRAME (30 FPS)", (90, 90, 90))
    xs = [px0 + pw * i / (T - 1) for i in range(T)]

    def scaled(v):
        v = np.asarray(v, np.float64)
        lo, hi = v.min(), v.max()
        return (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)
    curves = [("distance", -np.asarray(push.distance), "- TRUE DISTANCE "
               f"({100 * min(push.distance):.1f}-{100 * max(push.distance):.1f} CM)")]
    for m in ("rig", "ccvae"):
        p = res["push"][m]
        curves.append((m, p["rewards"], f"{m.upper()} REWARD (GOAL: THE EPISODE'S GOAL IMAGE), SPEARMAN "
                                        f"{p['spearman_vs_minus_distance']:+.2f}"))
    for i, (m, v, label) in enumerate(curves):
        ys = [py0 + ph - 4 - (ph - 8) * s for s in scaled(v)]
        cv.polyline(xs, ys, COLOURS[m], 3 if m == "distance" else 2)
        for x, y in zip(xs, ys):
            cv.dot(x, y, COLOURS[m], 2)
        ly = py0 + ph + 36 + 12 * i
        cv.fill(px0, ly + 2, px0 + 18, ly + 5, COLOURS[m])
        cv.text(px0 + 24, ly, label, COLOURS[m])
    im = res["push"]["rig_imagined"]["rewards"]
    cv.text(px0, py0 + ph + 36 + 12 * len(curves),
            f"RIG, IMAGINED GOAL (PRIOR SEED {res['prior_seed']}, NOT THIS EPISODE'S): "
            f"REWARD {min(im):+.2f} TO {max(im):+.2f}", COLOURS["rig_imagined"])
    # ---- panel 2: the heatmap on the pre-grasp scene
    gr = res["grasp"]
    k = 3
    ox, oy = 590, 70
    hm = gr["heatmap"]
    cv.text(ox, 40, "GRASP2VEC: HEATMAP FOR THE GOAL OBJECT ON THE PRE-GRASP SCENE", (0, 0, 0))
    cv.text(ox, 52, f"(RED: SOFTMAX OVER THE {hm['width']}X{hm['height']} MAP; GREEN: TRUE BOX; CROSS: KEYPOINT)",
            (90, 90, 90))
    cv.blit(ox, oy, heat_overlay(g["pre"], hm["values"], hm["width"], hm["height"], k))
    x0, y0, x1, y1 = gr["box"]
    cv.rect(ox + int(x0 * k), oy + int(y0 * k), ox + int(x1 * k), oy + int(y1 * k), (0, 200, 0), 2)
    kx, ky = ox + gr["keypoint_px"][0] * k, oy + gr["keypoint_px"][1] * k
    cv.line(kx - 9, ky, kx + 9, ky, (0, 255, 255), 3)
    cv.line(kx, ky - 9, kx, ky + 9, (0, 255, 255), 3)
    S = g["pre"].shape[0] * k
    small = 96
    go = g["goals"][g["target"]]
    gi = pngplot.upscale(go, max(1, small // go.shape[0]))
    cv.blit(ox + S + 8, oy, gi[:small, :small])
    cv.text(ox + S + 8, oy + small + 4, "GOAL IMAGE", (90, 90, 90))
    oi = pngplot.upscale(g["outcome"], max(1, small // g["outcome"].shape[0]))
    cv.blit(ox + S + 8, oy + small + 20, oi[:small, :small])
    cv.text(ox + S + 8, oy + 2 * small + 24, "OUTCOME", (90, 90, 90))
    ty = oy + S + 10
    cv.text(ox, ty, f"KEYPOINT ({gr['keypoint_px'][0]:.0f}, {gr['keypoint_px'][1]:.0f}) PX: "
                    f"{'INSIDE' if gr['keypoint_in_box'] else 'OUTSIDE'} THE TRUE BOX", (0, 0, 0))
    rw = gr["rewards"]
    cv.text(ox, ty + 12, "GRASP: " + ", ".join(f"{k_.upper()} {v:+.3f}" for k_, v in rw.items()), (0, 0, 0))
    others = [v for i, v in enumerate(gr["retrieval"]) if i != gr["target"]]
    cv.text(ox, ty + 24, f"OUTCOME VS GOAL: {gr['retrieval'][gr['target']]:+.3f}; BEST OTHER OF "
                         f"{len(others)} OBJECTS: {max(others):+.3f}", (0, 0, 0))
    # ---- panel 3: reward against the true distance (reward units, distance in cm)
    sx0, sy0, sw, sh = px0, 520, pw, 190
    cv.text(sx0, sy0 - 30, "PUSH: REWARD AGAINST THE TRUE PUCK-TO-GOAL DISTANCE (ONE DOT PER FRAME)", (0, 0, 0))
    cv.text(sx0 + sw - 130, sy0 + 8, "RIG", COLOURS["rig"])
    cv.text(sx0 + sw - 130, sy0 + 20, "CCVAE", COLOURS["ccvae"])
    cv.rect(sx0, sy0, sx0 + sw, sy0 + sh, (120, 120, 120))
    dist_cm = 100 * np.asarray(push.distance, np.float64)
    vals = np.concatenate([res["push"][m]["rewards"] for m in ("rig", "ccvae")])
    ylo, yhi = float(np.floor(vals.min())), float(np.ceil(vals.max()))
    xhi = float(np.ceil(dist_cm.max() / 5) * 5)
    for k in range(0, int(xhi) + 1, 5):
        x = sx0 + sw * k / xhi
        cv.line(x, sy0 + sh, x, sy0 + sh + 4, (120, 120, 120))
        cv.text(x - 6, sy0 + sh + 8, str(k), (90, 90, 90))
    cv.text(sx0 + sw / 2 - 80, sy0 + sh + 20, "TRUE DISTANCE (CM)", (90, 90, 90))
    for yv in np.linspace(ylo, yhi, 5):
        y = sy0 + sh - sh * (yv - ylo) / (yhi - ylo)
        cv.line(sx0 - 4, y, sx0, y, (120, 120, 120))
        cv.text(sx0 - 40, y - 3, f"{yv + 0.0:+.1f}", (90, 90, 90))
    cv.text(sx0 - 56, sy0 - 15, "REWARD", (90, 90, 90))
    for m in ("rig", "ccvae"):
        for dcm, v in zip(dist_cm, res["push"][m]["rewards"]):
            cv.dot(sx0 + sw * dcm / xhi, sy0 + sh - sh * (v - ylo) / (yhi - ylo), COLOURS[m], 3)
    # ---- the push episode's frames and goal image (what the RIG/CC-VAE models see, 48x48)
    tx, ty2 = ox, 560
    cv.text(tx, ty2 - 14, "PUSH EPISODE (48X48 FRAMES AS THE DAEMON SEES THEM) AND ITS GOAL IMAGE", (0, 0, 0))
    picks = [0, 20, 26, len(push.frames) - 1]
    for j, fi in enumerate(picks):
        cv.blit(tx + j * 104, ty2, pngplot.upscale(push.frames[fi], 2))
        cv.text(tx + j * 104, ty2 + 100, f"FRAME {fi}", (90, 90, 90))
        cv.text(tx + j * 104, ty2 + 110, f"{100 * push.distance[fi]:.1f} CM TO GO", (90, 90, 90))
    cv.blit(tx + len(picks) * 104, ty2, pngplot.upscale(push.goal, 2))
    cv.text(tx + len(picks) * 104, ty2 + 100, "GOAL IMAGE", (90, 90, 90))
    for i, (fam, series) in enumerate(sorted(fams.items(), key=lambda kv: kv[0] != "tcn")):
        imitation_panel(cv, 60 + 530 * i, 800, 470, 160, fam, series)
    cv.save_png(path)
