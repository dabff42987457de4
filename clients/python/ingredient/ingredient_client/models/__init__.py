"""Contains all the data models used in inputs/outputs"""

from .attribution import Attribution
from .get_ingredient_response_401 import GetIngredientResponse401
from .get_ingredient_response_404 import GetIngredientResponse404
from .get_ingredient_response_422 import GetIngredientResponse422
from .get_ingredient_response_422_errors_item import GetIngredientResponse422ErrorsItem
from .get_ingredient_response_429 import GetIngredientResponse429
from .ingredient_detail import IngredientDetail
from .ingredient_page import IngredientPage
from .ingredient_patch import IngredientPatch
from .ingredient_patch_minerals import IngredientPatchMinerals
from .list_minerals_response_401 import ListMineralsResponse401
from .list_minerals_response_429 import ListMineralsResponse429
from .list_or_search_response_400 import ListOrSearchResponse400
from .list_or_search_response_401 import ListOrSearchResponse401
from .list_or_search_response_422 import ListOrSearchResponse422
from .list_or_search_response_422_errors_item import ListOrSearchResponse422ErrorsItem
from .list_or_search_response_429 import ListOrSearchResponse429
from .mineral_content import MineralContent
from .mineral_info import MineralInfo
from .nutrients import Nutrients
from .rich_source import RichSource
from .richest_list import RichestList
from .richest_response_400 import RichestResponse400
from .richest_response_401 import RichestResponse401
from .richest_response_404 import RichestResponse404
from .richest_response_422 import RichestResponse422
from .richest_response_422_errors_item import RichestResponse422ErrorsItem
from .richest_response_429 import RichestResponse429
from .search_hit import SearchHit
from .update_ingredient_response_400 import UpdateIngredientResponse400
from .update_ingredient_response_401 import UpdateIngredientResponse401
from .update_ingredient_response_403 import UpdateIngredientResponse403
from .update_ingredient_response_404 import UpdateIngredientResponse404
from .update_ingredient_response_412 import UpdateIngredientResponse412
from .update_ingredient_response_422 import UpdateIngredientResponse422
from .update_ingredient_response_422_errors_item import UpdateIngredientResponse422ErrorsItem
from .update_ingredient_response_429 import UpdateIngredientResponse429

__all__ = (
    "Attribution",
    "GetIngredientResponse401",
    "GetIngredientResponse404",
    "GetIngredientResponse422",
    "GetIngredientResponse422ErrorsItem",
    "GetIngredientResponse429",
    "IngredientDetail",
    "IngredientPage",
    "IngredientPatch",
    "IngredientPatchMinerals",
    "ListMineralsResponse401",
    "ListMineralsResponse429",
    "ListOrSearchResponse400",
    "ListOrSearchResponse401",
    "ListOrSearchResponse422",
    "ListOrSearchResponse422ErrorsItem",
    "ListOrSearchResponse429",
    "MineralContent",
    "MineralInfo",
    "Nutrients",
    "RichestList",
    "RichestResponse400",
    "RichestResponse401",
    "RichestResponse404",
    "RichestResponse422",
    "RichestResponse422ErrorsItem",
    "RichestResponse429",
    "RichSource",
    "SearchHit",
    "UpdateIngredientResponse400",
    "UpdateIngredientResponse401",
    "UpdateIngredientResponse403",
    "UpdateIngredientResponse404",
    "UpdateIngredientResponse412",
    "UpdateIngredientResponse422",
    "UpdateIngredientResponse422ErrorsItem",
    "UpdateIngredientResponse429",
)
