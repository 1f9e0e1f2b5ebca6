"""Drug reference data: the shipped file validates, look-ups, REMS concomitant categories, broken files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from desk.reference import (
    DRUG_CLASSES,
    DRUGS_FILE,
    ReferenceDataError,
    concomitant_categories,
    drug_class,
    find_drug,
    is_esketamine,
    load_reference,
    reference,
)


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "drugs.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _raw() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(DRUGS_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_shipped_file_is_valid_and_every_figure_has_a_source() -> None:
    data = load_reference()
    assert len(data.drugs) >= 30
    for drug in data.drugs:
        for figure in (drug.min_daily_mg, drug.max_daily_mg):
            assert figure.source.strip()
        assert drug.min_daily_mg.mg <= drug.max_daily_mg.mg


def test_every_class_is_represented() -> None:
    present = {d.drug_class for d in reference().drugs}
    assert present == set(DRUG_CLASSES)


def test_guideline_figures_are_marked_unconfirmed() -> None:
    for drug in reference().drugs:
        for figure in (drug.min_daily_mg, drug.max_daily_mg):
            if not figure.source.startswith("FDA PI"):
                assert figure.confirmed is False, f"{drug.generic}: a non-label figure must be confirmed: false"


def test_esketamine_is_not_a_trial_drug() -> None:
    assert find_drug("esketamine") is None
    assert find_drug("Spravato") is None
    assert is_esketamine("SPRAVATO 56 mg")
    assert not is_esketamine("sertraline")


@pytest.mark.parametrize(
    ("name", "generic", "klass"),
    [
        ("sertraline", "sertraline", "SSRI"),
        ("ZOLOFT", "sertraline", "SSRI"),
        ("  effexor   xr ", "venlafaxine", "SNRI"),
        ("Wellbutrin XL", "bupropion", "bupropion"),
        ("sertraline 100 mg tablet", "sertraline", "SSRI"),
        ("Remeron®", "mirtazapine", "mirtazapine"),
        ("trazodone", "trazodone", "SARI"),
        ("Rexulti", "brexpiprazole", "SGA"),
        ("Cytomel", "liothyronine", "thyroid_hormone"),
        ("lithium", "lithium", "lithium"),
        ("Emsam", "selegiline transdermal", "MAOI"),
    ],
)
def test_find_drug_by_generic_or_brand(name: str, generic: str, klass: str) -> None:
    drug = find_drug(name)
    assert drug is not None and drug.generic == generic
    assert drug_class(name) == klass


def test_unknown_drug_is_none() -> None:
    assert find_drug("notarealdrugium") is None
    assert drug_class("notarealdrugium") is None
    assert find_drug("") is None


def test_roles() -> None:
    assert find_drug("bupropion").counts_as_augmentation  # type: ignore[union-attr]
    assert find_drug("bupropion").counts_as_antidepressant  # type: ignore[union-attr]
    assert not find_drug("aripiprazole").counts_as_antidepressant  # type: ignore[union-attr]
    assert not find_drug("sertraline").counts_as_augmentation  # type: ignore[union-attr]


def test_concomitant_categories_classify_current_medications() -> None:
    found = concomitant_categories(
        ["Xanax 0.5 mg", "oxycodone/acetaminophen", "Adderall XR", "zolpidem", "sertraline", "Nardil", "MS Contin"]
    )
    assert found == {
        "benzodiazepines": ["Xanax 0.5 mg"],
        "opioids": ["oxycodone/acetaminophen", "MS Contin"],
        "psychostimulants": ["Adderall XR"],
        "sedative_hypnotics": ["zolpidem"],
        "maois": ["Nardil"],
    }


def test_concomitant_categories_whole_words_only() -> None:
    # "morphine" must not match inside an unrelated word, and an empty list finds nothing.
    assert concomitant_categories(["apomorphine"]) == {}
    assert concomitant_categories([]) == {}


def test_the_rems_form_categories_are_all_present() -> None:
    ids = {c.id for c in reference().concomitant_categories}
    assert ids == {"benzodiazepines", "sedative_hypnotics", "psychostimulants", "maois", "opioids"}


def test_broken_field_names_file_field_and_expectation(tmp_path: Path) -> None:
    raw = _raw()
    raw["drugs"][0]["max_daily_mg"]["mg"] = "lots"
    path = _write(tmp_path, raw)
    with pytest.raises(ReferenceDataError) as caught:
        load_reference(path)
    message = str(caught.value)
    assert str(path) in message
    assert "drugs[0] (sertraline).max_daily_mg.mg" in message
    assert "valid number" in message


def test_unknown_class_is_rejected(tmp_path: Path) -> None:
    raw = _raw()
    raw["drugs"][1]["class"] = "SSNRI"
    with pytest.raises(ReferenceDataError) as caught:
        load_reference(_write(tmp_path, raw))
    assert "drugs[1] (fluoxetine).class" in str(caught.value)
    assert "SSRI" in str(caught.value)


def test_min_above_max_is_rejected(tmp_path: Path) -> None:
    raw = _raw()
    raw["drugs"][0]["min_daily_mg"]["mg"] = 500
    with pytest.raises(ReferenceDataError, match=r"min_daily_mg \(500.0\) must not exceed max_daily_mg"):
        load_reference(_write(tmp_path, raw))


def test_missing_source_and_unknown_key_are_rejected(tmp_path: Path) -> None:
    raw = _raw()
    del raw["drugs"][2]["min_daily_mg"]["source"]
    raw["drugs"][3]["dose"] = 5
    with pytest.raises(ReferenceDataError) as caught:
        load_reference(_write(tmp_path, raw))
    message = str(caught.value)
    assert "drugs[2] (paroxetine).min_daily_mg.source: Field required" in message
    assert "drugs[3] (citalopram).dose: Extra inputs are not permitted" in message


def test_duplicate_name_is_rejected(tmp_path: Path) -> None:
    raw = _raw()
    raw["drugs"][1]["brands"].append("zoloft")
    with pytest.raises(ReferenceDataError, match="'zoloft' is used by both 'sertraline' and 'fluoxetine'"):
        load_reference(_write(tmp_path, raw))


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("drugs: [unclosed", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="not valid YAML"):
        load_reference(bad)
    with pytest.raises(ReferenceDataError, match="cannot be read"):
        load_reference(tmp_path / "absent.yaml")


def test_custom_file_is_used_for_lookups(tmp_path: Path) -> None:
    raw = _raw()
    raw["drugs"][0]["brands"].append("Sertra-Test")
    path = _write(tmp_path, raw)
    assert drug_class("sertra-test", path=path) == "SSRI"
    assert drug_class("sertra-test") is None


def test_newer_mdd_drugs_and_combinations_are_known_with_sources() -> None:
    from desk.reference import combination_components

    auvelity = find_drug("Auvelity")
    assert auvelity is not None and auvelity.generic == "dextromethorphan-bupropion"
    assert auvelity.counts_as_antidepressant and auvelity.drug_class != find_drug("bupropion").drug_class  # type: ignore[union-attr]
    caplyta = find_drug("Caplyta 42 mg")
    assert caplyta is not None and caplyta.generic == "lumateperone" and caplyta.counts_as_augmentation
    assert "adjunctive treatment of MDD" in caplyta.min_daily_mg.source
    symbyax = find_drug("Symbyax 6/25")
    assert symbyax is not None and symbyax.generic == "fluoxetine"
    assert combination_components("Symbyax") == ("olanzapine", "fluoxetine")
    assert combination_components("sertraline") == ()
    assert all(c.source for c in reference().combinations)


def test_a_combination_naming_an_unknown_component_is_refused(tmp_path: Path) -> None:
    raw = _raw()
    raw["combinations"] = [{"brand": "Mixtab", "components": ["sertraline", "unobtainium"], "counts_as": "sertraline",
                            "source": "made up"}]
    with pytest.raises(ReferenceDataError, match="component 'unobtainium' is not a listed drug"):
        load_reference(_write(tmp_path, raw))
