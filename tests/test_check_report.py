"""``checks.check_report``: a report as an objective makes it, checked where it enters the driver."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim.checks import check_report

values = st.one_of(
    st.integers(-3, 50),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)


@given(resource=values, metric=values, has_metric=st.booleans(), extra=values)
def test_a_report_passes_exactly_when_its_resource_is_whole_and_its_metric_finite(
    resource, metric, has_metric, extra
):
    report = {"epoch": resource, "other": extra}
    if has_metric:
        report["loss"] = metric
    whole = not isinstance(resource, bool) and (
        isinstance(resource, int) or (isinstance(resource, float) and resource.is_integer())
    )
    finite = (
        has_metric
        and not isinstance(metric, bool)
        and isinstance(metric, (int, float))
        and math.isfinite(metric)
    )
    if whole and finite:
        assert check_report(report, "epoch", "loss") == (int(resource), float(metric))
        return
    with pytest.raises(ValueError, match="epoch|loss") as refused:
        check_report(report, "epoch", "loss")
    message = str(refused.value)
    if not whole:
        assert "must include epoch=<integer>" in message
    elif not has_metric:
        assert "has no 'loss', the metric the scheduler optimizes" in message
    else:
        assert message.startswith(f"loss = {metric!r} at epoch={int(resource)}")
        assert message.endswith("is not a finite number")


def test_a_whole_float_resource_counts_as_the_integer():
    resource, metric = check_report({"epoch": 3.0, "loss": 1}, "epoch", "loss")
    assert (resource, metric) == (3, 1.0)
    assert type(resource) is int and type(metric) is float


@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_allow_nan_takes_any_float_metric_as_a_result(value):
    resource, metric = check_report({"epoch": 2, "loss": value}, "epoch", "loss", allow_nan=True)
    assert resource == 2 and (metric == value or (math.isnan(metric) and math.isnan(value)))
    with pytest.raises(ValueError, match="loss = 'x' at epoch=2 is not a finite number"):
        check_report({"epoch": 2, "loss": "x"}, "epoch", "loss", allow_nan=True)
