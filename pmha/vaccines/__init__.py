"""Vaccination: records, requirements, waivers; `cdsi` is the forecasting engine (pure)."""
