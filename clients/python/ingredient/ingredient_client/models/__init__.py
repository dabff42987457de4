"""Contains all the data models used in inputs/outputs"""

from .attribution import Attribution
from .ingredient_detail import IngredientDetail
from .ingredient_page import IngredientPage
from .ingredient_patch import IngredientPatch
from .ingredient_patch_minerals import IngredientPatchMinerals
from .mineral_content import MineralContent
from .mineral_info import MineralInfo
from .nutrients import Nutrients
from .problem import Problem
from .rich_source import RichSource
from .richest_list import RichestList
from .search_hit import SearchHit
from .validation_problem import ValidationProblem
from .validation_problem_errors_item import ValidationProblemErrorsItem

__all__ = (
    "Attribution",
    "IngredientDetail",
    "IngredientPage",
    "IngredientPatch",
    "IngredientPatchMinerals",
    "MineralContent",
    "MineralInfo",
    "Nutrients",
    "Problem",
    "RichestList",
    "RichSource",
    "SearchHit",
    "ValidationProblem",
    "ValidationProblemErrorsItem",
)
