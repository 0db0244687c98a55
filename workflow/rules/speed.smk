SPEED_FIGURES_CODE = provenance.reporting_code_digest("scripts/draw_speed.py")


# Run alone: its rows use up to 2 threads and nothing may run beside them (snakemake --cores 2 speed).
rule measure_speed:
    input:
        npz=f"resources/data/{SPEED_DATASET}.npz",
        provenance=f"resources/data/{SPEED_DATASET}.json",
    output:
        table=report(SPEED_TABLE, caption="../report/speed_table.rst", category="Speed"),
        environment="results/tables/speed_environment.json",
    log:
        "logs/speed.log",
    conda:
        "../../environment.yml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        settings=json.dumps(config.get("speed", {})),
    shell:
        "python scripts/speed.py --data-npz {input.npz} --data-provenance {input.provenance} --settings {params.settings:q} --out {output.table}"
        " --environment {output.environment} 2> {log}"


# The figures in a job of their own: one that fails to draw leaves the measurements in place.
rule draw_speed:
    input:
        SPEED_TABLE,
    output:
        figure=report(SPEED_FIGURE, caption="../report/speed.rst", category="Speed"),
        batch_figure=report(SPEED_BATCH_FIGURE, caption="../report/speed_by_batch.rst", category="Speed"),
    log:
        "logs/speed_figures.log",
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        code=SPEED_FIGURES_CODE,
        out_dir=Path(SPEED_FIGURE).parent,
    shell:
        "python scripts/draw_speed.py --table {input} --out-dir {params.out_dir} 2> {log}"


rule speed:
    default_target: False
    input:
        SPEED_TABLE,
        SPEED_FIGURE,
        SPEED_BATCH_FIGURE,
    localrule: True
    threads: 1
    resources:
        mem_mb=100,
        runtime=1,
