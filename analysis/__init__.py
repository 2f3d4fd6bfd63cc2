"""Run analysis: statistics, thresholds, charts, reports and run comparison.

Split by what each module produces (see the README's `careerload report`):
load (reading a run directory), server (the server/ snapshots: cache, database,
backend process), stats, verdict, summary (the one structure the writers read),
charts, html, markdown, junit, report (the pipeline), compare, explain;
formatting (how numbers read), synthetic (run directories with known values,
for the tests, the benchmark and the notebook).
"""
