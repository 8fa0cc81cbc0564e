"""grasp2vec reference tower in PyTorch: ResNet-50 v2 cut after the third block group.
Defines the graphs embedrt must reproduce; weights come from training or from export_reference.py.

Layout (tensor2robot research/grasp2vec: resnet.get_resnet50_spatial, networks.Embedding):
  stem      conv 7x7/2 (64, pad 3, no bias) -> maxpool 3x3/2 (pad 1)
  group 1   3 pre-activation bottlenecks, 64 -> 256 channels, stride 1
  group 2   4 bottlenecks, 128 -> 512, stride 2 in the first block
  group 3   6 bottlenecks, 256 -> 1024, stride 2 in the first block
  head      spatial = ReLU(last map) [N, 1024, H/16, W/16]; vector = mean of spatial over H, W
A bottleneck is BN-ReLU -> 1x1 -> BN-ReLU -> 3x3 (stride here) -> BN-ReLU -> 1x1 (4x width),
plus the shortcut: identity, or a strided 1x1 projection applied to the pre-activated input in
the first block of a group. No conv has a bias; no BN follows the last group (v2 has no
post-activation before the ReLU of the head). BN eps 1e-5.

One deliberate difference from the TensorFlow graph: TF's SAME max-pool pads the even-sized
stem output only at the bottom/right; here (like torchvision) it pads one pixel on every side.
Output sizes agree; a converter importing TF weights would need the asymmetric pad.
"""

import torch
from torch import nn

BN_EPS = 1e-5
BLOCK_SIZES = (3, 4, 6)
BLOCK_STRIDES = (1, 2, 2)


def scaled(channels, width):
    """Channel count under a width multiplier (at least 1)."""
    return max(1, int(round(channels * width)))


def _bn(channels):
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class PreActBottleneck(nn.Module):
    """One ResNet v2 bottleneck (pre-activation, stride on the 3x3)."""

    def __init__(self, in_ch, mid_ch, stride, project):
        super().__init__()
        out_ch = 4 * mid_ch
        self.bn1 = _bn(in_ch)
        self.conv1 = nn.Conv2d(in_ch, mid_ch, 1, bias=False)
        self.bn2 = _bn(mid_ch)
        self.conv2 = nn.Conv2d(mid_ch, mid_ch, 3, stride=stride, padding=1, bias=False)
        self.bn3 = _bn(mid_ch)
        self.conv3 = nn.Conv2d(mid_ch, out_ch, 1, bias=False)
        self.shortcut = nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False) if project else None

    def forward(self, x):
        pre = torch.relu(self.bn1(x))
        # v2 projects the pre-activated input; the identity shortcut keeps the raw sum.
        shortcut = self.shortcut(pre) if self.shortcut is not None else x
        y = self.conv1(pre)
        y = self.conv2(torch.relu(self.bn2(y)))
        y = self.conv3(torch.relu(self.bn3(y)))
        return y + shortcut


class ResNetV2Trunk(nn.Module):
    """Stem plus the first three block groups; returns the raw last map (before any ReLU)."""

    def __init__(self, width=1.0, block_sizes=BLOCK_SIZES, block_strides=BLOCK_STRIDES):
        super().__init__()
        stem = scaled(64, width)
        self.conv1 = nn.Conv2d(3, stem, 7, stride=2, padding=3, bias=False)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        groups = []
        in_ch = stem
        for i, (blocks, stride) in enumerate(zip(block_sizes, block_strides)):
            mid = scaled(64 * 2 ** i, width)
            layers = []
            for b in range(blocks):
                layers.append(PreActBottleneck(in_ch, mid, stride if b == 0 else 1, project=b == 0))
                in_ch = 4 * mid
            groups.append(nn.Sequential(*layers))
        self.groups = nn.Sequential(*groups)
        self.out_channels = in_ch

    def forward(self, image):
        return self.groups(self.pool(self.conv1(image)))


class Grasp2VecTower(nn.Module):
    """phi_s or phi_o: image [N, 3, H, W] in [0, 1] -> (vector [N, C], spatial [N, C, H/16, W/16]).

    Scene and object towers share this shape and differ only in weights.
    width scales every channel count (1.0 gives C = 1024, 1/8 gives C = 128).
    block_strides are the strides of the three block groups; the default (1, 2, 2) is the
    paper's tower (output stride 16). (1, 2, 1) keeps the third group at stride 1: output
    stride 8, a spatial map twice as fine in each direction, the same weights' shapes.
    """

    def __init__(self, width=1.0, block_strides=BLOCK_STRIDES):
        super().__init__()
        self.trunk = ResNetV2Trunk(width, block_strides=tuple(block_strides))
        self.out_channels = self.trunk.out_channels

    def forward(self, image):
        spatial = torch.relu(self.trunk(image))
        vector = spatial.mean(dim=(2, 3))
        return vector, spatial


def feature_size(input_size, block_strides=BLOCK_STRIDES):
    """Side of the spatial map for a square input (conv/2, pool/2, then the groups' strides;
    the default: two stride-2 groups)."""
    s = (input_size + 2 * 3 - 7) // 2 + 1
    s = (s + 2 - 3) // 2 + 1
    for stride in block_strides:
        if stride != 1:
            s = (s + 2 - 3) // stride + 1
    return s
