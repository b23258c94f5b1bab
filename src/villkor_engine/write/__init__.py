"""Writing what a run produced: result files (`output`) and the run ledger (`ledger`).

The layers, bottom to top (a module imports only from its own layer or below):

    diagnostics, datafiles, gcpause   spans, diagnostics; data-file name and format rules
    syntax                            grammar → syntax tree (fmt formats it)
    model                             syntax tree → checked model
    io                                reading: data files → typed rows (paths, readers, data)
    eval                              the reference evaluator: verdicts, money, trace
    write                             writing: CSV/Excel/Parquet results, the run ledger
    batch                             the column engine (it writes through `write`)
    pipeline, explain, hover, report, diff   the stages wired together, and what shows them
    api                               one entry for every front end
    cli, serve, lsp, bdd              the front ends

Reading sits below evaluation (the evaluator reads its rows through `io.data`), writing above it
(the writers turn an evaluator's `Result` into rows): so writing is its own package, not `io`,
and nothing in `io` imports from here.
"""

# The run ledger's file name, here rather than in `ledger` only: the CLI's help names it, and
# `villkor check` should not load the ledger (and json) to say so. `ledger.LEDGER_NAME` is this.
LEDGER_NAME = "villkor-körningar.duckdb"   # beside the results; `history` looks in the cwd
