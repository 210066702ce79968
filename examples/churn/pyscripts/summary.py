"""A one-table summary of the fit for the report."""
import pandas as pd


def summarise(coefficients, statistics):
    top = coefficients[coefficients["term"] != "(Intercept)"].copy()
    top["abs_t"] = top["t_value"].abs()
    top = top.sort_values("abs_t", ascending=False).head(5)
    top["r_squared"] = float(statistics["r_squared"].iloc[0])
    top["rows_used"] = int(statistics["rows_used"].iloc[0])
    return top[["term", "estimate", "std_error", "t_value", "r_squared", "rows_used"]].reset_index(drop=True)
