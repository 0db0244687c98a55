# Run alone: its rows use up to 2 threads and nothing may run beside them (snakemake --cores 2 speed).
rule measure_speed:
    input:
        npz=f"resources/data/{SPEED_DATASET}.npz",
        provenance=f"resources/data/{SPEED_DATASET}.json",
    output:
        table=report(SPEED_TABLE, caption="../report/speed_table.rst", category="Speed"),
        figure=report(SPEED_FIGURE, caption="../report/speed.rst", category="Speed"),
        batch_figure=report(SPEED_BATCH_FIGURE, caption="../report/speed_by_batch.rst", category="Speed"),
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
        " --figure {output.figure} --batch-figure {output.batch_figure} --environment {output.environment} 2> {log}"


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
