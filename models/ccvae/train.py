#!/usr/bin/python3
"""Trains the CC-VAE demo model (models/ccvae/reference/ccvae.py: state trunk on x_t, context
trunk on x_0) on simworld push episodes, exports its state and context graphs to ONNX and
converts fp32 and int8 family blobs into models/ccvae/demo/.

usage: /usr/bin/python3 models/ccvae/train.py [--epochs 10] [--width 1] [--beta 0.1] [--puck-weight 20]
           [--out models/ccvae/demo] [--weights WORK/ccvae_weights.pt]

Data: as models/rig/train.py (push --seed 1 48x48: episodes 0..199 train, 200..209 int8
calibration, 210..219 validation; rendered into --work, default build/vae-data/). A sample is
(x_t, x_0): any push frame or the goal image of an episode, with the episode's first frame.
Training-only parts (not exported, not in the blob): the variance head logvar = log(1e-3) +
|FC 6 (concat(s, c))| (RIG's parameterisation; the reference has the mean only) and two
reference RIG decoders (models/rig/reference/rig.py): x_t from concat(z 6, c 4) and x_0
from c. Loss per sample: BCE(x_t) + BCE(x_0) summed over pixels, each pixel weighted from simworld's
id buffers (the puck x --puck-weight, the gripper x --gripper-weight = 0, the rest x 1;
training only) + beta x KL(q(z|x_t, x_0) || N(0, I_6)); Adam lr 1e-3, batch 64, BatchNorm
in training mode, seeded, one PyTorch thread.
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "reference"))
sys.path.insert(0, os.path.join(ROOT, "models", "rig", "reference"))
sys.path.insert(0, os.path.join(ROOT, "tools", "eval"))
import ccvae  # noqa: E402
import rig  # noqa: E402
import simdata  # noqa: E402

SCALE = "0.00392156862745098"  # 1/255
LOG_MIN_VARIANCE = rig.LOG_MIN_VARIANCE


class Trainer(nn.Module):
    """The reference encoder plus the training-only variance head and decoders."""

    def __init__(self, width):
        super().__init__()
        self.enc = ccvae.CCVAEEncoder(width)
        self.logvar_fc = nn.Linear(ccvae.STATE_DIM + ccvae.CONTEXT_DIM, ccvae.MU_DIM)
        self.dec_t = rig.RIGDecoder(ccvae.MU_DIM + ccvae.CONTEXT_DIM)
        self.dec_0 = rig.RIGDecoder(ccvae.CONTEXT_DIM)

    def forward(self, x_t, x_0, gen):
        e = self.enc
        s = e.state_bn(e.state_fc(e.state_trunk(x_t)))
        c = e.context(x_0)
        sc = torch.cat([s, c], 1)
        mu = e.mu_fc(sc)
        logvar = LOG_MIN_VARIANCE + torch.abs(self.logvar_fc(sc))
        z = mu + torch.randn(mu.shape, generator=gen) * torch.exp(0.5 * logvar)
        return self.dec_t(torch.cat([z, c], 1)), self.dec_0(c), mu, logvar


def episode_latents(enc, ep):
    """mu of every frame and of the goal image under the episode's context (first frame)."""
    x = torch.from_numpy(simdata.to_input(np.concatenate([ep.frames, ep.goal[None]])))
    with torch.no_grad():
        mu, _, _ = enc(x, x[:1].expand(len(x), -1, -1, -1))
    return mu.numpy()


def validate(enc, episodes):
    rhos = []
    for ep in episodes:
        mu = episode_latents(enc, ep)
        rhos.append(simdata.spearman(-np.linalg.norm(mu[:-1] - mu[-1], axis=1), -ep.distance))
    return rhos


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--puck-weight", type=float, default=20.0, help="loss weight of the puck's pixels")
    ap.add_argument("--gripper-weight", type=float, default=0.0, help="loss weight of the gripper's pixels")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-episodes", type=int, default=200)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "vae-data"))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(HERE, "demo"))
    ap.add_argument("--weights", default=None, help="skip training: export and convert the weights an earlier "
                    "run of this script saved (WORK/<family>_weights.pt)")
    ap.add_argument("--no-convert", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    sets = simdata.load_push_sets(args.work, args.train_episodes, args.build)
    train = sets["train"][1]
    xs, x0_index = [], []
    for ep in train:
        imgs = np.concatenate([ep.frames, ep.goal[None]])
        x0_index += [len(x0_index)] * len(imgs)  # the episode's first frame
        xs.append(imgs)
    xt = torch.from_numpy(simdata.to_input(np.concatenate(xs)))
    first = torch.tensor(x0_index)
    wt = torch.from_numpy(np.concatenate([simdata.pixel_weights(ep, args.puck_weight, args.gripper_weight)
                                          for ep in train]))[:, None]
    print(f"training samples: {len(xt)} from {len(train)} episodes", flush=True)

    model = Trainer(args.width)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    if args.weights:
        ck = torch.load(args.weights)
        model.load_state_dict(ck["model"])
        print(f"weights from {args.weights} (trained with {ck['args']})", flush=True)
    t0 = time.time()
    for epoch in range(0 if args.weights else args.epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        tot = rt = r0 = klt = 0.0
        for i in range(0, len(xt), args.batch):
            idx = perm[i:i + args.batch]
            if len(idx) < 2:  # BatchNorm needs two samples
                continue
            b_t, b_0, w_t, w_0 = xt[idx], xt[first[idx]], wt[idx], wt[first[idx]]
            y_t, y_0, mu, logvar = model(b_t, b_0, gen)
            rec_t = (F.binary_cross_entropy(y_t, b_t, reduction="none") * w_t).sum() / len(idx)
            rec_0 = (F.binary_cross_entropy(y_0, b_0, reduction="none") * w_0).sum() / len(idx)
            kl = -0.5 * torch.sum(1 + logvar - mu * mu - logvar.exp()) / len(idx)
            loss = rec_t + rec_0 + args.beta * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
            n = len(idx)
            tot, rt, r0, klt = tot + float(loss) * n, rt + float(rec_t) * n, r0 + float(rec_0) * n, klt + float(kl) * n
        model.eval()
        n = len(xt)
        msg = (f"epoch {epoch + 1}/{args.epochs}: loss {tot / n:.2f} (bce x_t {rt / n:.2f}, x_0 {r0 / n:.2f}, "
               f"kl {klt / n:.2f}), {time.time() - t0:.0f} s")
        if (epoch + 1) % 3 == 0 or epoch + 1 == args.epochs:
            rhos = validate(model.enc, sets["val"][1])
            msg += f", val spearman mean {np.mean(rhos):.3f} min {np.min(rhos):.3f}"
        print(msg, flush=True)
    train_s = time.time() - t0
    enc = model.enc.eval()
    rhos = validate(enc, sets["val"][1])
    print(f"{'loaded' if args.weights else f'trained in {train_s:.0f} s'}; validation spearman mean {np.mean(rhos):.3f} min {np.min(rhos):.3f}")

    os.makedirs(args.out, exist_ok=True)
    state_path, ctx_path = os.path.join(args.out, "ccvae_state.onnx"), os.path.join(args.out, "ccvae_context.onnx")
    img = torch.zeros(1, 3, 48, 48)
    torch.onnx.export(ccvae.CCVAEState(enc), (img, torch.zeros(1, ccvae.CONTEXT_DIM)), state_path, opset_version=13,
                      do_constant_folding=True, input_names=["x_t", "c"], output_names=["mu", "latent"],
                      training=torch.onnx.TrainingMode.EVAL)
    torch.onnx.export(ccvae.CCVAEContext(enc), (img,), ctx_path, opset_version=13, do_constant_folding=True,
                      input_names=["x_0"], output_names=["c"], training=torch.onnx.TrainingMode.EVAL)
    if not args.weights:
        torch.save({"model": model.state_dict(), "args": vars(args)}, os.path.join(args.work, "ccvae_weights.pt"))
    if args.no_convert:
        return
    calib = os.path.join(args.work, "ccvae_calibration")
    n = simdata.write_ppms(sets["calib"][1], calib)
    embedrt = os.path.join(args.build, "tools", "embedrt", "embedrt")
    base = [embedrt, "convert", "--family", "ccvae", "--graph", f"state={state_path}", "--graph",
            f"context={ctx_path}", "--preprocess", f"state:scale={SCALE}", "--preprocess", f"context:scale={SCALE}"]
    for blob, extra in (("ccvae.erb", []), ("ccvae.int8.erb", ["--quantize", "int8", "--calibration", calib])):
        cmd = base + ["-o", os.path.join(args.out, blob)] + extra
        print("convert:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    print(f"calibration: {n} frames from push --seed 1 episodes {args.train_episodes}..{args.train_episodes + 9}")


if __name__ == "__main__":
    main()
