"""TCN reference embedder in PyTorch: Inception v3 up to Mixed_5d, two 512 convs, spatial
soft-argmax, FC 2048 and FC 32 (tensorflow/models research/tcn, Sermanet et al. 2018).

Layout at 299x299 input (slim inception_v3 names; every conv is conv(no bias)+BN(1e-3)+ReLU):
  Conv2d_1a_3x3  32, 3x3/2 VALID   -> 149      MaxPool_3a_3x3  3x3/2 VALID -> 73
  Conv2d_2a_3x3  32, 3x3 VALID     -> 147      Conv2d_3b_1x1   80, 1x1     -> 73
  Conv2d_2b_3x3  64, 3x3 SAME      -> 147      Conv2d_4a_3x3   192, 3x3 VALID -> 71
                                               MaxPool_5a_3x3  3x3/2 VALID -> 35
  Mixed_5b/5c/5d: [1x1 64 | 1x1 48 -> 5x5 64 | 1x1 64 -> 3x3 96 -> 3x3 96 |
                   avgpool 3x3/1 SAME (padding excluded from the count, as TF) -> 1x1 P]
                  P = 32 for 5b (256 channels out), 64 for 5c and 5d (288 out)
  head: 2 x [3x3/1 SAME conv 512 + BN(1e-3) + ReLU]
        spatial soft-argmax: per channel softmax over H*W of features / T (one learned
        temperature T), expected (row, col) with row, col on linspace(-1, 1) grids,
        interleaved as (row_0, col_0, row_1, col_1, ...) -> 2 * 512 = 1024 values
        FC 2048 (no bias) + BN(1e-3) + ReLU, FC 32 (bias)
        optional L2 normalisation of the 32-d output (on for triplet-loss checkpoints)
The smallest input Inception's VALID stem accepts is 75x75 (1x1 map).
"""

import torch
from torch import nn

BN_EPS = 1e-3


def scaled(channels, width):
    """Channel count under a width multiplier (at least 1)."""
    return max(1, int(round(channels * width)))


class ConvUnit(nn.Module):
    """slim conv2d with batch norm: conv (no bias) -> BN -> ReLU."""

    def __init__(self, in_ch, out_ch, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_ch, eps=BN_EPS)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class MixedA(nn.Module):
    """Mixed_5b/5c/5d: four parallel branches concatenated on channels."""

    def __init__(self, in_ch, pool_ch, width):
        super().__init__()
        c = lambda n: scaled(n, width)  # noqa: E731
        self.b0 = ConvUnit(in_ch, c(64), 1)
        self.b1a = ConvUnit(in_ch, c(48), 1)
        self.b1b = ConvUnit(c(48), c(64), 5, padding=2)
        self.b2a = ConvUnit(in_ch, c(64), 1)
        self.b2b = ConvUnit(c(64), c(96), 3, padding=1)
        self.b2c = ConvUnit(c(96), c(96), 3, padding=1)
        # TF's SAME average pool divides by the number of real pixels under the window.
        self.pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.b3 = ConvUnit(in_ch, c(pool_ch), 1)
        self.out_channels = c(64) + c(64) + c(96) + c(pool_ch)

    def forward(self, x):
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2c(self.b2b(self.b2a(x))),
                          self.b3(self.pool(x))], dim=1)


class InceptionV3ToMixed5d(nn.Module):
    """Inception v3 base up to Mixed_5d: [N, 3, 299, 299] -> [N, 288, 35, 35] at width 1."""

    def __init__(self, width=1.0):
        super().__init__()
        c = lambda n: scaled(n, width)  # noqa: E731
        self.conv1a = ConvUnit(3, c(32), 3, stride=2)
        self.conv2a = ConvUnit(c(32), c(32), 3)
        self.conv2b = ConvUnit(c(32), c(64), 3, padding=1)
        self.pool3a = nn.MaxPool2d(3, stride=2)
        self.conv3b = ConvUnit(c(64), c(80), 1)
        self.conv4a = ConvUnit(c(80), c(192), 3)
        self.pool5a = nn.MaxPool2d(3, stride=2)
        self.mixed5b = MixedA(c(192), 32, width)
        self.mixed5c = MixedA(self.mixed5b.out_channels, 64, width)
        self.mixed5d = MixedA(self.mixed5c.out_channels, 64, width)
        self.out_channels = self.mixed5d.out_channels

    def forward(self, x):
        x = self.conv2b(self.conv2a(self.conv1a(x)))
        x = self.conv4a(self.conv3b(self.pool3a(x)))
        return self.mixed5d(self.mixed5c(self.mixed5b(self.pool5a(x))))


def feature_size(input_size):
    """Side of the Mixed_5d map for a square input (35 at 299, 10 at 99)."""
    s = (input_size - 3) // 2 + 1  # Conv2d_1a
    s = s - 2                      # Conv2d_2a
    s = (s - 3) // 2 + 1           # MaxPool_3a
    s = s - 2                      # Conv2d_4a
    s = (s - 3) // 2 + 1           # MaxPool_5a
    if s < 1:
        raise ValueError(f"Inception v3 needs an input of at least 75 pixels, got {input_size}")
    return s


class SpatialSoftArgmax(nn.Module):
    """[N, C, H, W] -> [N, 2C]: expected (row, col) of softmax(x / T) over H*W, per channel."""

    def __init__(self, channels, height, width):
        super().__init__()
        self.channels = channels
        rows = torch.linspace(-1.0, 1.0, height)
        cols = torch.linspace(-1.0, 1.0, width)
        grid = torch.stack(torch.meshgrid(rows, cols, indexing="ij"), dim=-1)
        # [H*W, 2]: a constant, so expectation is one MatMul rather than shape arithmetic.
        self.register_buffer("grid", grid.reshape(height * width, 2))
        self.temperature = nn.Parameter(torch.ones(()))

    def forward(self, x):
        # A constant reshape target (-1 for the batch) keeps Shape/Slice/Concat out of the graph.
        logits = (x / self.temperature).reshape(-1, self.channels, self.grid.shape[0])
        attention = torch.softmax(logits, dim=2)
        return torch.flatten(torch.matmul(attention, self.grid), 1)


class TCNEmbedder(nn.Module):
    """image [N, 3, S, S] in [-1, 1] -> embedding [N, 32] (L2-normalised if normalize)."""

    def __init__(self, width=1.0, input_size=299, embedding_dim=32, normalize=False):
        super().__init__()
        self.base = InceptionV3ToMixed5d(width)
        conv_ch = scaled(512, width)
        self.conv1 = ConvUnit(self.base.out_channels, conv_ch, 3, padding=1)
        self.conv2 = ConvUnit(conv_ch, conv_ch, 3, padding=1)
        side = feature_size(input_size)
        self.softargmax = SpatialSoftArgmax(conv_ch, side, side)
        fc_ch = scaled(2048, width)
        self.fc1 = nn.Linear(2 * conv_ch, fc_ch, bias=False)
        self.bn_fc1 = nn.BatchNorm1d(fc_ch, eps=BN_EPS)
        self.fc2 = nn.Linear(fc_ch, embedding_dim)
        self.normalize = normalize

    def forward(self, image):
        x = self.conv2(self.conv1(self.base(image)))
        x = self.softargmax(x)
        x = torch.relu(self.bn_fc1(self.fc1(x)))
        x = self.fc2(x)
        if self.normalize:
            # tf.nn.l2_normalize: x / sqrt(max(sum(x^2), 1e-12)).
            x = x / torch.sqrt(torch.clamp((x * x).sum(dim=1, keepdim=True), min=1e-12))
        return x
