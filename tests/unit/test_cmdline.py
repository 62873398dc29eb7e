"""The user's command line: priors found in every form, all else passed through untouched."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from orion_cli.core.cmdline import (
    TEMPLATE_KEYS,
    ParsedCommand,
    format_value,
    parse_commandline,
    render_commandline,
    substitute,
)
from orion_cli.errors import ConfigError, PriorSyntaxError, SpaceError

CONTEXT = {
    "exp.name": "mnist",
    "exp.version": "2",
    "exp.working_dir": "/runs/mnist",
    "trial.id": "abc123",
    "trial.working_dir": "/runs/mnist/abc123",
    "trial.hash_params": "h4sh",
}


def test_parse_commandline_finds_every_form_of_prior():
    argv = [
        "python",
        "train.py",
        "--lr~loguniform(1e-5, 1.0)",
        "-x~uniform(-1, 1)",
        "--optimizer",
        "orion~choices(['adam', 'sgd'])",
        "--epochs=orion~fidelity(1, 16, base=4)",
    ]
    parsed = parse_commandline(argv)
    assert parsed == ParsedCommand(
        argv=tuple(argv),
        priors={
            "lr": "loguniform(1e-5, 1.0)",
            "x": "uniform(-1, 1)",
            "optimizer": "choices(['adam', 'sgd'])",
            "epochs": "fidelity(1, 16, base=4)",
        },
        config_path=None,
    )


def test_a_prior_keeps_quotes_passed_without_a_shell_out_of_its_text():
    parsed = parse_commandline(["./train.sh", "--lr~'uniform(0, 1)'", '-y~"randint(1, 4)"'])
    assert parsed.priors == {"lr": "uniform(0, 1)", "y": "randint(1, 4)"}


@pytest.mark.parametrize(
    "argv",
    [
        ["python", "train.py", "--config", "conf.yaml"],
        ["python", "train.py", "--config=conf.yaml"],
    ],
)
def test_parse_commandline_finds_the_script_config_in_both_forms(argv):
    assert parse_commandline(argv).config_path == "conf.yaml"


def test_the_script_config_option_is_named_by_the_caller():
    argv = ["prog", "--config", "a.yaml", "--hparams", "b.json"]
    assert parse_commandline(argv, user_script_config="hparams").config_path == "b.json"
    assert parse_commandline(argv, user_script_config="--hparams").config_path == "b.json"
    assert parse_commandline(["prog", "--config"]).config_path is None
    assert parse_commandline(["prog", "--", "x"], user_script_config="").config_path is None


@pytest.mark.parametrize(
    "tokens",
    [
        ["--out~/data/sets"],  # a home path
        ["--out~"],
        ["--note", "a~b"],
        ["a~b"],
        ["--note=a~b"],
        ['--data={"a~b": 1}'],
        ['{"a": 1, "b": [2, {"c": "~"}]}'],
        ["---x~uniform(0, 1)"],
        ["-1~2"],
        ["orion~uniform(0, 1)"],  # a positional value: no option to name it
        ["--", "positional~thing"],
        ["~/.bashrc", "--name", "~user"],
    ],
)
def test_tokens_that_declare_no_prior_reach_the_child_untouched(tokens):
    argv = ["python", "train.py", *tokens]
    assert parse_commandline(argv).priors == {}
    assert render_commandline(argv, {}, CONTEXT) == argv


@pytest.mark.parametrize(
    "argv",
    [
        ["-x~foo", "--lr~uniform(0, 1)"],
        ["python", "-W", "orion~x", "-u", "train.py", "--lr~uniform(0, 1)"],
        ["python3.11", "-m", "-x~foo", "--lr~uniform(0, 1)"],
        ["/usr/bin/python", "-c", "--x~foo", "--lr~uniform(0, 1)"],
    ],
)
def test_the_program_tokens_are_never_priors(argv):
    assert parse_commandline(argv).priors == {"lr": "uniform(0, 1)"}


def test_an_option_that_declares_a_malformed_prior_is_an_error():
    with pytest.raises(PriorSyntaxError) as error:
        parse_commandline(["prog", "--lr~loguniform(0, 1)"])
    assert str(error.value) == (
        "--lr~'loguniform(0, 1)': loguniform needs 0 < low < high, got low=0: "
        "use a positive low bound"
    )
    with pytest.raises(PriorSyntaxError, match=r"^--note~'hello': hello is not a prior"):
        parse_commandline(["prog", "--note~hello"])
    with pytest.raises(PriorSyntaxError, match=r"^--lr~'': not a valid prior"):
        parse_commandline(["prog", "--lr", "orion~"])
    with pytest.raises(PriorSyntaxError, match=r"^--lr~'unifrom\(0, 1\)': unknown prior"):
        parse_commandline(["prog", "--lr=orion~unifrom(0, 1)"])


@pytest.mark.parametrize(
    "argv",
    [
        ["prog", "--lr~uniform(0, 1)", "--lr~uniform(0, 2)"],
        ["prog", "--lr~uniform(0, 1)", "--lr", "orion~uniform(0, 2)"],
        ["prog", "-lr~uniform(0, 1)", "--lr=orion~uniform(0, 2)"],
    ],
)
def test_a_prior_declared_twice_is_a_space_error(argv):
    with pytest.raises(SpaceError) as error:
        parse_commandline(argv)
    assert str(error.value) == "prior 'lr' is declared twice on the command line: declare it once"


def test_the_script_config_given_twice_is_a_config_error():
    with pytest.raises(ConfigError) as error:
        parse_commandline(["prog", "--config", "a.yaml", "--config=b.yaml"])
    assert str(error.value) == (
        "--config is given twice ('a.yaml' and 'b.yaml'): give the script config once"
    )


def test_render_commandline_puts_each_value_after_the_option_as_spelled():
    argv = [
        "python",
        "train.py",
        "--lr~loguniform(1e-5, 1.0)",
        "-x~uniform(-5, 5)",
        "--optimizer",
        "orion~choices(['adam', 'sgd'])",
        "--epochs=orion~fidelity(1, 16)",
        "--seed",
        "1",
    ]
    params = {"lr": 0.0123, "x": 3.2, "optimizer": "adam", "epochs": 16}
    assert render_commandline(argv, params, CONTEXT) == [
        "python",
        "train.py",
        "--lr",
        "0.0123",
        "-x",
        "3.2",
        "--optimizer",
        "adam",
        "--epochs=16",
        "--seed",
        "1",
    ]


def test_render_commandline_replaces_the_config_by_the_trial_copy():
    argv = ["prog", "--config", "conf.yaml", "--other=conf.yaml"]
    copy = "/runs/t/conf.yaml"
    assert render_commandline(argv, {}, {}, config_copy=copy) == [
        "prog",
        "--config",
        copy,
        "--other=conf.yaml",
    ]
    assert render_commandline(["prog", "--config=c.json"], {}, {}, config_copy=copy) == [
        "prog",
        f"--config={copy}",
    ]
    assert render_commandline(argv, {}, {}) == argv
    rendered = render_commandline(
        ["p", "--hp", "a"], {}, {}, config_copy="b", user_script_config="hp"
    )
    assert rendered == ["p", "--hp", "b"]


def test_render_commandline_substitutes_templates_in_every_argument():
    argv = [
        "{exp.working_dir}/run.sh",
        "--out={trial.working_dir}/out",
        "--tag",
        "{exp.name}-v{exp.version}-{trial.id}-{trial.hash_params}",
        '{"json": {"a": 1}}',
        "{unknown}",
        "{0}",
        "{exp.name!r}",
        "{{exp.name}}",
        "--lr~uniform(0, 1)",
    ]
    assert render_commandline(argv, {"lr": 0.5}, CONTEXT) == [
        "/runs/mnist/run.sh",
        "--out=/runs/mnist/abc123/out",
        "--tag",
        "mnist-v2-abc123-h4sh",
        '{"json": {"a": 1}}',
        "{unknown}",
        "{0}",
        "{exp.name!r}",
        "{mnist}",
        "--lr",
        "0.5",
    ]


def test_render_commandline_needs_a_value_for_every_prior():
    with pytest.raises(KeyError, match="'lr'"):
        render_commandline(["prog", "--lr~uniform(0, 1)"], {"x": 1}, {})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3"),
        (-7, "-7"),
        (0.0123, "0.0123"),
        (1e-05, "1e-05"),
        (1.0, "1.0"),
        (2.5e20, "2.5e+20"),
        ("adam", "adam"),
        ("", ""),
        (True, "True"),
        (False, "False"),
        (None, "None"),
        (np.float64(0.1), "0.1"),
        (np.int64(4), "4"),
        (np.bool_(True), "True"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_substitute_is_one_literal_pass_over_known_keys():
    assert substitute("{trial.id}/{trial.id}", CONTEXT) == "abc123/abc123"
    # A value holding a template is not scanned again.
    assert substitute("{exp.name}", {"exp.name": "{trial.id}", "trial.id": "x"}) == "{trial.id}"
    # A known key absent from the context stays as written.
    assert substitute("{trial.id} {exp.name}", {"exp.name": "e"}) == "{trial.id} e"
    assert substitute("{a} {} {exp} {exp.name", CONTEXT) == "{a} {} {exp} {exp.name"
    assert set(TEMPLATE_KEYS) == set(CONTEXT)


# -- properties --------------------------------------------------------------------------------

TOKEN_TEXT = st.text(
    st.one_of(
        st.sampled_from(list("-~{}[]()'\"=/.: orion\\")),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=20,
)
TOKENS = st.one_of(
    TOKEN_TEXT,
    st.builds(lambda a, b: f"{a}~{b}", TOKEN_TEXT, TOKEN_TEXT),
    st.builds(lambda a: f"--{a}", TOKEN_TEXT),
    st.builds(lambda a: f"--out~/{a}", TOKEN_TEXT),
    st.sampled_from(["--note", "a~b", "{x}", "{trial.id}", "--config", "orion~", "-"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(TOKENS, max_size=12))
def test_an_argv_without_priors_renders_back_unchanged(tokens):
    argv = ["python", "script.py", *tokens]
    try:
        parsed = parse_commandline(argv)
    except PriorSyntaxError:
        assume(False)  # the token declares a prior, however malformed: not this property
        raise
    except ConfigError:
        assume(False)
        raise
    assume(not parsed.priors)
    assert parsed.argv == tuple(argv)
    assert render_commandline(argv, {}, {}) == argv
    if not any("{" + key + "}" in token for token in tokens for key in TEMPLATE_KEYS):
        assert render_commandline(argv, {}, CONTEXT) == argv


VALUES = st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=5), st.booleans())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["inline", "short", "value", "joined", "plain"]), VALUES),
        max_size=8,
    )
)
def test_rendering_replaces_exactly_the_priors(items):
    argv, params, expected = ["prog"], {}, ["prog"]
    for i, (form, value) in enumerate(items):
        name = f"p{i}"
        params[name] = value
        text = format_value(value)
        if form == "inline":
            argv.append(f"--{name}~choices([0])")
            expected += [f"--{name}", text]
        elif form == "short":
            argv.append(f"-{name}~uniform(0, 1)")
            expected += [f"-{name}", text]
        elif form == "value":
            argv += [f"--{name}", "orion~normal(0, 1)"]
            expected += [f"--{name}", text]
        elif form == "joined":
            argv.append(f"--{name}=orion~randint(0, 9)")
            expected.append(f"--{name}={text}")
        else:  # an option with a plain value, not a prior
            del params[name]
            argv += [f"--{name}", str(i)]
            expected += [f"--{name}", str(i)]
    assert set(parse_commandline(argv).priors) == set(params)
    assert render_commandline(argv, params, {}) == expected


def test_a_short_option_prior_error_names_the_option_as_spelled():
    with pytest.raises(PriorSyntaxError) as info:
        parse_commandline(["python", "s.py", "-x~choices([])"])
    assert str(info.value).startswith("-x~'choices([])': ")
    with pytest.raises(PriorSyntaxError) as info:
        parse_commandline(["python", "s.py", "--lr~uniform(1, 0)"])
    assert str(info.value).startswith("--lr~'uniform(1, 0)': ")
