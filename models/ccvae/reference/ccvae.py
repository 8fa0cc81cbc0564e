"""CC-VAE reference encoders in PyTorch: a state trunk on x_t and a context trunk on x_0,
combined into the 6-d state mean and the 4-d context (rlkit ccrig branch; Nair et al. 2019).

Each 48 px trunk (rlkit CNN with batch_norm_conv and batch_norm_fc, "more hidden layers"
imsize48 architecture; every conv and FC keeps its bias as in rlkit, BN eps 1e-5):
  conv 5x5/3 16 + BN + ReLU -> 15x15, conv 3x3/2 32 + BN + ReLU -> 7x7,
  conv 3x3/2 64 + BN + ReLU -> 3x3, flatten 576,
  FC 500 + BN + ReLU, FC 300 + BN + ReLU, FC 150 + BN + ReLU, FC 576 (identity) = h
State path:   s = BN(FC 10 (h_t))            (no activation)
Context path: c = BN(FC 4 (h_0))             (deterministic: c = e0(x_0))
mu = FC 6 (concat(s, c)); latent = concat(mu, c) (10 values, what RL uses).
Inputs x_t (current frame) and x_0 (first frame of the episode), [N, 3, 48, 48] in [0, 1].
CCVAEContext is the context path alone (x_0 -> c) so c can be computed once per episode;
it shares its modules with the full encoder, so both give the same c.
The 6-channel single-image variant (x_t and x_0 stacked on channels) is not modelled here.
"""

import torch
from torch import nn

STATE_DIM = 10
CONTEXT_DIM = 4
MU_DIM = 6


def scaled(channels, width):
    """Channel count under a width multiplier (at least 1)."""
    return max(1, int(round(channels * width)))


class Trunk(nn.Module):
    """image [N, 3, 48, 48] -> h [N, 576] (576 = 64 * 3 * 3 at width 1)."""

    def __init__(self, width=1.0):
        super().__init__()
        chans = [3, scaled(16, width), scaled(32, width), scaled(64, width)]
        convs = []
        for (cin, cout), (k, s) in zip(zip(chans, chans[1:]), [(5, 3), (3, 2), (3, 2)]):
            convs += [nn.Conv2d(cin, cout, k, stride=s), nn.BatchNorm2d(cout), nn.ReLU()]
        self.convs = nn.Sequential(*convs)
        flat = chans[-1] * 3 * 3
        sizes = [flat, scaled(500, width), scaled(300, width), scaled(150, width)]
        fcs = []
        for fin, fout in zip(sizes, sizes[1:]):
            fcs += [nn.Linear(fin, fout), nn.BatchNorm1d(fout), nn.ReLU()]
        self.fcs = nn.Sequential(*fcs)
        self.out = nn.Linear(sizes[-1], flat)
        self.out_features = flat

    def forward(self, image):
        return self.out(self.fcs(torch.flatten(self.convs(image), 1)))


class ContextPath(nn.Module):
    """x_0 -> c [N, 4]."""

    def __init__(self, width=1.0):
        super().__init__()
        self.trunk = Trunk(width)
        self.fc = nn.Linear(self.trunk.out_features, CONTEXT_DIM)
        self.bn = nn.BatchNorm1d(CONTEXT_DIM)

    def forward(self, x_0):
        return self.bn(self.fc(self.trunk(x_0)))


class CCVAEEncoder(nn.Module):
    """(x_t, x_0) -> (mu [N, 6], c [N, 4], latent [N, 10])."""

    def __init__(self, width=1.0):
        super().__init__()
        self.state_trunk = Trunk(width)
        self.state_fc = nn.Linear(self.state_trunk.out_features, STATE_DIM)
        self.state_bn = nn.BatchNorm1d(STATE_DIM)
        self.context = ContextPath(width)
        self.mu_fc = nn.Linear(STATE_DIM + CONTEXT_DIM, MU_DIM)

    def forward(self, x_t, x_0):
        s = self.state_bn(self.state_fc(self.state_trunk(x_t)))
        c = self.context(x_0)
        mu = self.mu_fc(torch.cat([s, c], dim=1))
        return mu, c, torch.cat([mu, c], dim=1)


class CCVAEContext(nn.Module):
    """x_0 -> c, sharing the context path of an encoder."""

    def __init__(self, encoder):
        super().__init__()
        self.context = encoder.context

    def forward(self, x_0):
        return self.context(x_0)


class CCVAEState(nn.Module):
    """(x_t, c) -> (mu [N, 6], latent [N, 10]): the state path with the episode's context
    as an input, sharing an encoder's modules. With CCVAEContext it splits the encoder so
    that c is computed once per episode and each frame runs only the state trunk."""

    def __init__(self, encoder):
        super().__init__()
        self.state_trunk = encoder.state_trunk
        self.state_fc = encoder.state_fc
        self.state_bn = encoder.state_bn
        self.mu_fc = encoder.mu_fc

    def forward(self, x_t, c):
        s = self.state_bn(self.state_fc(self.state_trunk(x_t)))
        mu = self.mu_fc(torch.cat([s, c], dim=1))
        return mu, torch.cat([mu, c], dim=1)
