"""Script configs: priors found in YAML, JSON and text files, rendered back for one trial."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from orion_cli.core.priors import build_space
from orion_cli.core.scriptconfig import config_format, merge_priors, parse_config, render_config
from orion_cli.errors import ConfigError, PriorSyntaxError, SpaceError

CONTEXT = {"exp.name": "mnist", "trial.id": "abc123", "trial.working_dir": "/runs/abc123"}

YAML = """\
# the model
model:
  lr: orion~loguniform(1e-5, 1.0)
  optimizer: "orion~choices(['adam', 'sgd'])"
  depth: 3
layers:
  - orion~randint(1, 5)
  - 64
output: "{trial.working_dir}/model.pt"
name: "{exp.name}: {unknown}"
"""


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("conf.yaml", "yaml"),
        ("a/b/conf.YML", "yaml"),
        ("conf.json", "json"),
        ("conf.cfg", "text"),
        ("conf", "text"),
        ("yaml", "text"),
        ("conf.yaml.txt", "text"),
    ],
)
def test_config_format_follows_the_extension(path, fmt):
    assert config_format(path) == fmt


def test_yaml_priors_are_named_by_their_key_path():
    template = parse_config(YAML, "yaml")
    assert template.format == "yaml"
    assert template.priors == {
        "model/lr": "loguniform(1e-5, 1.0)",
        "model/optimizer": "choices(['adam', 'sgd'])",
        "layers/0": "randint(1, 5)",
    }
    assert build_space(template.priors).names == ["layers/0", "model/lr", "model/optimizer"]


def test_render_yaml_puts_real_values_and_substitutes_templates():
    template = parse_config(YAML, "yaml")
    params = {"model/lr": 0.0012, "model/optimizer": "sgd", "layers/0": np.int64(4)}
    text = render_config(template, params, CONTEXT)
    assert yaml.safe_load(text) == {
        "model": {"lr": 0.0012, "optimizer": "sgd", "depth": 3},
        "layers": [4, 64],
        "output": "/runs/abc123/model.pt",
        "name": "mnist: {unknown}",
    }
    assert text.splitlines()[0] == "model:"  # key order kept
    assert "lr: 0.0012" in text  # a number, not the string '0.0012'


def test_render_json_gives_indented_json_with_numbers():
    text = (
        '{"train": {"lr": "orion~uniform(0, 1)", "dirs": ["{trial.id}", "orion~fidelity(1, 8)"]}}'
    )
    template = parse_config(text, "json")
    assert template.priors == {"train/lr": "uniform(0, 1)", "train/dirs/1": "fidelity(1, 8)"}
    rendered = render_config(template, {"train/lr": 0.25, "train/dirs/1": 8}, CONTEXT)
    assert rendered == (
        '{\n  "train": {\n    "lr": 0.25,\n    "dirs": [\n      "abc123",\n      8\n    ]\n'
        "  }\n}\n"
    )


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_document_that_needs_no_change_comes_back_as_given(fmt):
    text = "# keep me\na: 1\n" if fmt == "yaml" else '{"a":   1}'
    template = parse_config(text, fmt)
    assert template.priors == {}
    assert render_config(template, {}, CONTEXT) == text


def test_render_yaml_keeps_unicode_readable_and_exact():
    template = parse_config("a: orion~uniform(0, 1)\nb: café\nc: '{exp.name}'\n", "yaml")
    assert render_config(template, {"a": 0.5}, {"exp.name": "é"}) == "a: 0.5\nb: café\nc: é\n"
    template = parse_config('a: orion~uniform(0, 1)\nb: "x\\Ny"\n', "yaml")
    assert yaml.safe_load(render_config(template, {"a": 0.5}, {})) == {"a": 0.5, "b": "x\x85y"}


def test_a_yaml_document_with_only_templates_is_rendered():
    template = parse_config("out: '{trial.id}'\n", "yaml")
    assert render_config(template, {}, CONTEXT) == "out: abc123\n"


def test_an_empty_yaml_document_has_no_prior():
    template = parse_config("", "yaml")
    assert template.priors == {}
    assert render_config(template, {}, CONTEXT) == ""


def test_text_markers_are_found_and_replaced_by_values():
    text = (
        "lr: lr~loguniform(1e-5, 1.0)\n"
        "--momentum=momentum~uniform(0, 1)\n"
        "act = model/act~choices(['re)lu', \"ta(nh\"])  # parens in strings\n"
        "size model.size~randint(1,9) out {trial.working_dir}/x {exp} a~b home~/x\n"
        "not a marker: x~unknown(1) and y~uniform without parens\n"
    )
    template = parse_config(text, "text")
    assert template.priors == {
        "lr": "loguniform(1e-5, 1.0)",
        "momentum": "uniform(0, 1)",
        "model/act": "choices(['re)lu', \"ta(nh\"])",
        "model.size": "randint(1,9)",
    }
    params = {"lr": 1e-05, "momentum": 0.5, "model/act": "re)lu", "model.size": 3}
    assert render_config(template, params, CONTEXT) == (
        "lr: 1e-05\n"
        "--momentum=0.5\n"
        "act = re)lu  # parens in strings\n"
        "size 3 out /runs/abc123/x {exp} a~b home~/x\n"
        "not a marker: x~unknown(1) and y~uniform without parens\n"
    )


def test_a_text_without_markers_renders_unchanged_but_for_templates():
    text = "a~b {x} ~/path {exp.name}\n"
    template = parse_config(text, "text")
    assert template.priors == {}
    assert render_config(template, {}, CONTEXT) == "a~b {x} ~/path mnist\n"


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        (
            "a: [1,\n b: 2",
            "yaml",
            "conf.yaml is not valid YAML (while parsing a flow sequence, expected ',' or ']', "
            "but got '<stream end>' at line 2, column 6): fix the syntax there",
        ),
        (
            "a: b: c\n",
            "yaml",
            "conf.yaml is not valid YAML (mapping values are not allowed here at line 1, "
            "column 5): fix the syntax there",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "yaml",
            "conf.yaml is not valid YAML (expected a single document in the stream, but found "
            "another document at line 2, column 1): fix the syntax there",
        ),
        (
            '{"a": 1,\n}',
            "json",
            "conf.yaml is not valid JSON (Expecting property name enclosed in double quotes at "
            "line 2, column 1): fix the syntax there",
        ),
    ],
)
def test_an_unreadable_config_is_a_config_error_with_line_and_column(text, fmt, message):
    with pytest.raises(ConfigError) as error:
        parse_config(text, fmt, source="conf.yaml")
    assert str(error.value) == message


def test_a_malformed_prior_in_a_config_names_its_key_path():
    with pytest.raises(PriorSyntaxError) as error:
        parse_config("model:\n  lr: orion~loguniform(0, 1)\n", "yaml")
    assert str(error.value) == (
        "--model/lr~'loguniform(0, 1)': loguniform needs 0 < low < high, got low=0: "
        "use a positive low bound"
    )
    with pytest.raises(PriorSyntaxError, match=r"^--x~'': not a valid prior"):
        parse_config('{"x": "orion~"}', "json")
    with pytest.raises(PriorSyntaxError, match=r"^--x~'uniform\(0, 2, 3\)': uniform takes"):
        parse_config("x~uniform(0, 2, 3)", "text")


@pytest.mark.parametrize(
    ("text", "fmt"), [("orion~uniform(0, 1)", "yaml"), ('{"": "orion~uniform(0, 1)"}', "json")]
)
def test_a_prior_without_a_key_is_a_config_error(text, fmt):
    with pytest.raises(ConfigError) as error:
        parse_config(text, fmt, source="conf")
    assert str(error.value) == (
        "conf has a prior with no key (orion~uniform(0, 1)): "
        "put it under a key, e.g. lr: orion~uniform(0, 1)"
    )


def test_text_marker_errors():
    with pytest.raises(PriorSyntaxError) as error:
        parse_config("a: 1\nlr: lr~uniform(0, (1)\nb: 2\n", "text", source="conf.txt")
    assert str(error.value) == (
        "--lr~'uniform(0, (1)': the parenthesis of uniform is never closed in conf.txt: close it"
    )
    with pytest.raises(PriorSyntaxError) as error:
        parse_config("lr = orion~uniform(0, 1)", "text")
    assert str(error.value) == (
        "--orion~'uniform(0, 1)': a prior in a text config needs its own name, not orion~: "
        "write e.g. lr~uniform(0, 1)"
    )


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("a/b: orion~uniform(0, 1)\na:\n  b: orion~uniform(0, 2)\n", "yaml"),
        ('{"0": {"x": "orion~uniform(0, 1)"}, "0/x": "orion~uniform(0, 1)"}', "json"),
        ("a/b~uniform(0, 1)\na/b~randint(0, 3)\n", "text"),
    ],
)
def test_a_prior_declared_twice_in_a_config_is_a_space_error(text, fmt):
    with pytest.raises(SpaceError) as error:
        parse_config(text, fmt, source="conf")
    assert str(error.value).endswith("is declared twice in conf: declare it once")
    assert str(error.value).startswith("prior '")


def test_merge_priors_refuses_a_dimension_declared_in_both():
    assert merge_priors({"lr": "uniform(0, 1)"}, {"model/lr": "uniform(0, 2)"}) == {
        "lr": "uniform(0, 1)",
        "model/lr": "uniform(0, 2)",
    }
    with pytest.raises(SpaceError) as error:
        merge_priors({"lr": "a", "b": "b"}, {"lr": "c"})
    assert str(error.value) == (
        "prior 'lr' declared both on the command line and in the script config: declare each once"
    )
    with pytest.raises(SpaceError) as error:
        merge_priors({"lr": "a", "b": "b"}, {"lr": "c", "b": "d"}, where=("in x", "in y"))
    assert str(error.value) == "priors 'b', 'lr' declared both in x and in y: declare each once"


def test_importing_the_module_does_not_import_yaml():
    code = "import sys, orion_cli.core.scriptconfig; print('yaml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- properties --------------------------------------------------------------------------------

PRIORS = st.sampled_from(
    [
        "uniform(-1, 1)",
        "loguniform(1e-5, 1.0, precision=None)",
        "normal(0, 3, discrete=True)",
        "randint(0, 100)",
        "choices(['a', 'b c', 'd: e'])",
        "choices({'x': 0.25, 'y': 0.75})",
        "choices([1, 2.5, True])",
    ]  # no fidelity: a space holds at most one, and a generated document may repeat it
)
KEYS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=6
).filter(lambda k: "/" not in k)
LEAVES = st.one_of(
    st.integers(-1000, 1000),
    st.text(max_size=10).filter(lambda t: not t.startswith("orion~")),
    st.booleans(),
    st.none(),
    PRIORS.map(lambda p: "orion~" + p),
)
DOCUMENTS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, min_size=1, max_size=4)
    ),
    max_leaves=12,
)


def _expected(node, params, path=()):
    if isinstance(node, str) and node.startswith("orion~"):
        return params["/".join(path)]
    if isinstance(node, dict):
        return {k: _expected(v, params, (*path, k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_expected(v, params, (*path, str(i))) for i, v in enumerate(node)]
    return node


@settings(max_examples=150, deadline=None)
@given(DOCUMENTS, st.sampled_from(["yaml", "json"]), st.integers(0, 2**32 - 1))
def test_rendered_documents_hold_the_sampled_values(document, fmt, seed):
    document = {"root": document}
    dump = json.dumps if fmt == "json" else yaml.safe_dump
    text = dump(document)
    template = parse_config(text, fmt)
    params = (
        build_space(template.priors).sample(np.random.default_rng(seed)) if template.priors else {}
    )
    rendered = render_config(template, params, {})
    loaded = json.loads(rendered) if fmt == "json" else yaml.safe_load(rendered)
    assert loaded == _expected(document, params)
