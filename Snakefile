# edbench: every learning method on every task over several seeds, then tables, figures and a report.
#   snakemake --cores 8                       the full benchmark (config/config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml    the reduced CI run
#   snakemake --cores 1 figures               redraw tables and figures from existing results
#   snakemake --report report.html            a self-contained report
from snakemake.utils import min_version

min_version("9.0")


# A --configfile replaces the default instead of being merged into it.
if not config:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


# validates the config (edbench.config.validate, the only validation) and plans every run
include: "workflow/rules/common.smk"


# The runs are named here as well as in the tables' inputs: Snakemake checks a target's own inputs
# for missing files, but not the inputs of a job whose outputs are up to date, so a deleted run file
# would otherwise never be made again.
rule all:
    default_target: True
    input:
        TABLES,
        FIGURES,
        speed_results(),
        sorted(RUNS),


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/speed.smk"
