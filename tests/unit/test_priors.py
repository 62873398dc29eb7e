"""Priors: each form parses to its dimension, each mistake is one clear line, round trips hold."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orion_cli.core.priors import PRIOR_NAMES, build_space, parse_prior
from orion_cli.core.space import Categorical, Fidelity, Integer, Normal, Real, Space
from orion_cli.errors import PriorSyntaxError, SpaceError

VALID = [
    ("uniform(0, 1)", Real("x", 0.0, 1.0)),
    ("uniform(-1.5, 2.5)", Real("x", -1.5, 2.5)),
    ("uniform(0, 1, precision=None)", Real("x", 0.0, 1.0, precision=None)),
    (
        "uniform(0, 1, precision=2, default_value=0.5)",
        Real("x", 0, 1, precision=2, default_value=0.5),
    ),
    ("loguniform(1e-5, 1.0)", Real("x", 1e-5, 1.0, log=True)),
    ("uniform(1, 6, discrete=True)", Integer("x", 1, 6)),
    ("uniform(1, 6, discrete=False)", Real("x", 1.0, 6.0)),
    ("loguniform(1, 1024, discrete=True)", Integer("x", 1, 1024, log=True)),
    ("normal(0, 1)", Normal("x", 0.0, 1.0)),
    ("gaussian(-2, 0.5, precision=3)", Normal("x", -2.0, 0.5, precision=3)),
    ("normal(10, 2, discrete=True, default_value=10)", Normal("x", 10, 2, True, default_value=10)),
    ("randint(0, 10)", Integer("x", 0, 9)),
    ("randint(-3, -2, default_value=-3)", Integer("x", -3, -3, default_value=-3)),
    ("choices(['adam', 'sgd'])", Categorical("x", ("adam", "sgd"))),
    ("choices(('adam', 'sgd'))", Categorical("x", ("adam", "sgd"))),
    (
        "choices('adam', 'sgd', default_value='sgd')",
        Categorical("x", ("adam", "sgd"), None, "sgd"),
    ),
    ("choices([1, 2.5, True, None, 'a'])", Categorical("x", (1, 2.5, True, None, "a"))),
    ("choices({'a': 0.7, 'b': 0.3})", Categorical("x", ("a", "b"), (0.7, 0.3))),
    ("choices({'a': 1, 'b': 0})", Categorical("x", ("a", "b"), (1.0, 0.0))),
    ("fidelity(1, 100)", Fidelity("x", 1, 100)),
    ("fidelity(1, 100, base=4)", Fidelity("x", 1, 100, 4)),
    ("fidelity(1, 100, 4)", Fidelity("x", 1, 100, 4)),
    ("fidelity(5, 5)", Fidelity("x", 5, 5)),
    ("  uniform( 0 ,\n 1 )  ", Real("x", 0.0, 1.0)),
    ("uniform(+0, 1)", Real("x", 0.0, 1.0)),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_parse_prior_builds_the_dimension_of_each_form(text, expected):
    assert parse_prior("x", text) == expected


def test_discrete_uniform_includes_both_bounds_and_randint_excludes_high():
    assert parse_prior("n", "uniform(1, 6, discrete=True)").cardinality == 6
    assert parse_prior("n", "randint(1, 6)").cardinality == 5


def test_default_value_takes_the_type_of_the_dimension():
    assert parse_prior("x", "uniform(0, 10, default_value=3)").default_value == 3.0
    assert type(parse_prior("x", "uniform(0, 10, default_value=3)").default_value) is float
    assert type(parse_prior("n", "randint(0, 10, default_value=3.0)").default_value) is int
    choice = parse_prior("c", "choices([1, 2], default_value=2.0)").default_value
    assert choice == 2 and type(choice) is int


P = "--lr~'{}': "
ERRORS = [
    (
        "loguniform(0, 1)",
        "loguniform needs 0 < low < high, got low=0: use a positive low bound",
    ),
    (
        "loguniform(-1, 1, discrete=True)",
        "loguniform needs 0 < low < high, got low=-1: use a positive low bound",
    ),
    (
        "unifrom(0, 1)",
        "unknown prior unifrom: use one of "
        "uniform, loguniform, normal, gaussian, randint, choices, fidelity",
    ),
    ("np.uniform(0, 1)", "unknown prior np.uniform: use one of " + ", ".join(PRIOR_NAMES)),
    (
        "0.1",
        "0.1 is not a prior: write one of " + ", ".join(PRIOR_NAMES) + " with its arguments, "
        "e.g. loguniform(1e-5, 1.0)",
    ),
    (
        "uniform(0, 1",
        "not a valid prior ('(' was never closed): write name(arguments), "
        "e.g. loguniform(1e-5, 1.0)",
    ),
    ("", "not a valid prior (invalid syntax): write name(arguments), e.g. loguniform(1e-5, 1.0)"),
    ("uniform(0)", "uniform takes (low, high), got 1 argument: write uniform(low, high)"),
    ("normal(0, 1, 2)", "normal takes (mu, sigma), got 3 arguments: write normal(mu, sigma)"),
    ("randint(1)", "randint takes (low, high), got 1 argument: write randint(low, high)"),
    (
        "fidelity(1)",
        "fidelity takes (low, high, base=2), got 1 argument: write fidelity(low, high, base=2)",
    ),
    ("uniform('a', 1)", "low must be a number, got 'a' (a string): write a number"),
    ("uniform(0, True)", "high must be a number, got True (a boolean): write a number"),
    ("uniform(0, 1e999)", "high must be finite, got inf: use a finite number"),
    (
        "uniform(0, 1, shape=3)",
        "uniform has no keyword shape: use discrete, precision, default_value",
    ),
    ("randint(0, 3, precision=2)", "randint has no keyword precision: use default_value"),
    ("fidelity(1, 10, default_value=2)", "fidelity has no keyword default_value: use base"),
    (
        "uniform(1, 1)",
        "uniform needs low < high, got low=1, high=1: "
        "give a low bound smaller than the high bound",
    ),
    (
        "loguniform(2, 1)",
        "loguniform needs 0 < low < high, got low=2, high=1: "
        "give a low bound smaller than the high bound",
    ),
    ("normal(0, 0)", "normal needs sigma > 0, got sigma=0: use a positive standard deviation"),
    (
        "gaussian(0, -1)",
        "gaussian needs sigma > 0, got sigma=-1: use a positive standard deviation",
    ),
    ("choices([])", "choices has no value: give at least one, e.g. choices(['a', 'b'])"),
    ("choices({})", "choices has no value: give at least one, e.g. choices(['a', 'b'])"),
    ("choices()", "choices has no value: give at least one, e.g. choices(['a', 'b'])"),
    ("choices(['a', 'b', 'a'])", "choices has 'a' twice: list each value once"),
    ("choices({'a': 0.5, 'a': 0.5})", "choices has 'a' twice: list each value once"),
    (
        "choices({'a': 0.5, 'b': 0.4})",
        "choices weights must sum to 1, got 0.9: adjust the weights to sum to 1",
    ),
    (
        "choices({'a': -0.5, 'b': 1.5})",
        "choices weights must not be negative, got -0.5: use weights >= 0",
    ),
    (
        "choices({'a': 'x'})",
        "a choice's weight must be a number, got 'x' (a string): write a number",
    ),
    (
        "choices([[1, 2], 3])",
        "a choice must be a number, string, True, False or None, got [1, 2] (a list): "
        "list plain values",
    ),
    (
        "choices(['a'], 'b')",
        "choices takes one list, one dict, or the values themselves, got 2 arguments: "
        "write choices(['a', 'b']) or choices({'a': 0.7, 'b': 0.3})",
    ),
    (
        "choices(['a', 'b'], default_value='c')",
        "default_value='c' is not one of the choices ['a', 'b']: use a value of the prior",
    ),
    (
        "uniform(0, 1, default_value=2)",
        "default_value=2 is outside [0.0, 1.0]: use a value of the prior",
    ),
    (
        "randint(0, 3, default_value=3)",
        "default_value=3 is not an integer in [0, 2]: use a value of the prior",
    ),
    (
        "normal(0, 1, discrete=True, default_value=0.5)",
        "default_value=0.5 is not an integer (discrete=True): use a value of the prior",
    ),
    (
        "uniform(0, 1, default_value='a')",
        "default_value must be a number, got 'a' (a string): write a number",
    ),
    (
        "uniform(0, 1, precision=0)",
        "precision must be a positive integer or None, got 0 (an integer): "
        "write e.g. precision=4 (significant digits) or precision=None (full precision)",
    ),
    (
        "uniform(0, 1, precision=2.5)",
        "precision must be a positive integer or None, got 2.5 (a number): "
        "write e.g. precision=4 (significant digits) or precision=None (full precision)",
    ),
    (
        "uniform(0, 1, discrete=1)",
        "discrete must be True or False, got 1 (an integer): write discrete=True",
    ),
    (
        "uniform(1, 6, discrete=True, precision=2)",
        "precision applies to real values, not discrete=True: drop precision",
    ),
    (
        "uniform(0.5, 6, discrete=True)",
        "uniform with discrete=True needs integer bounds, got low=0.5 (a number): use integers",
    ),
    ("randint(0, 2.5)", "randint needs integer bounds, got high=2.5 (a number): use integers"),
    (
        "randint(3, 3)",
        "randint needs low < high (high is excluded), got low=3, high=3: "
        "give a low bound smaller than the high bound",
    ),
    ("fidelity(0, 10)", "fidelity needs 0 < low, got low=0: use a positive minimum budget"),
    (
        "fidelity(10, 1)",
        "fidelity needs low <= high, got low=10, high=1: "
        "give a minimum budget no larger than the maximum",
    ),
    (
        "fidelity(1, 10, base=0.5)",
        "fidelity needs base >= 1, got base=0.5: use a base of 1 or more",
    ),
    ("fidelity(1, 10, 2, base=2)", "base is given twice: give it once"),
    (
        "uniform(0, x)",
        "x is not a literal: write numbers, strings, True, False, None, "
        "or lists and dicts of them",
    ),
    (
        "uniform(0, 2 ** 3)",
        "2 ** 3 is not a literal: write numbers, strings, True, False, None, "
        "or lists and dicts of them",
    ),
    (
        "uniform(0, __import__('os').getpid())",
        "__import__('os').getpid() is not a literal: write numbers, strings, True, False, None, "
        "or lists and dicts of them",
    ),
    ("uniform(*bounds)", "*bounds is not allowed: write the arguments one by one"),
    (
        "uniform(0, 1, **options)",
        "**options is not allowed: write the keywords, e.g. loguniform(1e-5, 1.0)",
    ),
    (
        "choices({**a})",
        "{**a} is not a literal: write numbers, strings, True, False, None, "
        "or lists and dicts of them",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_parse_prior_refuses_with_one_line_naming_the_argument(text, message):
    with pytest.raises(PriorSyntaxError) as error:
        parse_prior("lr", text)
    assert str(error.value) == P.format(text.replace("\n", "\\n")) + message
    assert "\n" not in str(error.value)


def test_huge_integers_are_refused_not_overflowed():
    text = "uniform(0, 1, default_value=" + "9" * 400 + ")"
    with pytest.raises(PriorSyntaxError, match=r"default_value is too large \(400 digits\)"):
        parse_prior("lr", text)


def test_null_bytes_are_refused():
    with pytest.raises(PriorSyntaxError, match=r"not a valid prior \(source code .*null bytes"):
        parse_prior("lr", "uniform(0,\x00 1)")


def test_prior_text_with_newlines_gives_a_one_line_message():
    with pytest.raises(PriorSyntaxError) as error:
        parse_prior("lr", "uniform(0,\n x)")
    assert str(error.value).startswith("--lr~'uniform(0,\\n x)': x is not a literal")
    assert "\n" not in str(error.value)


def test_parsing_user_text_emits_no_python_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert parse_prior("c", r"choices(['\d', 'a'])").choices == ("\\d", "a")
        with pytest.raises(PriorSyntaxError, match="invalid decimal literal"):
            parse_prior("c", "uniform(0, 1e)")


def test_build_space_parses_every_prior_into_a_sorted_space():
    space = build_space({"lr": "loguniform(1e-5, 1.0)", "epochs": "fidelity(1, 10)"})
    assert space == Space((Real("lr", 1e-5, 1.0, log=True), Fidelity("epochs", 1, 10)))
    assert space.names == ["epochs", "lr"]


def test_build_space_reports_the_faulty_dimension():
    with pytest.raises(PriorSyntaxError, match=r"^--momentum~'uniform\(1, 0\)': uniform needs"):
        build_space({"lr": "uniform(0, 1)", "momentum": "uniform(1, 0)"})


def test_build_space_refuses_no_prior_and_two_fidelities():
    with pytest.raises(SpaceError) as error:
        build_space({})
    assert str(error.value) == (
        "the search space has no dimension: declare at least one prior, "
        "e.g. --lr~'loguniform(1e-5, 1.0)'"
    )
    with pytest.raises(SpaceError) as error:
        build_space({"b": "fidelity(1, 10)", "a": "fidelity(1, 5)"})
    assert str(error.value) == "the search space has 2 fidelity dimensions (a, b): keep one"
    with pytest.raises(SpaceError, match="dimension name '' is empty"):
        build_space({"": "uniform(0, 1)"})


# -- properties --------------------------------------------------------------------------------

NAMES = st.from_regex(r"[a-z][a-z0-9_/.-]{0,10}", fullmatch=True)
FINITE = st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False)
PRECISION = st.one_of(st.none(), st.integers(1, 12))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)


def _ordered(a, b):
    return (a, b) if a < b else (b, a)


@st.composite
def reals(draw):
    log = draw(st.booleans())
    values = st.floats(1e-12, 1e12) if log else FINITE
    low, high = _ordered(draw(values), draw(values))
    if low == high:
        high = low * 2 if log else low + 1
    default = draw(st.one_of(st.none(), st.floats(low, high)))
    return Real(draw(NAMES), low, high, log, draw(PRECISION), default)


@st.composite
def integers(draw):
    log = draw(st.booleans())
    values = st.integers(1, 10**9) if log else st.integers(-(10**9), 10**9)
    low, high = _ordered(draw(values), draw(values))
    if log and low == high:
        high += 1
    default = draw(st.one_of(st.none(), st.integers(low, high)))
    return Integer(draw(NAMES), low, high, log, default)


@st.composite
def normals(draw):
    discrete = draw(st.booleans())
    values = st.integers(-(10**9), 10**9) if discrete else FINITE
    default = draw(st.one_of(st.none(), values))
    sigma = draw(st.floats(1e-9, 1e9))
    return Normal(draw(NAMES), draw(FINITE), sigma, discrete, draw(PRECISION), default)


@st.composite
def categoricals(draw):
    choices = draw(st.lists(SCALARS, min_size=1, max_size=6, unique_by=lambda v: (type(v), v)))
    weights = None
    if draw(st.booleans()):
        raw = draw(st.lists(st.floats(0.01, 1.0), min_size=len(choices), max_size=len(choices)))
        weights = tuple(w / math.fsum(raw) for w in raw)
    default = draw(st.one_of(st.none(), st.sampled_from(choices)))
    return Categorical(draw(NAMES), tuple(choices), weights, default)


@st.composite
def fidelities(draw):
    values = st.one_of(st.integers(1, 10**6), st.floats(1e-6, 1e6))
    low, high = sorted([draw(values), draw(values)])
    base = draw(st.one_of(st.integers(1, 10), st.floats(1, 10)))
    return Fidelity(draw(NAMES), low, high, base)


@settings(max_examples=200, deadline=None)
@given(st.one_of(reals(), integers(), normals(), categoricals(), fidelities()))
def test_every_dimension_round_trips_through_its_prior(dim):
    assert parse_prior(dim.name, dim.prior()) == dim


ALPHABET = st.sampled_from(list("uniformlgachesdtbrpqx()[]{},.:'\"=-+*_ 0123456789eE~/\\\n"))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=60), st.text(ALPHABET, max_size=60)))
def test_arbitrary_text_parses_or_raises_prior_syntax_error(text):
    try:
        dim = parse_prior("x", text)
    except PriorSyntaxError as error:
        assert "\n" not in str(error)
        return
    assert dim.name == "x"
    assert parse_prior("x", dim.prior()) == dim


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(PRIOR_NAMES),
    args=st.lists(
        st.one_of(
            SCALARS,
            st.lists(SCALARS, max_size=3),
            st.dictionaries(st.text(max_size=2), FINITE, max_size=3),
        ),
        max_size=4,
    ),
    keywords=st.dictionaries(
        st.sampled_from(["discrete", "precision", "default_value", "base", "shape"]),
        SCALARS,
        max_size=3,
    ),
)
def test_any_call_of_a_known_prior_parses_or_raises_prior_syntax_error(name, args, keywords):
    written = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in keywords.items()]
    text = f"{name}({', '.join(written)})"
    try:
        dim = parse_prior("x", text)
    except PriorSyntaxError:
        return
    assert parse_prior("x", dim.prior()) == dim
