rule fetch:
    output:
        npz="resources/data/{dataset}.npz",
        provenance="resources/data/{dataset}.json",
    log:
        "logs/fetch/{dataset}.log",
    params:
        raw_dir="resources/raw/{dataset}",
        data_config=json.dumps(config["data"]),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../environment.yml"
    shell:
        "python scripts/fetch_data.py {wildcards.dataset} --npz {output.npz} --provenance {output.provenance}"
        " --raw-dir {params.raw_dir} --data-config {params.data_config:q} 2> {log}"
