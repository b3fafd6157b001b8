"""`gencomp models`: the predictor specs and their options."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from gencomp.spec import families


def models() -> None:
    """List the predictor specs (for --model) and their options."""
    table = Table(title="Predictors: --model NAME[:key=value,...]", show_lines=True)
    table.add_column("name", style="bold")
    table.add_column("what it is")
    table.add_column("options (default)")
    for family in families():
        options = "\n".join(f"{o.name} ({o.default!r}): {o.help}" for o in family.options)
        table.add_row(family.name, family.help, options)
    Console().print(table)
