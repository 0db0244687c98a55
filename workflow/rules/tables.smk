rule xor_convergence:
    output:
        report(XOR_TABLE, caption="../report/xor_convergence_table.rst", category="Tables"),
    log:
        "logs/xor_convergence.log",
    params:
        settings=json.dumps(config.get("xor_convergence", {})),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    conda:
        "../../environment.yml"
    shell:
        "OMP_NUM_THREADS=1 python scripts/xor_table.py --settings {params.settings:q} --out {output} 2> {log}"


rule tables:
    input:
        runs=sorted(RUNS),
        claims=config["claims"],
        xor=XOR_TABLE,
        speed=speed_results,
    output:
        [
            report(
                f"results/tables/{name}",
                caption=f"../report/{name.split('.')[0]}.rst",
                category="Tables",
            )
            if name in REPORTED_TABLES
            else f"results/tables/{name}"
            for name in TABLE_NAMES
        ],
    log:
        "logs/tables.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    shell:
        "python scripts/tables.py {input.runs} --claims {input.claims} --xor {input.xor}"
        " --speed results/tables/speed.csv --out-dir results/tables 2> {log}"


rule draw_figures:
    input:
        "results/tables/summary.csv",
        "results/tables/curves.csv",
        "results/tables/depth_sweep.csv",
        XOR_TABLE,
        claims=config["claims"],
    output:
        [
            report(f"results/figures/{name}.png", caption=f"../report/{name}.rst", category="Figures")
            for name in FIGURE_NAMES
        ],
    log:
        "logs/figures.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    shell:
        "python scripts/draw_figures.py --tables results/tables --claims {input.claims}"
        " --out-dir results/figures 2> {log}"


# Redraws tables and figures from whatever runs exist, never training: `snakemake --cores 1 figures`.
rule figures:
    input:
        runs=sorted(str(p) for p in Path("results/runs").glob("*/*/*/seed*.json")),
        claims=config["claims"],
    output:
        touch("results/.figures-redrawn"),
    log:
        "logs/redraw.log",
    params:
        xor=XOR_TABLE,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    conda:
        "../../environment.yml"
    shell:
        "(python scripts/tables.py {input.runs} --claims {input.claims} --xor {params.xor}"
        " --speed results/tables/speed.csv --out-dir results/tables"
        " && python scripts/draw_figures.py --tables results/tables --claims {input.claims}"
        " --out-dir results/figures) 2> {log}"
