"""Replay of past papers through the poll's selection: `backtest`, `tune` and their figures.

- `snapshot`: streaming reader of arXiv snapshot JSON lines (.gz too);
- `days`: `Replay`, the day-by-day backtest through `ranking.Selector`, and its `--out` lines;
- `labels`: labelled papers, where a label counts as found, recall / precision / AUC per label;
- `jobs`: `backtest --jobs`: forked workers parse, match and score blocks of snapshot lines;
- `curator`: the simulated curator and `CuratedReplay`, a replay that learns as the days go;
- `build`: the scorer, the catalog papers, the replay and its input, from `Settings`;
- `report`: the backtest's text report;
- `tune`: one topic (and a trial query) over past papers, and `tune --suggest` from the store.
"""
