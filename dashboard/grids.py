"""The work screens' grids: empty until a callback fills them, in AG Grid's own words for the viewer's language, and
one look for all of them."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag

from dashboard.grid_locale import locale_text

SORT_FILTER: dict[str, Any] = {"sortable": True, "filter": True, "resizable": True}
# A grid whose row is picked for an action: one row, by a click; every column rendered (for search and the tests).
PICK_ONE_ROW: dict[str, Any] = {
    "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
    "suppressColumnVirtualisation": True,
}


def work_grid(
    grid_id: str,
    columns: list[dict[str, Any]],
    lang: str,
    *,
    style: dict[str, str],
    options: dict[str, Any] | None = None,
    default_column: dict[str, Any] = SORT_FILTER,
    row_id: str | None = None,
) -> dag.AgGrid:
    """A grid with these column definitions and AG Grid `options`; `row_id`, the JavaScript that keys a row."""
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=[],
        defaultColDef=default_column,
        dashGridOptions={**(options or {}), "localeText": locale_text(lang)},
        style=style,
        className="ag-theme-alpine followups-grid",
        **({"getRowId": row_id} if row_id else {}),
    )
