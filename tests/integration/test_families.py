"""Family blobs end to end: `embedrt convert --family` on the reference fixtures with a
preprocessing recipe, then `embedrt reward` / `embedrt embed` on image files, compared with
the same computation in PyTorch (the reference models rebuilt from their seeds by
models/export_reference.py) and numpy (the family formulas, models/<family>/reference/).
Rewards must agree within 1e-4 relative.

usage: test_families.py EMBEDRT_BINARY REPO_ROOT"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

cli, root = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "models"))
sys.path.insert(0, os.path.join(root, "models", "rig", "reference"))
sys.path.insert(0, os.path.join(root, "models", "grasp2vec", "reference"))
import export_reference  # noqa: E402
import grasp2vec_math  # noqa: E402
import rig_math  # noqa: E402

torch.set_num_threads(1)
fixtures = os.path.join(root, "tests", "fixtures", "models")
tmp = tempfile.mkdtemp(prefix="ert-families-")
passed = failed = 0
RTOL = 1e-4


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"  ok    {name}")
    else:
        failed += 1
        print(f"  FAIL  {name} {detail}")


def close(name, got, want, rtol=RTOL):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    err = float(np.max(np.abs(got - want))) / max(float(np.max(np.abs(want))), 1e-6)
    check(name, got.shape == want.shape and err <= rtol, f"got {got} want {want} rel err {err:.2e}")


def run(*args):
    r = subprocess.run([cli, *args], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        print(f"  ... {' '.join(args)} -> exit {r.returncode}: {r.stderr.strip()}")
    return r


def reward(*args):
    r = run("reward", *args, "--json")
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"reward": float("nan"), "components": {}}


def write_ppm(name, img):
    path = os.path.join(tmp, name + ".ppm")
    h, w, _ = img.shape
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h) + img.astype(np.uint8).tobytes())
    return path


def images(seed, n, h, w):
    """Smooth random images (blurred noise) so that resizing filters matter."""
    rng = np.random.RandomState(seed)
    out = []
    for _ in range(n):
        x = rng.rand(h // 4 + 2, w // 4 + 2, 3)
        x = torch.from_numpy(x).permute(2, 0, 1)[None]
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)[0].permute(1, 2, 0).numpy()
        out.append(np.clip(np.round(x * 255), 0, 255).astype(np.uint8))
    return out


def model_of(case):
    return next(export_reference.build_cases("small", {case})).model


def chw(img):
    return torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1)[None]


def crop_rect(img, x, y, w, h):
    return img[y:y + h, x:x + w]


def center_square(img):
    h, w, _ = img.shape
    s = min(h, w)
    return img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]


def bilinear(x, side):
    return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)


SCALE = 1.0 / 255.0

# ---------------------------------------------------------------- grasp2vec
print("grasp2vec")
onnx = os.path.join(fixtures, "grasp2vec_64", "model.onnx")
blob = os.path.join(tmp, "g2v.erb")
r = run("convert", "--family", "grasp2vec", "--graph", f"scene={onnx}", "--graph", f"object={onnx}",
        "--preprocess", f"scene:crop=8,4,64,64,scale={SCALE!r}",
        "--preprocess", f"object:crop=center,resize=64x64:bilinear,scale={SCALE!r}", "-o", blob)
check("g2v_convert", r.returncode == 0, r.stderr)
tower = model_of("grasp2vec_64")
goal, outcome = images(11, 2, 90, 120)       # object images: centre square 90 -> bilinear 64
pre, post, scene = images(12, 3, 72, 80)     # scene images: rect crop 64x64 at (8, 4)
paths = {k: write_ppm(k, v) for k, v in dict(goal=goal, outcome=outcome, pre=pre, post=post, scene=scene).items()}


def phi_o(img):
    with torch.no_grad():
        return tower(bilinear(chw(center_square(img)), 64) * SCALE)


def phi_s(img):
    with torch.no_grad():
        return tower(chw(crop_rect(img, 8, 4, 64, 64)) * SCALE)


vg, _ = phi_o(goal)
vo, _ = phi_o(outcome)
vg, vo = vg[0].double().numpy(), vo[0].double().numpy()
got = reward(blob, "--goal", paths["goal"], "--outcome", paths["outcome"])
close("g2v_outcome_cosine_matches_pytorch", got["reward"], grasp2vec_math.similarity(vg, vo, "cosine")["value"])
close("g2v_outcome_norms", [got["components"].get("goal_norm"), got["components"].get("outcome_norm")],
      [np.linalg.norm(vg), np.linalg.norm(vo)])
got = reward(blob, "--goal", paths["goal"], "--outcome", paths["outcome"], "--param", "similarity=dot")
close("g2v_outcome_dot_override_per_request", got["reward"], grasp2vec_math.similarity(vg, vo, "dot")["value"])

vpre, _ = phi_s(pre)
vpost, _ = phi_s(post)
d = grasp2vec_math.scene_diff(vpre[0].double().numpy(), vpost[0].double().numpy(), False)
got = reward(blob, "--goal", paths["goal"], "--pre", paths["pre"], "--post", paths["post"])
close("g2v_scene_difference_matches_pytorch", got["reward"], grasp2vec_math.similarity(vg, d, "cosine")["value"])
d_relu = grasp2vec_math.scene_diff(vpre[0].double().numpy(), vpost[0].double().numpy(), True)
got = reward(blob, "--goal", paths["goal"], "--pre", paths["pre"], "--post", paths["post"], "--param",
             "diff_relu=1")
close("g2v_scene_difference_relu", got["reward"], grasp2vec_math.similarity(vg, d_relu, "cosine")["value"])

_, spatial = phi_s(scene)
heat_path = os.path.join(tmp, "heat.npy")
got = reward(blob, "--goal", paths["goal"], "--scene", paths["scene"], "--heatmap-out", heat_path,
             "--param", "heatmap_temperature=30")
heat, prob, kp = grasp2vec_math.heatmap(spatial[0].double().numpy(), vg, 30.0)
close("g2v_heatmap_matches_pytorch", np.load(heat_path) if os.path.exists(heat_path) else np.zeros(1), heat)
close("g2v_keypoint_matches_numpy", [got["components"].get("keypoint_x", np.nan),
                                     got["components"].get("keypoint_y", np.nan)], kp, rtol=1e-3)

r = run("embed", blob, "--role", "object", "--image", paths["goal"], "--output", os.path.join(tmp, "vec.npy"))
close("g2v_embed_object_vector", np.load(os.path.join(tmp, "vec.npy"))[0] if r.returncode == 0 else np.zeros(1), vg)

# ---------------------------------------------------------------- rig
print("rig")
enc = os.path.join(fixtures, "rig_encoder", "model.onnx")
blob = os.path.join(tmp, "rig.erb")
stats = np.random.RandomState(3).normal(size=(50, 4)).astype(np.float32)
np.save(os.path.join(tmp, "stats.npy"), stats)
r = run("convert", "--family", "rig", "--graph", f"encoder={enc}", "--preprocess", f"encoder:scale={SCALE!r}",
        "-o", blob)
check("rig_convert", r.returncode == 0, r.stderr)
rig_enc = model_of("rig_encoder")
g_img, f_img = images(21, 2, 48, 48)
gp, fp = write_ppm("rig_goal", g_img), write_ppm("rig_frame", f_img)
with torch.no_grad():
    mu_g = rig_enc(chw(g_img) * SCALE)[0][0].double().numpy()
    mu_f, logvar_f = (t[0].double().numpy() for t in rig_enc(chw(f_img) * SCALE))
got = reward(blob, "--goal", gp, "--frame", fp)
close("rig_image_goal_reward_matches_pytorch", got["reward"], -np.linalg.norm(mu_g - mu_f))
close("rig_mahalanobis_diagnostic", got["components"].get("mahalanobis", np.nan),
      rig_math.mahalanobis(mu_g, mu_f, logvar_f))
got = reward(blob, "--goal", gp, "--frame", fp, "--param", "norm_order=1")
close("rig_l1_override", got["reward"], -np.sum(np.abs(mu_g - mu_f)))
z = np.asarray(rig_math.sample_prior(42, 4), np.float64)
got = reward(blob, "--prior-goal", "42", "--frame", fp)
close("rig_prior_goal_seed_42", got["reward"], -np.linalg.norm(z - mu_f))
again = reward(blob, "--prior-goal", "42", "--frame", fp)
check("rig_prior_goal_reproducible", again["reward"] == got["reward"], f"{again['reward']} vs {got['reward']}")
blob_s = os.path.join(tmp, "rig_stats.erb")
r = run("convert", "--family", "rig", "--graph", f"encoder={enc}", "--latent-stats", os.path.join(tmp, "stats.npy"),
        "-o", blob_s)
check("rig_convert_latent_stats", r.returncode == 0, r.stderr)
m, s = stats.astype(np.float64).mean(0), stats.astype(np.float64).std(0, ddof=1)
z = np.asarray(rig_math.sample_prior(7, 4, m, s), np.float64)
got = reward(blob_s, "--prior-goal", "7", "--frame", fp)
close("rig_prior_goal_from_latent_stats", got["reward"], -np.linalg.norm(z - mu_f))

# ---------------------------------------------------------------- ccvae
print("ccvae")
enc = os.path.join(fixtures, "ccvae", "model.onnx")
ctx_onnx = os.path.join(fixtures, "ccvae_context", "model.onnx")
state_onnx = os.path.join(fixtures, "ccvae_state", "model.onnx")
for variant, graphs in [("encoder", [f"encoder={enc}"]), ("encoder+context", [f"encoder={enc}", f"context={ctx_onnx}"]),
                        ("state+context", [f"state={state_onnx}", f"context={ctx_onnx}"])]:
    blob = os.path.join(tmp, f"ccvae_{variant}.erb")
    args = ["convert", "--family", "ccvae"]
    for g in graphs:
        args += ["--graph", g]
    r = run(*args, "-o", blob)
    check(f"ccvae_convert_{variant}", r.returncode == 0, r.stderr)
    cc = model_of("ccvae")
    x0, xt, xg = images(31, 3, 48, 48)
    p0, pt, pg = write_ppm("cc_x0", x0), write_ppm("cc_xt", xt), write_ppm("cc_goal", xg)
    with torch.no_grad():
        lat = cc(chw(xt) * SCALE, chw(x0) * SCALE)[2][0].double().numpy()
        lat_goal = cc(chw(xg) * SCALE, chw(x0) * SCALE)[2][0].double().numpy()
    got = reward(blob, "--context", p0, "--frame", pt, "--goal", pg)
    close(f"ccvae_image_goal_matches_pytorch_{variant}", got["reward"], -np.linalg.norm(lat_goal - lat))
    goal = np.asarray(rig_math.ccvae_goal(5, 6, lat[6:]), np.float64)
    got = reward(blob, "--context", p0, "--frame", pt, "--prior-goal", "5")
    close(f"ccvae_prior_goal_is_z_and_context_{variant}", got["reward"], -np.linalg.norm(goal - lat), rtol=1e-3)

# ---------------------------------------------------------------- tcn
print("tcn")


def write_y4m(name, frames_yuv, w, h):
    path = os.path.join(tmp, name + ".y4m")
    with open(path, "wb") as f:
        f.write(b"YUV4MPEG2 W%d H%d F30:1 Ip A1:1 C420jpeg\n" % (w, h))
        for y, u, v in frames_yuv:
            f.write(b"FRAME\n" + y.tobytes() + u.tobytes() + v.tobytes())
    return path


def yuv_to_rgb(y, u, v):
    """BT.601 limited range, the integer rule of runtime/image/frame.c."""
    h, w = y.shape
    uu = u[np.arange(h)[:, None] // 2, np.arange(w)[None, :] // 2].astype(np.int64) - 128
    vv = v[np.arange(h)[:, None] // 2, np.arange(w)[None, :] // 2].astype(np.int64) - 128
    ty = 1164383 * (y.astype(np.int64) - 16)

    def rnd(n):
        q = n + 500000
        return np.where(q < 0, 0, np.minimum(q // 1000000, 255))
    return np.stack([rnd(ty + 1596027 * vv), rnd(ty - 391762 * uu - 812968 * vv), rnd(ty + 2017232 * uu)], -1)


def yuv_frames(seed, n, w, h):
    rng = np.random.RandomState(seed)
    out = []
    for k in range(n):
        base = images(seed * 100 + k, 1, h, w)[0].astype(np.float64)
        y = np.clip(16 + 0.857 * base.mean(-1), 16, 235).astype(np.uint8)
        u = rng.randint(100, 156, ((h + 1) // 2, (w + 1) // 2)).astype(np.uint8)
        v = rng.randint(100, 156, ((h + 1) // 2, (w + 1) // 2)).astype(np.uint8)
        out.append((y, u, v))
    return out


emb = os.path.join(fixtures, "tcn_99", "model.onnx")
blob = os.path.join(tmp, "tcn.erb")
r = run("convert", "--family", "tcn", "--graph", f"embedder={emb}",
        "--preprocess", f"embedder:crop=center,resize=99x99:bilinear,scale={2 * SCALE!r},mean=1,1,1", "-o", blob)
check("tcn_convert", r.returncode == 0, r.stderr)
tcn_model = model_of("tcn_99")
W, H = 120, 104
demo_yuv, live_yuv = yuv_frames(41, 4, W, H), yuv_frames(42, 6, W, H)
demo_path, live_path = write_y4m("demo", demo_yuv, W, H), write_y4m("live", live_yuv, W, H)


def tcn_embed(yuv):
    rgb = center_square(yuv_to_rgb(*yuv))
    with torch.no_grad():
        return tcn_model(bilinear(chw(rgb), 99) * (2 * SCALE) - 1)[0].double().numpy()


demo_emb = np.stack([tcn_embed(f) for f in demo_yuv])
lines = run("reward", blob, "--demo", demo_path, "--live", live_path, "--json").stdout.strip().splitlines()
check("tcn_one_line_per_live_frame", len(lines) == len(live_yuv), f"{len(lines)} lines")
for t, yuv in enumerate(live_yuv):
    w_t = tcn_embed(yuv)
    v_t = demo_emb[min(t, len(demo_yuv) - 1)]
    d2 = float(np.sum((w_t - v_t) ** 2))
    want = -0.5 * d2 - 0.5 * np.sqrt(1e-3 + d2)
    got = json.loads(lines[t]) if t < len(lines) else {"reward": np.nan, "components": {}}
    close(f"tcn_imitation_reward_frame_{t}", got["reward"], want)
    nn = int(np.argmin(np.sum((demo_emb - w_t) ** 2, axis=1)))
    check(f"tcn_nearest_demo_frame_{t}", got["components"].get("nn_index") == nn, f"{got['components']} vs {nn}")
np.save(os.path.join(tmp, "demo.npy"), demo_emb.astype(np.float32))
lines2 = run("reward", blob, "--demo", os.path.join(tmp, "demo.npy"), "--live", live_path, "--json").stdout
close("tcn_demo_from_npy_equals_demo_from_video", [json.loads(x)["reward"] for x in lines2.strip().splitlines()],
      [json.loads(x)["reward"] for x in lines])
# time_window 2: live frame t against the closest demo frame within t +- 2 (of min(t, T - 1)).
lines3 = run("reward", blob, "--demo", demo_path, "--live", live_path, "--param", "time_window=2",
             "--json").stdout.strip().splitlines()
for t, yuv in enumerate(live_yuv):
    w_t = tcn_embed(yuv)
    c = min(t, len(demo_yuv) - 1)
    lo, hi = max(0, c - 2), min(len(demo_yuv), c + 3)
    d2s = np.sum((demo_emb[lo:hi] - w_t) ** 2, axis=1)
    k = lo + int(np.argmin(d2s))
    got = json.loads(lines3[t]) if t < len(lines3) else {"reward": np.nan, "components": {}}
    close(f"tcn_time_window_reward_frame_{t}", got["reward"], -0.5 * d2s.min() - 0.5 * np.sqrt(1e-3 + d2s.min()))
    check(f"tcn_time_window_demo_frame_{t}", got["components"].get("demo_frame") == k, f"{got['components']} vs {k}")
r = run("reward", blob, "--demo", demo_path, "--live", live_path, "--param", "time_window=1.5")
check("tcn_time_window_bad_value_one_line", r.returncode == 1 and "'time_window': 1.5" in r.stderr, r.stderr)
r = run("reward", blob, "--demo", os.path.join(tmp, "stats.npy"), "--live", live_path)
check("tcn_demo_npy_wrong_dim_one_line", r.returncode == 1 and "[T, 32]" in r.stderr, r.stderr)

# ---------------------------------------------------------------- mftcn
print("mftcn")
trunk_onnx = os.path.join(fixtures, "mftcn_trunk_64", "model.onnx")
head_onnx = os.path.join(fixtures, "mftcn_head_n2", "model.onnx")
blob = os.path.join(tmp, "mftcn.erb")
r = run("convert", "--family", "mftcn", "--graph", f"trunk={trunk_onnx}", "--graph", f"head={head_onnx}",
        "--window", "2", "--stride", "2", "--preprocess", f"trunk:scale={2 * SCALE!r},mean=1,1,1", "-o", blob)
check("mftcn_convert", r.returncode == 0, r.stderr)
r = run("convert", "--family", "mftcn", "--graph", f"trunk={trunk_onnx}", "--graph", f"head={head_onnx}",
        "--window", "3", "-o", os.path.join(tmp, "x.erb"))
check("mftcn_window_must_match_head_input", r.returncode == 1 and "[1,128,3,4,4]" in r.stderr, r.stderr)
cases = {c.name: c.model for c in export_reference.build_cases("small", {"mftcn_trunk_64", "mftcn_head_n2"})}
mf_yuv = yuv_frames(51, 5, 64, 64)
mf_path = write_y4m("mf", mf_yuv, 64, 64)
with torch.no_grad():
    maps = [cases["mftcn_trunk_64"](chw(yuv_to_rgb(*f)) * (2 * SCALE) - 1) for f in mf_yuv]
lines = run("embed", blob, "--video", mf_path, "--json").stdout.strip().splitlines()
check("mftcn_one_line_per_frame", len(lines) == len(mf_yuv), f"{len(lines)} lines")
for t in range(len(mf_yuv)):
    idx = [max(0, t - (2 - 1 - k) * 2) for k in range(2)]
    with torch.no_grad():
        want = cases["mftcn_head_n2"](torch.stack([maps[i] for i in idx], dim=2))[0].double().numpy()
    got = json.loads(lines[t])["embedding"] if t < len(lines) else [np.nan]
    close(f"mftcn_window_embedding_frame_{t}_{idx}", got, want)

r = run("convert", "--family", "ccvae", "--graph", f"state={state_onnx}", "-o", os.path.join(tmp, "x.erb"))
check("ccvae_state_without_context_refused", r.returncode == 1 and "'context'" in r.stderr, r.stderr)

# ---------------------------------------------------------------- failures
print("errors")
r = run("reward", os.path.join(fixtures, "..", "..", "..", "README.md"), "--goal", paths["goal"])
check("reward_on_non_blob_one_line", r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr)
r = run("convert", "--family", "grasp2vec", "--graph", f"scene={onnx}", "-o", os.path.join(tmp, "x.erb"))
check("convert_missing_role_names_it", r.returncode == 1 and "object" in r.stderr, r.stderr)
r = run("convert", "--family", "grasp2vec", "--graph", f"scene={onnx}", "--graph", f"object={onnx}",
        "--graph", f"decoder={onnx}", "-o", os.path.join(tmp, "x.erb"))
check("convert_unknown_role_lists_roles", r.returncode == 1 and "scene, object" in r.stderr, r.stderr)
r = run("convert", "--family", "rig", "--graph", f"encoder={os.path.join(fixtures, 'tcn_99', 'model.onnx')}",
        "-o", os.path.join(tmp, "x.erb"))
check("convert_wrong_graph_for_role_names_output", r.returncode == 1 and "mu" in r.stderr, r.stderr)
r = run("convert", "--family", "grasp2vec", "--graph", f"scene={onnx}", "--graph", f"object={onnx}",
        "--preprocess", "scene:resize=32x32", "-o", os.path.join(tmp, "x.erb"))
check("convert_resize_mismatch_names_sizes", r.returncode == 1 and "32x32" in r.stderr, r.stderr)
r = run("convert", "--family", "grasp2vec", "--graph", f"scene={onnx}", "--graph", f"object={onnx}",
        "--param", "similarity=euclid", "-o", os.path.join(tmp, "x.erb"))
check("convert_bad_param_value_named", r.returncode == 1 and "euclid" in r.stderr, r.stderr)
r = run("reward", os.path.join(tmp, "g2v.erb"), "--goal", paths["goal"], "--outcome", paths["scene"])
check("reward_frame_too_small_for_crop_one_line", r.returncode == 0 or len(r.stderr.strip().splitlines()) == 1, r.stderr)
r = run("inspect", os.path.join(tmp, "rig_stats.erb"), "--json")
try:
    info = json.loads(r.stdout)
except ValueError:
    info = {}
fp = info.get("family_params", {})
check("inspect_shows_family_and_params", info.get("family") == "rig" and "epsilon" in fp and
      len(fp.get("latent_mean", [])) == 4, r.stdout[:300])

print(f"families: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
