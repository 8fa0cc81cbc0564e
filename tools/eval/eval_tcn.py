#!/usr/bin/python3
"""Quality of the TCN and mfTCN demo blobs, measured through embedrtd on held-out simworld
demonstrations (fp32 and int8 side by side).

usage: /usr/bin/python3 tools/eval/eval_tcn.py [--build build] [--seed 1001] [--episodes 10]
           [--attempts 4] [--fps 30] [--mftcn-fps 30] [--probe-seed 3] [--probe-episodes 30]
           [--save-probe FILE.npz] [--blob KIND=PATH]... [--check] [--json OUT.json]

Episodes: `simworld demo --seed SEED --size 96x96 --attempts A` (training used seed 1 only, so
any other seed is held out): per episode a demonstration and A attempts, each filmed from two
synchronised views (60 frames); even attempts follow the demonstration (time-warped), odd
ones deviate by --deviation. The blobs (KIND tcn, tcn_int8, mftcn, mftcn_int8) default to
models/tcn/demo/tcn{,.int8}.erb and models/mftcn/demo/mftcn{,.int8}.erb.

1. Embeddings (two embedrtd runs: TCN blobs, then mfTCN blobs): camera pA replays every recording's view 0 back to back (one
   concatenated y4m), camera pB the same recordings' view 1, camera pP the probe's training
   recordings (view 0, below). Each TCN blob is one model on pA, pB and pP, each mfTCN blob
   one model on pA and a second one on pP (an mfTCN model binds one camera). The client subscribes to the embeddings
   events and keeps the embedding of every frame index (frame_seq mod length; the replay
   loops). mfTCN embeddings are kept only where the model received the window's frames
   consecutively (no frame_seq gap among the last `stride` frames: the model's ring holds
   what it received, so a dropped frame would change the window), and only for frames
   t >= stride of a recording (earlier windows would reach into the previous recording).
   - view alignment: for each recording, the share of view-A frames whose nearest view-B
     frame (Euclidean, embeddings of the same recording) is within 3 frames; mean over
     recordings. Target >= 0.80 (TCN).
   - velocity-sign probe: a linear softmax probe (numpy: features standardised with the
     training rows' mean and deviation, multinomial logistic regression + L2 PROBE_L2 on the
     weights, solved to the optimum by Newton's method) from the embedding of frame t (view
     0) to the sign of the puck's x velocity at t (-, still (|v_x| < 1 cm/s), +), frames
     t >= stride. Trained on a seed of its own (`simworld demo --seed PROBE_SEED --attempts 0
     --episodes --probe-episodes`: demonstrations only; never used by training, validation or
     the tables), tested on every recording of the table's seed (demonstrations and
     attempts). The L2 was chosen on validation seed 7 only (models/tcn/probe_study.py). The
     table also prints the probe's training accuracy, its balanced test accuracy (mean
     per-class recall; chance 0.333) and the majority class's score. Target: mfTCN above
     single-frame TCN (same blob kind).
2. Imitation (embedrtd runs of up to 4 episodes): camera aK replays episode K's attempts (view 0)
   back to back; its models (one per blob) get LoadDemo with the episode's demonstration
   video (view 0, a path: the daemon embeds it). At the end of every attempt the client
   sends ResetEpisode to that model, so the next attempt is scored from demonstration time
   0 (the daemon compares attempt frame t with the closest demonstration frame within t +-
   the blob's time_window: 6 frames in the demo blobs, 0 = frame t exactly); an attempt counts once the daemon's rewards for its 60 frames came in order with
   component frame == frame index (a reset that landed late is retried on the next loop).
   Score = mean imitation reward over the attempt; a pair (faithful, deviating attempt of
   one episode) is ranked right when the faithful one scores higher. Target >= 0.90.
int8 must be within --max-gap (0.02) of fp32 on every metric (--probe-max-gap: on the probe rows). --check exits 1 on a miss;
--json FILE writes {"family": "tcn", "rows": [{"metric", "fp32", "int8", "target", "ok"}]}.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "models", "tcn"))
import tcn_data  # noqa: E402

sys.path.insert(0, HERE)
import simdata  # noqa: E402

KINDS = ("tcn", "tcn_int8", "mftcn", "mftcn_int8")
DEFAULT_BLOBS = {"tcn": "models/tcn/demo/tcn.erb", "tcn_int8": "models/tcn/demo/tcn.int8.erb",
                 "mftcn": "models/mftcn/demo/mftcn.erb", "mftcn_int8": "models/mftcn/demo/mftcn.int8.erb"}
TOL = 3  # frames


def concat_y4m(paths, out):
    """Writes the frames of several y4m files (identical headers) as one y4m."""
    header = None
    with open(out, "wb") as f:
        for p in paths:
            data = open(p, "rb").read()
            nl = data.index(b"\n")
            if header is None:
                header = data[:nl]
                f.write(data[:nl + 1])
            elif data[:nl] != header:
                raise SystemExit(f"{p}: y4m header {data[:nl]!r} differs from {header!r}")
            f.write(data[nl + 1:])


def start_daemon(embedrtd, tmp, name, cameras, models, fps):
    """cameras: {name: y4m path}; models: {name: (blob, [camera, ...])}."""
    conf = os.path.join(tmp, f"{name}.conf")
    sock = os.path.join(tmp, f"{name}.sock")
    lines = ["[daemon]", "threads = 1", "client_queue_depth = 65536", "log_level = warn", ""]
    for cam, path in cameras.items():
        lines += [f"[camera {cam}]", f"source = replay:{path}", f"fps = {fps}", "loop = true",
                  "watchdog_ms = 60000", ""]
    for m, (blob, cams) in models.items():
        lines += [f"[model {m}]", f"blob = {os.path.abspath(blob)}", f"cameras = {', '.join(cams)}", "threads = 1", ""]
    with open(conf, "w") as f:
        f.write("\n".join(lines))
    p = simdata.run_embedrtd(embedrtd, conf, sock, os.path.join(tmp, f"{name}.log"), extra=("--socket", sock))
    return p, sock


def loadable(embedrtd, tmp, kind, blob):
    """None when embedrtd opens the blob (--check-config), else its one-line reason."""
    conf = os.path.join(tmp, f"check_{kind}.conf")
    with open(conf, "w") as f:
        f.write(f"[camera c]\nsource = synthetic:bars:96x96\n\n[model m]\nblob = {os.path.abspath(blob)}\ncameras = c\n")
    r = subprocess.run([embedrtd, "--check-config", conf], capture_output=True, text=True, timeout=60)
    if r.returncode == 0:
        return None
    lines = [ln for ln in (r.stderr + r.stdout).splitlines() if ln.strip()]
    return lines[-1] if lines else f"embedrtd --check-config exit {r.returncode}"


def client(sock):
    from embedrt_client import Client
    return Client("unix:" + sock, timeout=30, queue_depth=1 << 20)


# ---------------------------------------------------------------- embeddings of every frame

def collect_embeddings(embedrtd, tmp, seqs, blobs, stride, fps, timeout, probe_seqs=()):
    """{kind: {camera: [L, D]}} for the concatenated recordings (NaN rows where missing);
    camera pP: the probe's training recordings (view 0), when given."""
    T = tcn_data.FRAMES
    cams = {"pA": os.path.join(tmp, "pA.y4m"), "pB": os.path.join(tmp, "pB.y4m")}
    length = {"pA": len(seqs) * T, "pB": len(seqs) * T}
    for v, cam in enumerate(("pA", "pB")):
        concat_y4m([s.paths[v] for s in seqs], cams[cam])
    if probe_seqs:
        cams["pP"] = os.path.join(tmp, "pP.y4m")
        length["pP"] = len(probe_seqs) * T
        concat_y4m([s.paths[0] for s in probe_seqs], cams["pP"])
    models = {}  # mfTCN binds one camera per model: its pP copy is a model of its own
    for kind, blob in blobs.items():
        if kind.startswith("tcn"):
            models[kind] = (blob, ["pA", "pB"] + (["pP"] if probe_seqs else []))
        else:
            models[kind] = (blob, ["pA"])
            if probe_seqs:
                models[kind + PROBE_SUFFIX] = (blob, ["pP"])
    proc, sock = start_daemon(embedrtd, tmp, "emb", cams, models, fps)
    need = {}  # (kind, camera) -> set of frame indices still missing
    for kind, (_, mc) in models.items():
        for cam in mc:
            L = length[cam]
            idx = range(L) if kind.startswith("tcn") else [i for i in range(L) if i % T >= stride]
            need[(kind, cam)] = set(idx)
    got = {key: {} for key in need}
    last_seq = {key: None for key in need}
    run = {key: 0 for key in need}
    try:
        with client(sock) as c:
            c.subscribe("embeddings")
            deadline = time.monotonic() + timeout
            while any(need.values()):
                if time.monotonic() > deadline:
                    left = {f"{k}/{cam}": len(v) for (k, cam), v in need.items() if v}
                    raise SystemExit(f"eval: embeddings missing after {timeout} s: {left} (try a lower --fps)")
                env = c.next_event(timeout=1.0)
                if env is None or env.WhichOneof("body") != "embedding":
                    continue
                e = env.embedding
                key = (e.model, e.camera)
                if key not in need:
                    continue
                seq = e.frame_seq
                run[key] = run[key] + 1 if last_seq[key] is not None and seq == last_seq[key] + 1 else 0
                last_seq[key] = seq
                i = seq % length[e.camera]
                if i not in need[key]:
                    continue
                if e.model.startswith("mftcn") and run[key] < stride:
                    continue  # the window's frames did not all reach the model
                got[key][i] = np.array(e.vector, np.float64)
                need[key].discard(i)
    finally:
        simdata.stop_embedrtd(proc)
    out = {}
    for (model, cam), rows in got.items():
        kind = model[:-len(PROBE_SUFFIX)] if model.endswith(PROBE_SUFFIX) else model
        d = len(next(iter(rows.values())))
        a = np.full((length[cam], d), np.nan)
        for i, v in rows.items():
            a[i] = v
        out.setdefault(kind, {})[cam] = a
    return out


def view_alignment(a, b, n_seq):
    """Mean over recordings of the share of view-A frames whose nearest view-B frame is within TOL."""
    T = tcn_data.FRAMES
    shares = []
    for r in range(n_seq):
        ea, eb = a[r * T:(r + 1) * T], b[r * T:(r + 1) * T]
        d = ((ea[:, None, :] - eb[None, :, :]) ** 2).sum(-1)
        nn = d.argmin(1)
        shares.append(np.mean(np.abs(nn - np.arange(T)) <= TOL))
    return float(np.mean(shares))


PROBE_L2 = 0.01  # chosen on validation seed 7 only (models/tcn/probe_study.py)
PROBE_SEED = 3  # the probe's training episodes: not training (1), validation (7) or a table's seed
PROBE_SUFFIX = "_probe"  # the mfTCN model on the probe camera pP


def fit_probe(x, y, k, l2=PROBE_L2, iters=50):
    """Multinomial logistic regression (softmax + bias) minimising mean cross-entropy +
    l2/2 |W|^2 (+ 1e-4/2 |b|^2) by Newton's method: the optimum, independent of step sizes."""
    n, d = x.shape
    xb = np.concatenate([x, np.ones((n, 1))], 1)
    w = np.zeros((d + 1, k))
    onehot = np.eye(k)[y]
    reg = np.full(d + 1, l2)
    reg[-1] = 1e-4  # a tiny bias penalty keeps the Hessian invertible (softmax is shift-invariant)
    for _ in range(iters):
        z = xb @ w
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        g = (xb.T @ (p - onehot) / n + reg[:, None] * w).T.reshape(-1)        # [k*(d+1)]
        h = np.zeros((k * (d + 1), k * (d + 1)))
        for a in range(k):
            for b in range(k):
                c = p[:, a] * ((a == b) - p[:, b])
                h[a * (d + 1):(a + 1) * (d + 1), b * (d + 1):(b + 1) * (d + 1)] = (xb.T * c) @ xb / n
        h += np.diag(np.tile(reg, k))
        step = np.linalg.lstsq(h, g, rcond=None)[0]
        w -= step.reshape(k, d + 1).T
        if np.abs(step).max() < 1e-7:
            break
    return w


def probe_accuracy(emb, labels, train_mask, l2=PROBE_L2, detail=False):
    """Linear softmax probe on features standardised with the training rows' statistics;
    accuracy on ~train_mask rows (detail: also training accuracy and test balanced accuracy)."""
    x_tr, y_tr = emb[train_mask].astype(np.float64), labels[train_mask]
    x_te, y_te = emb[~train_mask].astype(np.float64), labels[~train_mask]
    mu, sd = x_tr.mean(0), x_tr.std(0) + 1e-8
    x_tr, x_te = (x_tr - mu) / sd, (x_te - mu) / sd
    k = 3
    w = fit_probe(x_tr, y_tr, k, l2)
    pred = lambda x: (np.concatenate([x, np.ones((len(x), 1))], 1) @ w).argmax(1)  # noqa: E731
    p_te = pred(x_te)
    acc = float(np.mean(p_te == y_te))
    if not detail:
        return acc
    bal = float(np.mean([np.mean(p_te[y_te == c] == c) for c in range(k) if np.any(y_te == c)]))
    return {"test": acc, "train": float(np.mean(pred(x_tr) == y_tr)), "balanced": bal}


# ---------------------------------------------------------------- imitation

def imitation_scores(embedrtd, tmp, episodes, blobs, fps, timeout):
    """{kind: {(episode, attempt): mean imitation reward}} for the TCN blobs."""
    T = tcn_data.FRAMES
    kinds = [k for k in blobs if k.startswith("tcn")]
    scores = {k: {} for k in kinds}
    per_run = max(1, 8 // max(1, len(kinds)))  # embedrtd: 8 models, 8 cameras
    per_run = min(per_run, 4)
    for b0 in range(0, len(episodes), per_run):
        batch = episodes[b0:b0 + per_run]
        cams, models, demo_of, attempts_of = {}, {}, {}, {}
        for ep in batch:
            cam = f"a{ep['episode']}"
            cams[cam] = os.path.join(tmp, f"{cam}.y4m")
            concat_y4m(ep["attempt_paths"], cams[cam])
            attempts_of[cam] = ep["attempts"]
            for k in kinds:
                m = f"{k}_{ep['episode']}"
                models[m] = (blobs[k], [cam])
                demo_of[m] = ep["demo_path"]
        proc, sock = start_daemon(embedrtd, tmp, f"imit{b0}", cams, models, fps)
        try:
            with client(sock) as c:
                for m, path in demo_of.items():
                    c.load_demo(m, path=path)
                c.subscribe("rewards")
                state = {m: {"buf": None, "start": None} for m in models}
                done = {m: {} for m in models}
                deadline = time.monotonic() + timeout
                while any(len(done[m]) < len(attempts_of[models[m][1][0]]) for m in models):
                    if time.monotonic() > deadline:
                        left = {m: len(attempts_of[models[m][1][0]]) - len(done[m]) for m in models}
                        raise SystemExit(f"eval: imitation rewards incomplete after {timeout} s: {left}")
                    env = c.next_event(timeout=1.0)
                    if env is None or env.WhichOneof("body") != "reward":
                        continue
                    r = env.reward
                    if r.model not in state or r.type != "imitation":
                        continue
                    cam = models[r.model][1][0]
                    n_att = len(attempts_of[cam])
                    k = r.frame_seq % T
                    seg = (r.frame_seq // T) % n_att
                    frame = next((x.value for x in r.components if x.name == "frame"), -1)
                    st = state[r.model]
                    if k == 0:
                        st["buf"], st["start"] = [], r.frame_seq
                    if st["buf"] is not None:
                        if frame == k and r.frame_seq == st["start"] + k:
                            st["buf"].append(r.value)
                        else:
                            st["buf"] = None
                    if k == T - 1:
                        if st["buf"] is not None and len(st["buf"]) == T and seg not in done[r.model]:
                            done[r.model][seg] = float(np.mean(st["buf"]))
                        st["buf"] = None
                        c.reset_episode(r.model)
        finally:
            simdata.stop_embedrtd(proc)
        for m, segs in done.items():
            kind, ep_index = m.rsplit("_", 1)
            cam = models[m][1][0]
            for seg, v in segs.items():
                scores[kind][(int(ep_index), attempts_of[cam][seg])] = v
    return scores


def ranked_pairs(scores, episodes):
    """Share of (faithful, deviating) attempt pairs of one episode with faithful scoring higher."""
    right = total = 0
    for ep in episodes:
        e = ep["episode"]
        for fa in ep["faithful"]:
            for dv in ep["deviating"]:
                total += 1
                right += scores[(e, fa)] > scores[(e, dv)]
    return right / total if total else float("nan"), total


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build folder (simworld, embedrtd, proto)")
    ap.add_argument("--seed", type=int, default=tcn_data.EVAL_SEED, help="held-out simworld seed (not 1)")
    ap.add_argument("--episodes", type=int, default=10)
    ap.add_argument("--attempts", type=int, default=4, help="attempts per episode (even faithful, odd deviating)")
    ap.add_argument("--deviation", type=float, default=0.5)
    ap.add_argument("--fps", type=int, default=30, help="replay rate of the cameras of the TCN runs")
    ap.add_argument("--mftcn-fps", type=int, default=30, help="replay rate of the mfTCN embedding run")
    ap.add_argument("--stride", type=int, default=None, help="mfTCN window stride (default: the blob's)")
    ap.add_argument("--probe-seed", type=int, default=PROBE_SEED, help="the probe's training seed (demonstrations, view 0)")
    ap.add_argument("--probe-episodes", type=int, default=30, help="the probe's training episodes")
    ap.add_argument("--save-probe", metavar="FILE.npz",
                    help="write the probe's inputs (embeddings per kind, labels, training mask) for models/tcn/probe_study.py")
    ap.add_argument("--blob", action="append", default=[], metavar="KIND=PATH",
                    help="KIND: tcn, tcn_int8, mftcn, mftcn_int8 (default: the demo blobs)")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--min-align", type=float, default=0.80)
    ap.add_argument("--min-rank", type=float, default=0.90)
    ap.add_argument("--probe-margin", type=float, default=0.0,
                    help="mfTCN's probe accuracy must exceed TCN's by more than this (default 0)")
    ap.add_argument("--max-gap", type=float, default=0.02)
    ap.add_argument("--probe-max-gap", type=float, default=None,
                    help="int8-fp32 gap allowed on the probe rows (default --max-gap; the meson test's few "
                         "test frames make one frame worth 0.0025)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args()
    if args.seed == tcn_data.TRAIN_SEED:
        ap.error(f"--seed {tcn_data.TRAIN_SEED} is the training seed; pick another for held-out episodes")
    if args.probe_seed in (tcn_data.TRAIN_SEED, tcn_data.VAL_SEED, args.seed):
        ap.error(f"--probe-seed {args.probe_seed}: must differ from training ({tcn_data.TRAIN_SEED}), "
                 f"validation ({tcn_data.VAL_SEED}) and the table's seed ({args.seed})")
    if args.attempts < 2:
        ap.error("--attempts must be at least 2 (a faithful and a deviating attempt)")
    os.environ.setdefault("EMBEDRT_PROTO_PY", os.path.join(args.build, "proto"))
    sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
    simworld = os.path.join(args.build, "tools", "simworld", "simworld")
    embedrtd = os.path.join(args.build, "runtime", "daemon", "embedrtd")
    for b in (simworld, embedrtd):
        if not os.access(b, os.X_OK):
            raise SystemExit(f"eval: {b}: not built - run tools/dev build first")
    blobs = {k: os.path.join(ROOT, v) for k, v in DEFAULT_BLOBS.items()}
    for spec in args.blob:
        k, _, p = spec.partition("=")
        if k not in KINDS or not p:
            raise SystemExit(f"eval: --blob {spec}: expected KIND=PATH with KIND one of {', '.join(KINDS)}")
        blobs[k] = p
    for k in ("tcn", "mftcn"):
        if not os.path.exists(blobs[k]):
            raise SystemExit(f"eval: {blobs[k]}: no such blob - see models/{k}/demo/README.md")
    stride = args.stride
    if stride is None:
        r = subprocess.run([os.path.join(args.build, "tools", "embedrt", "embedrt"), "inspect", blobs["mftcn"], "--json"],
                           capture_output=True, text=True)
        try:
            stride = int(json.loads(r.stdout)["family_params"]["stride"])
        except (ValueError, KeyError, TypeError):
            raise SystemExit(f"eval: {blobs['mftcn']}: embedrt inspect gives no stride ({r.stderr.strip()})")

    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix="tcn-eval-")
    skipped = {}
    try:
        for k in list(blobs):
            if not os.path.exists(blobs[k]):
                skipped[k] = "no such file"
                del blobs[k]
                continue
            why = loadable(embedrtd, tmp, k, blobs[k])
            if why is not None:
                if not k.endswith("int8"):
                    raise SystemExit(f"eval: embedrtd cannot load {blobs[k]}: {why}")
                skipped[k] = why
                del blobs[k]
        data = os.path.join(tmp, "world")
        cmd = tcn_data.render_demo(simworld, data, args.seed, args.episodes, args.attempts, deviation=args.deviation)
        seqs = tcn_data.load(data, with_frames=False)
        for s in seqs:
            s.paths = [os.path.join(data, tcn_data.video_name(s.episode, s.stream, v)) for v in (0, 1)]
        episodes = []
        for e in sorted({s.episode for s in seqs}):
            atts = sorted([s for s in seqs if s.episode == e and s.stream != "demo"], key=lambda s: s.stream)
            episodes.append({"episode": e, "demo_path": os.path.join(data, tcn_data.video_name(e, "demo", 0)),
                             "attempts": [s.stream for s in atts], "attempt_paths": [s.paths[0] for s in atts],
                             "faithful": [s.stream for s in atts if s.deviation == 0],
                             "deviating": [s.stream for s in atts if s.deviation > 0]})
        pdata = os.path.join(tmp, "probe")
        tcn_data.render_demo(simworld, pdata, args.probe_seed, args.probe_episodes, attempts=0)
        probe_seqs = tcn_data.load(pdata, with_frames=False)
        for s in probe_seqs:
            s.paths = [os.path.join(pdata, tcn_data.video_name(s.episode, s.stream, 0))]
        print(f"held-out: {' '.join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd))} "
              f"({len(seqs)} recordings x 2 views x {tcn_data.FRAMES} frames); mfTCN stride {stride}", flush=True)

        t1 = time.time()
        # Two embedrtd runs: the TCN blobs (stateless: a dropped frame is simply seen on a later
        # loop) at --fps, then the mfTCN blobs alone at --mftcn-fps (their windows need frames
        # without gaps, so they get the CPU to themselves and a pace they keep up with).
        emb = {}
        for group, fps in (("tcn", args.fps), ("mftcn", args.mftcn_fps)):
            sub = {k: v for k, v in blobs.items() if k.startswith(group)}
            emb.update(collect_embeddings(embedrtd, tmp, seqs, sub, stride, fps, args.timeout, probe_seqs))
        print(f"embeddings of {len(seqs) * tcn_data.FRAMES} frames x 2 views (+ {len(probe_seqs) * tcn_data.FRAMES} "
              f"probe frames) through embedrtd: {time.time() - t1:.0f} s", flush=True)
        t1 = time.time()
        imit = imitation_scores(embedrtd, tmp, episodes, blobs, args.fps, args.timeout)
        print(f"imitation rewards of {sum(len(e['attempts']) for e in episodes)} attempts: {time.time() - t1:.0f} s",
              flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    T = tcn_data.FRAMES
    values = {}
    for k in ("tcn", "tcn_int8"):
        if k in emb:
            values[("align", k)] = view_alignment(emb[k]["pA"], emb[k]["pB"], len(seqs))
            values[("rank", k)], n_pairs = ranked_pairs(imit[k], episodes)
    # Probe: trained on the probe seed's recordings (pP), tested on all the table's (pA).
    labels = np.concatenate([tcn_data.velocity_sign(s) for s in probe_seqs] + [tcn_data.velocity_sign(s) for s in seqs])
    n_probe = len(probe_seqs) * T
    keep = np.tile(np.arange(T), len(probe_seqs) + len(seqs)) >= stride
    train_mask = (np.arange(len(labels)) < n_probe)[keep]
    probe_detail = {}
    for k in blobs:
        x = np.concatenate([emb[k]["pP"], emb[k]["pA"]])
        probe_detail[k] = probe_accuracy(x[keep], labels[keep], train_mask, detail=True)
        values[("probe", k)] = probe_detail[k]["test"]
    still = float(np.mean(labels[keep][~train_mask] == 1))
    if args.save_probe:
        np.savez(args.save_probe, labels=labels[keep], train_mask=train_mask, seed=args.seed,
                 **{f"emb_{k}": np.concatenate([emb[k]["pP"], emb[k]["pA"]])[keep] for k in blobs})

    def pair(metric, fam):
        return values.get((metric, fam)), values.get((metric, fam + "_int8"))

    rows = []

    def row(metric, fp, q, target, ok_fp, ok_q, max_gap=args.max_gap):
        gap_ok = q is None or fp is None or abs(q - fp) <= max_gap
        ok = bool(ok_fp and (q is None or ok_q) and gap_ok)
        rows.append({"metric": metric, "fp32": fp, "int8": q, "target": target, "ok": ok})

    fp, q = pair("align", "tcn")
    row(f"TCN view alignment: share of view-A frames with nearest view-B frame within {TOL}", fp, q,
        f">= {args.min_align:.2f}", fp >= args.min_align, q is not None and q >= args.min_align)
    fp, q = pair("rank", "tcn")
    row(f"TCN imitation reward ranks faithful above deviating ({n_pairs} pairs)", fp, q, f">= {args.min_rank:.2f}",
        fp >= args.min_rank, q is not None and q >= args.min_rank)
    tfp, tq = pair("probe", "tcn")
    mfp, mq = pair("probe", "mftcn")
    probe_gap = args.max_gap if args.probe_max_gap is None else args.probe_max_gap
    row("TCN velocity-sign probe accuracy (reference for mfTCN)", tfp, tq, "", True, True, probe_gap)
    row("mfTCN velocity-sign probe accuracy", mfp, mq,
        "> TCN's" if args.probe_margin == 0 else f"> TCN's {args.probe_margin:+.2f}", mfp > tfp + args.probe_margin,
        mq is not None and tq is not None and mq > tq + args.probe_margin, probe_gap)

    print(f"\nTCN / mfTCN demo blobs, {args.episodes} held-out episodes (simworld demo --seed {args.seed}, "
          f"{args.attempts} attempts), through embedrtd, {time.time() - t0:.0f} s")
    print(f"{'metric':86s} {'fp32':>7s} {'int8':>7s}  target    ok")
    for r in rows:
        f = lambda v: "   skip" if v is None else f"{v:7.3f}"  # noqa: E731
        print(f"{r['metric']:86s} {f(r['fp32'])} {f(r['int8'])}  {r['target']:9s} {'yes' if r['ok'] else 'NO'}")
    print(f"(probe: trained on {int(train_mask.sum())} frames of seed {args.probe_seed} ({args.probe_episodes} demonstrations), "
          f"tested on {int((~train_mask).sum())} frames of seed {args.seed}; always answering 'still' scores {still:.3f}; "
          f"int8 allowed within {args.max_gap} of fp32)")
    for k, r in probe_detail.items():
        print(f"probe {k:10s}: test accuracy {r['test']:.3f}, balanced {r['balanced']:.3f} (chance 0.333), "
              f"training accuracy {r['train']:.3f} (L2 {PROBE_L2:g})")
    for k, why in skipped.items():
        print(f"SKIPPED {k}: {why}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"family": "tcn", "seed": args.seed, "episodes": args.episodes, "probe_seed": args.probe_seed,
                       "probe_episodes": args.probe_episodes, "rows": rows,
                       "probe": probe_detail, "probe_majority": still}, f, indent=1)
    failed = [r["metric"] for r in rows if not r["ok"]]
    for m in failed:
        print(f"MISSED: {m}")
    if args.check and (failed or skipped):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
