"""gluon.model_zoo.vision: architectures (parameter counts against published numbers and
independent arithmetic, structural parameter names and shapes that MXNet's .params files use),
forward passes of every family, get_model, the d2l fine-tuning pattern, and pretrained weights
found in, or downloaded into, a temporary root (a local HTTP server stands in for the
repository; nothing touches the network)."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
import zipfile

import numpy
import pytest

import framework as mx
from framework import autograd, gluon, np
from framework.gluon import nn
from framework.gluon.model_zoo import model_store, vision

# -- counting -----------------------------------------------------------------------------------


def _counts(net) -> tuple[int, int]:
    """(trainable, non-trainable) element counts of the unique parameters; in Gluon the
    BatchNorm running statistics are parameters (grad_req 'null')."""
    unique = {id(p): p for p in net.collect_params().values()}
    trainable = sum(int(numpy.prod(p.shape)) for p in unique.values() if p.grad_req != "null")
    total = sum(int(numpy.prod(p.shape)) for p in unique.values())
    return trainable, total - trainable


def _run(net, size: int, classes: int = 1000):
    net.initialize()
    out = net(np.zeros((1, 3, size, size)))
    assert out.shape == (1, classes)
    return out


class _Tally:
    """Independent arithmetic for the oracles below: trainable and non-trainable counts."""

    def __init__(self) -> None:
        self.trainable = 0
        self.fixed = 0

    def conv(self, cin: int, cout: int, k: int = 1, bias: bool = False, groups: int = 1) -> None:
        self.trainable += cout * (cin // groups) * k * k + (cout if bias else 0)

    def bn(self, c: int, affine: bool = True) -> None:
        if affine:
            self.trainable += 2 * c  # gamma, beta
        else:
            self.fixed += 2 * c
        self.fixed += 2 * c  # running mean and variance

    def dense(self, cin: int, cout: int) -> None:
        self.trainable += cin * cout + cout

    def result(self) -> tuple[int, int]:
        return self.trainable, self.fixed


# He et al. 2015, table 1: blocks per stage, stage widths (bottleneck: output width)
_RESNET = {18: ("basic", [2, 2, 2, 2], [64, 128, 256, 512]),
           34: ("basic", [3, 4, 6, 3], [64, 128, 256, 512]),
           50: ("bottleneck", [3, 4, 6, 3], [256, 512, 1024, 2048]),
           101: ("bottleneck", [3, 4, 23, 3], [256, 512, 1024, 2048]),
           152: ("bottleneck", [3, 8, 36, 3], [256, 512, 1024, 2048])}


def _resnet_oracle(version: int, depth: int, classes: int = 1000) -> tuple[int, int]:
    """MXNet's ResNets: v1 bottleneck 1x1 convolutions have biases; v2 normalises the input
    with a BatchNorm without scale/shift and has no BatchNorm on its projections."""
    kind, blocks, widths = _RESNET[depth]
    t = _Tally()
    if version == 2:
        t.bn(3, affine=False)
    t.conv(3, 64, 7)
    t.bn(64)
    cin = 64
    for n, cout in zip(blocks, widths):
        for b in range(n):
            c = cin if b == 0 else cout
            mid = cout // 4
            if version == 1 and kind == "basic":
                t.conv(c, cout, 3), t.bn(cout), t.conv(cout, cout, 3), t.bn(cout)
            elif version == 1:
                t.conv(c, mid, 1, bias=True), t.bn(mid), t.conv(mid, mid, 3), t.bn(mid)
                t.conv(mid, cout, 1, bias=True), t.bn(cout)
            elif kind == "basic":
                t.bn(c), t.conv(c, cout, 3), t.bn(cout), t.conv(cout, cout, 3)
            else:
                t.bn(c), t.conv(c, mid, 1), t.bn(mid), t.conv(mid, mid, 3), t.bn(mid)
                t.conv(mid, cout, 1)
            if b == 0 and c != cout:  # projection shortcut
                t.conv(c, cout, 1)
                if version == 1:
                    t.bn(cout)
        cin = cout
    if version == 2:
        t.bn(cin)
    t.dense(cin, classes)
    return t.result()


def _mobilenet_oracle(m: float, classes: int = 1000) -> tuple[int, int]:
    """Howard et al. 2017, table 1, with MXNet's int(c * multiplier) widths."""
    t = _Tally()
    prev = int(32 * m)
    t.conv(3, prev, 3), t.bn(prev)
    for out in [64, 128, 128, 256, 256] + [512] * 6 + [1024, 1024]:
        t.conv(prev, prev, 3, groups=prev), t.bn(prev)  # depthwise
        t.conv(prev, int(out * m)), t.bn(int(out * m))  # pointwise
        prev = int(out * m)
    t.dense(prev, classes)
    return t.result()


def _mobilenet_v2_oracle(m: float, classes: int = 1000) -> tuple[int, int]:
    """Sandler et al. 2018, table 2 (t, c, n, s), as MXNet builds it: the 1x1 expansion is
    present even where t == 1, and the classifier is a 1x1 convolution without bias."""
    t = _Tally()
    prev = int(32 * m)
    t.conv(3, prev, 3), t.bn(prev)
    for expand, c, n, _ in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                            (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for _ in range(n):
            hidden = prev * expand
            t.conv(prev, hidden), t.bn(hidden)
            t.conv(hidden, hidden, 3, groups=hidden), t.bn(hidden)
            t.conv(hidden, int(c * m)), t.bn(int(c * m))
            prev = int(c * m)
    last = int(1280 * m) if m > 1.0 else 1280
    t.conv(prev, last), t.bn(last)
    t.conv(last, classes)
    return t.result()


# Published trainable counts at 224x224 (torchvision's model tables; Keras for MobileNet) for
# architectures MXNet builds the same way; ResNet v1 bottlenecks add MXNet's 1x1 conv biases.
_PUBLISHED = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240,
    "vgg11_bn": 132_868_840, "vgg13_bn": 133_053_736, "vgg16_bn": 138_365_992,
    "vgg19_bn": 143_678_248,
    "densenet121": 7_978_856, "densenet161": 28_681_000, "densenet169": 14_149_480,
    "densenet201": 20_013_928,
    "squeezenet1.0": 1_248_424, "squeezenet1.1": 1_235_496,
    "inceptionv3": 27_161_264 - 3_326_696,  # torchvision's count minus its aux classifier
    "resnet18_v1": 11_689_512, "resnet34_v1": 21_797_672,
    "resnet50_v1": 25_557_032 + 18_880, "resnet101_v1": 44_549_160 + 40_640,
    "resnet152_v1": 60_192_808 + 59_840,
    "mobilenet1.0": 4_231_976,
    # torchvision's 3,504,872 + the t=1 expansion conv (32*32 + BN 64) - the classifier bias
    "mobilenetv2_1.0": 3_504_872 + 1_088 - 1_000,
}


def test_oracles_match_published_numbers():
    """The arithmetic oracles reproduce the published counts where both exist."""
    for d in (18, 34, 50, 101, 152):
        assert _resnet_oracle(1, d)[0] == _PUBLISHED[f"resnet{d}_v1"]
    assert _mobilenet_oracle(1.0) == (4_231_976, 4_253_864 - 4_231_976)  # Keras' table
    assert _mobilenet_v2_oracle(1.0)[0] == _PUBLISHED["mobilenetv2_1.0"]


def _expected(name: str) -> tuple[int, int | None]:
    """(trainable, non-trainable) at 224x224; non-trainable is None where only the published
    trainable count is known."""
    if name.startswith("resnet"):
        depth, version = name[6:].split("_v")
        return _resnet_oracle(int(version), int(depth))
    if name.startswith("mobilenetv2_"):
        return _mobilenet_v2_oracle(float(name[12:]))
    if name.startswith("mobilenet"):
        return _mobilenet_oracle(float(name[9:]))
    return _PUBLISHED[name], None


# VGG's first Dense layer sees 512*7*7 features at 224x224 but 512*1*1 at 32x32; a 32x32 input
# keeps the test fast and the difference is exact
_VGG_32_DELTA = (512 * 7 * 7 - 512) * 4096

# parameter names (as in MXNet's .params files) and shapes at 224x224 (299x299 for Inception)
_SHAPES = {
    "resnet18_v1": {"features.0.weight": (64, 3, 7, 7), "features.1.gamma": (64,),
                    "features.4.0.body.0.weight": (64, 64, 3, 3),
                    "features.5.0.downsample.0.weight": (128, 64, 1, 1),
                    "features.5.0.downsample.1.running_var": (128,),
                    "output.weight": (1000, 512), "output.bias": (1000,)},
    "resnet50_v1": {"features.4.0.body.0.weight": (64, 64, 1, 1),
                    "features.4.0.body.0.bias": (64,),
                    "features.4.0.body.6.weight": (256, 64, 1, 1),
                    "features.6.0.downsample.0.weight": (1024, 512, 1, 1),
                    "output.weight": (1000, 2048)},
    "resnet18_v2": {"features.0.running_mean": (3,), "features.1.weight": (64, 3, 7, 7),
                    "features.5.0.bn1.gamma": (64,), "features.5.0.conv1.weight": (64, 64, 3, 3),
                    "features.6.0.downsample.weight": (128, 64, 1, 1),
                    "features.9.beta": (512,), "output.weight": (1000, 512)},
    "resnet50_v2": {"features.5.0.conv1.weight": (64, 64, 1, 1),
                    "features.5.0.conv3.weight": (256, 64, 1, 1),
                    "features.5.0.downsample.weight": (256, 64, 1, 1)},
    "vgg11_bn": {"features.0.weight": (64, 3, 3, 3), "features.1.running_mean": (64,),
                 "features.4.weight": (128, 64, 3, 3), "features.25.weight": (512, 512, 3, 3),
                 "features.29.weight": (4096, 512 * 7 * 7), "features.31.weight": (4096, 4096),
                 "output.weight": (1000, 4096)},
    "alexnet": {"features.0.weight": (64, 3, 11, 11), "features.2.weight": (192, 64, 5, 5),
                "features.9.weight": (4096, 9216), "features.11.weight": (4096, 4096),
                "output.weight": (1000, 4096)},
    "densenet121": {"features.4.0.1.2.weight": (128, 64, 1, 1),
                    "features.4.0.1.5.weight": (32, 128, 3, 3),
                    "features.5.2.weight": (128, 256, 1, 1),
                    "features.11.gamma": (1024,), "output.weight": (1000, 1024)},
    "squeezenet1.0": {"features.0.weight": (96, 3, 7, 7), "features.3.0.0.weight": (16, 96, 1, 1),
                      "features.3.1.1.0.weight": (64, 16, 3, 3),
                      "output.0.weight": (1000, 512, 1, 1)},
    "inceptionv3": {"features.0.0.weight": (32, 3, 3, 3), "features.0.1.running_var": (32,),
                    "features.7.0.0.0.weight": (64, 192, 1, 1),
                    "features.16.1.1.0.0.0.weight": (384, 384, 1, 3),
                    "output.weight": (1000, 2048)},
    "mobilenet0.5": {"features.0.weight": (16, 3, 3, 3), "features.3.weight": (16, 1, 3, 3),
                     "features.6.weight": (32, 16, 1, 1), "output.weight": (1000, 512)},
    "mobilenetv2_1.0": {"features.3.out.0.weight": (32, 32, 1, 1),
                        "features.3.out.3.weight": (32, 1, 3, 3),
                        "features.3.out.6.weight": (16, 32, 1, 1),
                        "features.20.weight": (1280, 320, 1, 1),
                        "output.0.weight": (1000, 1280, 1, 1)},
}


def _infer_shapes(name: str, net) -> None:
    """Initialize ``net`` with its parameter shapes as for a 224x224 image (299x299 for
    Inception), running as little as possible: DenseNet and Inception end in fixed-size
    average pooling that reduces the 224/299 maps to 1x1, so their convolutions run on a small
    image whose maps are already 1x1 and the classifier on that. Zeros initialize faster than
    random draws (layer-level initializers such as VGG's still apply)."""
    net.initialize(mx.init.Zero())
    if name.startswith(("densenet", "inception")):
        small = 75 if name.startswith("inception") else 32
        feats = net.features[:-2](np.zeros((1, 3, small, small)))
        assert feats.shape[2:] == (1, 1)
        assert net.output(feats).shape == (1, 1000)
        with pytest.raises(ValueError):  # the final pooling needs the full-size maps
            net(np.zeros((1, 3, small, small)))
    else:
        size = {"alexnet": 224, "squeezenet1.0": 224, "squeezenet1.1": 224}.get(name, 32)
        assert net(np.zeros((1, 3, size, size))).shape == (1, 1000)


# the biggest models are counted in a slow test; test_stage_layouts checks them quickly
_LARGE = [n for n in sorted(vision.MODELS)
          if n.startswith(("vgg13", "vgg16", "vgg19", "resnet101", "resnet152"))]


def _check_counts_and_shapes(name: str) -> None:
    net = vision.get_model(name)
    _infer_shapes(name, net)
    trainable, fixed = _counts(net)
    want_trainable, want_fixed = _expected(name)
    delta = _VGG_32_DELTA if name.startswith("vgg") else 0
    assert trainable == want_trainable - delta
    params = net.collect_params()
    for key, shape in _SHAPES.get(name, {}).items():
        assert key in params, f"{name}: no parameter {key}"
        if key == "features.29.weight" and name == "vgg11_bn":
            shape = (4096, 512)  # inferred from the 32x32 test image (see _VGG_32_DELTA)
        assert params[key].shape == shape, key
    # the non-trainable parameters are the BatchNorm running statistics (and ResNet v2's input
    # BatchNorm, which has no scale or shift)
    fixed_names = [k for k, p in params.items() if p.grad_req == "null"]
    assert all(k.endswith(("running_mean", "running_var")) or k.startswith("features.0.")
               for k in fixed_names)
    if want_fixed is not None:
        assert fixed == want_fixed
    else:
        running = sum(int(numpy.prod(p.shape)) for k, p in params.items()
                      if k.endswith(("running_mean", "running_var")))
        gammas = sum(int(numpy.prod(p.shape)) for k, p in params.items() if k.endswith("gamma"))
        assert fixed == running == 2 * gammas


@pytest.mark.parametrize("name", [n for n in sorted(vision.MODELS) if n not in _LARGE])
def test_parameter_counts_and_shapes(name):
    _check_counts_and_shapes(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", _LARGE)
def test_parameter_counts_large_models(name):
    _check_counts_and_shapes(name)


@pytest.mark.parametrize("depth", [50, 101, 152])
@pytest.mark.parametrize("version", [1, 2])
def test_resnet_stage_layouts(version, depth):
    """Blocks per stage and their types and widths (no initialization needed)."""
    _, blocks, widths = _RESNET[depth]
    net = vision.get_resnet(version, depth)
    first = 4 if version == 1 else 5  # v2 starts with the input BatchNorm
    stages = [net.features[first + i] for i in range(4)]
    block = vision.BottleneckV1 if version == 1 else vision.BottleneckV2
    assert [len(s) for s in stages] == blocks
    assert all(type(b) is block for s in stages for b in s)
    last = [s[-1].body[-2] if version == 1 else s[-1].conv3 for s in stages]
    assert [conv.weight.shape[0] for conv in last] == widths
    assert [s[0].downsample is not None for s in stages] == [True] * 4
    assert [s[1].downsample for s in stages] == [None] * 4


@pytest.mark.parametrize("name", [n for n in sorted(vision.MODELS) if n.startswith("vgg")])
def test_vgg_layouts(name):
    """Where the convolutions, BatchNorms, poolings and Dense layers sit in ``features``
    (no initialization needed: MXNet's file names are these indices)."""
    depth = int(name[3:5])
    convs = {11: [1, 1, 2, 2, 2], 13: [2, 2, 2, 2, 2], 16: [2, 2, 3, 3, 3],
             19: [2, 2, 4, 4, 4]}[depth]
    kinds = []
    for n in convs:
        kinds += (["conv", "bn", "act"] if name.endswith("_bn") else ["conv", "act"]) * n
        kinds.append("pool")
    kinds += ["dense", "drop", "dense", "drop"]
    names = {nn.Conv2D: "conv", nn.BatchNorm: "bn", nn.Activation: "act",
             nn.MaxPool2D: "pool", nn.Dense: "dense", nn.Dropout: "drop"}
    net = vision.get_model(name)
    assert [names[type(b)] for b in net.features] == kinds
    widths = [b.weight.shape[0] for b in net.features if isinstance(b, nn.Conv2D)]
    assert widths == [w for n, w in zip(convs, [64, 128, 256, 512, 512]) for _ in range(n)]
    assert net.collect_params()["output.weight"].shape == (1000, -1)


@pytest.mark.slow
def test_vgg11_count_at_224_is_the_published_one():
    net = vision.vgg11()
    net.initialize()
    assert net(np.zeros((1, 3, 224, 224))).shape == (1, 1000)
    assert _counts(net) == (_PUBLISHED["vgg11"], 0)
    assert net.features[-4].weight.shape == (4096, 512 * 7 * 7)


def test_names_are_identical_across_instances():
    """MXNet's .params files store structural names, so two builds must agree exactly."""
    a, b = vision.resnet34_v2(), vision.resnet34_v2()
    assert list(a.collect_params()) == list(b.collect_params())
    assert [k for k in a.collect_params() if k.startswith("output.")] == ["output.weight",
                                                                          "output.bias"]


# -- forward passes -----------------------------------------------------------------------------

# one model per family with classes=10 on the smallest input the family takes
_FORWARD = [("alexnet", 63, {}), ("vgg11_bn", 32, {}), ("resnet18_v1", 32, {}),
            ("resnet50_v2", 32, {}), ("resnet18_v1", 8, {"thumbnail": True}),
            ("densenet121", 224, {"dropout": 0.1}), ("squeezenet1.1", 224, {}),
            ("inceptionv3", 299, {}), ("mobilenet0.25", 32, {}), ("mobilenetv2_0.25", 32, {})]


@pytest.mark.parametrize("name,size,kw", _FORWARD, ids=[f"{n}-{s}" for n, s, _ in _FORWARD])
def test_forward_with_ten_classes(name, size, kw):
    net = vision.get_model(name, classes=10, **kw)
    x = np.random.uniform(size=(1, 3, size, size))
    net.initialize()
    out = net(x)
    assert out.shape == (1, 10)
    assert numpy.isfinite(out.asnumpy()).all()
    if size <= 32:  # output(features(x)) is the whole network (the fine-tuning contract)
        numpy.testing.assert_allclose(net.output(net.features(x)).asnumpy(), out.asnumpy(),
                                      rtol=1e-5, atol=1e-6)


def test_hybridized_forward_and_backward_match_imperative():
    net = vision.resnet18_v2(classes=5)
    net.initialize()
    x = np.random.normal(size=(2, 3, 32, 32))
    ref = net(x).asnumpy()
    net.hybridize()
    with autograd.record(train_mode=False):  # BatchNorm on its running statistics, as ref
        out = net(x)
    out.backward()
    numpy.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5, atol=1e-5)
    assert net.output.weight.grad().shape == (5, 512)


def _relu(x):
    return numpy.maximum(x, 0)


@pytest.mark.parametrize("cls,downsample", [(vision.BasicBlockV1, True),
                                            (vision.BasicBlockV1, False),
                                            (vision.BottleneckV1, True),
                                            (vision.BasicBlockV2, True),
                                            (vision.BottleneckV2, True),
                                            (vision.BottleneckV2, False)])
def test_residual_block_wiring(cls, downsample):
    """Each block's output against the composition of its own layers, wired as the papers
    (and MXNet) do: v1 adds after the last BatchNorm then applies ReLU; v2 pre-activates and
    projects the *activated* input."""
    channels = 8
    stride = 2 if downsample else 1
    in_channels = 4 if downsample else channels
    block = cls(channels, stride, downsample, in_channels=in_channels)
    block.initialize(mx.init.Normal(0.5))
    x = np.random.normal(size=(2, in_channels, 6, 6))
    block(x)  # infers the deferred shapes
    for p in block.collect_params().values():  # non-trivial BatchNorm statistics
        if p.name.endswith(("running_mean", "beta")):
            p.set_data(np.random.normal(size=p.shape))
        elif p.name.endswith(("running_var", "gamma")):
            p.set_data(np.random.uniform(0.5, 2.0, size=p.shape))
    out = block(x).asnumpy()
    if cls in (vision.BasicBlockV1, vision.BottleneckV1):
        body = block.body(x).asnumpy()
        short = block.downsample(x).asnumpy() if downsample else x.asnumpy()
        want = _relu(body + short)
    else:
        pre = np.array(_relu(block.bn1(x).asnumpy()))
        short = block.downsample(pre).asnumpy() if downsample else x.asnumpy()
        h = block.conv1(pre)
        h = block.conv2(np.array(_relu(block.bn2(h).asnumpy())))
        if cls is vision.BottleneckV2:
            h = block.conv3(np.array(_relu(block.bn3(h).asnumpy())))
        want = h.asnumpy() + short
    assert out.shape == (2, channels, 6 // stride, 6 // stride)
    numpy.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-4)


def test_linear_bottleneck_shortcut_and_relu6():
    same = vision.LinearBottleneck(in_channels=4, channels=4, t=2, stride=1)
    same.initialize(mx.init.Normal(0.5))
    x = np.random.normal(size=(1, 4, 5, 5))
    numpy.testing.assert_allclose(same(x).asnumpy(), (same.out(x) + x).asnumpy(), rtol=1e-5,
                                  atol=1e-6)
    down = vision.LinearBottleneck(in_channels=4, channels=6, t=2, stride=2)
    down.initialize()
    assert not down.use_shortcut and down(x).shape == (1, 6, 3, 3)
    y = vision.RELU6()(np.array([-1.0, 0.5, 7.0]))
    numpy.testing.assert_array_equal(y.asnumpy(), [0.0, 0.5, 6.0])


# -- get_model and constructor arguments --------------------------------------------------------

def test_get_model_names_aliases_and_case():
    assert isinstance(vision.get_model("ResNet18_V1"), vision.ResNetV1)
    assert isinstance(vision.get_model("squeezenet1_0"), vision.SqueezeNet)
    assert isinstance(vision.get_model("inception_v3"), vision.Inception3)
    assert isinstance(vision.get_model("mobilenet_v2_0_5"), vision.MobileNetV2)
    assert isinstance(vision.get_model("mobilenet0_75"), vision.MobileNet)
    assert isinstance(gluon.model_zoo.get_model("vgg19"), vision.VGG)
    for name, fn in vision.MODELS.items():
        net = fn()
        assert isinstance(net, gluon.HybridBlock), name
        assert isinstance(net.features, gluon.HybridBlock) and isinstance(net.output,
                                                                          gluon.HybridBlock)


def test_get_model_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as info:
        vision.get_model("resnet19_v1")
    msg = str(info.value)
    assert "resnet19_v1" in msg and "resnet18_v1" in msg and "mobilenetv2_0.25" in msg
    with pytest.raises(TypeError, match="str"):
        vision.get_model(18)


def test_constructor_argument_errors():
    with pytest.raises(ValueError, match="layers"):
        vision.get_resnet(1, 20)
    with pytest.raises(ValueError, match="version"):
        vision.get_resnet(3, 18)
    with pytest.raises(ValueError, match="layers"):
        vision.get_vgg(12)
    with pytest.raises(ValueError, match="version"):
        vision.SqueezeNet("1.2")
    with pytest.raises(ValueError, match="options"):
        vision.get_densenet(100)
    with pytest.raises(ValueError, match="one more"):
        vision.ResNetV1(vision.BasicBlockV1, [2, 2], [64, 64])
    with pytest.raises(ValueError, match="multiplier"):
        vision.MobileNet(0)
    with pytest.raises(TypeError):
        vision.resnet18_v1(no_such_argument=1)


def test_family_arguments():
    thumb = vision.resnet18_v1(thumbnail=True, classes=10)
    assert len(thumb.features) == 6 and isinstance(thumb.features[0], nn.Conv2D)
    assert isinstance(vision.vgg11(batch_norm=True).features[1], nn.BatchNorm)
    assert vision.get_vgg(13, batch_norm=False).features[1].__class__ is nn.Activation
    wide = vision.get_mobilenet_v2(1.5)
    wide.initialize()
    wide(np.zeros((1, 3, 32, 32)))
    assert wide.features[-4].weight.shape == (1920, 480, 1, 1)  # 1280 * 1.5 above 1.0
    dense = vision.DenseNet(16, 8, [2, 2], bn_size=2, classes=3)
    dense.initialize()
    assert dense(np.zeros((1, 3, 224, 224))).shape == (1, 3)
    assert dense.features[4][0][1][2].weight.shape == (16, 16, 1, 1)  # bn_size * growth_rate


# -- fine-tuning (d2l 14.2 / 14.11 / 14.12) ----------------------------------------------------

def test_fine_tuning_reuses_features():
    pretrained_net = vision.resnet18_v2()
    pretrained_net.initialize()
    x = np.random.uniform(size=(2, 3, 32, 32))
    pretrained_net(x)
    finetune_net = vision.resnet18_v2(classes=2)
    finetune_net.features = pretrained_net.features
    finetune_net.output.initialize(mx.init.Xavier())
    finetune_net.output.collect_params().setattr("lr_mult", 10)
    out = finetune_net(x)
    assert out.shape == (2, 2)
    params = finetune_net.collect_params()
    assert params["features.1.weight"] is pretrained_net.collect_params()["features.1.weight"]
    assert params["output.weight"].shape == (2, 512) and params["output.weight"].lr_mult == 10
    numpy.testing.assert_allclose(
        out.asnumpy(), finetune_net.output(pretrained_net.features(x)).asnumpy(), rtol=1e-5,
        atol=1e-6)
    # a training step updates the shared features and the new head
    trainer = gluon.Trainer(finetune_net.collect_params(), "sgd", {"learning_rate": 1e-3})
    before = pretrained_net.features[1].weight.data().asnumpy().copy()
    with autograd.record():
        loss = gluon.loss.SoftmaxCrossEntropyLoss()(finetune_net(x), np.array([0, 1]))
    loss.backward()
    trainer.step(2)
    assert not numpy.allclose(pretrained_net.features[1].weight.data().asnumpy(), before)
    # FCN (d2l 14.11): all but the last two feature layers, in a new HybridSequential
    net = nn.HybridSequential()
    for layer in pretrained_net.features[:-2]:
        net.add(layer)
    assert net(x).shape == (2, 512, 1, 1)
    # style transfer (d2l 14.12): indexing single layers of vgg19's features
    vgg = vision.vgg19()
    assert isinstance(vgg.features[0], nn.Conv2D) and isinstance(vgg.features[4], nn.MaxPool2D)


# -- pretrained weights -------------------------------------------------------------------------

def _sha1(path) -> str:
    return hashlib.sha1(open(path, "rb").read()).hexdigest()


@pytest.fixture
def saved_mobilenet(tmp_path, monkeypatch):
    """A mobilenet0.25 saved with save_parameters and registered as the published file (the
    store's hash table is patched to its SHA-1): (net, file name, file bytes)."""
    monkeypatch.delenv("FRAMEWORK_OFFLINE", raising=False)
    monkeypatch.delenv("MXNET_OFFLINE", raising=False)
    net = vision.mobilenet0_25()
    net.initialize(mx.init.Normal(0.05))
    net(np.zeros((1, 3, 32, 32)))
    for name, p in net.collect_params().items():  # BatchNorm statistics that are not 0 and 1
        if name.endswith(("running_mean", "beta")):
            p.set_data(np.random.normal(0, 0.1, size=p.shape))
        elif name.endswith(("running_var", "gamma")):
            p.set_data(np.random.uniform(0.5, 1.5, size=p.shape))
    staging = tmp_path / "staging.params"
    net.save_parameters(str(staging))
    sha1 = _sha1(staging)
    monkeypatch.setitem(model_store._MODEL_SHA1, "mobilenet0.25", sha1)
    file_name = f"mobilenet0.25-{sha1[:8]}.params"
    return net, file_name, staging.read_bytes()


def test_pretrained_loads_from_root(saved_mobilenet, tmp_path):
    net, file_name, data = saved_mobilenet
    root = tmp_path / "models"
    root.mkdir()
    (root / file_name).write_bytes(data)
    assert model_store.get_model_file("mobilenet0.25", root=str(root)) == str(root / file_name)
    loaded = vision.get_model("mobilenet0.25", pretrained=True, root=str(root), ctx=mx.cpu())
    x = np.random.uniform(size=(1, 3, 32, 32))
    numpy.testing.assert_array_equal(loaded(x).asnumpy(), net(x).asnumpy())
    early = loaded.features[:6](x).asnumpy()
    assert numpy.abs(early).max() > 0.01
    numpy.testing.assert_array_equal(early, net.features[:6](x).asnumpy())
    for (k, a), (k2, b) in zip(loaded.collect_params().items(), net.collect_params().items()):
        assert k == k2
        numpy.testing.assert_array_equal(a.data().asnumpy(), b.data().asnumpy())
    # device= works as well as ctx=
    again = vision.mobilenet0_25(pretrained=True, root=str(root), device=mx.cpu(0))
    assert again.output.weight.data().device == mx.cpu(0)


def test_default_root_follows_the_environment_at_call_time(saved_mobilenet, tmp_path,
                                                          monkeypatch):
    _, file_name, data = saved_mobilenet
    for var in ("FRAMEWORK_HOME", "MXNET_HOME"):
        home = tmp_path / var
        (home / "models").mkdir(parents=True)
        (home / "models" / file_name).write_bytes(data)
    monkeypatch.delenv("FRAMEWORK_HOME", raising=False)
    monkeypatch.setenv("MXNET_HOME", str(tmp_path / "MXNET_HOME"))
    assert model_store.get_model_file("mobilenet0.25") == \
        str(tmp_path / "MXNET_HOME" / "models" / file_name)
    monkeypatch.setenv("FRAMEWORK_HOME", str(tmp_path / "FRAMEWORK_HOME"))
    assert model_store.get_model_file("mobilenet0.25") == \
        str(tmp_path / "FRAMEWORK_HOME" / "models" / file_name)
    assert model_store.data_dir() == str(tmp_path / "FRAMEWORK_HOME")
    model_store.purge()
    assert os.listdir(tmp_path / "FRAMEWORK_HOME" / "models") == []


def test_offline_missing_file_names_what_to_place_where(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMEWORK_OFFLINE", "1")
    root = tmp_path / "empty"
    with pytest.raises(model_store.ModelFileNotFoundError) as info:
        vision.resnet18_v1(pretrained=True, root=str(root))
    msg = str(info.value)
    assert "resnet18_v1-a0666292.params" in msg and str(root) in msg
    assert "gluon/models/resnet18_v1-a0666292.zip" in msg
    assert isinstance(info.value, FileNotFoundError)
    assert not root.exists()  # nothing was created or downloaded


def test_offline_file_with_wrong_checksum(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMEWORK_OFFLINE", "1")
    (tmp_path / "alexnet-44335d1f.params").write_bytes(b"not the published weights")
    with pytest.raises(model_store.ModelFileNotFoundError, match="SHA-1"):
        model_store.get_model_file("alexnet", root=str(tmp_path))


def test_unknown_pretrained_name():
    with pytest.raises(ValueError, match="not available"):
        model_store.get_model_file("resnet19_v1")
    assert model_store.short_hash("resnet18_v1") == "a0666292"


class _Repo(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    requests: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.requests.append(self.path)
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        body = body if body is not None else b"not found"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def repo():
    _Repo.files, _Repo.requests = {}, []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Repo)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", _Repo
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _zip_bytes(tmp_path, member: str, data: bytes) -> bytes:
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(member, data)
    return path.read_bytes()


@pytest.mark.parametrize("var", ["FRAMEWORK_GLUON_REPO", "MXNET_GLUON_REPO"])
def test_download_from_the_repository(saved_mobilenet, tmp_path, monkeypatch, repo, var):
    net, file_name, data = saved_mobilenet
    base, handler = repo
    stem = file_name[:-len(".params")]
    handler.files[f"/gluon/models/{stem}.zip"] = _zip_bytes(tmp_path, file_name, data)
    monkeypatch.delenv("FRAMEWORK_GLUON_REPO", raising=False)
    monkeypatch.setenv(var, base)  # no trailing slash: one is added
    root = tmp_path / "cache"
    loaded = vision.mobilenet0_25(pretrained=True, root=str(root))
    assert handler.requests == [f"/gluon/models/{stem}.zip"]
    assert sorted(os.listdir(root)) == [file_name]  # the zip and temporaries are gone
    x = np.random.uniform(size=(1, 3, 32, 32))
    numpy.testing.assert_array_equal(loaded(x).asnumpy(), net(x).asnumpy())
    # a second call finds the verified file and does not download again
    model_store.get_model_file("mobilenet0.25", root=str(root))
    assert len(handler.requests) == 1


def test_download_replaces_a_corrupt_file_and_checks_the_result(saved_mobilenet, tmp_path,
                                                               monkeypatch, repo):
    _, file_name, data = saved_mobilenet
    base, handler = repo
    stem = file_name[:-len(".params")]
    monkeypatch.setenv("FRAMEWORK_GLUON_REPO", base + "/")
    root = tmp_path / "cache"
    root.mkdir()
    (root / file_name).write_bytes(b"truncated")
    handler.files[f"/gluon/models/{stem}.zip"] = _zip_bytes(tmp_path, file_name, data)
    assert open(model_store.get_model_file("mobilenet0.25", root=str(root)), "rb").read() == data
    # the repository serves something else: the checksum check refuses it
    (root / file_name).write_bytes(b"truncated")
    handler.files[f"/gluon/models/{stem}.zip"] = _zip_bytes(tmp_path, file_name, b"other")
    with pytest.raises(ValueError, match="SHA-1"):
        model_store.get_model_file("mobilenet0.25", root=str(root))


def test_repository_without_the_file(tmp_path, monkeypatch, repo):
    base, _ = repo
    monkeypatch.delenv("FRAMEWORK_OFFLINE", raising=False)
    monkeypatch.setenv("FRAMEWORK_GLUON_REPO", base)
    with pytest.raises(model_store.ModelFileNotFoundError) as info:
        model_store.get_model_file("squeezenet1.1", root=str(tmp_path))
    msg = str(info.value)
    assert "404" in msg and "squeezenet1.1-33ba0f93.params" in msg and str(tmp_path) in msg
    assert os.listdir(tmp_path) == []


def test_default_root_uses_a_file_mxnet_already_cached(tmp_path, monkeypatch):
    name = "mobilenet0.25"
    file_name = f"{name}-{model_store.short_hash(name)}.params"
    cache = tmp_path / "mxnet_models"
    cache.mkdir()
    (cache / file_name).write_bytes(b"x")  # wrong SHA-1: must not be used
    monkeypatch.setattr(model_store, "MXNET_CACHE", str(cache))
    monkeypatch.setenv("FRAMEWORK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FRAMEWORK_OFFLINE", "1")
    with pytest.raises(model_store.ModelFileNotFoundError):
        model_store.get_model_file(name)
    monkeypatch.setattr(model_store, "check_sha1", lambda path, sha1: True)
    assert model_store.get_model_file(name) == str(cache / file_name)
    # an explicit root never looks elsewhere
    with pytest.raises(model_store.ModelFileNotFoundError):
        model_store.get_model_file(name, root=str(tmp_path / "other"))
