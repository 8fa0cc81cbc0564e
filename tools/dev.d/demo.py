#!/usr/bin/python3
"""tools/dev demo, after the build: trained models, a replayed world, live rewards, a report.

usage: demo.py [--build build] [--out build/demo] [--seed 4242] [--tcn BLOB] [--mftcn BLOB]
               [--no-tcn] [--timeout 60]

1. simworld renders one held-out episode of each scenario (seed 4242; every demo model was
   trained on seed 1): a push (48x48, 40 frames), a grasp (128x128, 6 objects) and, when a
   TCN or mfTCN blob is there, a two-view demonstration with a faithful and a deviating
   attempt (96x96).
2. embedrtd serves them as replayed cameras with the trained blobs of models/*/demo:
   rig (goal: the episode's goal image), rig_imagined (goal: sampled from the prior, seed 7),
   ccvae (goal image; its context is the episode's first frame, after a ResetEpisode),
   g2v (scene camera: the pre-grasp frame, then the post-grasp frame; outcome camera: the
   grasped object held up) and, when present, models/tcn/demo/tcn.erb on both attempts
   and models/mftcn/demo/mftcn.erb on each attempt (demonstration: the demo video).
3. A client (tools/python/embedrt_client) sets the goals, resets the CC-VAE episode,
   triggers a grasp (PRE on a pre-grasp frame, LIFTED with success on a post-grasp frame:
   scene_difference and outcome rewards), asks for the outcome reward against every goal
   candidate (retrieval), and shows the live rewards: a display refreshed in place when
   stdout is a terminal, plain lines otherwise.
4. OUT/demo-report.png: the rewards and the true puck-to-goal distance (simworld's gt.jsonl)
   over the push episode, and the grasp2vec heatmap on the pre-grasp scene with the grasped
   object's true box. OUT/demo-summary.json holds the numbers.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "eval"))
sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
import simdata  # noqa: E402
from demo_report import draw_report  # noqa: E402

PUSH_SIDE, PUSH_FRAMES = 48, 40
GRASP_SIDE, GRASP_HOLD = 128, 12      # scene camera: 12 pre-grasp frames, then 12 post-grasp frames
DEMO_SIDE = 96
PUSH_FPS, SCENE_FPS, ATT_FPS = 20, 12, 15
PRIOR_SEED = 7


def rel(p):
    p = os.path.abspath(p)
    return os.path.relpath(p, ROOT) if p.startswith(ROOT + os.sep) else p


def ppm_bytes(rgb):
    return b"P6\n%d %d\n255\n" % (rgb.shape[1], rgb.shape[0]) + np.ascontiguousarray(rgb).tobytes()


def spearman(a, b):
    return simdata.spearman(np.asarray(a, np.float64), np.asarray(b, np.float64))


# ------------------------------------------------------------------ world

def render(build, out, seed, with_demo):
    sw = os.path.join(build, "tools", "simworld", "simworld")
    if not os.access(sw, os.X_OK):
        raise SystemExit(f"demo: {sw}: not built - run tools/dev build")
    runs = [("push", ["push", "--size", f"{PUSH_SIDE}x{PUSH_SIDE}", "--frames", str(PUSH_FRAMES)]),
            ("grasp", ["grasp", "--size", f"{GRASP_SIDE}x{GRASP_SIDE}", "--objects", "6"])]
    if with_demo:
        runs.append(("demo", ["demo", "--size", f"{DEMO_SIDE}x{DEMO_SIDE}", "--attempts", "2"]))
    for name, args in runs:
        d = os.path.join(out, name)
        shutil.rmtree(d, ignore_errors=True)
        cmd = [sw] + args[:1] + ["--seed", str(seed), "--episodes", "1", "--out", d] + args[1:]
        print("$ " + " ".join(rel(c) if os.sep in c else c for c in cmd), flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def load_grasp(d):
    """Pre/post scene, outcome image, goal candidates, the grasped object's goal index and box."""
    frames = [json.loads(line) for line in open(os.path.join(d, "gt.jsonl"))]
    ep = next(r for r in frames if r.get("type") == "episode")
    grasped = ep["grasped"]["id"]
    pre_line = next(r for r in frames if r.get("type") == "frame" and r["kind"] == "pre")
    goal_lines = sorted((r for r in frames if r.get("type") == "frame" and r["kind"] == "goal"),
                        key=lambda r: r["frame"])
    goal_ids = [r["goal"]["id"] for r in goal_lines]
    box = next(e["box"][0] for e in pre_line["entities"] if e.get("name") == "object" and e.get("id") == grasped)
    scene = simdata.read_y4m(os.path.join(d, "ep0000_scene_v0.y4m"))
    outcome = simdata.read_y4m(os.path.join(d, "ep0000_outcome_v0.y4m"))[0]
    goals = simdata.read_y4m(os.path.join(d, "ep0000_goals_v0.y4m"))
    names = {}
    for e in pre_line["entities"]:
        if e.get("name") == "object":
            names[e["id"]] = f"{e.get('colour', '')} {e.get('shape', '')}".strip()
    return {"pre": scene[0], "post": scene[1], "outcome": outcome, "goals": list(goals), "goal_ids": goal_ids,
            "grasped": grasped, "target": goal_ids.index(grasped), "box": box, "names": names}


# ------------------------------------------------------------------ daemon

def start_daemon(build, out, conf_lines):
    embedrtd = os.path.join(build, "runtime", "daemon", "embedrtd")
    sock = os.path.join(out, "embedrtd.sock")
    conf = os.path.join(out, "embedrtd.conf")
    if os.path.exists(sock):
        os.unlink(sock)
    with open(conf, "w") as f:
        f.write("\n".join(["[daemon]", f"socket = {sock}", "threads = 1", "client_queue_depth = 4096",
                           "log_level = warn", ""] + conf_lines))
    log_path = os.path.join(out, "embedrtd.log")
    print(f"$ {rel(embedrtd)} --config {rel(conf)}", flush=True)
    return simdata.run_embedrtd(embedrtd, conf, sock, log_path, who="demo"), sock, log_path


# ------------------------------------------------------------------ display

class Display:
    """In place on a terminal (cursor up + rewrite), plain lines otherwise."""

    def __init__(self, tty):
        self.tty, self.drawn, self.last = tty, 0, 0.0

    def frame(self, lines, force=False):
        if not self.tty:
            return
        self.lines = lines
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        buf = ("\x1b[%dA" % self.drawn) if self.drawn else ""
        buf += "".join("\x1b[2K" + ln + "\n" for ln in lines)
        sys.stdout.write(buf)
        sys.stdout.flush()
        self.drawn = len(lines)

    def finish(self):
        """The last state stays on screen."""
        if self.tty and getattr(self, "lines", None):
            self.frame(self.lines, force=True)
        self.drawn = 0

    def say(self, line):
        """A line that stays (above the live block on a terminal)."""
        if self.tty and self.drawn:
            sys.stdout.write("\x1b[%dA\x1b[J" % self.drawn)
            self.drawn = 0
        print(line, flush=True)


def age_ms(event):
    """How long ago the event's frame was captured (CLOCK_MONOTONIC, as the daemon stamps frames).
    Requests that must land before the next frame (PRE, POST, ResetEpisode) are only sent on a
    fresh event, so a client that lags behind its queue never acts on a frame long gone."""
    return (time.monotonic_ns() - event.capture_ns) / 1e6


def bar(v, lo, hi, n=20):
    if not np.isfinite(v) or hi <= lo:
        return " " * n
    k = int(round((min(max(v, lo), hi) - lo) / (hi - lo) * n))
    return "#" * k + "." * (n - k)


# ------------------------------------------------------------------ main job

def run(args):
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    os.environ.setdefault("EMBEDRT_PROTO_PY", os.path.join(args.build, "proto"))
    from embedrt_client import Client

    blobs = {f: os.path.join(ROOT, "models", f, "demo", f + ".erb") for f in ("rig", "ccvae", "grasp2vec")}
    for f, b in blobs.items():
        if not os.path.exists(b):
            raise SystemExit(f"demo: {rel(b)}: missing (the trained {f} demo blob; see models/{f}/demo/README.md)")
    tcn = args.tcn or os.path.join(ROOT, "models", "tcn", "demo", "tcn.erb")
    mftcn = args.mftcn or os.path.join(ROOT, "models", "mftcn", "demo", "mftcn.erb")
    tcn = tcn if not args.no_tcn and os.path.exists(tcn) else None
    mftcn = mftcn if not args.no_tcn and os.path.exists(mftcn) else None
    t_start = time.monotonic()

    print(f"== world: simworld, held-out seed {args.seed} (the demo models were trained on seed 1)", flush=True)
    render(args.build, out, args.seed, bool(tcn or mftcn))
    push = simdata.load_push(os.path.join(out, "push"))[0]
    g = load_grasp(os.path.join(out, "grasp"))
    scene_dir = os.path.join(out, "scene_frames")
    shutil.rmtree(scene_dir, ignore_errors=True)
    os.makedirs(scene_dir)
    for k in range(2 * GRASP_HOLD):
        with open(os.path.join(scene_dir, f"f{k:03d}.ppm"), "wb") as f:
            f.write(ppm_bytes(g["pre"] if k < GRASP_HOLD else g["post"]))
    out_dir = os.path.join(out, "outcome_frames")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    with open(os.path.join(out_dir, "f000.ppm"), "wb") as f:
        f.write(ppm_bytes(g["outcome"]))

    def cam(name, src, fps):
        return [f"[camera {name}]", f"source = replay:{src}", f"fps = {fps}", "loop = true", "watchdog_ms = 60000", ""]

    def model(name, blob, cams):
        return [f"[model {name}]", f"blob = {blob}", f"cameras = {cams}", "threads = 1", ""]

    conf = (cam("push", os.path.join(out, "push", "ep0000_push_v0.y4m"), PUSH_FPS) +
            cam("scene", scene_dir, SCENE_FPS) + cam("outcome", out_dir, 5) +
            model("rig", blobs["rig"], "push") + model("rig_imagined", blobs["rig"], "push") +
            model("ccvae", blobs["ccvae"], "push") + model("g2v", blobs["grasp2vec"], "scene, outcome"))
    demo_dir = os.path.join(out, "demo")
    att = {"faithful": os.path.join(demo_dir, "ep0000_att00_v0.y4m"),
           "deviating": os.path.join(demo_dir, "ep0000_att01_v0.y4m")}
    att_len = {}
    if tcn or mftcn:
        conf += cam("att_faithful", att["faithful"], ATT_FPS) + cam("att_deviating", att["deviating"], ATT_FPS)
        att_len = {f"att_{k}": len(simdata.read_y4m(v)) for k, v in att.items()}
    if tcn:
        conf += model("tcn_faithful", tcn, "att_faithful") + model("tcn_deviating", tcn, "att_deviating")
    if mftcn:
        conf += model("mftcn_faithful", mftcn, "att_faithful") + model("mftcn_deviating", mftcn, "att_deviating")
    mftcn_demo = None
    if mftcn:
        cli = os.path.join(args.build, "tools", "embedrt", "embedrt")
        r = subprocess.run([cli, "embed", mftcn, "--video", os.path.join(demo_dir, "ep0000_demo_v0.y4m"), "--json"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"demo: embedrt embed {rel(mftcn)} --video demo: {r.stderr.strip()}")
        mftcn_demo = np.array([json.loads(line)["embedding"] for line in r.stdout.splitlines() if line.strip()],
                              np.float32)

    print(f"== embedrtd: cameras push (48x48 replay, {PUSH_FPS} fps), scene (pre-grasp x{GRASP_HOLD}, then "
          f"post-grasp x{GRASP_HOLD}, {SCENE_FPS} fps), outcome" + (", att_faithful, att_deviating" if tcn or mftcn
                                                                    else ""), flush=True)
    print("   models: " + ", ".join(f"{f} {rel(b)}" for f, b in blobs.items()) +
          (f", tcn {rel(tcn)}" if tcn else "") + (f", mftcn {rel(mftcn)}" if mftcn else "") +
          ("" if tcn or mftcn else " (no models/tcn/demo/tcn.erb or models/mftcn/demo/mftcn.erb: TCN part skipped)"),
          flush=True)
    proc, sock, log_path = start_daemon(args.build, out, conf)
    tty = sys.stdout.isatty()
    disp = Display(tty)
    T = PUSH_FRAMES
    res = {"seed": args.seed, "prior_seed": PRIOR_SEED, "push": {}, "grasp": {}, "tcn": {}}
    try:
        c = Client("unix:" + sock, timeout=20)
        caps = c.capabilities
        print(f"== client: connected to {caps.hello.node_name}: " +
              ", ".join(f"{m.name} ({m.family}, {m.embedding_dim}-d)" for m in caps.models), flush=True)
        c.subscribe("rewards")
        c.subscribe("heatmaps", camera="scene")
        gs = c.set_goal_image("rig", ppm_bytes(push.goal))
        c.set_goal_prior("rig_imagined", PRIOR_SEED)
        c.set_goal_image("ccvae", ppm_bytes(push.goal))
        c.set_goal_image("g2v", ppm_bytes(g["goals"][g["target"]]))
        disp.say(f"goals: rig <- the episode's goal image (goal {gs.goal_id}); rig_imagined <- prior sample, seed "
                 f"{PRIOR_SEED}; ccvae <- goal image; g2v <- goal image of the {g['names'].get(g['grasped'], '')} "
                 f"(object {g['grasped']})")
        if tcn:
            for m in ("tcn_faithful", "tcn_deviating"):
                c.load_demo(m, path=os.path.join(demo_dir, "ep0000_demo_v0.y4m"))
        if mftcn:
            for m in ("mftcn_faithful", "mftcn_deviating"):
                c.load_demo(m, embeddings=mftcn_demo)
        if tcn or mftcn:
            disp.say("demonstration loaded: " + ", ".join(
                (["tcn <- demo video (embedded by the daemon)"] if tcn else []) +
                (["mftcn <- window embeddings of the demo video (embedrt embed --video)"] if mftcn else [])))

        series = {"rig": [None] * T, "rig_imagined": [None] * T, "ccvae": [None] * T}
        reward_type = {}
        first_seq = {}          # per model: the first frame_seq counted (a multiple of T after the goal)
        ccvae_reset_seq = None  # frame_seq after which ccvae's context is frame 0
        tcn_series = {}         # (model, camera) -> {frame_seq: reward}, one loop after tcn_reset
        tcn_reset = {}          # model -> frame_seq of the attempt's last frame, after which it was reset
        latest = {}
        grasp_state, heat = "wait_pre", None
        grasp_rewards = {}
        retrieval = {}
        plain_next = 0
        deadline = time.monotonic() + args.timeout

        def push_done():
            return all(all(v is not None for v in s) for s in series.values())

        def tcn_done():
            need = []
            if tcn:
                need += [("tcn_faithful", "att_faithful"), ("tcn_deviating", "att_deviating")]
            if mftcn:
                need += [("mftcn_faithful", "att_faithful"), ("mftcn_deviating", "att_deviating")]
            return all(len(tcn_series.get(k, {})) >= att_len[k[1]] for k in need)

        while not (push_done() and grasp_state == "done" and tcn_done()):
            if time.monotonic() > deadline:
                missing = {m: sum(v is None for v in s) for m, s in series.items()}
                raise SystemExit(f"demo: not done after {args.timeout} s (push frames missing {missing}, grasp "
                                 f"{grasp_state}, tcn "
                                 f"{dict((k[0] + '@' + k[1], len(v)) for k, v in tcn_series.items())}"
                                 f"); daemon log: {rel(log_path)}")
            env = c.next_event(0.5)
            kind = env.WhichOneof("body") if env is not None else None
            if kind == "notice":
                if env.notice.message and env.notice.kind != 8:  # GOAL_CHANGED: the client's own requests
                    disp.say(f"notice: {env.notice.subject}: {env.notice.message}")
            elif kind == "heatmap" and env.heatmap.model == "g2v":
                h = env.heatmap
                k = h.frame_seq % (2 * GRASP_HOLD)
                if grasp_state == "wait_pre" and 2 <= k <= GRASP_HOLD - 5 and age_ms(h) < 150:
                    heat = h
                    c.grasp("g2v", "pre", grasp_id=1)
                    disp.say(f"grasp 1: PRE on scene frame {h.frame_seq} (pre-grasp); heatmap {h.width}x{h.height}, "
                             f"keypoint ({h.keypoint_x:.3f}, {h.keypoint_y:.3f})")
                    grasp_state = "wait_post"
                elif grasp_state == "wait_post" and GRASP_HOLD + 2 <= k <= 2 * GRASP_HOLD - 5 and age_ms(h) < 150:
                    c.grasp("g2v", "lifted", success=True, grasp_id=1)
                    disp.say(f"grasp 1: LIFTED (success) on scene frame {h.frame_seq} (post-grasp)")
                    grasp_state = "wait_rewards"
            elif kind == "reward":
                r = env.reward
                latest[(r.model, r.camera)] = r
                if r.model in series and r.camera == "push":
                    reward_type[r.model] = r.type
                    if r.model == "ccvae" and ccvae_reset_seq is None and r.frame_seq % T == T - 1 and \
                            age_ms(r) < 1000 / PUSH_FPS - 10:
                        c.reset_episode("ccvae")    # the next frame, the episode's first, becomes the context
                        ccvae_reset_seq = r.frame_seq
                        disp.say(f"ccvae: ResetEpisode after frame {r.frame_seq}: frame 0 of the next loop is the "
                                 "context")
                    ok = (ccvae_reset_seq is not None and r.frame_seq > ccvae_reset_seq) if r.model == "ccvae" else True
                    if ok and r.model not in first_seq and r.frame_seq % T == 0:
                        first_seq[r.model] = r.frame_seq
                    if r.model in first_seq and r.frame_seq < first_seq[r.model] + T:
                        series[r.model][r.frame_seq % T] = r.value
                elif r.model == "g2v" and r.grasp_id == 1:
                    grasp_rewards[r.type] = r
                    comps = {x.name: round(x.value, 4) for x in r.components}
                    disp.say(f"grasp 1: reward {r.type} {r.value:+.4f} (frame {r.frame_seq} of {r.camera}) {comps}")
                    if "scene_difference" in grasp_rewards and "outcome" in grasp_rewards:
                        # Retrieval: the outcome against every goal candidate, through the daemon.
                        for i, gimg in enumerate(g["goals"]):
                            c.set_goal_image("g2v", ppm_bytes(gimg))
                            c.grasp("g2v", "outcome", grasp_id=100 + i)
                        grasp_state = "wait_retrieval"
                elif r.model == "g2v" and r.grasp_id >= 100 and r.type == "outcome":
                    retrieval[r.grasp_id - 100] = r.value
                    if len(retrieval) == len(g["goals"]):
                        c.set_goal_image("g2v", ppm_bytes(g["goals"][g["target"]]))
                        best = max(retrieval, key=retrieval.get)
                        disp.say("grasp2vec retrieval: outcome reward against each goal candidate: " + ", ".join(
                            f"{'*' if i == g['target'] else ''}{g['names'].get(g['goal_ids'][i], g['goal_ids'][i])} "
                            f"{retrieval[i]:+.3f}" for i in sorted(retrieval)) +
                            f" -> best: {'the grasped object' if best == g['target'] else 'WRONG object'}")
                        grasp_state = "done"
                elif r.model.startswith("tcn") or r.model.startswith("mftcn"):
                    # The attempt's time index must start with its first frame: ResetEpisode after its
                    # last one, then one loop of imitation rewards.
                    n = att_len[r.camera]
                    if r.model not in tcn_reset and r.frame_seq % n == n - 1 and age_ms(r) < 1000 / ATT_FPS - 10:
                        c.reset_episode(r.model)
                        tcn_reset[r.model] = r.frame_seq
                    elif r.model in tcn_reset and r.frame_seq > tcn_reset[r.model]:
                        d = tcn_series.setdefault((r.model, r.camera), {})
                        if len(d) < n:
                            d[r.frame_seq] = r.value
                # plain lines: one per push frame, once every push model has its reward
                while not tty and plain_next < T and all(series[m][plain_next] is not None for m in series):
                    i = plain_next
                    print(f"push frame {i:2d}  true distance {100 * push.distance[i]:5.1f} cm  " +
                          "  ".join(f"{m} {series[m][i]:+.4f}" for m in series), flush=True)
                    plain_next += 1
            if tty:
                lines = ["live rewards (embedrtd -> Python client)"]
                pr = latest.get(("rig", "push"))
                if pr is not None:
                    i = pr.frame_seq % T
                    lines.append(f"  push frame {i:2d}/{T}  true puck-to-goal distance "
                                 f"{100 * push.distance[i]:5.1f} cm "
                                 f"[{bar(-push.distance[i], -push.distance.max(), 0)}]")
                for m in series:
                    x = latest.get((m, "push"))
                    if x is not None:
                        done = sum(v is not None for v in series[m])
                        vals = [v for v in series[m] if v is not None] or [x.value]
                        lines.append(f"  {m:<13} {x.type:<16} {x.value:+9.4f} [{bar(x.value, min(vals), max(vals))}]"
                                     f" {done}/{T} frames")
                if heat is not None:
                    lines.append(f"  g2v           heatmap keypoint ({heat.keypoint_x:.2f}, {heat.keypoint_y:.2f})  "
                                 f"grasp: {grasp_state}")
                for (m, cam_name), x in sorted(latest.items()):
                    if m.startswith("tcn") or m.startswith("mftcn"):
                        lines.append(f"  {m + '@' + cam_name:<28} {x.type:<10} {x.value:+9.4f} "
                                     f"{len(tcn_series.get((m, cam_name), {}))}/{att_len[cam_name]} frames")
                disp.frame(lines)
        disp.finish()

        # ---- results
        dist = np.asarray(push.distance, np.float64)
        for m, s in series.items():
            v = np.array(s, np.float64)
            res["push"][m] = {"type": reward_type.get(m), "rewards": [round(float(x), 6) for x in v],
                              "spearman_vs_minus_distance": round(float(spearman(v, -dist)), 4)}
        res["push"]["distance_m"] = [round(float(x), 5) for x in dist]
        hk = {"width": heat.width, "height": heat.height, "values": list(heat.values),
              "keypoint": [heat.keypoint_x, heat.keypoint_y], "frame_seq": heat.frame_seq}
        px = GRASP_SIDE / heat.width * heat.keypoint_x * (heat.width - 1) + 0.5
        py = GRASP_SIDE / heat.height * heat.keypoint_y * (heat.height - 1) + 0.5
        x0, y0, x1, y1 = g["box"]
        res["grasp"] = {"grasped": g["grasped"], "box": g["box"], "heatmap": hk, "keypoint_px": [px, py],
                        "keypoint_in_box": bool(x0 <= px <= x1 and y0 <= py <= y1),
                        "rewards": {k: round(v.value, 6) for k, v in grasp_rewards.items()},
                        "retrieval": [round(retrieval[i], 6) for i in sorted(retrieval)],
                        "target": g["target"], "top1": int(max(retrieval, key=retrieval.get)) == g["target"]}
        for (m, cam_name), d in tcn_series.items():
            vals = [d[k] for k in sorted(d)]
            res["tcn"][f"{m}@{cam_name}"] = {"mean": round(float(np.mean(vals)), 6), "frames": len(vals),
                                             "rewards": [round(float(v), 6) for v in vals]}
        st = c.stats()
        res["stats"] = {m.model + "@" + m.camera: {"frames": m.frames_out, "p50_ms": round(m.latency_p50_ms, 2),
                                                   "inference_p50_ms": round(m.inference_p50_ms, 2)} for m in st.models}
        c.close()
    finally:
        rc = simdata.stop_embedrtd(proc)
    print(f"embedrtd stopped (SIGTERM, exit {rc}); its log: {rel(log_path)}", flush=True)
    if rc != 0:
        raise SystemExit(f"demo: embedrtd exited with {rc}")

    print("\n== results (held-out episode, seed %d)" % args.seed)
    for m in series:
        p = res["push"][m]
        print(f"  {m:<13} {p['type']:<16} Spearman(reward, -true distance) over the {T} frames: "
              f"{p['spearman_vs_minus_distance']:+.3f}" +
              (" (its goal is a prior sample, not this episode's goal)" if m == "rig_imagined" else ""))
    gr = res["grasp"]
    print(f"  g2v           heatmap keypoint at ({gr['keypoint_px'][0]:.1f}, {gr['keypoint_px'][1]:.1f}) px: "
          f"{'inside' if gr['keypoint_in_box'] else 'OUTSIDE'} the grasped object's true box {gr['box']}")
    print("  g2v           grasp 1: " + ", ".join(f"{k} {v:+.4f}" for k, v in gr["rewards"].items()) +
          f"; retrieval top-1 {'right' if gr['top1'] else 'WRONG'}")
    for k, v in sorted(res["tcn"].items()):
        print(f"  {k:<30} mean imitation reward {v['mean']:+.4f} over {v['frames']} frames")
    for k, v in sorted(res["stats"].items()):
        print(f"  stats {k:<26} frames {v['frames']:4d}  capture-to-publish p50 {v['p50_ms']:.2f} ms  "
              f"inference p50 {v['inference_p50_ms']:.2f} ms")
    with open(os.path.join(out, "demo-summary.json"), "w") as f:
        json.dump(res, f, indent=1)
    png = os.path.join(out, "demo-report.png")
    draw_report(png, res, push, g)
    print(f"\nreport: {rel(png)} ({os.path.getsize(png)} bytes); numbers: {rel(os.path.join(out, 'demo-summary.json'))}"
          f"; {time.monotonic() - t_start:.1f} s")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="meson build folder (default build)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "demo"), help="output folder (default build/demo)")
    ap.add_argument("--seed", type=int, default=4242, help="simworld seed of the episodes (not 1: training)")
    ap.add_argument("--tcn", help="TCN family blob (default models/tcn/demo/tcn.erb when it exists)")
    ap.add_argument("--mftcn", help="mfTCN family blob (default models/mftcn/demo/mftcn.erb when it exists)")
    ap.add_argument("--no-tcn", action="store_true", help="leave out the TCN/mfTCN part")
    ap.add_argument("--timeout", type=float, default=60, help="seconds the live part may take (default 60)")
    args = ap.parse_args()
    if args.seed == 1:
        ap.error("--seed 1 is the training seed; the demo shows held-out episodes")
    args.build = os.path.abspath(args.build)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
