"""AG Grid's own words (filter menus, pagination) in Chinese, for the grids of the work screens.

AG Grid ships its translations as JavaScript only; these are the keys its community grid shows, from its
`AG_GRID_LOCALE_CN` table, so a Chinese screen has no English left in its menus.
"""

from __future__ import annotations

ZH: dict[str, str] = {
    "noRowsToShow": "无",
    "loadingOoo": "加载中…",
    "page": "第",
    "of": "共",
    "to": "至",
    "more": "更多",
    "firstPage": "首页",
    "lastPage": "末页",
    "nextPage": "下一页",
    "previousPage": "上一页",
    "pageSizeSelectorLabel": "每页行数：",
    "pageLastRowUnknown": "?",
    "filterOoo": "筛选…",
    "equals": "等于",
    "notEqual": "不等于",
    "blank": "为空",
    "notBlank": "不为空",
    "empty": "请选择",
    "lessThan": "小于",
    "greaterThan": "大于",
    "lessThanOrEqual": "小于等于",
    "greaterThanOrEqual": "大于等于",
    "inRange": "介于",
    "inRangeStart": "从",
    "inRangeEnd": "到",
    "contains": "包含",
    "notContains": "不包含",
    "startsWith": "开头是",
    "endsWith": "结尾是",
    "andCondition": "且",
    "orCondition": "或",
    "applyFilter": "应用",
    "resetFilter": "重置",
    "clearFilter": "清除",
    "cancelFilter": "取消",
    "ariaFilterInput": "筛选输入",
    "ariaFilteringOperator": "筛选条件",
    "ariaFilterMenuOpen": "打开筛选菜单",
    "ariaColumnFiltering": "列筛选",
    "sortAscending": "升序",
    "sortDescending": "降序",
    "columns": "列",
    "filters": "筛选",
}


def locale_text(lang: str) -> dict[str, str]:
    """The grid's words for `lang` (AG Grid's English when not Chinese)."""
    return ZH if lang == "zh" else {}
