"""The MCP face's one rule of its own, money: the user's cap for assistants and the spending rule it gives the
lifecycle (Cap), and amounts as its messages word them (dollars)."""

from __future__ import annotations

from typing import Any

from director.errors import InputError
from director.options import MAX_BUDGET_USD


class Cap:
    """What an assistant may spend: the user's cap per run, read from their config, never from a tool call."""

    def __init__(self, settings: Any) -> None:
        table = settings.file_config().get("mcp") or {}
        usd = settings.mcp_budget_usd if settings.mcp_budget_usd is not None else table.get("budget_usd")
        if usd is not None and (isinstance(usd, bool) or not isinstance(usd, (int, float)) or not 0 <= usd <= MAX_BUDGET_USD):
            raise InputError(f"config.toml [mcp] budget_usd must be a number of dollars from 0 to {MAX_BUDGET_USD:,.0f} "
                             f"(got {usd!r})")
        self.usd: float | None = float(usd) if usd is not None else None
        self.default_usd: float = settings.default_budget_usd

    @property
    def most(self) -> float:
        """The largest budget an assistant may name."""
        return self.usd if self.usd is not None else self.default_usd

    def check(self, budget: float | None) -> None:
        if budget is not None and budget > self.most:
            where = ("the user's cap for assistants (DIRECTOR_MCP_BUDGET_USD or config.toml [mcp] budget_usd)"
                     if self.usd is not None else "the default cap (DIRECTOR_DEFAULT_BUDGET_USD); the user can "
                     "give assistants a cap of their own with DIRECTOR_MCP_BUDGET_USD")
            raise InputError(f"a budget of ${dollars(budget)} is past ${dollars(self.most)}, {where}: ask the user to "
                             f"raise it")

    def __call__(self, *, paid: bool, approve: bool, budget: float | None) -> tuple[bool, float | None]:
        """The lifecycle's Spending rule: a paid run without a cap stops at the gate; with one, it spends up to it."""
        self.check(budget)
        if not paid:
            return approve, budget
        if self.usd is None:
            return True, budget
        return approve, budget if budget is not None else self.usd


def dollars(usd: float) -> str:
    """An amount as a message shows it: cents, unless that would hide the difference ($3.001 is not $3.00)."""
    return f"{usd:,.2f}" if abs(usd * 100 - round(usd * 100)) < 1e-9 else f"{usd:,.4f}".rstrip("0")
