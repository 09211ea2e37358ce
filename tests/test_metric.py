"""gluon.metric / mx.metric: each metric against hand-computed values and MXNet's doc examples."""

from __future__ import annotations

import math

import numpy
import pytest

import framework as mx
from framework import np
from framework.gluon import metric

PRED3 = [[0.3, 0.7], [0.0, 1.0], [0.4, 0.6]]
LABEL3 = [0, 1, 1]


def _ex():
    return [np.array(LABEL3)], [np.array(PRED3)]


def test_both_import_paths_share_the_classes():
    assert mx.metric.Accuracy is mx.gluon.metric.Accuracy
    assert mx.metric.create is metric.create


def test_nothing_seen_is_nan_and_reset():
    acc = metric.Accuracy()
    name, value = acc.get()
    assert name == "accuracy" and math.isnan(value)
    acc.update(*_ex())
    acc.reset()
    assert math.isnan(acc.get()[1])


# -- classification -----------------------------------------------------------------------------
def test_accuracy_doc_example():
    acc = metric.Accuracy()
    labels, preds = _ex()
    acc.update(preds=preds, labels=labels)
    assert acc.get() == ("accuracy", pytest.approx(2 / 3))
    assert isinstance(acc.get()[1], float)


def test_accuracy_inputs_single_arrays_numpy_and_class_indices():
    acc = metric.Accuracy()
    acc.update(numpy.array(LABEL3), numpy.array(PRED3))  # single NumPy arrays
    acc.update([np.array([1, 0])], [np.array([1, 1])])  # predicted class indices
    assert acc.get()[1] == pytest.approx(3 / 5)
    assert acc.num_inst == 5 and acc.sum_metric == 3


def test_accuracy_axis():
    acc = metric.Accuracy(axis=0)
    acc.update([np.array([1, 0])], [np.array([[0.1, 0.9], [0.8, 0.2]])])  # argmax over axis 0
    assert acc.get()[1] == 1.0


def test_accuracy_length_and_shape_errors():
    acc = metric.Accuracy()
    with pytest.raises(ValueError, match="does not match"):
        acc.update([np.array([0, 1])], [np.array([0, 1]), np.array([1, 1])])
    with pytest.raises(ValueError, match="does not match"):
        acc.update([np.array([0, 1, 1])], [np.array([[0.2, 0.8], [0.5, 0.5]])])


def test_top_k_accuracy():
    preds = np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1], [0.3, 0.4, 0.1, 0.2]])
    labels = np.array([2, 3, 0])
    top2 = metric.TopKAccuracy(top_k=2)
    top2.update([labels], [preds])
    # sample 0: top2 {3, 2} has 2; sample 1: {0, 1} lacks 3; sample 2: {1, 0} has 0
    assert top2.get() == ("top_k_accuracy_2", pytest.approx(2 / 3))
    top1 = metric.create("top_k_acc", top_k=1)
    top1.update([labels], [preds])
    assert top1.get()[1] == 0.0
    top9 = metric.TopKAccuracy(top_k=9)
    top9.update([labels], [preds])
    assert top9.get()[1] == 1.0


def test_top_k_accuracy_doc_example():
    rng = numpy.random.RandomState(999)
    top3 = metric.TopKAccuracy(top_k=3)
    top3.update([np.array([2, 6, 9, 2, 3, 4, 7, 8, 9, 6])], [np.array(rng.rand(10, 10))])
    assert top3.get() == ("top_k_accuracy_3", pytest.approx(0.3))


def test_f1_doc_example_and_counts():
    f1 = metric.F1()
    f1.update(*_ex())
    assert f1.get() == ("f1", pytest.approx(0.8))
    # a second batch: TP 1, FN 1 (pred 0.2 for a positive), TN 1 -> totals TP 3 FP 1 FN 1
    f1.update([np.array([1, 1, 0])], [np.array([0.9, 0.2, 0.1])])
    assert f1.get()[1] == pytest.approx(2 * 0.75 * 0.75 / 1.5)


def test_f1_multiclass_macro_and_micro():
    labels = [np.array([0, 1, 2, 2])]
    preds = [np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.0, 0.1, 0.9]])]
    macro = metric.F1(class_type="multiclass", average="macro")
    macro.update(labels, preds)
    # class 0: F1 1; class 1: P 1/2 R 1 -> 2/3; class 2: P 1 R 1/2 -> 2/3
    assert macro.get()[1] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    micro = metric.F1(class_type="multiclass", average="micro")
    micro.update(labels, preds)
    assert micro.get()[1] == pytest.approx(3 / 4)  # micro F1 = accuracy for single-label


def test_fbeta_doc_example():
    fbeta = metric.Fbeta(beta=2)
    fbeta.update(*_ex())
    assert fbeta.get() == ("fbeta", pytest.approx(0.9090909090909091))


def test_binary_accuracy_doc_example():
    bacc = metric.BinaryAccuracy(threshold=0.6)
    bacc.update(preds=[np.array([0.7, 1, 0.55])], labels=[np.array([0.0, 1.0, 0.0])])
    assert bacc.get() == ("binary_accuracy", pytest.approx(2 / 3))


def _mcc_example():
    fp, fn, tp, tn = 1000, 1, 10000, 1
    preds = [np.array([[0.3, 0.7]] * fp + [[0.7, 0.3]] * tn + [[0.7, 0.3]] * fn
                      + [[0.3, 0.7]] * tp)]
    labels = [np.array([0.0] * (fp + tn) + [1.0] * (fn + tp))]
    return labels, preds


def test_mcc_pcc_f1_doc_example():
    labels, preds = _mcc_example()
    results = {}
    for name in ("f1", "mcc", "pcc"):
        m = metric.create(name)
        m.update(labels=labels, preds=preds)
        results[name] = m.get()[1]
    assert results["f1"] == pytest.approx(0.95233560306652054)
    assert results["mcc"] == pytest.approx(0.01917751877733392)
    assert results["pcc"] == pytest.approx(0.01917751877733392)


def test_mcc_hand_computed():
    mcc = metric.MCC()
    mcc.update([np.array([1, 1, 0, 0, 1])], [np.array([0.9, 0.2, 0.1, 0.8, 0.7])])
    tp, fn, tn, fp = 2, 1, 1, 1
    expected = (tp * tn - fp * fn) / math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    assert mcc.get()[1] == pytest.approx(expected)


def test_pcc_multiclass_matches_formula():
    labels = numpy.array([0, 1, 2, 2, 1, 0, 2])
    preds = numpy.array([0, 2, 2, 1, 1, 0, 2])
    pcc = metric.PCC()
    pcc.update([np.array(labels)], [np.array(preds)])
    k = 3
    c = numpy.zeros((k, k))
    for p, t in zip(preds, labels):
        c[p, t] += 1
    n = c.sum()
    x, y = c.sum(1), c.sum(0)
    expected = (numpy.trace(c) * n - x @ y) / math.sqrt((n * n - x @ x) * (n * n - y @ y))
    assert pcc.get()[1] == pytest.approx(expected)


# -- regression ---------------------------------------------------------------------------------
REG_PRED = [3, -0.5, 2, 7]
REG_LABEL = [2.5, 0.0, 2, 8]


@pytest.mark.parametrize("name, expected", [
    ("mae", 0.5), ("mse", 0.375), ("rmse", 0.612372457981),
])
def test_regression_doc_examples(name, expected):
    m = metric.create(name)
    m.update(labels=[np.array(REG_LABEL)], preds=[np.array(REG_PRED)])
    assert m.get() == (name, pytest.approx(expected))


def test_regression_column_vs_vector_does_not_broadcast():
    mse = metric.MSE()
    mse.update([np.array(REG_LABEL)], [np.array(REG_PRED).reshape(4, 1)])
    assert mse.get()[1] == pytest.approx(0.375)
    assert mse.num_inst == 4


def test_mae_averages_per_instance_then_over_instances():
    mae = metric.MAE()
    mae.update([np.array([[0.0, 0.0], [1.0, 1.0]])], [np.array([[1.0, 3.0], [1.0, 1.0]])])
    mae.update([np.array([0.0])], [np.array([4.0])])
    # instances: mean(1, 3) = 2, 0, then 4 -> (2 + 0 + 4) / 3
    assert mae.get()[1] == pytest.approx(2.0)


def test_rmse_is_global():
    rmse = metric.RMSE()
    rmse.update([np.array([0.0, 0.0])], [np.array([1.0, 1.0])])
    rmse.update([np.array([0.0])], [np.array([4.0])])
    assert rmse.get()[1] == pytest.approx(math.sqrt((1 + 1 + 16) / 3))


def test_mean_pairwise_distance_doc_example():
    mpd = metric.MeanPairwiseDistance()
    mpd.update(labels=[np.array([[1.0, 0.0], [4.0, 2.0]])],
               preds=[np.array([[1.0, 2.0], [3.0, 4.0]])])
    assert mpd.get() == ("mpd", pytest.approx(2.1180338859558105))
    l1 = metric.MeanPairwiseDistance(p=1)
    l1.update([np.array([[1.0, 0.0]])], [np.array([[0.0, 2.0]])])
    assert l1.get()[1] == pytest.approx(3.0)


def test_mean_cosine_similarity_doc_example():
    mcs = metric.MeanCosineSimilarity()
    mcs.update(labels=[np.array([[3.0, 4.0], [2.0, 2.0]])],
               preds=[np.array([[1.0, 0.0], [1.0, 1.0]])])
    assert mcs.get() == ("cos_sim", pytest.approx(0.8))


def test_pearson_doc_example_and_streaming():
    pr = metric.create("pearsonr")
    pr.update([np.array([[1, 0], [0, 1], [0, 1]])], [np.array(PRED3)])
    assert pr.get() == ("pearsonr", pytest.approx(0.42163704544016178))
    rng = numpy.random.RandomState(0)
    a, b = rng.rand(50), rng.rand(50)
    streamed = metric.PearsonCorrelation()
    for i in range(0, 50, 7):  # uneven batches
        streamed.update([np.array(a[i:i + 7])], [np.array(b[i:i + 7])])
    assert streamed.get()[1] == pytest.approx(numpy.corrcoef(a, b)[0, 1])


# -- probabilities ------------------------------------------------------------------------------
def test_cross_entropy_doc_example():
    ce = metric.create("ce")
    ce.update(*_ex())
    expected = -(math.log(0.3) + math.log(1.0) + math.log(0.6)) / 3
    assert ce.get() == ("cross-entropy", pytest.approx(expected))
    assert expected == pytest.approx(0.57159948348999023)


def test_cross_entropy_eps_ignore_label_logits_and_axis():
    ce = metric.CrossEntropy(eps=1e-3)
    ce.update([np.array([0])], [np.array([[0.0, 1.0]])])
    assert ce.get()[1] == pytest.approx(-math.log(1e-3))
    ign = metric.CrossEntropy(ignore_label=-1)
    ign.update([np.array([0, -1])], [np.array([[0.5, 0.5], [0.9, 0.1]])])
    assert ign.get()[1] == pytest.approx(math.log(2)) and ign.num_inst == 1
    logits = metric.CrossEntropy(from_logits=True)
    logits.update([np.array([1])], [np.array([[0.0, 0.0]])])
    assert logits.get()[1] == pytest.approx(math.log(2))
    axis0 = metric.CrossEntropy(axis=0)
    axis0.update([np.array([1, 0])], [np.array([[0.3, 0.6], [0.7, 0.4]])])
    assert axis0.get()[1] == pytest.approx(-(math.log(0.7) + math.log(0.6)) / 2)


def test_perplexity_doc_example():
    perp = metric.Perplexity(ignore_label=None)
    perp.update(*_ex())
    assert perp.get() == ("perplexity", pytest.approx(1.7710976285155853))
    seq = metric.Perplexity(None)  # 1.x argument order; (batch, time, vocab) predictions
    probs = numpy.full((2, 3, 4), 0.25)
    seq.update([np.array(numpy.zeros((2, 3)))], [np.array(probs)])
    assert seq.get()[1] == pytest.approx(4.0)


def test_perplexity_ignore_label():
    perp = metric.Perplexity(ignore_label=0)
    perp.update([np.array([0, 1])], [np.array([[0.9, 0.1], [0.5, 0.5]])])
    assert perp.get()[1] == pytest.approx(2.0)


def test_negative_log_likelihood():
    nll = metric.create("nll_loss")
    nll.update(*_ex())
    assert nll.get() == ("nll-loss", pytest.approx(
        -(math.log(0.3 + 1e-12) + math.log(1 + 1e-12) + math.log(0.6 + 1e-12)) / 3))


def test_loss_metric():
    loss = metric.Loss()
    loss.update(None, np.array([1.0, 2.0, 3.0]))
    loss.update(None, [np.array([[4.0]])])
    assert loss.get() == ("loss", pytest.approx(2.5))


# -- custom metrics and composition -------------------------------------------------------------
def test_custom_metric_doc_example():
    custom = metric.CustomMetric(feval=lambda x, y: (x + y).mean())
    custom.update([np.array(numpy.array(REG_LABEL).reshape(4, 1))],
                  [np.array(numpy.array(REG_PRED).reshape(4, 1))])
    assert custom.get() == ("custom(<lambda>)", pytest.approx(6.0))
    with pytest.raises(NotImplementedError):
        custom.get_config()


def test_custom_metric_tuple_result_and_numpy_inputs():
    seen = []

    def frac_positive(label, pred):
        seen.append((type(label), type(pred)))
        return float((pred > 0).sum()), pred.size

    m = metric.np(frac_positive)
    m.update([np.array([0, 0, 0])], [np.array([1.0, -1.0, 2.0])])
    assert m.get() == ("frac_positive", pytest.approx(2 / 3))
    assert seen == [(numpy.ndarray, numpy.ndarray)]
    created = metric.create(frac_positive, name="fp")
    assert isinstance(created, metric.CustomMetric) and created.name == "fp"


def test_custom_metric_extra_outputs():
    m = metric.CustomMetric(lambda label, pred: float(pred.sum()), allow_extra_outputs=True)
    m.update([np.array([1.0])], [np.array([2.0]), np.array([100.0])])
    assert m.get()[1] == 2.0
    strict = metric.CustomMetric(lambda label, pred: 0.0)
    with pytest.raises(ValueError):
        strict.update([np.array([1.0])], [np.array([2.0]), np.array([3.0])])


def test_composite_doc_example_and_children():
    comp = metric.CompositeEvalMetric()
    for child in [metric.Accuracy(), metric.F1()]:
        comp.add(child)
    labels, preds = _ex()
    comp.update(labels=labels, preds=preds)
    names, values = comp.get()
    assert names == ["accuracy", "f1"]
    assert values == [pytest.approx(2 / 3), pytest.approx(0.8)]
    assert comp.get_name_value() == list(zip(names, values))
    assert isinstance(comp.get_metric(1), metric.F1)
    with pytest.raises(ValueError, match="out of range"):
        comp.get_metric(5)


def test_create_variants_and_registry_aliases():
    assert isinstance(metric.create("acc"), metric.Accuracy)
    assert isinstance(metric.create("composite"), metric.CompositeEvalMetric)
    assert isinstance(metric.create("top_k_accuracy", top_k=2), metric.TopKAccuracy)
    assert isinstance(metric.create("CE"), metric.CrossEntropy)
    acc = metric.Accuracy()
    assert metric.create(acc) is acc
    comp = metric.create(["acc", "mse", lambda label, pred: 0.0])
    assert [type(m) for m in comp.metrics] == [metric.Accuracy, metric.MSE, metric.CustomMetric]
    with pytest.raises(ValueError, match="unknown metric"):
        metric.create("nope")


def test_get_config_round_trip():
    for m in [metric.Accuracy(axis=2), metric.TopKAccuracy(top_k=3), metric.F1(average="macro"),
              metric.CrossEntropy(eps=1e-5), metric.Perplexity(ignore_label=0), metric.MAE(),
              metric.Fbeta(beta=2),
              metric.CompositeEvalMetric([metric.MSE(), metric.Accuracy()])]:
        config = m.get_config()
        back = metric.create(**config)
        assert type(back) is type(m)
        assert back.get_config() == config
        assert back.name == m.name


def test_register_custom_subclass():
    @metric.register
    @metric.alias("always_one")
    class AlwaysOne(metric.EvalMetric):
        def __init__(self, name="one"):
            super().__init__(name)

        def update(self, labels, preds):
            self.sum_metric += 1.0
            self.num_inst += 1

    try:
        m = metric.create("always_one")
        m.update(None, None)
        assert m.get() == ("one", 1.0)
        assert m.get_global() == ("one", 1.0)  # a user subclass without global stats
    finally:
        metric._REGISTRY.pop("alwaysone", None)
        metric._REGISTRY.pop("always_one", None)


# -- local versus global statistics -------------------------------------------------------------
@pytest.mark.parametrize("name", ["acc", "mse", "rmse", "f1", "mcc", "pcc", "pearsonr", "ce"])
def test_reset_local_keeps_global(name):
    m = metric.create(name)
    first = ([np.array([0, 1, 1, 0])], [np.array([[0.6, 0.4], [0.3, 0.7], [0.8, 0.2],
                                                  [0.1, 0.9]])])
    second = ([np.array([1, 0, 1, 0])], [np.array([[0.2, 0.8], [0.9, 0.1], [0.4, 0.6],
                                                   [0.7, 0.3]])])
    if name in ("mse", "rmse", "pearsonr"):
        first = (first[0], [p[:, 1] for p in first[1]])
        second = (second[0], [p[:, 1] for p in second[1]])
    both = metric.create(name)
    both.update(*first)
    both.update(*second)
    only_second = metric.create(name)
    only_second.update(*second)

    m.update(*first)
    m.reset_local()
    assert math.isnan(m.get()[1])
    m.update(*second)
    assert m.get()[1] == pytest.approx(only_second.get()[1], nan_ok=True)
    assert m.get_global()[1] == pytest.approx(both.get()[1], nan_ok=True)
    assert m.get_global_name_value() == [m.get_global()]
    m.reset()
    assert math.isnan(m.get_global()[1])


def test_update_dict_selects_names():
    acc = metric.Accuracy(output_names=["out"], label_names=["lab"])
    acc.update_dict({"lab": np.array([1, 0]), "other": np.array([0, 0])},
                    {"out": np.array([1, 0]), "junk": np.array([1, 1])})
    assert acc.get()[1] == 1.0


def test_str():
    acc = metric.Accuracy()
    acc.update(*_ex())
    assert str(acc) == f"EvalMetric: {{'accuracy': {2 / 3}}}"
