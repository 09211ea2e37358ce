"""Online evaluation metrics (MXNet 2.0's ``gluon.metric``; also ``framework.metric``, 1.x's
``mx.metric``).

A metric accumulates ``sum_metric`` and ``num_inst`` over ``update(labels, preds)`` calls and
reports ``sum_metric / num_inst`` from ``get()`` (``nan`` before any update). ``labels`` and
``preds`` are lists of arrays or single arrays (framework arrays, NumPy arrays or nested lists).
The formulas follow MXNet 2.0: regression metrics average per instance (the first axis), F1/MCC
/PCC/Pearson keep global statistics over everything seen; 1.x's ``reset_local``/``get_global``
are kept: ``get()`` covers the updates since the last ``reset_local()``, ``get_global()`` those
since the last ``reset()``.

Metrics compute on the host with NumPy, so ``update`` waits for (synchronises with) its inputs.

>>> from framework import np
>>> from framework.gluon import metric
>>> acc = metric.Accuracy()
>>> acc.update(labels=[np.array([0, 1, 1])],
...            preds=[np.array([[0.3, 0.7], [0, 1.], [0.4, 0.6]])])
>>> acc.get()
('accuracy', 0.6666666666666666)
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy

__all__ = [
    "EvalMetric", "CompositeEvalMetric", "Accuracy", "TopKAccuracy", "F1", "Fbeta",
    "BinaryAccuracy", "MCC", "MAE", "MSE", "RMSE", "MeanPairwiseDistance",
    "MeanCosineSimilarity", "CrossEntropy", "Perplexity", "NegativeLogLikelihood",
    "PearsonCorrelation", "PCC", "Loss", "Torch", "Caffe", "CustomMetric", "np", "create",
    "register", "alias", "check_label_shapes", "predict_with_threshold",
]

_REGISTRY: dict[str, type[EvalMetric]] = {}


# -- helpers ------------------------------------------------------------------------------------
def _host(x: Any) -> numpy.ndarray:
    """The values of ``x`` as a NumPy array (waits for a framework array's data)."""
    if isinstance(x, numpy.ndarray):
        return x
    asnumpy = getattr(x, "asnumpy", None)
    if asnumpy is not None:
        return asnumpy()
    return numpy.asarray(x)


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _scalar(x: Any) -> Any:
    """Python numbers out of NumPy scalars and 0-d arrays; other arrays unchanged."""
    if isinstance(x, (numpy.generic, numpy.ndarray)) and numpy.ndim(x) == 0:
        return numpy.asarray(x).item()
    if hasattr(x, "asnumpy") and getattr(x, "ndim", 1) == 0:
        return x.item()
    return x


def _shape_error(label_shape: Any, pred_shape: Any) -> ValueError:
    return ValueError(f"Shape of labels {label_shape} does not match shape of predictions "
                      f"{pred_shape}")


def check_label_shapes(labels: Any, preds: Any, wrap: bool = False,
                       shape: bool = False) -> tuple[Any, Any]:
    """Check that ``labels`` and ``preds`` have the same length (or, with ``shape=True``, the
    same shape); with ``wrap=True`` return single arrays wrapped in lists."""
    if wrap:
        labels, preds = _as_list(labels), _as_list(preds)
    if shape:
        label_shape, pred_shape = numpy.shape(labels), numpy.shape(preds)
    else:
        label_shape, pred_shape = len(labels), len(preds)
    if label_shape != pred_shape:
        raise _shape_error(label_shape, pred_shape)
    return labels, preds


def predict_with_threshold(pred: Any, threshold: Any = 0.5) -> numpy.ndarray:
    """``pred > threshold``; ``threshold`` is a float or one value per category (last axis)."""
    pred = _host(pred)
    if isinstance(threshold, (int, float)):
        return pred > threshold
    thr = _host(threshold)
    if thr.shape[-1:] != pred.shape[-1:]:
        raise ValueError(f"predict_with_threshold: threshold of shape {thr.shape} does not "
                         f"match the {pred.shape[-1]} categories of the prediction")
    return pred > thr


# -- base class and registry --------------------------------------------------------------------
class EvalMetric:
    """Base class of the metrics: subclasses implement ``update(labels, preds)`` and add to
    ``sum_metric``/``num_inst`` (through ``_accumulate``, which also feeds the global stats).

    ``output_names``/``label_names`` select the entries ``update_dict`` uses.
    """

    # built-in metrics keep global stats; a user subclass that only touches sum_metric/num_inst
    # gets get_global() == get()
    _has_global_stats = False

    def __init__(self, name: str, output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None, **kwargs: Any) -> None:
        self.name = str(name)
        self.output_names = output_names
        self.label_names = label_names
        self._kwargs = kwargs
        self.reset()

    def __str__(self) -> str:
        return f"EvalMetric: {dict(self.get_name_value())}"

    def get_config(self) -> dict[str, Any]:
        """The arguments that recreate this metric with ``create(**config)``."""
        config = dict(self._kwargs)
        config.update({"metric": self.__class__.__name__, "name": self.name,
                       "output_names": self.output_names, "label_names": self.label_names})
        return config

    def update_dict(self, label: dict[str, Any], pred: dict[str, Any]) -> None:
        """``update`` with the entries of name -> array dicts picked by ``label_names`` and
        ``output_names`` (all of them by default)."""
        preds = ([pred[n] for n in self.output_names] if self.output_names is not None
                 else list(pred.values()))
        labels = ([label[n] for n in self.label_names] if self.label_names is not None
                  else list(label.values()))
        self.update(labels, preds)

    def update(self, labels: Any, preds: Any) -> None:
        """Add a batch of ``labels`` and ``preds`` (lists of arrays, or single arrays)."""
        raise NotImplementedError(f"{self.__class__.__name__} does not implement update()")

    def reset(self) -> None:
        """Forget everything (local and global statistics)."""
        self.num_inst: Any = 0
        self.sum_metric: Any = 0.0
        self.global_num_inst: Any = 0
        self.global_sum_metric: Any = 0.0

    def reset_local(self) -> None:
        """Forget the local statistics (what ``get()`` reports); keep the global ones."""
        self.num_inst = 0
        self.sum_metric = 0.0

    def _accumulate(self, sum_metric: Any, num_inst: Any) -> None:
        self.sum_metric += sum_metric
        self.num_inst += num_inst
        self.global_sum_metric += sum_metric
        self.global_num_inst += num_inst

    def _finish(self, sum_metric: Any, num_inst: Any) -> Any:
        """The reported value from the accumulated sums (subclasses: sqrt, exp...)."""
        return _scalar(sum_metric / num_inst)

    def _value(self, which: str) -> Any:
        if which == "global":
            s, n = self.global_sum_metric, self.global_num_inst
        else:
            s, n = self.sum_metric, self.num_inst
        if n == 0:
            return float("nan")
        return self._finish(s, n)

    def get(self) -> tuple[Any, Any]:
        """``(name, value)`` over the updates since the last ``reset``/``reset_local``."""
        return self.name, self._value("local")

    def get_global(self) -> tuple[Any, Any]:
        """``(name, value)`` over the updates since the last ``reset``."""
        if not self._has_global_stats:
            return self.get()
        return self.name, self._value("global")

    @staticmethod
    def _zip(name: Any, value: Any) -> list[tuple[Any, Any]]:
        names = name if isinstance(name, list) else [name]
        values = value if isinstance(value, list) else [value]
        return list(zip(names, values))

    def get_name_value(self) -> list[tuple[Any, Any]]:
        """``get()`` as a list of ``(name, value)`` pairs."""
        return self._zip(*self.get())

    def get_global_name_value(self) -> list[tuple[Any, Any]]:
        """``get_global()`` as a list of ``(name, value)`` pairs."""
        return self._zip(*self.get_global())


def register(klass: type[EvalMetric]) -> type[EvalMetric]:
    """Class decorator: make ``klass`` creatable by its lower-cased class name."""
    if not (isinstance(klass, type) and issubclass(klass, EvalMetric)):
        raise TypeError(f"register: {klass!r} is not an EvalMetric subclass")
    _REGISTRY[klass.__name__.lower()] = klass
    return klass


def alias(*names: str) -> Callable[[type[EvalMetric]], type[EvalMetric]]:
    """Class decorator: also register the class under ``names`` (e.g. ``'acc'``)."""
    def deco(klass: type[EvalMetric]) -> type[EvalMetric]:
        for name in names:
            _REGISTRY[name.lower()] = klass
        return klass
    return deco


def create(metric: Any, *args: Any, **kwargs: Any) -> EvalMetric:
    """A metric from a registered name (``'acc'``, ``'ce'``...), an instance (returned as is),
    a subclass, a ``get_config()`` dict, a list (a :class:`CompositeEvalMetric` of each) or a
    function ``feval(label, pred)`` (a :class:`CustomMetric`).

    >>> create(['acc', 'rmse']).get()
    (['accuracy', 'rmse'], [nan, nan])
    """
    if isinstance(metric, EvalMetric):
        if args or kwargs:
            raise TypeError(f"create: extra arguments given with the instance {metric}")
        return metric
    if isinstance(metric, type) and issubclass(metric, EvalMetric):
        return metric(*args, **kwargs)
    if isinstance(metric, dict):
        return create(**{**metric, **kwargs})
    if isinstance(metric, (list, tuple)):
        composite = CompositeEvalMetric()
        for child in metric:
            composite.add(create(child, *args, **kwargs))
        return composite
    if isinstance(metric, str):
        text = metric.strip()
        if text.startswith("["):
            name, params = json.loads(text)
            return create(name, *args, **{**params, **kwargs})
        klass = _REGISTRY.get(text.lower())
        if klass is None:
            raise ValueError(f"create: unknown metric {metric!r}; registered: "
                             f"{', '.join(sorted(_REGISTRY))}")
        return klass(*args, **kwargs)
    if callable(metric):
        return CustomMetric(metric, *args, **kwargs)
    raise TypeError(f"create: cannot make a metric from {type(metric).__name__}")


@register
@alias("composite")
class CompositeEvalMetric(EvalMetric):
    """Several metrics updated together; ``get()`` returns ``(names, values)`` lists.

    >>> m = CompositeEvalMetric([Accuracy(), F1()])
    """

    def __init__(self, metrics: Sequence[Any] | None = None, name: str = "composite",
                 output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        self.metrics: list[EvalMetric] = []
        super().__init__(name, output_names=output_names, label_names=label_names)
        self.metrics = [create(m) for m in (metrics or [])]

    def add(self, metric: Any) -> None:
        """Add a child metric (anything ``create`` takes)."""
        self.metrics.append(create(metric))

    def get_metric(self, index: int) -> EvalMetric:
        """The child metric at ``index``."""
        try:
            return self.metrics[index]
        except IndexError:
            raise ValueError(f"Metric index {index} is out of range 0 and "
                             f"{len(self.metrics)}") from None

    def update_dict(self, labels: dict[str, Any], preds: dict[str, Any]) -> None:
        if self.label_names is not None:
            labels = OrderedDict(i for i in labels.items() if i[0] in self.label_names)
        if self.output_names is not None:
            preds = OrderedDict(i for i in preds.items() if i[0] in self.output_names)
        for metric in self.metrics:
            metric.update_dict(labels, preds)

    def update(self, labels: Any, preds: Any) -> None:
        for metric in self.metrics:
            metric.update(labels, preds)

    def reset(self) -> None:
        super().reset()
        for metric in self.metrics:
            metric.reset()

    def reset_local(self) -> None:
        super().reset_local()
        for metric in self.metrics:
            metric.reset_local()

    def _collect(self, results: list[tuple[Any, Any]]) -> tuple[list[Any], list[Any]]:
        names: list[Any] = []
        values: list[Any] = []
        for name, value in results:
            names.extend(name if isinstance(name, list) else [name])
            values.extend(value if isinstance(value, list) else [value])
        return names, values

    def get(self) -> tuple[list[Any], list[Any]]:  # type: ignore[override]
        return self._collect([m.get() for m in self.metrics])

    def get_global(self) -> tuple[list[Any], list[Any]]:  # type: ignore[override]
        return self._collect([m.get_global() for m in self.metrics])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["metrics"] = [m.get_config() for m in self.metrics]
        return config


# -- classification -----------------------------------------------------------------------------
class _BuiltinMetric(EvalMetric):
    _has_global_stats = True


@register
@alias("acc")
class Accuracy(_BuiltinMetric):
    """Fraction of correct predictions. A prediction whose shape differs from the label's is a
    score per class along ``axis`` and is reduced by argmax; values are compared as int32."""

    def __init__(self, axis: int = 1, name: str = "accuracy",
                 output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        super().__init__(name, axis=axis, output_names=output_names, label_names=label_names)
        self.axis = axis

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _host(label), _host(pred)
            if pred.shape != label.shape:
                pred = pred.argmax(axis=self.axis)
            pred = pred.astype(numpy.int32).reshape(-1)
            label = label.astype(numpy.int32).reshape(-1)
            check_label_shapes(label, pred, shape=True)
            self._accumulate(float((pred == label).sum()), len(pred))


@register
@alias("top_k_accuracy", "top_k_acc")
class TopKAccuracy(_BuiltinMetric):
    """Fraction of samples whose label is among the ``top_k`` highest-scored classes
    (``preds`` of shape ``(batch, classes)``). Named ``top_k_accuracy_<k>``. Unlike MXNet,
    ``top_k=1`` is allowed (it equals :class:`Accuracy`)."""

    def __init__(self, top_k: int = 1, name: str = "top_k_accuracy",
                 output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        if int(top_k) < 1:
            raise ValueError(f"TopKAccuracy: top_k must be at least 1, got {top_k}")
        super().__init__(name, top_k=top_k, output_names=output_names, label_names=label_names)
        self._base_name = name
        self.top_k = int(top_k)
        self.name += f"_{self.top_k}"

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["name"] = self._base_name
        return config

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label = _host(label).astype(numpy.int64).reshape(-1)
            pred = _host(pred)
            if pred.ndim > 2:
                raise ValueError(f"TopKAccuracy: predictions must have at most 2 dimensions, "
                                 f"got shape {pred.shape}")
            if pred.shape[0] != label.shape[0]:
                raise _shape_error(label.shape, pred.shape)
            if pred.ndim == 1:  # already class indices
                correct = (pred.astype(numpy.int64) == label).sum()
            else:
                k = min(pred.shape[1], self.top_k)
                top = numpy.argpartition(pred.astype(numpy.float32), -k, axis=1)[:, -k:]
                correct = (top == label[:, None]).any(axis=1).sum()
            self._accumulate(float(correct), pred.shape[0])


class _ClassificationStats:
    """True/false positive/negative counts per class, the sufficient statistics of F1, Fbeta
    and MCC (MXNet 2.0's ``_ClassificationMetrics``)."""

    def __init__(self, class_type: str = "binary", threshold: Any = 0.5,
                 beta: float = 1) -> None:
        if class_type not in ("binary", "multiclass", "multilabel"):
            raise ValueError(f"Wrong class_type {class_type!r}! Only supports 'binary', "
                             "'multiclass' and 'multilabel'")
        self.class_type = class_type
        self.threshold = threshold
        self.beta = beta
        self.reset_stats()

    def reset_stats(self) -> None:
        self.num_classes: int | None = None
        zero = numpy.zeros(0)
        self.tp, self.fp, self.fn, self.tn = zero, zero, zero, zero

    def _set(self, num: int) -> None:
        if self.num_classes is None:
            self.num_classes = num
            self.tp, self.fp, self.fn, self.tn = (numpy.zeros(num) for _ in range(4))
        elif self.num_classes != num:
            raise ValueError(f"Input number of classes has changed from {self.num_classes} "
                             f"to {num}")

    def update_stats(self, label: numpy.ndarray, pred: numpy.ndarray) -> None:
        label = label.astype(numpy.int64)
        if self.class_type == "binary":
            if label.size and label.max() > 1:
                raise ValueError("Wrong label for binary classification: labels must be 0 "
                                 "or 1")
            if pred.shape != label.shape:
                if pred.shape[-1] > 2:
                    raise ValueError(f"The shape of prediction {pred.shape} is wrong for "
                                     "binary classification.")
                if pred.shape[-1] == 2:
                    pred = pred.reshape(-1, 2)[:, 1]
            self._set(1)
            pred_label = predict_with_threshold(pred, self.threshold).reshape(-1, 1)
            label = label.reshape(-1, 1)
        elif self.class_type == "multiclass":
            num = pred.shape[-1]
            if label.size and label.max() >= num:
                raise ValueError(f"labels go up to {label.max()} but the prediction has only "
                                 f"{num} classes")
            self._set(num)
            eye = numpy.eye(num, dtype=numpy.int64)
            pred_label = eye[pred.argmax(axis=-1).reshape(-1)]
            label = eye[label.reshape(-1)]
        else:
            num = pred.shape[-1]
            if pred.shape != label.shape:
                raise ValueError(f"multilabel: the label shape {label.shape} must equal the "
                                 f"prediction shape {pred.shape}")
            self._set(num)
            pred_label = predict_with_threshold(pred, self.threshold).reshape(-1, num)
            label = label.reshape(-1, num)
        check_label_shapes(label, pred_label, shape=True)
        pred_true, pred_false = pred_label == 1, pred_label == 0
        label_true, label_false = label == 1, label == 0
        self.tp = self.tp + (pred_true & label_true).sum(axis=0)
        self.fp = self.fp + (pred_true & label_false).sum(axis=0)
        self.fn = self.fn + (pred_false & label_true).sum(axis=0)
        self.tn = self.tn + (pred_false & label_false).sum(axis=0)

    @property
    def total_examples(self) -> int:
        if self.num_classes is None:
            return 0
        return int(self.tp[0] + self.fp[0] + self.fn[0] + self.tn[0])

    def fscore(self, average: str | None) -> Any:
        b2 = self.beta ** 2
        if average == "micro":
            tp, fp, fn = self.tp.sum(), self.fp.sum(), self.fn.sum()
            precision = tp / max(tp + fp, 1e-12)
            recall = tp / max(tp + fn, 1e-12)
            if precision + recall <= 0:
                return 0.0
            return float((1 + b2) * precision * recall / (b2 * precision + recall))
        precision = self.tp / numpy.maximum(self.tp + self.fp, 1e-12)
        recall = self.tp / numpy.maximum(self.tp + self.fn, 1e-12)
        per_class = (1 + b2) * precision * recall / numpy.maximum(b2 * precision + recall,
                                                                  1e-12)
        if average == "macro":
            return float(per_class.mean())
        return per_class

    def matthewscc(self) -> float:
        """Binary MCC; zero factors of the denominator count as 1 (as MXNet)."""
        if not self.total_examples:
            return 0.0
        tp, fp, fn, tn = (float(a[0]) for a in (self.tp, self.fp, self.fn, self.tn))
        denom = 1.0
        for t in (tp + fp, tp + fn, tn + fp, tn + fn):
            if t != 0.0:
                denom *= t
        return (tp * tn - fp * fn) / math.sqrt(denom)


class _StatsMetric(_BuiltinMetric):
    """A metric computed from running statistics rather than a running sum; keeps one copy of
    the statistics for ``get()`` and one for ``get_global()``."""

    def _new_stats(self) -> Any:
        raise NotImplementedError

    def _stats_value(self, stats: Any) -> tuple[Any, Any]:
        """``(sum_metric, num_inst)`` equivalent to the statistics."""
        raise NotImplementedError

    def reset(self) -> None:
        super().reset()
        self._local = self._new_stats()
        self._global = self._new_stats()

    def reset_local(self) -> None:
        super().reset_local()
        self._local = self._new_stats()

    def _refresh(self) -> None:
        self.sum_metric, self.num_inst = self._stats_value(self._local)
        self.global_sum_metric, self.global_num_inst = self._stats_value(self._global)


@register
class F1(_StatsMetric):
    """F1 score (MXNet 2.0): ``2 * precision * recall / (precision + recall)`` from the true
    and false positive/negative counts over everything seen.

    ``class_type``: ``'binary'`` (labels 0/1; predictions are probabilities of class 1, or
    ``(batch, 2)`` scores; positive when ``> threshold``), ``'multiclass'`` (argmax of the
    scores) or ``'multilabel'``. ``average``: ``'micro'`` (global counts, the default),
    ``'macro'`` (mean of the per-class F1) or ``None`` (the per-class F1 array). MXNet 1.x's
    ``'macro'`` meant a mean over mini-batches instead.
    """

    def __init__(self, name: str = "f1", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None, class_type: str = "binary",
                 threshold: float = 0.5, average: str | None = "micro",
                 beta: float = 1) -> None:
        if average not in ("micro", "macro", None):
            raise ValueError(f"F1: average must be 'micro', 'macro' or None, got {average!r}")
        self.average = average
        self._stats_args = {"class_type": class_type, "threshold": threshold, "beta": beta}
        _ClassificationStats(**self._stats_args)  # validate class_type now
        super().__init__(name, output_names=output_names, label_names=label_names,
                         class_type=class_type, threshold=threshold, average=average, beta=beta)

    def _new_stats(self) -> _ClassificationStats:
        return _ClassificationStats(**self._stats_args)

    def _stats_value(self, stats: _ClassificationStats) -> tuple[Any, Any]:
        total = stats.total_examples
        if not total:
            return 0.0, 0
        return stats.fscore(self.average) * total, total

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _host(label), _host(pred)
            self._local.update_stats(label, pred)
            self._global.update_stats(label, pred)
        self._refresh()


@register
class Fbeta(F1):
    """F-beta score: ``(1 + beta**2) * P * R / (beta**2 * P + R)`` (see :class:`F1`)."""

    def __init__(self, name: str = "fbeta", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None, class_type: str = "binary",
                 beta: float = 1, threshold: float = 0.5,
                 average: str | None = "micro") -> None:
        super().__init__(name=name, output_names=output_names, label_names=label_names,
                         class_type=class_type, threshold=threshold, average=average,
                         beta=beta)


@register
class BinaryAccuracy(_BuiltinMetric):
    """Accuracy of thresholded predictions (``pred > threshold``) against 0/1 labels, for
    binary or multilabel problems; ``threshold`` may be one value per category."""

    def __init__(self, name: str = "binary_accuracy",
                 output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None, threshold: Any = 0.5) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names,
                         threshold=threshold)
        self.threshold = threshold

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            pred_label = predict_with_threshold(_host(pred), self.threshold)
            pred_label = pred_label.astype(numpy.int32).reshape(-1)
            label = _host(label).astype(numpy.int32).reshape(-1)
            check_label_shapes(label, pred_label, shape=True)
            self._accumulate(float((pred_label == label).sum()), len(pred_label))


@register
class MCC(_StatsMetric):
    """Matthews correlation coefficient of a binary problem, over everything seen:
    ``(TP*TN - FP*FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN))`` with zero factors replaced by 1.
    See :class:`PCC` for the multiclass version."""

    def __init__(self, name: str = "mcc", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names)

    def _new_stats(self) -> _ClassificationStats:
        return _ClassificationStats()

    def _stats_value(self, stats: _ClassificationStats) -> tuple[Any, Any]:
        total = stats.total_examples
        return stats.matthewscc() * total, total

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _host(label), _host(pred)
            self._local.update_stats(label, pred)
            self._global.update_stats(label, pred)
        self._refresh()


# -- regression ---------------------------------------------------------------------------------
def _per_instance(label: Any, pred: Any) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Label and prediction as ``(batch, -1)`` float64 arrays of equal shape."""
    label = numpy.atleast_1d(_host(label)).astype(numpy.float64)
    pred = numpy.atleast_1d(_host(pred)).astype(numpy.float64)
    label2 = label.reshape(label.shape[0], -1)
    pred2 = pred.reshape(pred.shape[0], -1)
    if label2.shape != pred2.shape:
        raise _shape_error(label.shape, pred.shape)
    return label2, pred2


@register
class MAE(_BuiltinMetric):
    """Mean absolute error: the mean over the non-batch axes, averaged over instances."""

    def __init__(self, name: str = "mae", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names)

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label2, pred2 = _per_instance(label, pred)
            self._accumulate(float(numpy.abs(label2 - pred2).mean(axis=-1).sum()),
                             label2.shape[0])


@register
class MSE(_BuiltinMetric):
    """Mean squared error: the mean over the non-batch axes, averaged over instances."""

    def __init__(self, name: str = "mse", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names)

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label2, pred2 = _per_instance(label, pred)
            self._accumulate(float(((label2 - pred2) ** 2).mean(axis=-1).sum()),
                             label2.shape[0])


@register
class RMSE(MSE):
    """Root mean squared error, ``sqrt(MSE)`` over everything seen (MXNet 2.0; 1.x averaged
    per-batch RMSEs)."""

    def __init__(self, name: str = "rmse", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names)

    def _finish(self, sum_metric: Any, num_inst: Any) -> Any:
        return math.sqrt(sum_metric / num_inst)


@register
class MeanPairwiseDistance(_BuiltinMetric):
    """Mean over instances of the p-norm distance between label and prediction (each
    flattened after the batch axis)."""

    def __init__(self, name: str = "mpd", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None, p: float = 2) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names, p=p)
        self.p = p

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label2, pred2 = _per_instance(label, pred)
            dist = (numpy.abs(label2 - pred2) ** self.p).sum(axis=-1) ** (1.0 / self.p)
            self._accumulate(float(dist.sum()), label2.shape[0])


@register
class MeanCosineSimilarity(_BuiltinMetric):
    """Mean cosine similarity along the last axis: ``l.p / max(|l| |p|, eps)``."""

    def __init__(self, name: str = "cos_sim", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None, eps: float = 1e-8) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names, eps=eps)
        self.eps = eps

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label = numpy.atleast_2d(_host(label).astype(numpy.float64))
            pred = numpy.atleast_2d(_host(pred).astype(numpy.float64))
            if label.shape != pred.shape:
                raise _shape_error(label.shape, pred.shape)
            sim = (label * pred).sum(axis=-1)
            norms = numpy.linalg.norm(label, axis=-1) * numpy.linalg.norm(pred, axis=-1)
            sim = sim / numpy.maximum(norms, self.eps)
            self._accumulate(float(sim.sum()), sim.size)


def _pick_prob(label: numpy.ndarray, pred: numpy.ndarray, axis: int,
               what: str) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The probability each label's class got along ``axis``, and the flat labels."""
    if pred.ndim == 0 or label.size * pred.shape[axis] != pred.size:
        raise ValueError(f"{what}: label of shape {label.shape} does not match prediction of "
                         f"shape {pred.shape} (one label per prediction along axis {axis})")
    classes = pred.shape[axis]
    flat = numpy.moveaxis(pred, axis, -1).reshape(-1, classes)
    label = label.reshape(-1)
    # out-of-range labels are clipped, as npx.pick does (ignore_label may be -1)
    idx = numpy.clip(label.astype(numpy.int64), 0, classes - 1)
    return flat[numpy.arange(flat.shape[0]), idx], label


def _softmax(x: numpy.ndarray, axis: int) -> numpy.ndarray:
    e = numpy.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@register
@alias("ce")
class CrossEntropy(_BuiltinMetric):
    """Mean cross entropy ``-log(max(eps, p[label]))`` over the labels, where ``p`` are the
    predicted probabilities along ``axis`` (``from_logits=True``: softmax first). Labels equal
    to ``ignore_label`` are left out."""

    def __init__(self, eps: float = 1e-12, ignore_label: int | None = None, axis: int = -1,
                 from_logits: bool = False, name: str = "cross-entropy",
                 output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names, eps=eps,
                         ignore_label=ignore_label, axis=axis, from_logits=from_logits)
        self.eps = eps
        self.ignore_label = ignore_label
        self.axis = axis
        self.from_logits = from_logits

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        loss = 0.0
        num = 0
        for label, pred in zip(labels, preds):
            pred = _host(pred).astype(numpy.float64)
            if self.from_logits:
                pred = _softmax(pred, self.axis)
            prob, flat_label = _pick_prob(_host(label), pred, self.axis,
                                          self.__class__.__name__)
            if self.ignore_label is not None:
                ignore = flat_label == self.ignore_label
                num -= int(ignore.sum())
                prob = numpy.where(ignore, 1.0, prob)
            loss -= float(numpy.log(numpy.maximum(self.eps, prob)).sum())
            num += prob.size
        self._accumulate(loss, num)


@register
class Perplexity(CrossEntropy):
    """``exp`` of the mean cross entropy. The argument order is MXNet 1.x's
    (``Perplexity(ignore_label, axis=-1)``); ``eps`` and ``from_logits`` are keywords.

    >>> from framework import np
    >>> p = Perplexity(ignore_label=None)
    >>> p.update([np.array([0, 1, 1])], [np.array([[0.3, 0.7], [0, 1.], [0.4, 0.6]])])
    >>> round(p.get()[1], 6)
    1.77111
    """

    def __init__(self, ignore_label: int | None = None, axis: int = -1,
                 name: str = "perplexity", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None, eps: float = 1e-12,
                 from_logits: bool = False) -> None:
        super().__init__(eps=eps, ignore_label=ignore_label, axis=axis,
                         from_logits=from_logits, name=name, output_names=output_names,
                         label_names=label_names)

    def _finish(self, sum_metric: Any, num_inst: Any) -> Any:
        return math.exp(sum_metric / num_inst)


@register
@alias("nll_loss")
class NegativeLogLikelihood(_BuiltinMetric):
    """Mean negative log likelihood ``-log(p[label] + eps)`` of ``(batch, classes)``
    probabilities (MXNet 1.x)."""

    def __init__(self, eps: float = 1e-12, name: str = "nll-loss",
                 output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names, eps=eps)
        self.eps = eps

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            pred = _host(pred).astype(numpy.float64)
            label = _host(label).reshape(-1)
            if pred.ndim != 2 or pred.shape[0] != label.shape[0]:
                raise _shape_error(label.shape, pred.shape)
            prob = pred[numpy.arange(pred.shape[0]), label.astype(numpy.int64)]
            self._accumulate(float((-numpy.log(prob + self.eps)).sum()), pred.shape[0])


class _MomentStats:
    """Count, means and (co-)moments of label/prediction pairs, merged batch by batch (exact
    for any batch sizes; Chan et al.'s pairwise update)."""

    def __init__(self) -> None:
        self.n = 0
        self.mean_l = 0.0
        self.mean_p = 0.0
        self.m2_l = 0.0
        self.m2_p = 0.0
        self.c = 0.0

    def update(self, label: numpy.ndarray, pred: numpy.ndarray) -> None:
        nb = label.size
        if nb == 0:
            return
        mean_l, mean_p = float(label.mean()), float(pred.mean())
        dl, dp = label - mean_l, pred - mean_p
        m2_l, m2_p, c = float((dl * dl).sum()), float((dp * dp).sum()), float((dl * dp).sum())
        n = self.n + nb
        delta_l, delta_p = mean_l - self.mean_l, mean_p - self.mean_p
        w = self.n * nb / n
        self.m2_l += m2_l + delta_l * delta_l * w
        self.m2_p += m2_p + delta_p * delta_p * w
        self.c += c + delta_l * delta_p * w
        self.mean_l += delta_l * nb / n
        self.mean_p += delta_p * nb / n
        self.n = n

    def pearsonr(self) -> float:
        denom = math.sqrt(self.m2_l * self.m2_p)
        return self.c / denom if denom else float("nan")


@register
@alias("pearsonr")
class PearsonCorrelation(_StatsMetric):
    """Pearson correlation between all label and prediction values seen (MXNet 2.0; 1.x
    averaged per-batch correlations)."""

    def __init__(self, name: str = "pearsonr", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names)

    def _new_stats(self) -> _MomentStats:
        return _MomentStats()

    def _stats_value(self, stats: _MomentStats) -> tuple[Any, Any]:
        return stats.pearsonr(), 1 if stats.n else 0

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _host(label), _host(pred)
            check_label_shapes(label, pred, shape=True)
            label = label.reshape(-1).astype(numpy.float64)
            pred = pred.reshape(-1).astype(numpy.float64)
            self._local.update(label, pred)
            self._global.update(label, pred)
        self._refresh()


class _Confusion:
    def __init__(self) -> None:
        self.cm = numpy.zeros((2, 2))
        self.batches = 0

    def add(self, pred: numpy.ndarray, label: numpy.ndarray) -> None:
        k = int(max(pred.max(initial=0), label.max(initial=0))) + 1
        if k > self.cm.shape[0]:
            grow = k - self.cm.shape[0]
            self.cm = numpy.pad(self.cm, ((0, grow), (0, grow)))
        numpy.add.at(self.cm, (pred, label), 1)
        self.batches += 1

    def mcc(self) -> float:
        cmat = self.cm
        n = cmat.sum()
        x = cmat.sum(axis=1)
        y = cmat.sum(axis=0)
        cov_xx = float(numpy.sum(x * (n - x)))
        cov_yy = float(numpy.sum(y * (n - y)))
        if cov_xx == 0 or cov_yy == 0:
            return float("nan")
        cov_xy = float(numpy.sum(numpy.diag(cmat) * n - x * y))
        return cov_xy / math.sqrt(cov_xx * cov_yy)


@register
class PCC(_StatsMetric):
    """Multiclass Matthews correlation (Gorodkin's R_K) from the confusion matrix of
    everything seen; equals :class:`MCC` for two classes. Classes are added as they appear."""

    def __init__(self, name: str = "pcc", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names)

    def _new_stats(self) -> _Confusion:
        return _Confusion()

    def _stats_value(self, stats: _Confusion) -> tuple[Any, Any]:
        if not stats.batches:
            return 0.0, 0
        return stats.mcc() * stats.batches, stats.batches

    def update(self, labels: Any, preds: Any) -> None:
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _host(label), _host(pred)
            if pred.shape != label.shape:
                pred = pred.argmax(axis=1)
            label = label.astype(numpy.int64).reshape(-1)
            pred = pred.astype(numpy.int64).reshape(-1)
            check_label_shapes(label, pred, shape=True)
            if (label < 0).any() or (pred < 0).any():
                raise ValueError("PCC: class indices must be non-negative")
            self._local.add(pred, label)
            self._global.add(pred, label)
        self._refresh()


# -- losses and custom metrics ------------------------------------------------------------------
@register
class Loss(_BuiltinMetric):
    """The mean of the values in ``preds`` (losses computed by the model); labels are
    ignored."""

    def __init__(self, name: str = "loss", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names)

    def update(self, _: Any, preds: Any) -> None:
        for pred in _as_list(preds):
            host = _host(pred)
            self._accumulate(float(host.sum()), host.size)


@register
class Torch(Loss):
    """Dummy metric for torch criterions (MXNet compatibility); same as :class:`Loss`."""

    def __init__(self, name: str = "torch", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names)


@register
class Caffe(Loss):
    """Dummy metric for caffe criterions (MXNet 1.x compatibility); same as :class:`Loss`."""

    def __init__(self, name: str = "caffe", output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        super().__init__(name, output_names=output_names, label_names=label_names)


@register
class CustomMetric(_BuiltinMetric):
    """A metric from ``feval(label, pred)``, called per (label, pred) pair with NumPy arrays.
    It returns a number (added to ``sum_metric``; ``num_inst`` grows by 1) or a tuple
    ``(sum_metric, num_inst)``. The default name is ``feval.__name__`` (``custom(<lambda>)``
    for lambdas).

    >>> from framework import np
    >>> m = CustomMetric(lambda label, pred: (label + pred).mean())
    >>> m.update([np.array([2.5, 0.0, 2, 8])], [np.array([3, -0.5, 2, 7])])
    >>> m.get()
    ('custom(<lambda>)', 6.0)
    """

    def __init__(self, feval: Callable[[Any, Any], Any], name: str | None = None,
                 allow_extra_outputs: bool = False, output_names: Sequence[str] | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        if not callable(feval):
            raise TypeError(f"CustomMetric: feval must be callable, got {type(feval).__name__}")
        if name is None:
            name = getattr(feval, "__name__", type(feval).__name__)
            if "<" in name:
                name = f"custom({name})"
        super().__init__(name, output_names=output_names, label_names=label_names,
                         feval=feval, allow_extra_outputs=allow_extra_outputs)
        self._feval = feval
        self._allow_extra_outputs = allow_extra_outputs

    def update(self, labels: Any, preds: Any) -> None:
        if not self._allow_extra_outputs:
            labels, preds = check_label_shapes(labels, preds, True)
        else:
            labels, preds = _as_list(labels), _as_list(preds)
        for pred, label in zip(preds, labels):
            reval = self._feval(_host(label), _host(pred))
            if isinstance(reval, tuple):
                sum_metric, num_inst = reval
                self._accumulate(_scalar(sum_metric), _scalar(num_inst))
            else:
                self._accumulate(_scalar(reval), 1)

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError("CustomMetric cannot be serialized")


def np(numpy_feval: Callable[[Any, Any], Any], name: str | None = None,
       allow_extra_outputs: bool = False) -> CustomMetric:
    """A :class:`CustomMetric` from ``numpy_feval(label, pred)``, which receives NumPy arrays
    and returns a number (named after the function)."""
    def feval(label: Any, pred: Any) -> Any:
        return numpy_feval(label, pred)

    feval.__name__ = getattr(numpy_feval, "__name__", "numpy_feval")
    return CustomMetric(feval, name, allow_extra_outputs)
