"""``lossctl suggest``: look at the data, infer the task and recommend losses with the reason for each.

The rules are small and explicit (below), each tied to a fact measured on the data: the label set
and its balance, whether predictions are probabilities or scores, and for regression the residuals'
tails (robust z-scores), the target's skew, zeros and sign. Text labels are read as eval reads them (two labels
for one prediction column, the last in sorted order taken as positive; labels matched to the prediction columns'
name suffixes for several), and a column named as the ranking losses' query id role (``qid``, ``query_id``) makes
the file a ranking one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl.errors import InputError, NoRows, UsageError, option
from lossctl.labels import KeyCodes, is_text_labels, vector_labels
from lossctl.tasks import ROW_SUM_TOLERANCE
from lossctl.text import count, show_name

if TYPE_CHECKING:
    from lossctl.options import Options

SAMPLE_ROWS = 1_000_000
RARE_CLASS = 0.10  # a class under 10% of rows is rare enough for imbalance-aware losses
OUTLIER_Z = 3.5  # robust z-score (Iglewicz & Hoaglin) above which a residual is an outlier
HEAVY_TAILS = 0.01  # more outliers than this share means heavy tails
MASK_VALUES = 16  # rows of this many 0/1 targets or more may be segmentation masks (pixels) rather than tags
# Column names (case-insensitive) read as the query ids of a ranking file: the ranking losses' role, and its long form.
QUERY_COLUMNS = ("qid", "query_id")


@dataclass
class Suggestion:
    loss: str
    params: dict[str, Any]
    reason: str

    @property
    def spec(self) -> str:
        """The ``-l`` form of exactly these parameters: ``huber:delta=2.5``, ``focal:from_logits=true``."""
        from lossctl.report import format_value

        return self.loss + "".join(f":{k}={format_value(v)}" for k, v in self.params.items())

    def to_dict(self) -> dict[str, Any]:
        return {"loss": self.loss, "params": self.params, "spec": self.spec, "reason": self.reason}


@dataclass
class Advice:
    task: str
    facts: dict[str, Any]
    suggestions: list[Suggestion] = field(default_factory=list)

    def add(self, loss: str, reason: str, **params: Any) -> None:
        """Suggest ``loss``; a parameter fitted to the data is kept to 4 significant digits (``delta=16.73``),
        which is what a person types, so the ``-l`` form and the parameters agree."""
        rounded = {k: float(f"{v:.4g}") if isinstance(v, float) else v for k, v in params.items()}
        self.suggestions.append(Suggestion(loss, rounded, reason))


def advise(target: np.ndarray, pred: np.ndarray, qid: np.ndarray | None = None, qid_column: str = "qid") -> Advice:
    """Recommendations for ``pred`` (1-D, or rows x K for multi-class) against ``target``; with ``qid`` (the codes
    of column ``qid_column``), for ranking the documents of each query.

    A fact that cannot be computed in float64 (a residual of two values near the largest float) is ``None``:
    the JSON output holds numbers or null, never ``NaN``, and NumPy's overflow warnings stay off stderr.
    """
    with np.errstate(all="ignore"):
        ranking = qid is not None and target.ndim == 1 and pred.ndim == 1 and len(target) > 0
        advice = _ranking(target, pred, qid, qid_column) if ranking else _advise(target, pred)  # type: ignore[arg-type]
    advice.facts = {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in advice.facts.items()}
    return advice


def _advise(target: np.ndarray, pred: np.ndarray) -> Advice:
    if len(target) == 0:
        raise InputError("the input has no rows")
    # A vector of one value per row (a list column [2.5]) is that value: a (rows x 1) column beside a 1-D one
    # broadcast to rows x rows residuals.
    pred = pred[:, 0] if pred.ndim == 2 and pred.shape[1] == 1 else pred
    target = target[:, 0] if target.ndim == 2 and target.shape[1] == 1 else target
    if target.ndim == 2 and target.shape == pred.shape and np.isin(target, (0.0, 1.0)).all():
        return _multilabel(target, pred)
    if target.ndim == 2 and target.shape == pred.shape:
        if target.shape[1] == 4 and _boxes(target) and _boxes(pred):
            return _detection(target, pred)
        return _multi_output(target, pred)
    if target.ndim == 2 and pred.ndim == 1:
        # K target columns (or a list of K values) and one prediction column: eval scores each against it
        return _multi_output(target, np.broadcast_to(pred.reshape(-1, 1), target.shape))
    if pred.ndim == 2 and pred.shape[1] > 1:
        classes = pred.shape[1]
        if target.ndim == 1 and np.all((target >= 0) & (target < classes) & (target == np.round(target))):
            return _multiclass(target, pred)
        targets = count(target.shape[1], "target column") if target.ndim == 2 else "one target column"
        raise InputError(
            f"cannot tell the task from {classes} prediction columns and {targets}: multi-class needs one target "
            f"column of class indices 0 to {classes - 1}, multi-label or multi-output as many target columns as "
            "prediction columns; for several models' columns, give one at a time with --pred"
        )
    labels = np.unique(target)
    if set(labels.tolist()) <= {0.0, 1.0} or set(labels.tolist()) <= {-1.0, 1.0}:
        return _binary(target, pred, labels)
    return _regression(target, pred)


def _binary(target: np.ndarray, pred: np.ndarray, labels: np.ndarray) -> Advice:
    positive = float(np.mean(target == 1.0))
    probabilities = bool(pred.min() >= 0 and pred.max() <= 1)
    facts = {"rows": len(target), "positive_rate": positive, "pred": "probabilities" if probabilities else "scores"}
    if -1.0 in labels:
        advice = Advice("binary (labels -1/1)", facts)
        advice.add("hinge", "labels are -1/1 and predictions are scores: the margin loss of an SVM")
        advice.add("squared_hinge", "the same margin view, punishing large violations more")
        return advice
    advice = Advice("binary", facts)
    rare = min(positive, 1 - positive)
    if probabilities:
        advice.add("bce", "predictions are probabilities: log loss is the proper scoring rule for them")
        advice.add("brier", "bounded and proper: reads calibration without log loss' blow-up on confident mistakes")
    else:
        advice.add("bce_logits", "predictions are unbounded scores: log loss on logits, computed stably")
        advice.add("hinge", "if the scores are margins rather than calibrated logits")
    if 0 < rare < RARE_CLASS:
        share = f"{rare:.1%} of rows are {'positive' if positive < 0.5 else 'negative'}"
        advice.add("focal", f"{share}: focal loss down-weights the many easy rows", from_logits=not probabilities)
        if not probabilities:
            advice.add(
                "bce_logits",
                f"{share}: weight positives by the negative/positive ratio",
                pos_weight=(1 - positive) / positive if positive else 1.0,
            )
    return advice


# A cell that spells a number, with a decimal point or comma (which the reader then checks against --decimal).
_NUMBER = r"^\s*[-+]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][-+]?[0-9]+)?\s*$"


def _spells_numbers(batch: Any, column: str) -> bool:
    """Whether every cell of a text ``column`` spells a number: numbers the CSV reader kept as text (``1.500``
    beside ``1,5`` under ``--decimal ,``) are numbers to check as eval checks them, not class labels."""
    import pyarrow.compute as pc

    cells = batch.column(column)
    if hasattr(cells.type, "value_type"):  # a dictionary column
        cells = cells.cast(cells.type.value_type)
    return pc.all(pc.match_substring_regex(cells, _NUMBER)).as_py() is not False  # all missing: numbers, missing


def _ranking(target: np.ndarray, pred: np.ndarray, qid: np.ndarray, column: str) -> Advice:
    """Documents (rows) of queries (``qid``) scored by ``pred`` against their relevance ``target``."""
    order = np.lexsort((target, qid))
    queries, relevance = qid[order], target[order]
    new_query = np.concatenate([[True], queries[1:] != queries[:-1]])
    starts = np.flatnonzero(new_query)
    sizes = np.diff(np.append(starts, len(queries)))
    new_level = new_query | np.concatenate([[True], relevance[1:] != relevance[:-1]])
    tied = np.diff(np.append(np.flatnonzero(new_level), len(relevance)))
    pairs = int((sizes * (sizes - 1) // 2).sum() - (tied * (tied - 1) // 2).sum())
    without_pairs = int((np.add.reduceat(new_level.astype(np.int64), starts) < 2).sum())
    facts = {
        "rows": len(target),
        "queries": len(starts),
        "documents_per_query_min": int(sizes.min()),
        "documents_per_query_median": float(np.median(sizes)),
        "documents_per_query_max": int(sizes.max()),
        "relevance_levels": int(np.unique(target).size),
        "pairs": pairs,
        "queries_without_pairs": without_pairs,
    }
    advice = Advice("ranking", facts)
    bind = f"query ids in '{column}' (eval: --col qid={column})"
    if pairs:
        skipped = (
            f"; {count(without_pairs, 'query', 'queries')} with one document or tied relevances "
            f"add{'s' if without_pairs == 1 else ''} no pair"
            if without_pairs
            else ""
        )
        advice.add("ranknet", f"{bind}: the pairwise logistic loss over the {count(pairs, 'document pair')} of "
                   f"different relevance{skipped}")  # fmt: skip
    else:
        bind += ": no query has two different relevances, so there is no pair for ranknet"
    counted = "the 1 query counts" if len(starts) == 1 else f"each of the {len(starts)} queries counts"
    advice.add("listnet", f"{bind}: {counted} once, whatever its number of documents ({int(sizes.min())} to "
               f"{int(sizes.max())})")  # fmt: skip
    return advice


def _multiclass(target: np.ndarray, pred: np.ndarray) -> Advice:
    classes = pred.shape[1]
    sums = pred.sum(axis=1)
    probabilities = bool(pred.min() >= 0 and pred.max() <= 1 and np.all(np.abs(sums - 1.0) <= ROW_SUM_TOLERANCE))
    counts = np.bincount(target.astype(np.int64), minlength=classes)
    shares = counts / counts.sum()
    facts = {
        "rows": len(target),
        "classes": classes,
        "pred": "probabilities" if probabilities else "logits",
        "smallest_class_share": float(shares.min()),
        "largest_class_share": float(shares.max()),
    }
    advice = Advice("multiclass", facts)
    if probabilities:
        advice.add("categorical_ce", "rows of predictions are probability distributions: multi-class log loss")
    else:
        advice.add("cross_entropy", "predictions are logits: softmax cross-entropy, computed via log-sum-exp")
    if shares.min() < RARE_CLASS / 2 or shares.max() / max(shares.min(), 1e-12) > 10:
        why = f"classes are imbalanced (smallest {shares.min():.1%}, largest {shares.max():.1%})"
        if not probabilities:
            advice.add("cross_entropy", f"{why}: weight classes by n/(K n_c)", class_weight="balanced")
            advice.add("focal_multiclass", f"{why}: focal loss concentrates on the hard rows")
            advice.add("class_balanced", f"{why}: effective-number weighting (Cui et al. 2019)")
    if not probabilities:
        advice.add("multiclass_hinge", "a margin view of the same scores (Crammer-Singer)")
    return advice


def _multilabel(target: np.ndarray, pred: np.ndarray) -> Advice:
    """K 0/1 target columns against K prediction columns: each row may carry several labels."""
    probabilities = bool(pred.min() >= 0 and pred.max() <= 1)
    label_shares = target.mean(axis=0)
    positive = float(target.mean())
    facts = {
        "rows": len(target),
        "labels": target.shape[1],
        "pred": "probabilities" if probabilities else "logits",
        "labels_per_row": float(target.sum(axis=1).mean()),
        "positive_share": positive,
        "rarest_label_share": float(label_shares.min()),
    }
    advice = Advice("multilabel", facts)
    if probabilities:
        advice.add("bce", "K 0/1 label columns with probabilities: the log loss of every label (mean over N x K)")
        advice.add("hamming", "the share of wrong label decisions at p >= 0.5, to read beside the log loss")
        if target.shape[1] >= MASK_VALUES:
            pixels = f"{target.shape[1]} 0/1 values per row"
            advice.add("dice", f"{pixels}: if each row is one sample's mask (segmentation), the soft Dice loss per "
                       "row, averaged over rows")  # fmt: skip
            advice.add("jaccard", f"{pixels}: the soft IoU loss per mask, the segmentation metric's view")
    else:
        advice.add("multilabel_soft_margin", "K 0/1 label columns with logits: the logistic loss of each label, exact")
        advice.add("hamming", "the share of wrong label decisions (a logit >= 0 is p >= 0.5)", threshold=0.0)
        advice.add("multilabel_margin", "a ranking view: each row's labels should outscore the labels it lacks")
    if positive < RARE_CLASS:
        share = f"{positive:.1%} of the label cells are positive"
        if not probabilities:
            advice.add("asymmetric", f"{share}: ASL focuses and clips the many easy negatives")
        advice.add("focal", f"{share}: focal loss down-weights the easy cells", from_logits=not probabilities)
    return advice


def _boxes(values: np.ndarray) -> bool:
    """Whether 4 columns read as boxes ``x1, y1, x2, y2``: every row's second corner at or beyond its first."""
    return bool(np.all(values[:, 2] >= values[:, 0]) and np.all(values[:, 3] >= values[:, 1]))


def _detection(target: np.ndarray, pred: np.ndarray) -> Advice:
    """4 columns on each side that read as boxes ``x1, y1, x2, y2``."""
    facts = {"rows": len(target), "columns": 4, "boxes": "x1, y1, x2, y2"}
    advice = Advice("detection", facts)
    advice.add("giou", "4 columns on each side read as boxes (x1, y1, x2, y2): the IoU loss, with a gradient "
               "for boxes that do not overlap")  # fmt: skip
    advice.add("box_iou", "the plain IoU loss, for reporting: 1 - intersection over union")
    advice.add("ciou", "adds the centre distance and the aspect ratio, as YOLO-style detectors train")
    return advice


def _multi_output(target: np.ndarray, pred: np.ndarray) -> Advice:
    """K target columns against K prediction columns, not labels: regression on each output. The facts describe
    the N·K elements pooled, except ``rows`` (N, as every task counts them) and ``outputs`` (K)."""
    advice = _regression(target.ravel(), pred.ravel())
    advice.task = f"multi-output {advice.task}"
    advice.facts = {"outputs": target.shape[1], **advice.facts, "rows": len(target)}
    return advice


def _regression(target: np.ndarray, pred: np.ndarray) -> Advice:
    residual = pred - target
    median = float(np.median(residual))
    mad = float(np.median(np.abs(residual - median)))
    robust_scale = 1.4826 * mad
    z = 0.6745 * np.abs(residual - median) / mad if mad > 0 else np.zeros_like(residual)
    outliers = float(np.mean(z > OUTLIER_Z))
    # skew is scale-free: computed on the target over its largest magnitude, so that cubes of 1e103 do not overflow
    scaled = target / max(float(np.max(np.abs(target))), np.finfo(np.float64).tiny)
    centred = scaled - scaled.mean()
    std = float(scaled.std())
    skew = float(np.mean(centred**3) / std**3) if std > 0 else 0.0
    counts = bool(np.all(target >= 0) and np.all(target == np.round(target)))
    zeros = float(np.mean(target == 0))
    facts = {
        "rows": len(target),
        "target_min": float(target.min()),
        "target_max": float(target.max()),
        "target_skew": skew,
        "target_zeros": zeros,
        "residual_scale_mad": robust_scale,
        "outlier_share": outliers,
        "counts": counts,
    }
    task = "regression (counts)" if counts and target.max() > 1 else "regression"
    advice = Advice(task, facts)
    if outliers > HEAVY_TAILS:
        delta = 1.345 * robust_scale if 0 < 1.345 * robust_scale < math.inf else 1.0
        advice.add(
            "huber",
            f"{outliers:.1%} of residuals are outliers (robust z > {OUTLIER_Z}): Huber is quadratic "
            f"near 0 and linear beyond delta = 1.345 x robust scale",
            delta=delta,
        )
        advice.add("mae", "heavy-tailed residuals: the absolute error is not dominated by a few rows")
        advice.add("mse", "still report it: it is what most training objectives minimise, but it is driven by outliers")
    else:
        advice.add("mse", "residuals have light tails: the squared error is efficient and standard")
        advice.add("rmse", "the same, on the target's scale, for reporting")
        advice.add("mae", "a robust companion: the typical error size")
    if task == "regression (counts)":
        if np.all(pred > 0):
            advice.add("poisson_deviance", "targets are non-negative counts: the Poisson deviance fits their variance")
        if zeros > 0.3 and np.all(pred > 0):
            advice.add(
                "tweedie_deviance",
                f"{zeros:.0%} of targets are zero: a compound Poisson-gamma (power 1.5) fits zero-inflated amounts",
                power=1.5,
            )
    elif np.all(target > -1) and np.all(pred > -1) and skew > 1:
        advice.add(
            "msle",
            f"the target is right-skewed (skew {skew:.2f}): errors on the log scale weigh small and "
            "large targets alike",
        )
    magnitude = np.abs(target)  # of one sign (negative amounts too) and spanning more than a factor 10
    one_sign = magnitude.min() > 0 and np.sign(target.min()) == np.sign(target.max())
    if one_sign and magnitude.max() / magnitude.min() > 10:
        advice.add("mape", "targets span more than an order of magnitude and never reach 0: relative error")
    return advice


def suggest(
    data: Any,
    *,
    pred: str | None = None,
    target: str | None = None,
    targets: Any = None,
    on: tuple[str, ...] = (),
    input_format: str | None = None,
    sample_rows: int = SAMPLE_ROWS,
    delimiter: str | None = None,
    decimal: str | None = None,
    missing: str = "error",
    classes: tuple[str, ...] = (),
    positive: str | None = None,
) -> tuple[Advice, list[str]]:
    """Read the ``pred``/``target`` columns of ``data`` (up to ``sample_rows`` rows) and advise; returns notices too.

    ``data`` is anything :func:`lossctl.evaluate` takes (a path, a DataFrame, an Arrow table...). ``targets``,
    ``on`` and ``missing`` join a targets file and treat missing values as eval's ``--targets``, ``--on`` and
    ``--missing`` do (a missing value is an error unless ``missing="drop"``; an infinite one always is), so that
    the advice is about the rows eval would read; ``classes`` and ``positive`` read the target's labels as eval's
    ``--classes`` and ``--positive`` do.
    """
    from lossctl.evaluation import input_batches, open_sources
    from lossctl.io.convert import DecimalMarks, decimal_option, float64_values, is_vector_column, to_float64_matrix
    from lossctl.options import Options

    notices: list[str] = []
    options = Options(
        pred=pred, target=target, targets=targets, on=on, input_format=input_format, delimiter=delimiter,
        decimal=decimal, missing=missing, classes=classes, positive=positive,
    )  # fmt: skip
    opened = open_sources(data, options, ["target", "pred"], notices)
    roles = opened.binding.roles
    bound = opened.binding.value_columns
    qid = next((c for c in opened.available if c.lower() in QUERY_COLUMNS and c not in bound), None)
    parts: dict[str, list[np.ndarray]] = {"target": [], "pred": []}
    labels: dict[str, list[Any]] = {"target": [], "qid": []}  # the Arrow columns of text labels and query ids
    text = bool(options.classes) or options.positive is not None  # labels to read as labels, text or not
    vectors: set[str] = set()  # the roles read as vectors
    spelled = False  # whether the target is text, spelling numbers or not
    rows = 0
    marks = DecimalMarks(decimal)  # as the engine reads them: with --decimal , a '.' in a number is an error
    try:  # a value that is not a number names its file, when the input is several
        keys = [qid] if qid else []  # a query id may be text in one file and numbers in another (io.parts)
        for batch in input_batches(opened, [*bound, *keys], options, notices, 65536, queries=keys):
            if qid:
                labels["qid"].append(batch.column(qid))
            for role, columns in roles.items():
                # As the engine reads them: a list column or CSV text of JSON arrays is a vector (not text labels),
                # in every batch once one batch showed it (a later batch's first cell may be missing).
                seen = role in vectors
                if seen or len(columns) > 1 or is_vector_column(batch.column(columns[0]), labels=role == "target"):
                    vectors.add(role)
                elif role == "target":
                    labels["target"].append(batch.column(columns[0]))
                    typed = is_text_labels(batch.schema.field(columns[0]).type)
                    spelled = spelled or typed
                    text = text or (typed and not _spells_numbers(batch, columns[0]))
                    if text:
                        continue
                with decimal_option(decimal):
                    if role not in vectors:
                        values = float64_values(batch.column(columns[0]), columns[0], row_offset=rows, marks=marks)
                    else:
                        values, _ = to_float64_matrix(
                            [batch.column(c) for c in columns], columns, row_offset=rows, as_json=seen
                        )
                parts[role].append(values)
            rows += batch.num_rows
            if rows >= sample_rows:
                notices.append(f"advice based on the first {rows} rows")
                break
    except InputError as error:
        raise opened.source.naming_file(error) from None
    if rows == 0:
        raise NoRows.naming(opened.source.label)
    pred_values = np.concatenate(parts["pred"])
    facts: dict[str, Any] = {}
    if spelled and not text and "pred" not in vectors and _two_labels(np.concatenate(parts["target"])):
        text = True  # eval's binary losses read text as labels ('1' and '0' too), named with --positive
    if text and "target" in vectors:  # as eval: no labels to recode
        raise vector_labels("classes" if options.classes else "positive", roles["target"], parts["target"][0].shape[1])
    if text:
        column = roles["target"][0]
        several = "pred" in vectors  # several prediction values per row: class scores
        target_values, facts = _labels(_joined(labels["target"]), column, roles["pred"], several, options, notices)
    else:
        target_values = np.concatenate(parts["target"])
    query_codes = KeyCodes().encode(_joined(labels["qid"]), qid, 0) if qid else np.zeros(rows)
    read = {tuple(roles["target"]): target_values, tuple(roles["pred"]): pred_values}
    if qid:
        read[(qid,)] = query_codes
    try:
        usable = _usable_rows(read, rows, options.missing == "drop", notices)
    except InputError as error:
        raise opened.source.naming_file(error) from None
    qids = query_codes[usable] if qid else None
    advice = advise(target_values[usable], pred_values[usable], qids, qid or "qid")
    advice.facts |= facts
    # eval reads text labels only as told: said in each reason, as ranking's name --col qid (-q silences notices)
    needed = [option("classes", ",".join(options.classes))] if options.classes and text else []
    needed += [option("positive", str(facts["positive_label"]))] if "positive_label" in facts else []
    for suggestion in advice.suggestions if needed else []:
        suggestion.reason += f" (eval: {' '.join(needed)})"
    return advice, notices


def _usable_rows(values: dict[tuple[str, ...], np.ndarray], rows: int, drop: bool, notices: list[str]) -> np.ndarray:
    """The rows to advise on, as eval reads ``values`` (each binding's numbers, NaN where missing): a missing value
    is an error unless ``drop`` (then its row is left out and counted), an infinite value always; a row without a
    partner in a targets file joined under ``drop`` has a missing target."""
    from lossctl.engine import BadValues, bad_values_error, check_rows

    missing: dict[tuple[str, ...], BadValues] = {}
    infinite: dict[tuple[str, ...], BadValues] = {}
    row_index = np.arange(rows)
    usable = np.ones(rows, dtype=bool)
    for columns, numbers in values.items():
        flat = numbers.reshape(rows, -1)
        for bad, mask in ((missing, np.isnan(flat).any(axis=1)), (infinite, np.isinf(flat).any(axis=1))):
            if mask.any():
                bad.setdefault(columns, BadValues()).add(mask, row_index)
                usable &= ~mask
    error = bad_values_error({} if drop else missing, infinite, {})
    if error is not None:
        raise error
    used = int(usable.sum())
    check_rows(rows, used)
    if used < rows:
        notices.append(
            f"dropped {rows - used} of {count(rows, 'row')} with missing values ({option('missing', 'drop')})"
        )
    return usable


def _two_labels(target: np.ndarray) -> bool:
    """Whether ``target`` holds the labels of a binary file, 0/1 or -1/1 (missing values aside)."""
    labels = set(np.unique(target[~np.isnan(target)]).tolist())
    return labels <= {0.0, 1.0} or labels <= {-1.0, 1.0}


def _joined(columns: list[Any]) -> Any:
    """The batches' pieces of one column as one Arrow array; pieces whose types differ (a text block after
    numbers) as text."""
    import pyarrow as pa

    if len({column.type for column in columns}) > 1:
        columns = [column.cast(pa.string()) for column in columns]
    return pa.chunked_array(columns).combine_chunks()


def _labels(
    labels: Any, column: str, pred_columns: list[str], several: bool, options: Options, notices: list[str]
) -> tuple[np.ndarray, dict[str, Any]]:
    """Class labels as eval reads them (lossctl.labels): with several prediction values per row (``several``),
    class indices (by ``--classes``, else by the prediction column whose name ends with the label); with one, 1 for
    ``--positive`` (without it, the last of the two labels in sorted order, as scikit-learn's ``pos_label``) and 0
    for the other. ``--positive`` with several and ``--classes`` with one are usage errors, as eval's losses for
    those files refuse them. Returns the numbers and the facts to report."""
    from lossctl.labels import ClassIndex, PositiveLabel

    if several and options.positive is not None:
        raise UsageError(
            f"{option('positive')} names the positive class of binary labels, but each row has several prediction "
            f"values (multi-class): give the class order with {option('classes', 'A,B,C')}"
        )
    if options.classes and not several:
        raise UsageError(
            f"{option('classes')} gives the class order of several prediction columns, but there is one (binary): "
            f"name the positive class with {option('positive', 'LABEL')}"
        )
    if several:
        encoder = ClassIndex(options.classes or None, pred_columns, "suggest")
        values = encoder.encode(labels, column, 0)
        notices += encoder.notices()
        return values, {}
    distinct = sorted(label for label in labels.unique().to_pylist() if label is not None and label == label)  # NaN
    if len(distinct) > 2:
        shown = ", ".join(repr(label) for label in distinct[:3])
        raise InputError(
            f"column '{show_name(column)}' holds {len(distinct)} labels ({shown}, ...) and there is one "
            "prediction column: a binary file has two labels; a multi-class one a prediction column per class "
            "(--pred 'prob_*')"
        )
    if options.positive is not None:
        positive_label = PositiveLabel(options.positive, "suggest")
        values = positive_label.encode(labels, column, 0)
        notices += positive_label.notices()
        return values, {"labels": distinct, "positive_label": options.positive}
    if not distinct:
        return np.full(len(labels), np.nan), {}
    positive = str(distinct[-1])
    notices.append(
        f"text labels in '{show_name(column)}': {positive!r} taken as the positive class; eval needs --positive "
        f"{positive}" + (f" (or --positive {distinct[0]} to turn it round)" if len(distinct) == 2 else "")
    )
    facts = {"labels": distinct, "positive_label": positive}
    return PositiveLabel(positive, "suggest").encode(labels, column, 0), facts
