"""Priorities: a non-preemptive M/M/1 priority queue against Cobham's formula.

For classes k = 1 (highest) … K with arrival rates λ_k and service times S_k, the mean
time in queue of class k is (Cobham, 1954)

    W_k = W0 / ((1 − σ_{k−1}) (1 − σ_k)),   W0 = Σ λ_i E[S_i²] / 2,   σ_k = Σ_{i≤k} λ_i E[S_i].

Same standard as tests/test_validation.py: the analytic value inside the family-adjusted
interval and a 95 % half-width below 5 % of it. The seed was fixed before the first run.
"""

from __future__ import annotations

import numpy as np
import pytest

import procsim
from procsim.stats import estimate
from test_validation import mismatches

WARMUP = 1000


def cobham(rates: list[float], mean: list[float], second_moment: list[float]) -> list[float]:
    w0 = sum(lam * s2 for lam, s2 in zip(rates, second_moment, strict=True)) / 2
    out, sigma = [], 0.0
    for lam, s in zip(rates, mean, strict=True):
        before = sigma
        sigma += lam * s
        out.append(w0 / ((1 - before) * (1 - sigma)))
    return out


def test_cobham_oracle_reduces_to_pollaczek_khinchine_for_one_class() -> None:
    # One class: W = λ E[S²] / (2 (1 − ρ)); M/M/1 at ρ = 0.7: 0.7 / 0.3 · 1.
    assert cobham([0.7], [1.0], [2.0]) == [pytest.approx(0.7 / 0.3)]


@pytest.mark.slow
def test_non_preemptive_priority_waits_match_cobham() -> None:
    model = procsim.parse_model("""
procsim: 1
name: two priority classes
arrivals: {interarrival: {dist: exponential, mean: 1.4285714285714286}}
attributes: {class: {urgent: 0.5, normal: 0.5}}
priority: {attribute: class, order: [urgent, normal]}
resources: {desk: {capacity: 1}}
activities: {serve: {resource: desk, duration: {dist: exponential, mean: 1}}}
flow: {start: serve, serve: end}
""")
    lam = 0.7
    expected = cobham([lam / 2, lam / 2], [1.0, 1.0], [2.0, 2.0])
    result = procsim.simulate(model, replications=20, cases=50000, seed=5151, warmup=WARMUP,
                              keep_records=True)
    assert result.records is not None
    waits: dict[str, list[float]] = {"urgent": [], "normal": []}
    for record in result.records:
        wait = np.empty(record.cases)
        wait[record.instance_case] = record.instance_start - record.instance_enabled
        kind = record.attributes["class"]
        for name in waits:
            waits[name].append(float(wait[WARMUP:][kind[WARMUP:] == name].mean()))
    assert not mismatches({
        f"W_{name}": (estimate(values), w) for (name, values), w in
        zip(waits.items(), expected, strict=True)})
