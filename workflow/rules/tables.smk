# Each rule reruns when the code it runs changes (its params carry a digest of that code).
XOR_CODE = provenance.reporting_code_digest("scripts/xor_table.py")
TABLES_CODE = provenance.reporting_code_digest("scripts/tables.py")
FIGURES_CODE = provenance.reporting_code_digest("scripts/draw_figures.py")


# The full tables and figures come from these rules; `figures` writes the same files from
# whatever runs exist. Tables, figures and Kaneko's XOR table (compiled online ED on four
# examples) take seconds: they run where Snakemake runs (local rules), since on a cluster each
# would wait a scheduler round trip longer than itself.


# Each figure's report caption, which says what to read from it: the per-task headline figures
# share one, and a figure named as a reported table (gap, time to target) has its own beside the table's.
FIGURE_CAPTIONS = {
    name: (
        "../report/headline_figure.rst"
        if name.startswith("headline_")
        else f"../report/{name}_figure.rst" if f"{name}.csv" in REPORTED_TABLES else f"../report/{name}.rst"
    )
    for name in FIGURE_NAMES
}


rule xor_convergence:
    output:
        report(XOR_TABLE, caption="../report/xor_convergence_table.rst", category="Tables"),
    log:
        "logs/xor_convergence.log",
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        settings=json.dumps(config.get("xor_convergence", {})),
        code=XOR_CODE,
    shell:
        thread_variables(1) + " python scripts/xor_table.py --settings {params.settings:q} --out {output} 2> {log}"


rule tables:
    input:
        runs=sorted(RUNS),
        claims=config["claims"],
        xor=XOR_TABLE,
        speed=speed_results,
    output:
        [
            (
                report(
                    f"results/tables/{name}",
                    caption=caption(name),
                    category="Tables",
                )
                if name in REPORTED_TABLES
                else f"results/tables/{name}"
            )
            for name in TABLE_NAMES
        ],
    log:
        "logs/tables.log",
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=TABLES_CODE,
    shell:
        "python scripts/tables.py {input.runs} --claims {input.claims} --xor {input.xor}"
        " --speed results/tables/speed.csv --out-dir results/tables 2> {log}"


rule draw_figures:
    input:
        "results/tables/summary.csv",
        "results/tables/curves.csv",
        "results/tables/depth_sweep.csv",
        "results/tables/headline.csv",
        "results/tables/time_to_target.csv",
        "results/tables/best_settings.csv",
        "results/tables/gap.csv",
        XOR_TABLE,
        claims=config["claims"],
    output:
        [
            report(f"results/figures/{name}.png", caption=FIGURE_CAPTIONS[name], category="Figures")
            for name in FIGURE_NAMES
        ],
        LANDING_PAGE,
    log:
        "logs/figures.log",
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=FIGURES_CODE,
        race_tasks=" ".join(RACE_TASKS),
    shell:
        "python scripts/draw_figures.py --tables results/tables --claims {input.claims}"
        " --race-tasks {params.race_tasks} --out-dir results/figures 2> {log}"


# Redraws tables and figures from whatever runs exist, never training: `snakemake --cores 1 figures`.
# It names no run file and no output, so it runs whenever it is asked for, whatever config made
# the runs, and Snakemake never looks for a rule to train the runs it reads (a run from another
# config is not part of this one's plan). The headline figures are drawn for the tasks the runs raced on.
rule figures:
    input:
        claims=config["claims"],
    log:
        "logs/redraw.log",
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        xor=XOR_TABLE,
        speed=f"--speed {SPEED_TABLE}" if Path(SPEED_TABLE).exists() else "",
    shell:
        "(python scripts/tables.py --runs-under results/runs --claims {input.claims} --xor {params.xor}"
        " --speed results/tables/speed.csv --out-dir results/tables"
        " && python scripts/draw_figures.py --tables results/tables --claims {input.claims}"
        " {params.speed} --out-dir results/figures) 2> {log}"
