#!/usr/bin/python3
"""Trains the RIG demo VAE (models/rig/reference/rig.py, 48 px encoder and decoder) on
simworld push episodes, exports its encoder and decoder to ONNX, writes the latent statistics
and converts fp32 and int8 family blobs into models/rig/demo/.

usage: /usr/bin/python3 models/rig/train.py [--epochs 20] [--latent 4] [--beta 0.5] [--puck-weight 50]
           [--out models/rig/demo] [--weights WORK/rig_weights.pt]

Data (rendered with build/tools/simworld/simworld into --work, default build/vae-data/):
  training     push --seed 1, episodes 0..E-1 (--train-episodes, 200): every push frame and
               every goal image (48x48, 40 frames per episode)
  calibration  push --seed 1, episodes E..E+9: never trained on; their frames calibrate int8
  validation   push --seed 1, episodes E+10..E+19: the Spearman check printed at the end
               (tools/eval/eval_vae.py judges on other seeds, through the daemon)
Loss per image: BCE summed over the 3x48x48 pixels, each pixel weighted from simworld's id
buffers (--masks: the puck's pixels x --puck-weight, the gripper's x --gripper-weight = 0,
the rest x 1; training only, the model sees plain frames), + beta x KL(q(z|x) || N(0, I)),
Adam lr 1e-3, batch 64, seeded (--seed), one PyTorch thread. The latent the family uses is
mu. Why the weights: with a plain loss the latent follows the gripper, not the puck
(validation Spearman 0.55-0.59 after 10 epochs at latent 16).
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "reference"))
sys.path.insert(0, os.path.join(ROOT, "tools", "eval"))
import rig  # noqa: E402
import simdata  # noqa: E402

SCALE = "0.00392156862745098"  # 1/255: frames -> [0, 1], as the encoder was trained


def encode(enc, x, batch=256):
    with torch.no_grad():
        return torch.cat([enc(torch.from_numpy(x[i:i + batch]))[0] for i in range(0, len(x), batch)]).numpy()


def validate(enc, episodes):
    """Per-episode Spearman of -||mu(goal) - mu(frame)|| against -distance (PyTorch, no daemon)."""
    rhos = []
    for ep in episodes:
        mu = encode(enc, simdata.to_input(np.concatenate([ep.frames, ep.goal[None]])))
        reward = -np.linalg.norm(mu[:-1] - mu[-1], axis=1)
        rhos.append(simdata.spearman(reward, -ep.distance))
    return rhos


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--latent", type=int, default=4, choices=(4, 16))
    ap.add_argument("--beta", type=float, default=0.5)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--puck-weight", type=float, default=50.0, help="loss weight of the puck's pixels")
    ap.add_argument("--gripper-weight", type=float, default=0.0, help="loss weight of the gripper's pixels")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-episodes", type=int, default=200)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "vae-data"))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build folder with simworld and embedrt")
    ap.add_argument("--out", default=os.path.join(HERE, "demo"))
    ap.add_argument("--weights", default=None, help="skip training: export and convert the weights an earlier "
                    "run of this script saved (WORK/<family>_weights.pt)")
    ap.add_argument("--no-convert", action="store_true", help="stop after ONNX and the latent statistics")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    sets = simdata.load_push_sets(args.work, args.train_episodes, args.build)
    train = sets["train"][1]
    x = simdata.to_input(np.concatenate([np.concatenate([ep.frames, ep.goal[None]]) for ep in train]))
    print(f"training frames: {len(x)} from {len(train)} episodes", flush=True)
    xt = torch.from_numpy(x)
    wt = torch.from_numpy(np.concatenate([simdata.pixel_weights(ep, args.puck_weight, args.gripper_weight)
                                          for ep in train]))[:, None]

    enc, dec = rig.RIGEncoder(args.latent), rig.RIGDecoder(args.latent)
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    if args.weights:
        ck = torch.load(args.weights)
        enc.load_state_dict(ck["encoder"])
        dec.load_state_dict(ck["decoder"])
        print(f"weights from {args.weights} (trained with {ck['args']})", flush=True)
    t0 = time.time()
    for epoch in range(0 if args.weights else args.epochs):
        enc.train()
        dec.train()
        perm = torch.randperm(len(xt), generator=gen)
        tot = rec_tot = kl_tot = 0.0
        for i in range(0, len(xt), args.batch):
            idx = perm[i:i + args.batch]
            xb, wb = xt[idx], wt[idx]
            mu, logvar = enc(xb)
            z = mu + torch.randn(mu.shape, generator=gen) * torch.exp(0.5 * logvar)
            rec = (F.binary_cross_entropy(dec(z), xb, reduction="none") * wb).sum() / len(xb)
            kl = -0.5 * torch.sum(1 + logvar - mu * mu - logvar.exp()) / len(xb)
            loss = rec + args.beta * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss) * len(xb)
            rec_tot += float(rec) * len(xb)
            kl_tot += float(kl) * len(xb)
        enc.eval()
        msg = (f"epoch {epoch + 1}/{args.epochs}: loss {tot / len(xt):.2f} (bce {rec_tot / len(xt):.2f}, "
               f"kl {kl_tot / len(xt):.2f}), {time.time() - t0:.0f} s")
        if (epoch + 1) % 5 == 0 or epoch + 1 == args.epochs:
            rhos = validate(enc, sets["val"][1])
            msg += f", val spearman mean {np.mean(rhos):.3f} min {np.min(rhos):.3f}"
        print(msg, flush=True)
    train_s = time.time() - t0
    enc.eval()
    dec.eval()

    os.makedirs(args.out, exist_ok=True)
    enc_path, dec_path = os.path.join(args.out, "rig_encoder.onnx"), os.path.join(args.out, "rig_decoder.onnx")
    torch.onnx.export(enc, (torch.zeros(1, 3, 48, 48),), enc_path, opset_version=13, do_constant_folding=True,
                      input_names=["image"], output_names=["mu", "logvar"],
                      training=torch.onnx.TrainingMode.EVAL)
    torch.onnx.export(dec, (torch.zeros(1, args.latent),), dec_path, opset_version=13, do_constant_folding=True,
                      input_names=["latent"], output_names=["image"], training=torch.onnx.TrainingMode.EVAL)
    stats = encode(enc, x).astype(np.float32)
    stats_path = os.path.join(args.out, "latent_stats.npy")
    np.save(stats_path, stats)
    if not args.weights:
        torch.save({"encoder": enc.state_dict(), "decoder": dec.state_dict(), "args": vars(args)},
               os.path.join(args.work, "rig_weights.pt"))
    rhos = validate(enc, sets["val"][1])
    print(f"{'loaded' if args.weights else f'trained in {train_s:.0f} s'}; validation spearman mean {np.mean(rhos):.3f} min {np.min(rhos):.3f}")
    if args.no_convert:
        return
    calib = os.path.join(args.work, "rig_calibration")
    n = simdata.write_ppms(sets["calib"][1], calib)
    embedrt = os.path.join(args.build, "tools", "embedrt", "embedrt")
    base = [embedrt, "convert", "--family", "rig", "--graph", f"encoder={enc_path}", "--graph",
            f"decoder={dec_path}", "--preprocess", f"encoder:scale={SCALE}", "--latent-stats", stats_path]
    for blob, extra in (("rig.erb", []), ("rig.int8.erb", ["--quantize", "int8", "--calibration", calib])):
        cmd = base + ["-o", os.path.join(args.out, blob)] + extra
        print("convert:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    print(f"calibration: {n} frames from push --seed 1 episodes {args.train_episodes}..{args.train_episodes + 9}")


if __name__ == "__main__":
    main()
