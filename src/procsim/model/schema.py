"""The model format: typed, frozen pydantic models of a procsim YAML file.

These classes are data only. Reading a file (with line numbers) lives in
:mod:`procsim.model.load`, the semantic checks in :mod:`procsim.model.check`.
``Model.model_json_schema()`` is what ``procsim schema`` prints.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    PrivateAttr,
    Tag,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from procsim.arrivals import RateProfile
from procsim.calendars import CalendarSpec, StartDateTime
from procsim.dists import BaseDistribution, Distribution, Duration
from procsim.errors import UnknownNameError, UsageError, close_match_hint, quote
from procsim.units import WorkingDuration, working_amount

__all__ = [
    "Activity",
    "Arrivals",
    "Batch",
    "Branch",
    "Gateway",
    "Model",
    "Person",
    "Priority",
    "Resource",
    "RunSettings",
    "ShareKpi",
    "VisitKpi",
]

#: Names the flow reserves for the case's entry and exit.
RESERVED_NODES = ("start", "end")

Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")]
Probability = Annotated[float, Field(ge=0.0, le=1.0, strict=False)]
Target = Annotated[str, Field(
    pattern=r"^\s*(<=|>=|<|>)\s*\S",
    description="A comparison with a value in the KPI's unit: '<= 30min', '>= 80%', '<= 12.5'.")]
PositiveDuration = Annotated[Duration, Field(gt=0)]


class _Spec(BaseModel):
    # defer_build: a class builds its validator when first used, not at import; validating a
    # Model builds only what the model needs, once (about 30 ms less to check a model).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# --- run settings -------------------------------------------------------------------------------


class WarmupDuration(float):
    """A warm-up given as a duration (in model time units), told apart from a number of cases."""


def _warmup_tag(value: Any) -> str:
    # A bare number counts cases, as on the command line; a duration needs its unit ("2d").
    # Tag functions also see validated values when a model is serialised.
    if isinstance(value, bool | WarmupDuration):
        return "warmup:duration"  # a bool is rejected there with a clear message
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        return "warmup:cases"
    if value == "auto":
        return "warmup:auto"
    return "warmup:duration"


Warmup = Annotated[
    Annotated[int, Field(ge=0), Tag("warmup:cases")]
    | Annotated[Literal["auto"], Tag("warmup:auto")]
    | Annotated[Duration, Field(ge=0), AfterValidator(WarmupDuration), Tag("warmup:duration")],
    Discriminator(_warmup_tag),
]


class RunSettings(_Spec):
    """How a model is run; ``procsim run`` options and ``simulate()`` arguments override these."""

    cases: Annotated[int, Field(gt=0)] | None = Field(
        default=None,
        description="Arrivals per replication; each replication then runs until every case has "
        "finished. Default 1000 when neither cases nor duration is given.",
    )
    duration: PositiveDuration | None = Field(
        default=None,
        description="Alternatively, the length of the arrival period of each replication.",
    )
    warmup: Warmup = Field(
        default="auto",
        description="Cases excluded from the KPIs: a number of first cases by arrival, a duration "
        "with its unit such as '2d' (cases arriving before it), or 'auto' (the default: MSER-5 "
        "on the cycle-time series averaged across replications). Use 0 for a process that "
        "starts empty every day and is measured from its start (a terminating simulation).",
    )
    replications: Annotated[int, Field(ge=1)] | Literal["auto"] = Field(
        default="auto",
        description="A number of replications, or 'auto' (the default): at least "
        "min_replications, then more until the KPIs that the OKRs and KPI targets use (cycle "
        "time without any) are within 'precision', at most max_replications.",
    )
    precision: Annotated[float, Field(gt=0, lt=1)] = Field(
        default=0.1,
        description="With replications: auto, the 95 % interval half-width wanted, relative to "
        "the mean (0.1: ±10 %).",
    )
    min_replications: Annotated[int, Field(ge=2)] = Field(
        default=20, description="With replications: auto, the first round.")
    max_replications: Annotated[int, Field(ge=2)] = Field(
        default=200, description="With replications: auto, the most that are run.")
    seed: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Root seed; drawn, printed and recorded when missing."
    )
    max_activity_instances: Annotated[int, Field(gt=0)] | None = Field(
        default=None,
        description="Bound on activity instances per replication, so that no run can hang. "
        "Default: 1000 per case.",
    )

    @field_validator("precision", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        # "10%" as well as 0.1, as the command line's --precision takes it.
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                return float(value.strip()[:-1]) / 100
            except ValueError:
                raise UsageError(f"expected a percentage such as 10%, got {value!r}") from None
        return value

    @model_validator(mode="after")
    def _replication_bounds(self) -> RunSettings:
        if self.min_replications > self.max_replications:
            raise UsageError(
                f"expected min_replications <= max_replications, got {self.min_replications} "
                f"> {self.max_replications}")
        return self

    @model_validator(mode="after")
    def _cases_or_duration(self) -> RunSettings:
        if self.cases is not None and self.duration is not None:
            raise UsageError(
                f"expected either cases or duration, got both (cases={self.cases}, "
                f"duration={self.duration})"
            )
        return self

    @property
    def horizon(self) -> str:
        """A human-readable description of the arrival period."""
        if self.duration is not None:
            return f"arrivals for {self.duration:g} time units"
        return f"{self.cases_or_default} cases"

    @property
    def cases_or_default(self) -> int | None:
        if self.duration is not None:
            return None
        return self.cases if self.cases is not None else 1000


# --- process elements ---------------------------------------------------------------------------


class Arrivals(_Spec):
    """How cases arrive: a renewal process (``interarrival``) or a rate profile by hour of day
    and day of week (``rate``, a non-homogeneous Poisson process); either may be restricted
    to the open hours of an arrival ``calendar``."""

    interarrival: Distribution | None = Field(
        default=None, description="Time between arrivals (a renewal process).")
    rate: RateProfile | None = Field(
        default=None, description="Arrivals per hour (or per: minute/day) by hour of day and day "
        "of week: a non-homogeneous Poisson process, generated exactly.")
    calendar: Name | None = Field(
        default=None, description="Cases arrive only while this calendar is open (with "
        "interarrival: the inter-arrival clock runs only on open hours).")

    @model_validator(mode="after")
    def _one_process(self) -> Arrivals:
        if (self.interarrival is None) == (self.rate is None):
            raise UsageError("expected exactly one of interarrival or rate, got "
                             + ("both" if self.interarrival is not None else "neither"))
        return self


class Resource(_Spec):
    """A pool of resources: ``capacity`` interchangeable servers, or named ``members``.

    Work is taken from one queue per pool, in order of priority, then first come, first
    served. With a ``calendar``, work is started only on shift; work running at the end of
    a shift continues to its end unless ``preempt`` is true, in which case it pauses until
    the next shift.
    """

    capacity: Annotated[int, Field(ge=1)] = Field(
        description="Number of servers (with members: the number of members).")
    members: tuple[Name, ...] | None = Field(
        default=None, description="Named people of `people:` who work in this pool (one person "
        "may belong to several pools); they replace anonymous capacity.")
    cost_per_hour: Annotated[float, Field(ge=0)] = Field(
        default=0.0, description="Cost of one server per hour, in the model's currency (a "
        "member's own cost_per_hour takes precedence).")
    calendar: Name | None = Field(default=None, description="The pool's shifts (a calendar).")
    preempt: bool = Field(
        default=False, description="Pause work in progress at the end of a shift and resume it "
        "at the next (default: finish it).")
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _capacity_from_members(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("members"), list | tuple):
            members = data["members"]
            if "capacity" not in data:
                return {**data, "capacity": len(members)}
            if data["capacity"] != len(members):
                raise UsageError(f"expected capacity equal to the number of members "
                                 f"({len(members)}) or no capacity, got {data['capacity']!r}")
        return data


class Person(_Spec):
    """A named resource: their own calendar, cost and speed."""

    calendar: Name | None = Field(default=None, description="Their shifts (default: the "
                                  "calendar of the pool whose work they take).")
    cost_per_hour: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="Their cost per hour (default: the pool's).")
    speed: Annotated[float, Field(gt=0)] = Field(
        default=1.0, description="Relative speed: durations are divided by it (1.25 = 25 % "
        "faster).")
    description: str = ""


class Batch(_Spec):
    """Process cases together: wait until ``size`` cases are waiting, or ``timeout`` after the
    first one started waiting, then do one instance of the work for all of them."""

    size: Annotated[int, Field(ge=2)]
    timeout: Annotated[Duration, Field(gt=0)] | None = None


class Activity(_Spec):
    """A unit of work. Without ``resource`` it is a pure delay (e.g. waiting for the customer)."""

    resource: Name | None = None
    duration: Distribution
    durations: dict[Name, Distribution] | None = Field(
        default=None, description="Durations that depend on who does the work: person name → "
        "distribution (others use duration, divided by their speed).")
    batch: Batch | None = None
    calendar: Name | None = Field(
        default=None, description="Only for a delay (no resource): its duration elapses "
        "only while this calendar is open, i.e. it is working time (e.g. waiting for a "
        "customer who answers in office hours).")
    cost: Annotated[float, Field(ge=0)] = Field(
        default=0.0, description="Fixed cost per execution, in the model's currency."
    )
    description: str = ""


class Priority(_Spec):
    """Queue priority of a case, from a case attribute; non-preemptive (work in progress is
    never interrupted). Lower ranks are served first; equal ranks first come, first served."""

    attribute: Name
    order: tuple[str, ...] | None = Field(
        default=None, description="For a categorical attribute: its values, highest priority "
        "first. Without it, a numeric attribute is the rank itself (lower first).")


class Gateway(_Spec):
    """A routing node without duration.

    ``parallel`` gateways split a case into concurrent branches (one incoming flow, a list of
    outgoing ones) or join them (several incoming flows); ``exclusive`` gateways choose one
    branch, by probability or by conditions on case attributes.
    """

    type: Literal["parallel", "exclusive"]
    description: str = ""


Scalar = str | int | float | bool
Condition = Annotated[
    Scalar | list[Scalar],
    Field(
        description="Equal to a value, one of a list of values, or a comparison on a numeric "
        "attribute written as a string: '> 10000', '<= 2.5', '!= gold'."
    ),
]


class Branch(_Spec):
    """One outgoing branch of a conditional choice; the first branch whose ``when`` holds is taken.

    A branch without ``when`` is the default.
    """

    to: Name
    when: dict[str, Condition] | None = None


def _flow_tag(value: Any) -> str:
    if isinstance(value, str):
        return "flow:next"
    if isinstance(value, dict):
        return "flow:choice"
    if isinstance(value, list) and value and all(isinstance(v, dict | Branch) for v in value):
        return "flow:conditions"
    return "flow:parallel"


FlowTargets = Annotated[
    Annotated[Name, Tag("flow:next")]
    | Annotated[dict[Name, Probability], Tag("flow:choice")]
    | Annotated[list[Branch], Field(min_length=1), Tag("flow:conditions")]
    | Annotated[list[Name], Field(min_length=2), Tag("flow:parallel")],
    Discriminator(_flow_tag),
    Field(
        description="What follows a node: one node name; a mapping of names to probabilities "
        "(exclusive choice); a list of branches with conditions on case attributes; or, from a "
        "parallel gateway, a list of names that all start concurrently."
    ),
]


def _attribute_tag(value: Any) -> str:
    if (isinstance(value, dict) and "dist" in value) or isinstance(value, BaseDistribution):
        return "attribute:distribution"
    return "attribute:categorical"


AttributeSpec = Annotated[
    Annotated[Distribution, Tag("attribute:distribution")]
    | Annotated[
        dict[Annotated[str, Field(min_length=1)], Probability], Tag("attribute:categorical")
    ],
    Discriminator(_attribute_tag),
    Field(
        description="A categorical attribute as a mapping of values to probabilities, or a "
        "numeric one as a distribution."
    ),
]


def _working_or_duration(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    # "2wd" is read once the working calendar is known (Model._working_time); the rest is a
    # plain duration.
    written = working_amount(value)
    return handler(value) if written is None else WorkingDuration.written(*written)


class _WorkingJsonSchema:
    """JSON Schema of a :data:`ShareLimit`: a duration, or an amount of working time."""

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        if handler.mode == "validation" and "anyOf" in schema:
            schema = {**schema, "anyOf": [*schema["anyOf"], {
                "type": "string", "pattern": WORKING_PATTERN,
                "description": "Working time, for working_cycle_time: '2wd' (working days), "
                "'6wh' (working hours)."}]}
        return schema


#: The threshold of a share KPI: a duration (``30min``), or for ``working_cycle_time`` an
#: amount of working time (``2wd``, ``6wh``), kept as a :class:`procsim.units.WorkingDuration`.
ShareLimit = Annotated[Annotated[Duration, Field(ge=0)], WrapValidator(_working_or_duration),
                       _WorkingJsonSchema()]
WORKING_PATTERN = r"^\s*[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?\s*(wd|wh)\s*$"


class ShareKpi(_Spec):
    """Share of cases whose ``share`` KPI is within (``<=``) or over (``>``) a threshold.

    ``answered_in_30: {share: cycle_time, within: 30min}`` is the classic SLA KPI. For
    ``working_cycle_time`` the threshold may be in working time: ``within: 2wd`` (see
    :func:`procsim.model.targets.working_day`).
    """

    share: Literal["cycle_time", "waiting_time", "processing_time", "delay_time", "cost_per_case",
                   "busy_cost_per_case", "working_cycle_time"]
    within: ShareLimit | None = None
    over: ShareLimit | None = None
    target: Target | None = None
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _money_is_not_time(cls, data: Any) -> Any:
        money = ("cost_per_case", "busy_cost_per_case")
        if isinstance(data, dict) and data.get("share") in money:
            for key in ("within", "over"):
                if isinstance(data.get(key), str):
                    raise UsageError(
                        f"expected a number (an amount of money) as '{key}' for {data['share']}, "
                        f"got {data[key]!r}"
                    )
        return data

    @model_validator(mode="after")
    def _one_threshold(self) -> ShareKpi:
        if (self.within is None) == (self.over is None):
            raise UsageError("expected exactly one of 'within' or 'over'")
        return self


class VisitKpi(_Spec):
    """Share of cases that visit an activity at least once (e.g. escalations, rework)."""

    visits: Name
    target: Target | None = None
    description: str = ""


class StatKpi(_Spec):
    """A statistic of a standard KPI with a health target, e.g. the mean cycle time <= 30min."""

    # busy_cost_per_case is left out: one more name makes the message for a wrong value
    # longer than a line may be (tests/test_adversarial.py); a key result can use it.
    of: Literal["cycle_time", "waiting_time", "processing_time", "delay_time", "cost_per_case",
                "busy_cost_per_case", "working_cycle_time", "throughput_per_hour", "wip",
                "idle_cost_per_hour", "cost_per_case_with_idle"]
    stat: str = Field(default="mean", description="mean, median or a percentile such as p90.")
    target: Target | None = None
    description: str = ""


def _kpi_tag(value: Any) -> str:
    if isinstance(value, VisitKpi) or (isinstance(value, dict) and "visits" in value):
        return "kpi:visits"
    if isinstance(value, StatKpi) or (isinstance(value, dict) and "of" in value):
        return "kpi:stat"
    return "kpi:share"


# Tags are not field names, so they never show up as a path in error messages.
CustomKpi = Annotated[
    Annotated[ShareKpi, Tag("kpi:share")] | Annotated[VisitKpi, Tag("kpi:visits")]
    | Annotated[StatKpi, Tag("kpi:stat")],
    Discriminator(_kpi_tag),
]


class KeyResult(_Spec):
    """A key result: a KPI statistic to reach (``to``) or a change to keep within (``change``).

    The direction of ``to`` is stated by an operator (``to: ">= 85%"``), by ``direction``
    (increase or decrease), or by ``from`` and ``to`` (the sign of the change). Without any,
    it is the KPI's natural direction (lower for times and costs, higher for a share of cases
    within a limit), or for a KPI without one, towards the target from the baseline; a
    target the baseline already meets must state its direction
    (:func:`procsim.okr.key_results`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True,  # as _Spec
                              populate_by_name=True,
                              serialize_by_alias=True)

    kpi: Name
    stat: str | None = Field(default=None, description="mean (default), median or pXX.")
    from_: Literal["baseline"] | float | str | None = Field(
        default=None, alias="from", description="Where the KPI starts (a value in its unit, or "
        "'baseline'); with a value, the sign of to − from states the direction.")
    to: float | str | None = Field(default=None, description="The target: a value ('85%', "
                                   "'45min'), or a comparison that states the direction "
                                   "('>= 85%', '<= 40h').")
    direction: str | None = Field(default=None, description="increase or decrease (also up/"
                                  "down, higher/lower, at_least/at_most): which side of "
                                  "'to' is met.")
    change: Target | None = Field(default=None, description="Relative to the baseline, "
                                  "e.g. '<= +5%'.")

    @model_validator(mode="after")
    def _to_or_change(self) -> KeyResult:
        if (self.to is None) == (self.change is None):
            raise UsageError("expected exactly one of 'to' (a target value) or 'change' "
                             "(e.g. '<= +5%')")
        return self


class Okr(_Spec):
    """An objective with its measurable key results."""

    objective: Annotated[str, Field(min_length=1)]
    key_results: Annotated[list[KeyResult], Field(min_length=1)]


#: Default of :meth:`Model.with_source`: keep what the model has.
_KEEP: Any = object()


class Model(_Spec):
    """A process model: what one YAML file holds.

    Examples
    --------
    >>> from procsim.model import parse_model
    >>> m = parse_model('''
    ... procsim: 1
    ... name: One desk
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... resources: {clerk: {capacity: 1}}
    ... activities: {serve: {resource: clerk, duration: {dist: exponential, mean: 4}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> m.activities["serve"].duration.mean
    4.0
    """

    procsim: Literal[1] = Field(description="Format version.")
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    time_unit: Literal["seconds", "minutes", "hours", "days"] = Field(
        default="minutes", description="Unit of every bare number that is a duration."
    )
    currency: str = Field(default="", description="Currency of costs, for display only.")
    start: StartDateTime | None = Field(
        default=None, description="Date and time at simulated time 0 (local time, no "
        "daylight-saving shifts); needed by calendars and rate profiles.")
    run: RunSettings = Field(default_factory=RunSettings)
    calendars: dict[Name, CalendarSpec] = Field(
        default_factory=dict, description="Weekly open hours with holidays, by name.")
    arrivals: Arrivals
    attributes: dict[Name, AttributeSpec] = Field(
        default_factory=dict, description="Case attributes drawn at arrival."
    )
    resources: dict[Name, Resource] = Field(default_factory=dict)
    people: dict[Name, Person] = Field(
        default_factory=dict, description="Named resources, members of one or more pools.")
    priority: Priority | None = Field(
        default=None, description="Queue priority of cases (default: first come, first served).")
    working_calendar: Name | None = Field(
        default=None, description="The calendar in which working time is measured (default: the "
        "arrival calendar, if any).")
    activities: Annotated[dict[Name, Activity], Field(min_length=1)]
    gateways: dict[Name, Gateway] = Field(default_factory=dict)
    flow: dict[Name, FlowTargets]
    kpis: dict[Name, CustomKpi] = Field(
        default_factory=dict, description="Custom KPIs, reported beside the standard ones."
    )
    okrs: list[Okr] = Field(default_factory=list, description="Objectives and key results, "
                            "judged by procsim compare.")

    # Where the model came from and where each field sits in it (for error messages).
    _file: str | None = PrivateAttr(default=None)
    _positions: dict[tuple[Any, ...], tuple[int, int]] = PrivateAttr(default_factory=dict)
    # Set for scenarios (procsim.model.scenario): what was changed, from which base.
    _changes: tuple[Any, ...] = PrivateAttr(default=())
    _base_file: str | None = PrivateAttr(default=None)
    _source_data: Any = PrivateAttr(default=None)
    # Set by procsim.model.scenario.with_okrs: the separate file of KPI targets and OKRs.
    _okrs_file: str | None = PrivateAttr(default=None)
    _calendars: dict[tuple[Any, ...], Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _working_time(self) -> Model:
        """Read share thresholds in working time (``within: 2wd``) with the working calendar.

        One that cannot be read (no working calendar, a KPI in calendar time) stays NaN;
        :func:`procsim.model.check.check_model` reports it with its place in the file.
        """
        from procsim.model.targets import working_time

        for name, spec in self.kpis.items():
            if not isinstance(spec, ShareKpi):
                continue
            for key in ("within", "over"):
                limit = getattr(spec, key)
                if isinstance(limit, WorkingDuration) and not limit.resolved:
                    day = working_time(self, spec.share).day
                    if day is not None:
                        spec = spec.model_copy(update={key: limit.resolve(day, self.time_unit)})
                        self.kpis[name] = spec
        return self

    @field_validator("attributes")
    @classmethod
    def _categorical_sums_to_one(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, spec in value.items():
            if isinstance(spec, dict):
                total = sum(spec.values())
                if abs(total - 1.0) > 1e-6:
                    raise UsageError(
                        f"attribute '{name}': expected probabilities summing to 1, "
                        f"got {total:.10g}"
                    )
        return value

    def with_source(self, *, file: Any = _KEEP, positions: Any = _KEEP, source_data: Any = _KEEP,
                    changes: Any = _KEEP, base_file: Any = _KEEP, okrs_file: Any = _KEEP,
                    ) -> Model:
        """A copy of the model with its provenance replaced: each keyword given replaces one.

        The loaders set it (:func:`~procsim.model.load_model`, scenarios, OKR files): the
        ``file`` read, each field's (line, column) by dotted-path tuple (``positions``), the
        YAML data it came from (``source_data``), and for a scenario its ``changes``, its
        ``base_file`` and its ``okrs_file``. The copy is shallow, as ``model_copy``.

        Examples
        --------
        >>> from procsim.model import parse_model
        >>> m = parse_model('''
        ... procsim: 1
        ... name: One step
        ... arrivals: {interarrival: {dist: exponential, mean: 5}}
        ... activities: {a: {duration: {dist: fixed, value: 1}}}
        ... flow: {start: a, a: end}
        ... ''')
        >>> m.file, m.with_source(file="desk.yaml").file
        (None, 'desk.yaml')
        """
        copy = self.model_copy()
        given = {"_file": file, "_positions": positions, "_source_data": source_data,
                 "_changes": changes, "_base_file": base_file, "_okrs_file": okrs_file}
        for attribute, value in given.items():
            if value is not _KEEP:
                setattr(copy, attribute, value)
        return copy

    @property
    def file(self) -> str | None:
        """The file the model was loaded from, if any."""
        return self._file

    @property
    def changes(self) -> tuple[Any, ...]:
        """For a scenario, the :class:`~procsim.model.scenario.Change` s made to its base."""
        return self._changes

    @property
    def base_file(self) -> str | None:
        """For a scenario, the base model file; ``None`` for a plain model."""
        return self._base_file

    def calendar(self, name: str) -> Any:
        """The compiled :class:`procsim.calendars.Calendar` of ``calendars[name]`` (cached).

        Raises :class:`~procsim.errors.UnknownNameError` (a ``KeyError``) for an unknown name,
        :class:`~procsim.errors.UsageError` (a ``ValueError``) when the model has no ``start``.
        """
        if name not in self.calendars:
            raise UnknownNameError(f"unknown calendar {quote(name)}"
                                   f"{close_match_hint(name, list(self.calendars))}")
        # Keyed by what the compiled calendar depends on: a copy of the model with another
        # start, time unit or calendar (model_copy shares this cache) compiles its own.
        key = (name, self.start, self.time_unit, id(self.calendars.get(name)))
        cached = self._calendars.get(key)
        if cached is None or cached[0] is not self.calendars.get(name):
            from procsim.calendars import Calendar

            if self.start is None:
                raise UsageError("calendars need the model's start date-time")
            cached = (self.calendars[name],
                      Calendar(self.calendars[name], start=self.start,
                               time_unit=self.time_unit, name=name))
            self._calendars[key] = cached
        return cached[1]

    def arrival_process(self) -> Any:
        """The arrival process: :class:`procsim.arrivals.PoissonArrivals` for a rate profile,
        else :class:`procsim.arrivals.RenewalArrivals`; either on the arrival calendar."""
        from procsim.arrivals import PoissonArrivals, RenewalArrivals

        a = self.arrivals
        calendar = self.calendar(a.calendar) if a.calendar else None
        if a.rate is not None:
            if self.start is None:
                raise UsageError("a rate profile needs the model's start date-time")
            return PoissonArrivals(a.rate, start=self.start, time_unit=self.time_unit,
                                   calendar=calendar)
        assert a.interarrival is not None
        return RenewalArrivals(a.interarrival, calendar=calendar)

    @property
    def arrival_rate(self) -> float:
        """Long-run arrivals per time unit (holidays ignored)."""
        if self.arrivals.interarrival is not None and self.arrivals.calendar is None:
            mean = self.arrivals.interarrival.mean
            return 1.0 / mean if mean > 0 else float("inf")
        return float(self.arrival_process().mean_rate)

    def available_servers(self, pool: str) -> float:
        """Long-run mean number of servers of ``pool`` on shift (capacity × open share)."""
        spec = self.resources[pool]
        if spec.members:
            total = 0.0
            for person in spec.members:
                name = self.people[person].calendar or spec.calendar
                total += self.calendar(name).open_fraction() if name else 1.0
            return total
        return spec.capacity * (self.calendar(spec.calendar).open_fraction()
                                if spec.calendar else 1.0)

    @property
    def okrs_file(self) -> str | None:
        """The separate OKR file whose ``kpis`` and ``okrs`` were added, if any."""
        return self._okrs_file

    @property
    def source_data(self) -> Any:
        """The model as plain YAML data (for a scenario: the base with the changes applied)."""
        return self._source_data

    def position(self, *path: Any) -> tuple[int, int] | None:
        """(line, column) of a field in the source file, or of its nearest ancestor."""
        for end in range(len(path), -1, -1):
            pos = self._positions.get(tuple(path[:end]))
            if pos is not None:
                return pos
        return None
