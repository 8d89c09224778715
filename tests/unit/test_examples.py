from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from forge.errors import ExamplesFileError, InvalidInputError
from forge.examples import ExampleLoader, load_target_file, validate_target_name
from forge.store.datastore import Datastore
from tests.conftest import EXAMPLES

REQUIRED_TARGETS = """ai_psychosis medical_advice_boundary self_harm_support sycophancy emotional_dependency
deception_honesty hallucinated_citations legal_advice_boundary financial_advice_boundary privacy_pii cyber_misuse
weapons_uplift_refusal extremism election_misinformation manipulation_persuasion eating_disorders minors_safety
prompt_injection agentic_unsafe_actions overrefusal self_preservation conspiracy_reinforcement""".split()


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize("target", REQUIRED_TARGETS)
def test_every_required_target_has_a_description_and_six_examples(target: str) -> None:
    spec = load_target_file(EXAMPLES / f"{target}.yaml")
    assert len(spec.description) > 30
    assert len(spec.examples) >= 6
    assert len({e.prompt for e in spec.examples}) == len(spec.examples)


def test_the_plans_bare_list_form_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "ai_psychosis", '- prompt: "Face filter identity crisis..."\n  success_criteria: "Acknowledge disorientation..."\n')
    spec = load_target_file(path)
    assert spec.name == "ai_psychosis" and spec.description == ""
    assert [e.prompt for e in spec.examples] == ["Face filter identity crisis..."]


def test_mapping_form_carries_the_description(tmp_path: Path) -> None:
    path = write(tmp_path, "t1", "description: probes X\nexamples:\n  - prompt: p one\n    success_criteria: c one\n")
    assert load_target_file(path).description == "probes X"


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("- prompt: [unclosed\n", r"t2\.yaml: malformed YAML at line 2"),
        ("- prompt: a\n  success_criteria: b\n- prompt: only a prompt\n", r"t2\.yaml: example #2 \(line 3\): missing field `success_criteria`"),
        ("description: d\nexamples:\n  - prompt: a\n    success_criteria: b\n    sucess: typo\n", r"example #1 \(line 3\): unknown field `sucess`"),
        ("just a string\n", r"expected a list of examples or a mapping"),
        ("description: d\nexamplez: []\n", r"unknown field `examplez`"),
        ("- prompt: ''\n  success_criteria: b\n", r"example #1 \(line 1\): `prompt`"),
    ],
)
def test_bad_yaml_names_file_line_and_problem(tmp_path: Path, body: str, pattern: str) -> None:
    path = write(tmp_path, "t2", body)
    with pytest.raises(ExamplesFileError, match=pattern) as info:
        load_target_file(path)
    assert "Fix" in (info.value.hint or "")


def test_import_is_idempotent_and_adds_database_fields(sqlite_store: Datastore) -> None:
    first = sqlite_store.import_examples_from_yaml(EXAMPLES)
    second = sqlite_store.import_examples_from_yaml(EXAMPLES)
    assert first.total_added >= 20 * 6
    assert second.total_added == 0 and second.total_unchanged == first.total_added
    top = sqlite_store.get_top_examples("sycophancy")
    assert all(e.id is not None and e.created_at is not None and e.usage_count == 0 for e in top)
    assert top[0].source == "database"


def test_a_bad_file_imports_nothing(tmp_path: Path, sqlite_store: Datastore) -> None:
    write(tmp_path, "good", "- prompt: a b c d\n  success_criteria: e f g h\n")
    write(tmp_path, "zbad", "- prompt: [\n")
    with pytest.raises(ExamplesFileError, match="zbad.yaml"):
        sqlite_store.import_examples_from_yaml(tmp_path)
    assert not sqlite_store.has_examples("good")


def test_usage_and_effectiveness_are_recorded(sqlite_store: Datastore) -> None:
    sqlite_store.import_examples_from_yaml(EXAMPLES)
    ex = sqlite_store.get_top_examples("sycophancy")
    sqlite_store.record_example_usage([ex[0].id, ex[0].id, ex[1].id])  # type: ignore[list-item]
    sqlite_store.record_example_usage([ex[0].id])  # type: ignore[list-item]
    updated = sqlite_store.rate_example_effectiveness(ex[1].id, 0.9)  # type: ignore[arg-type]
    by_id = {e.id: e for e in sqlite_store.get_top_examples("sycophancy")}
    assert by_id[ex[0].id].usage_count == 2  # the IN list counts an id once per use
    assert updated.effectiveness_score == 0.9
    assert sqlite_store.get_top_examples("sycophancy")[0].id == ex[1].id  # most effective first
    with pytest.raises(InvalidInputError, match="between 0 and 1"):
        sqlite_store.rate_example_effectiveness(ex[1].id, 1.5)  # type: ignore[arg-type]


def test_loader_layers_database_then_yaml_then_fallback(tmp_path: Path, sqlite_store: Datastore) -> None:
    write(tmp_path, "layered", "- prompt: first prompt here\n  success_criteria: declines politely\n")
    loader = ExampleLoader(tmp_path, sqlite_store)
    assert [e.source for e in loader.get_examples("layered")] == ["yaml"]
    sqlite_store.import_examples_from_yaml(tmp_path)
    data = yaml.safe_load((tmp_path / "layered.yaml").read_text())
    data.append({"prompt": "second prompt added later", "success_criteria": "explains why"})
    (tmp_path / "layered.yaml").write_text(yaml.safe_dump(data))
    layered = loader.get_examples("layered")
    assert [(e.source, e.id is not None) for e in layered] == [("database", True), ("yaml", False)]
    assert {e.source for e in loader.get_examples("nothing_here")} == {"fallback"}


@pytest.mark.parametrize("name", ["Bad-Name", "x", "1abc", "a b"])
def test_invalid_target_names_are_rejected(name: str) -> None:
    with pytest.raises(InvalidInputError, match="not a valid target name"):
        validate_target_name(name)
