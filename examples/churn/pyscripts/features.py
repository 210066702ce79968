"""Feature engineering in pandas."""
import numpy as np
import pandas as pd


def add_features(d, heavy_usage_gb: float = 40):
    d = d.copy()
    d["heavy_user"] = (d["usage_gb"] > heavy_usage_gb).astype("int32")
    d["log_usage"] = np.log1p(d["usage_gb"])
    d["signup_month"] = pd.to_datetime(d["signup_date"]).dt.month.astype("int32")
    d["tickets_per_year"] = d["tickets"] / np.maximum(d["tenure_months"] / 12, 1 / 12)
    return d
