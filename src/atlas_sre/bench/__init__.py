"""bench room: the `atlas-sre bench` command's machinery — plans, parallel resumable runs, metrics, reports.

Entry points: `bench.runner.run_bench(BenchConfig, out)`, `bench.report.write_reports`,
`bench.config.BenchConfig`. Nothing is re-exported here on purpose: spawn workers import this
package before their episode module, and a package that imported the runner would load the
whole protocol, the capsule room and matplotlib into every worker (see README.md).
"""
