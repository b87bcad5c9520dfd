"""Where the bundled workbooks live."""

from pathlib import Path

# The demo history, built from funding/data/demo.toml by `build_demo_workbook`; `seed_demo` imports it.
DEMO_WORKBOOK = Path(__file__).resolve().parent / "data" / "demo-history.xlsx"
