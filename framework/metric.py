"""``framework.metric``: MXNet 1.x's ``mx.metric`` path to :mod:`framework.gluon.metric` (the
same classes, registry and functions)."""

from __future__ import annotations

from .gluon.metric import (
    F1,
    MAE,
    MCC,
    MSE,
    PCC,
    RMSE,
    Accuracy,
    BinaryAccuracy,
    Caffe,
    CompositeEvalMetric,
    CrossEntropy,
    CustomMetric,
    EvalMetric,
    Fbeta,
    Loss,
    MeanCosineSimilarity,
    MeanPairwiseDistance,
    NegativeLogLikelihood,
    PearsonCorrelation,
    Perplexity,
    TopKAccuracy,
    Torch,
    alias,
    check_label_shapes,
    create,
    np,
    predict_with_threshold,
    register,
)

__all__ = [
    "EvalMetric", "CompositeEvalMetric", "Accuracy", "TopKAccuracy", "F1", "Fbeta",
    "BinaryAccuracy", "MCC", "MAE", "MSE", "RMSE", "MeanPairwiseDistance",
    "MeanCosineSimilarity", "CrossEntropy", "Perplexity", "NegativeLogLikelihood",
    "PearsonCorrelation", "PCC", "Loss", "Torch", "Caffe", "CustomMetric", "np", "create",
    "register", "alias", "check_label_shapes", "predict_with_threshold",
]
