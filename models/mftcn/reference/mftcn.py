"""mfTCN reference in PyTorch: a per-frame ResNet-50 v2 trunk and a 3-D conv head over the
stacked trunk maps of n frames (Dwibedi et al. 2018; layout after google-research tcc).

Two graphs, because the runtime runs the trunk once per new frame and caches its map:
  trunk  image [N, 3, 224, 224] in [-1, 1] -> features [N, 1024, 14, 14]
         = ReLU(grasp2vec's ResNetV2Trunk), i.e. the grasp2vec tower's `spatial` output
  head   features [N, 1024, n, 14, 14] (trunk maps stacked on dim 2, oldest frame first)
         -> 2 x [Conv3d 3x3x3 512, padding 1 (SAME), no bias, BN(1e-3) + ReLU]
         -> global 3-D max-pool -> FC 512 + ReLU -> FC 512 + ReLU -> FC 128 = embedding
Reference window: n = 2 frames, stride s = 15: for target frame t the frames are
{t - (n-1)s, ..., t - s, t}, indices before the episode start clamped to its first frame.
BN eps 1e-3 is Keras' default (tcc builds on Keras); the trunk keeps grasp2vec's 1e-5.
"""

import importlib.util
import os

import torch
from torch import nn

N_FRAMES = 2
FRAME_STRIDE = 15
BN_EPS = 1e-3
EMBEDDING_DIM = 128


def _load_grasp2vec():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "grasp2vec", "reference",
                        "grasp2vec.py")
    spec = importlib.util.spec_from_file_location("embedrt_ref_grasp2vec", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_g2v = _load_grasp2vec()
scaled = _g2v.scaled
feature_size = _g2v.feature_size


class MfTCNTrunk(nn.Module):
    """Per-frame trunk: image [N, 3, S, S] -> features [N, C, S/16, S/16] (non-negative)."""

    def __init__(self, width=1.0):
        super().__init__()
        self.trunk = _g2v.ResNetV2Trunk(width)
        self.out_channels = self.trunk.out_channels

    def forward(self, image):
        return torch.relu(self.trunk(image))


class MfTCNHead(nn.Module):
    """Joint head: features [N, C, n, h, w] -> embedding [N, 128]."""

    def __init__(self, in_channels=1024, width=1.0, embedding_dim=EMBEDDING_DIM):
        super().__init__()
        conv_ch = scaled(512, width)
        fc_ch = scaled(512, width)
        self.conv1 = nn.Conv3d(in_channels, conv_ch, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm3d(conv_ch, eps=BN_EPS)
        self.conv2 = nn.Conv3d(conv_ch, conv_ch, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(conv_ch, eps=BN_EPS)
        self.fc1 = nn.Linear(conv_ch, fc_ch)
        self.fc2 = nn.Linear(fc_ch, fc_ch)
        self.fc3 = nn.Linear(fc_ch, embedding_dim)

    def forward(self, features):
        x = torch.relu(self.bn1(self.conv1(features)))
        x = torch.relu(self.bn2(self.conv2(x)))
        # amax exports as one ReduceMax; adaptive pooling would need a 3-D MaxPool.
        x = torch.amax(x, dim=(2, 3, 4))
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def stack_frames(maps):
    """List of n trunk outputs [N, C, h, w], oldest first -> head input [N, C, n, h, w]."""
    return torch.stack(list(maps), dim=2)


def window_indices(t, n=N_FRAMES, stride=FRAME_STRIDE):
    """Frame indices of the causal window ending at t, clamped at the episode start."""
    return [max(0, t - (n - 1 - i) * stride) for i in range(n)]
