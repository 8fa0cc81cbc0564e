"""RIG reference VAE in PyTorch: the 48 px conv encoder (mu, logvar) and a mirrored deconv
decoder (rlkit ConvVAE, imsize48 default architecture; Nair et al. 2018).

Encoder, image [N, 3, 48, 48] in [0, 1] (channels-first, x/255, no mean/std):
  conv 5x5/3 16 -> 15x15, conv 3x3/2 32 -> 7x7, conv 3x3/2 64 -> 3x3 (no padding, bias, ReLU)
  flatten 576 -> FC 576 (identity; rlkit's CNN output layer) = h
  mu = FC(h) -> latent (4 by default, 16 option); logvar = log(1e-3) + |FC(h)|
Decoder, latent [N, L] -> image [N, 3, 48, 48] in (0, 1):
  FC 576 + ReLU -> [N, 64, 3, 3] -> deconv 3x3/2 32 + ReLU -> 7x7 -> deconv 3x3/2 16 + ReLU
  -> 15x15 -> deconv 6x6/3 3 -> 48x48 -> sigmoid
At run time the latent is mu (never a sample).
"""

import math

import torch
from torch import nn

LOG_MIN_VARIANCE = math.log(1e-3)


def scaled(channels, width):
    """Channel count under a width multiplier (at least 1)."""
    return max(1, int(round(channels * width)))


class RIGEncoder(nn.Module):
    """image [N, 3, 48, 48] -> (mu [N, L], logvar [N, L])."""

    def __init__(self, latent_dim=4, width=1.0):
        super().__init__()
        c1, c2, c3 = scaled(16, width), scaled(32, width), scaled(64, width)
        self.conv1 = nn.Conv2d(3, c1, 5, stride=3)
        self.conv2 = nn.Conv2d(c1, c2, 3, stride=2)
        self.conv3 = nn.Conv2d(c2, c3, 3, stride=2)
        flat = c3 * 3 * 3
        self.fc = nn.Linear(flat, flat)
        self.fc_mu = nn.Linear(flat, latent_dim)
        self.fc_logvar = nn.Linear(flat, latent_dim)

    def forward(self, image):
        x = torch.relu(self.conv1(image))
        x = torch.relu(self.conv2(x))
        x = torch.relu(self.conv3(x))
        h = self.fc(torch.flatten(x, 1))
        return self.fc_mu(h), LOG_MIN_VARIANCE + torch.abs(self.fc_logvar(h))


class RIGDecoder(nn.Module):
    """latent [N, L] -> image [N, 3, 48, 48] in (0, 1)."""

    def __init__(self, latent_dim=4, width=1.0):
        super().__init__()
        c1, c2, c3 = scaled(16, width), scaled(32, width), scaled(64, width)
        self.channels = c3
        self.fc = nn.Linear(latent_dim, c3 * 3 * 3)
        self.deconv1 = nn.ConvTranspose2d(c3, c2, 3, stride=2)
        self.deconv2 = nn.ConvTranspose2d(c2, c1, 3, stride=2)
        self.deconv3 = nn.ConvTranspose2d(c1, 3, 6, stride=3)

    def forward(self, latent):
        # -1 keeps the reshape target a constant (no Shape/Gather in the exported graph).
        x = torch.relu(self.fc(latent)).reshape(-1, self.channels, 3, 3)
        x = torch.relu(self.deconv1(x))
        x = torch.relu(self.deconv2(x))
        return torch.sigmoid(self.deconv3(x))
