"""`gencomp models`: the predictor specs and their options."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from gencomp.spec import Option, families


def models() -> None:
    """List the predictor specs (for --model) and their options."""
    table = Table(title="Predictors: --model NAME[:key=value,...]", show_lines=True)
    table.add_column("name", style="bold")
    table.add_column("what it is")
    table.add_column("options (default; range, unit)")
    for family in families():
        table.add_row(family.name, family.help, "\n".join(_option_line(o) for o in family.options))
    Console().print(table)
    print("Specs written by gencomp 0.1.0 still load: lookahead, spans, offsets, sharpness and primes "
          "are read as horizon, continuations, views, exponent and shuffled_views.")


def _option_line(option: Option) -> str:
    """``name (default; range unit): help``."""
    bounds = "; ".join(filter(None, (option.range(), option.unit)))
    return f"{option.name} ({option.default!r}{'; ' + bounds if bounds else ''}): {option.help}"
