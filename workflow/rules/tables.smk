rule tables:
    input:
        runs=sorted(RUNS),
        claims=config["claims"],
    output:
        [
            report(
                f"results/tables/{name}",
                caption=f"../report/{name.split('.')[0]}.rst",
                category="Tables",
            )
            if name in ("per_method.csv", "reproduction.csv")
            else f"results/tables/{name}"
            for name in TABLE_NAMES
        ],
    log:
        "logs/tables.log",
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    shell:
        "python scripts/tables.py {input.runs} --claims {input.claims} --out-dir results/tables 2> {log}"


rule draw_figures:
    input:
        "results/tables/summary.csv",
        "results/tables/curves.csv",
    output:
        [
            report(f"results/figures/{name}.png", caption=f"../report/{name}.rst", category="Figures")
            for name in FIGURE_NAMES
        ],
    log:
        "logs/figures.log",
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    shell:
        "python scripts/draw_figures.py --tables results/tables --out-dir results/figures 2> {log}"


# Redraws tables and figures from whatever runs exist, never training: `snakemake --cores 1 figures`.
rule figures:
    input:
        runs=sorted(str(p) for p in Path("results/runs").glob("*/*/*/seed*.json")),
        claims=config["claims"],
    output:
        touch("results/.figures-redrawn"),
    log:
        "logs/redraw.log",
    localrule: True
    conda:
        "../../environment.yml"
    shell:
        "(python scripts/tables.py {input.runs} --claims {input.claims} --out-dir results/tables"
        " && python scripts/draw_figures.py --tables results/tables --out-dir results/figures) 2> {log}"
