"""refine() takes the grouped arguments only: its signature is the README's, and each former keyword
(``warm=``, ``label=``, ``grids=``, ``recompute=``, ...) is refused by name with a TypeError that says where it
went, before anything is built or solved."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import occontrol as oc

# the module that defines refine (found from the function, whatever the module is called)
refinement = importlib.import_module(oc.refine.__module__)
README = Path(__file__).resolve().parents[1] / "README.md"

FORMER = {"guess": r"start=oc\.StartPolicy\(guess=", "warm": r"start=oc\.StartPolicy\(warm=",
          "prolongation": r"start=oc\.StartPolicy\(prolongation=",
          "warm_start_multipliers": r"start=oc\.StartPolicy\(multipliers=", "first": r"start=oc\.StartPolicy\(first=",
          "progress": r"reporter=oc\.Reporter\(progress=", "metrics": r"reporter=oc\.Reporter\(metrics=",
          "shown": r"reporter=oc\.Reporter\(shown=", "controls": r"reporter=oc\.Reporter\(controls=",
          "label": r"reporter=oc\.Reporter\(label=", "problem_record": r"reporter=oc\.Reporter\(problem_record=",
          "grids": r"the ladder argument", "recompute": r"store=LevelStore\(folder, recompute=True\)"}


def test_the_signature_is_the_one_in_the_readme():
    documented = re.search(r"^# refine\((.*)\)$", README.read_text(), re.M)
    assert documented, "README: the refine signature line is missing"
    names = [part.split("=")[0].strip() for part in documented.group(1).split(",") if part.strip() != "*"]
    parameters = inspect.signature(oc.refine).parameters
    assert list(parameters) == names == ["ocp", "transcription", "ladder", "start", "store", "solver", "hess_lag",
                                         "reporter"]
    assert [p.name for p in parameters.values() if p.kind is p.KEYWORD_ONLY] == names[3:]
    assert not any(p.kind is p.VAR_KEYWORD for p in parameters.values())


@pytest.mark.parametrize("name", sorted(FORMER))
def test_a_former_keyword_is_refused_by_name_with_its_new_place(name, lq_problem, no_graph):
    ocp, _, _ = lq_problem()
    message = rf"^refine: unexpected keyword arguments \['{name}'\] \({name}= is now {FORMER[name]}"
    with pytest.raises(TypeError, match=message):
        oc.refine(ocp, oc.RK4(), [8], **{name: None})


def test_several_former_keywords_and_an_unknown_one_are_named_together(lq_problem, no_graph):
    ocp, _, _ = lq_problem()
    with pytest.raises(TypeError, match=r"^refine: unexpected keyword arguments \['bogus', 'label', 'warm'\] "
                                        r"\(label= is now reporter=oc\.Reporter\(label=\.\.\.\); "
                                        r"warm= is now start=oc\.StartPolicy\(warm=\.\.\.\)\)$"):
        oc.refine(ocp, oc.RK4(), [8], warm=False, label="x", bogus=1)


def test_recompute_is_checked_by_the_level_store():
    with pytest.raises(TypeError, match=r"^recompute: expected True or False"):
        refinement.LevelStore("x", recompute="yes")
