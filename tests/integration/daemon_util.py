"""Shared set-up of the embedrtd integration tests: family blobs converted from the
reference fixtures, replay frames as PPM files, a daemon process on a private socket,
and the pass/fail bookkeeping. Clients are the Python package tools/python/embedrt_client."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np


class Harness:
    def __init__(self, argv, name):
        self.daemon_bin, self.cli, self.root, proto_py = argv[1:5]
        os.environ["EMBEDRT_PROTO_PY"] = proto_py
        sys.path.insert(0, os.path.join(self.root, "tools", "python"))
        self.tmp = tempfile.mkdtemp(prefix=f"ert-{name}-")
        self.fixtures = os.path.join(self.root, "tests", "fixtures", "models")
        self.passed = self.failed = 0
        self.procs = []

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print(f"  ok    {name}", flush=True)
        else:
            self.failed += 1
            print(f"  FAIL  {name} {detail}", flush=True)

    def finish(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)

    def run(self, *args, timeout=120):
        return subprocess.run([self.cli, *args], capture_output=True, text=True, timeout=timeout)

    # ---------------------------------------------------------------- inputs

    def blobs(self, names=("g2v", "rig", "ccvae")):
        """Family blobs of the fixture encoders, with recipes that take any frame size."""
        fx, rgb01 = self.fixtures, "scale=0.00392157"
        args = {
            "g2v": ["--family", "grasp2vec", "--graph", f"scene={fx}/grasp2vec_64/model.onnx",
                    "--graph", f"object={fx}/grasp2vec_64/model.onnx",
                    "--preprocess", f"scene:crop=center,resize=64x64:bilinear,{rgb01}",
                    "--preprocess", f"object:crop=center,resize=64x64:bilinear,{rgb01}"],
            "rig": ["--family", "rig", "--graph", f"encoder={fx}/rig_encoder/model.onnx",
                    "--preprocess", f"encoder:crop=center,resize=48x48:bilinear,{rgb01}"],
            "ccvae": ["--family", "ccvae", "--graph", f"encoder={fx}/ccvae/model.onnx",
                      "--graph", f"context={fx}/ccvae_context/model.onnx",
                      "--preprocess", f"encoder:crop=center,resize=48x48:bilinear,{rgb01}",
                      "--preprocess", f"context:crop=center,resize=48x48:bilinear,{rgb01}"],
        }
        out = {}
        for n in names:
            path = os.path.join(self.tmp, n + ".erb")
            r = self.run("convert", *args[n], "-o", path)
            if r.returncode != 0:
                raise RuntimeError(f"convert {n}: {r.stderr.strip()}")
            out[n] = path
        return out

    def frames(self, folder, n, w=80, h=60, seed=1):
        """n smooth random RGB frames as folder/frame_NNN.ppm (replay order = name order)."""
        d = os.path.join(self.tmp, folder)
        os.makedirs(d, exist_ok=True)
        rng = np.random.RandomState(seed)
        paths = []
        for i in range(n):
            small = rng.randint(0, 256, (h // 4 + 1, w // 4 + 1, 3)).astype(np.float32)
            img = np.repeat(np.repeat(small, 4, 0), 4, 1)[:h, :w]
            img = np.clip(img + rng.randint(-20, 21, img.shape), 0, 255).astype(np.uint8)
            p = os.path.join(d, f"frame_{i:03d}.ppm")
            with open(p, "wb") as f:
                f.write(b"P6\n%d %d\n255\n" % (w, h) + img.tobytes())
            paths.append(p)
        return d, paths

    def offline_reward(self, blob, *args):
        r = self.run("reward", blob, *args, "--json")
        if r.returncode != 0:
            raise RuntimeError(f"embedrt reward {' '.join(args)}: {r.stderr.strip()}")
        return json.loads(r.stdout.strip().splitlines()[-1])

    # ---------------------------------------------------------------- daemon

    def start(self, conf_text, name="d", extra=()):
        conf = os.path.join(self.tmp, name + ".conf")
        with open(conf, "w") as f:
            f.write(conf_text)
        sock = os.path.join(self.tmp, name + ".sock")
        log = open(os.path.join(self.tmp, name + ".log"), "w")
        p = subprocess.Popen([self.daemon_bin, "--config", conf, "--socket", sock, *extra], stdout=log,
                             stderr=subprocess.STDOUT)
        self.procs.append(p)
        p.conf, p.sock, p.log_path = conf, sock, log.name
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise RuntimeError(f"embedrtd exited with {p.returncode}: {self.log(p)}")
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(sock)
                s.close()
                return p
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"embedrtd did not listen on {sock}: {self.log(p)}")

    def log(self, p):
        with open(p.log_path) as f:
            return f.read()

    def stop(self, p, sig=signal.SIGTERM, timeout=15):
        p.send_signal(sig)
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return None

    def client(self, p, **kw):
        from embedrt_client import Client
        return Client("unix:" + p.sock, **kw)


def close(a, b, tol=1e-5):
    return abs(a - b) <= tol * max(1.0, abs(b))
